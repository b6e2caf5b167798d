// "Export NDJSON" streamed to disk (Chromium). The background service worker controls the extension's own
// origin, so a navigation of an extension page to EXPORT_PATH reaches its `fetch` listener, which answers with
// a streamed response marked as an attachment: the browser saves it as a download while the worker reads the
// archive a page at a time. Neither the page nor the browser process ever holds the whole file (the Blob path
// in export.ts leaves it in Chromium's blob storage until the download is written).
// Checked in Chromium 14x: an <a download> click on such a URL is cancelled instead of reaching the worker,
// while a plain navigation (no `download` attribute) does reach it and the attachment header makes it a
// download without leaving the page. Firefox's background is an event page (no service worker): pages there
// keep the Blob path (export.ts).
// Progress, the end and cancelling go over a BroadcastChannel (same origin: the extension's pages and worker).

import type { Product } from '../core/model'
import type { Archive } from './db'
import { exportFileName, ndjsonChunks } from './export'
import type { EventFilter, ExportFormat } from './messages'

export const EXPORT_PATH = '/export.ndjson'
export const EXPORT_CHANNEL = 'ndjson-export'

export interface ExportStreamRequest {
  /** Names this export's messages on the channel. */
  id: string
  filter: EventFilter
  format: ExportFormat
}

export type ExportStreamMessage =
  | { id: string; kind: 'progress' | 'done'; events: number; bytes: number }
  | { id: string; kind: 'failed'; error: string }
  | { id: string; kind: 'cancel' }

export function exportStreamUrl(request: ExportStreamRequest): string {
  const query = new URLSearchParams({ id: request.id, format: request.format, filter: JSON.stringify(request.filter) })
  return `${EXPORT_PATH}?${query}`
}

const stringList = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined
const finite = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined

/** The request a URL names, or undefined when it is not an export URL (any malformed part: not one). */
export function parseExportStreamUrl(url: URL): ExportStreamRequest | undefined {
  if (url.pathname !== EXPORT_PATH) return undefined
  const id = url.searchParams.get('id')
  const format = url.searchParams.get('format')
  if (!id || (format !== 'ecs' && format !== 'raw')) return undefined
  let raw: unknown
  try {
    raw = JSON.parse(url.searchParams.get('filter') ?? '{}')
  } catch {
    return undefined
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  const r = raw as Record<string, unknown>
  // Only the known fields, with their types: anything else in the URL is ignored.
  const filter: EventFilter = {}
  const from = finite(r.from)
  const to = finite(r.to)
  if (from !== undefined) filter.from = from
  if (to !== undefined) filter.to = to
  for (const key of ['siteIds', 'categories', 'actions', 'users', 'ips'] as const) {
    const list = stringList(r[key])
    if (list) filter[key] = list
  }
  const products = stringList(r.products)
  if (products) filter.products = products as Product[]
  if (typeof r.text === 'string') filter.text = r.text
  return { id, filter, format }
}

/** The streamed NDJSON response for one export; reports progress on `channel` and stops on its 'cancel'. */
export function exportStreamResponse(
  archive: Archive,
  request: ExportStreamRequest,
  channel: Pick<BroadcastChannel, 'postMessage' | 'addEventListener' | 'removeEventListener'>,
  options: { pageSize?: number; keepAlive?: () => void } = {},
): Response {
  const pageSize = options.pageSize ?? 1000
  const abort = new AbortController()
  const post = (message: ExportStreamMessage) => channel.postMessage(message)
  const onMessage = (event: Event) => {
    const data = (event as MessageEvent<unknown>).data as Partial<ExportStreamMessage> | null
    if (data?.id === request.id && data.kind === 'cancel') abort.abort()
  }
  channel.addEventListener('message', onMessage)
  const chunks = ndjsonChunks(archive, request.filter, request.format, { signal: abort.signal, pageSize })
  const encoder = new TextEncoder()
  let events = 0
  let bytes = 0
  const finish = () => channel.removeEventListener('message', onMessage)
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          // A page can yield nothing (raw format, no original records): read on until there is something.
          for (;;) {
            const next = await chunks.next()
            if (next.done) {
              controller.close()
              post({ id: request.id, kind: 'done', events, bytes })
              finish()
              return
            }
            if (!next.value.text) continue
            const encoded = encoder.encode(next.value.text)
            events += next.value.lines
            bytes += encoded.byteLength
            controller.enqueue(encoded)
            options.keepAlive?.()
            post({ id: request.id, kind: 'progress', events, bytes })
            return
          }
        } catch (e) {
          controller.error(e)
          post({ id: request.id, kind: 'failed', error: abort.signal.aborted ? 'cancelled' : String(e) })
          finish()
        }
      },
      cancel() {
        // The user cancelled the download in the browser.
        abort.abort()
        post({ id: request.id, kind: 'failed', error: 'cancelled' })
        finish()
      },
    },
    { highWaterMark: 1 },
  )
  return new Response(body, {
    headers: {
      'Content-Type': 'application/x-ndjson',
      'Content-Disposition': `attachment; filename="${exportFileName(request.format)}"`,
      'Cache-Control': 'no-store',
    },
  })
}

/** True when this page can use the streamed export (a service worker controls it). */
export function canStreamExport(): boolean {
  return typeof navigator !== 'undefined' && !!navigator.serviceWorker?.controller
}

/** Starts the streamed download from a page and resolves when the worker has written the last line. */
export function streamExport(
  request: ExportStreamRequest,
  options: { signal?: AbortSignal; onProgress?: (events: number) => void } = {},
): Promise<{ events: number; bytes: number }> {
  const channel = new BroadcastChannel(EXPORT_CHANNEL)
  return new Promise<{ events: number; bytes: number }>((resolve, reject) => {
    channel.onmessage = (event: MessageEvent<ExportStreamMessage>) => {
      const m = event.data
      if (m.id !== request.id) return
      if (m.kind === 'progress') options.onProgress?.(m.events)
      else if (m.kind === 'done') resolve({ events: m.events, bytes: m.bytes })
      else if (m.kind === 'failed') reject(new Error(m.error))
    }
    options.signal?.addEventListener('abort', () => {
      channel.postMessage({ id: request.id, kind: 'cancel' } satisfies ExportStreamMessage)
      reject(new Error('cancelled'))
    })
    // A navigation, not <a download> (see above); the attachment response leaves this page where it is.
    const link = document.createElement('a')
    link.href = exportStreamUrl(request)
    link.style.display = 'none'
    document.body.append(link)
    link.click()
    link.remove()
  }).finally(() => channel.close())
}
