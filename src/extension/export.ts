// "Export NDJSON": exactly the events a filter shows, newest first, as ECS documents or as the raw Atlassian
// records (event.original), one per line.
//
// Memory stays bounded whatever the size: the archive is read in pages (Archive.iterate), each page becomes
// its own Blob, and the file is a Blob of those Blobs (a list of references, not a copy). Chromium keeps
// large blob data out of the renderer's heap and pages it to disk beyond its blob memory quota; Firefox
// keeps blob parts off the JS heap as well. The page then saves it with an <a download> link on an object URL,
// which works in both browsers from an extension page without the "downloads" permission.

import type { Archive } from './db'
import type { EventFilter, ExportFormat, StoredEvent } from './messages'

export interface ExportProgress {
  events: number
  bytes: number
}

export interface ExportOptions {
  signal?: AbortSignal
  onProgress?: (p: ExportProgress) => void
  /** Events read per IndexedDB page (default 1000). */
  pageSize?: number
}

export interface ExportResult {
  blob: Blob
  /** Lines written. */
  events: number
  /** Raw format: events without an original record (not written). */
  skipped: number
  bytes: number
}

/**
 * One line (with its newline) for an event, or undefined when the format has nothing for it (raw format, an
 * event stored without its original record). The popup's Blob export and the service worker's streamed export
 * both write their lines here, so the two files are the same byte for byte.
 */
export function ndjsonLine(event: StoredEvent, format: ExportFormat): string | undefined {
  if (format === 'ecs') return `${JSON.stringify(event.doc)}\n`
  const original = event.doc.event.original
  if (typeof original !== 'string' || original === '') return undefined
  return `${oneLine(original)}\n`
}

/**
 * event.original as one NDJSON line. It is the record's JSON text as Atlassian sent it; a pretty-printed
 * record is re-serialized so that one record is exactly one line. Text that is not JSON (the original of a
 * pipeline_error document for malformed input) with a line break inside becomes a JSON string holding that
 * text: every line stays one value, and nothing of the input is lost.
 */
function oneLine(original: string): string {
  if (!LINE_BREAK.test(original)) return original
  try {
    return JSON.stringify(JSON.parse(original))
  } catch {
    return JSON.stringify(original)
  }
}

const LINE_BREAK = /[\r\n]/

/** The NDJSON text, one chunk per archive page (`read`: events read from the archive so far). */
export async function* ndjsonChunks(
  archive: Pick<Archive, 'iterate'>,
  filter: EventFilter,
  format: ExportFormat,
  options: ExportOptions = {},
): AsyncGenerator<{ text: string; lines: number; skipped: number; read: number }> {
  let read = 0
  for await (const page of archive.iterate(filter, options.pageSize ?? 1000, options.signal)) {
    let text = ''
    let lines = 0
    let skipped = 0
    for (const event of page) {
      const line = ndjsonLine(event, format)
      if (line === undefined) skipped++
      else {
        text += line
        lines++
      }
    }
    read += page.length
    yield { text, lines, skipped, read }
  }
}

/** Builds the export file as a Blob of per-page Blobs. */
export async function exportNdjson(
  archive: Pick<Archive, 'iterate'>,
  filter: EventFilter,
  format: ExportFormat,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const parts: Blob[] = []
  let events = 0
  let skipped = 0
  let bytes = 0
  for await (const chunk of ndjsonChunks(archive, filter, format, options)) {
    const part = new Blob([chunk.text], { type: 'application/x-ndjson' })
    parts.push(part)
    events += chunk.lines
    skipped += chunk.skipped
    bytes += part.size
    options.onProgress?.({ events, bytes })
  }
  return { blob: new Blob(parts, { type: 'application/x-ndjson' }), events, skipped, bytes }
}

/** e.g. atlassian-audit-ecs-2025-03-01T12-00-00Z.ndjson */
export function exportFileName(format: ExportFormat, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-')
  return `atlassian-audit-${format}-${stamp}.ndjson`
}

/** Saves a Blob as a file from an extension page (a user gesture should have started the export). */
export function saveBlob(blob: Blob, fileName: string, doc: Document = document): void {
  const url = URL.createObjectURL(blob)
  const a = doc.createElement('a')
  a.href = url
  a.download = fileName
  a.style.display = 'none'
  doc.body.append(a)
  a.click()
  a.remove()
  // Revoking at once can cancel the download in Firefox; the URL only pins the blob until then.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
