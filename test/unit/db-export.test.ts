import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import { documentKey } from '../../src/core/ecs/identity'
import { type Archive, openArchive } from '../../src/extension/db'
import { exportFileName, exportNdjson, ndjsonChunks } from '../../src/extension/export'
import {
  EXPORT_PATH,
  type ExportStreamMessage,
  exportStreamResponse,
  exportStreamUrl,
  parseExportStreamUrl,
} from '../../src/extension/export-stream'
import { fakeDoc, fakeDocs } from './setup-extension'

let archive: Archive
afterEach(async () => {
  await archive.destroy()
})

describe('NDJSON export', () => {
  it('writes exactly the filtered events, newest first, as ECS or raw records, in bounded chunks', async () => {
    archive = openArchive(`export-${process.pid}-1`)
    const docs = fakeDocs(230)
    const noOriginal = fakeDoc({ ts: Date.UTC(2025, 0, 11), action: 'Login failed', user: 'user1' })
    delete noOriginal.event.original
    await archive.storeFor({ id: 's', product: 'jira', deployment: 'cloud' }).commit('s', [...docs, noOriginal], {})
    const filter = { actions: ['Login failed'] }
    const want = [noOriginal, ...docs.filter((d) => d.event.action === 'Login failed')]

    const progress: number[] = []
    const ecs = await exportNdjson(archive, filter, 'ecs', { pageSize: 10, onProgress: (p) => progress.push(p.events) })
    const lines = (await ecs.blob.text()).split('\n')
    expect(lines.pop()).toBe('')
    expect(lines.map((l) => documentKey(JSON.parse(l)))).toEqual(want.map(documentKey))
    expect(JSON.parse(lines[1]!)).toEqual(want[1])
    expect(ecs).toMatchObject({ events: want.length, skipped: 0, bytes: ecs.blob.size })
    expect(progress.length).toBe(Math.ceil(want.length / 10))

    const raw = await exportNdjson(archive, filter, 'raw')
    const rawLines = (await raw.blob.text()).trimEnd().split('\n')
    expect(raw.skipped).toBe(1)
    expect(rawLines).toEqual(want.slice(1).map((d) => d.event.original))

    for await (const chunk of ndjsonChunks(archive, {}, 'ecs', { pageSize: 50 }))
      expect(chunk.lines).toBeLessThanOrEqual(50)
    expect(exportFileName('raw', new Date(Date.UTC(2025, 2, 1, 12)))).toBe(
      'atlassian-audit-raw-2025-03-01T12-00-00Z.ndjson',
    )
  })

  it('writes one line per raw record whatever its original text holds, and never fails on it', async () => {
    archive = openArchive(`export-${process.pid}-raw`)
    const at = (day: number) => fakeDoc({ ts: Date.UTC(2025, 0, day), action: 'Login failed', user: 'u' })
    const compact = at(5)
    const pretty = at(4)
    pretty.event.original = '{\n  "id": 7,\n  "summary": "two\\nlines"\n}'
    const notJson = at(3)
    notJson.event.kind = 'pipeline_error'
    notJson.event.original = '{"id": 8,\r\n "summary": "cut off'
    const empty = at(2)
    empty.event.original = ''
    await archive
      .storeFor({ id: 's', product: 'jira', deployment: 'cloud' })
      .commit('s', [compact, pretty, notJson, empty], {})

    const raw = await exportNdjson(archive, {}, 'raw')
    const lines = (await raw.blob.text()).split('\n')
    expect(lines.pop()).toBe('')
    expect(lines).toEqual([
      compact.event.original,
      '{"id":7,"summary":"two\\nlines"}',
      JSON.stringify(notJson.event.original),
    ])
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
    expect(JSON.parse(lines[2]!)).toBe(notJson.event.original)
    expect(raw).toMatchObject({ events: 3, skipped: 1 })

    // the service worker's streamed export writes the very same bytes
    const streamed = exportStreamResponse(archive, { id: 'raw', filter: {}, format: 'raw' }, {
      postMessage: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
    } as unknown as Pick<BroadcastChannel, 'postMessage' | 'addEventListener' | 'removeEventListener'>)
    expect(await streamed.text()).toBe(await raw.blob.text())
  })

  it('stops when aborted', async () => {
    archive = openArchive(`export-${process.pid}-2`)
    await archive.storeFor({ id: 's' }).commit('s', fakeDocs(50), {})
    const ctl = new AbortController()
    const run = exportNdjson(archive, {}, 'ecs', { pageSize: 10, signal: ctl.signal, onProgress: () => ctl.abort() })
    await expect(run).rejects.toThrow()
  })
})

describe('streamed export (service worker route)', () => {
  const messages: ExportStreamMessage[] = []
  const listeners = new Set<(event: Event) => void>()
  const channel = {
    postMessage: (m: ExportStreamMessage) => messages.push(m),
    addEventListener: (_type: string, l: (event: Event) => void) => listeners.add(l),
    removeEventListener: (_type: string, l: (event: Event) => void) => listeners.delete(l),
  } as unknown as Pick<BroadcastChannel, 'postMessage' | 'addEventListener' | 'removeEventListener'>

  it('round-trips the request through the URL and keeps only known filter fields', () => {
    const filter = { from: 1, to: 2, siteIds: ['s'], products: ['jira' as const], actions: ['a'], text: 'x y&z' }
    const url = new URL(exportStreamUrl({ id: 'e1', filter, format: 'raw' }), 'chrome-extension://abc/')
    expect(url.pathname).toBe(EXPORT_PATH)
    expect(parseExportStreamUrl(url)).toEqual({ id: 'e1', filter, format: 'raw' })
    const odd = new URL(
      `${EXPORT_PATH}?id=e2&format=ecs&filter=${encodeURIComponent('{"users":[1],"x":2,"ips":["1.2.3.4"]}')}`,
      'chrome-extension://abc/',
    )
    expect(parseExportStreamUrl(odd)).toEqual({ id: 'e2', filter: { ips: ['1.2.3.4'] }, format: 'ecs' })
    for (const bad of [
      '/other?id=a&format=ecs',
      `${EXPORT_PATH}?id=a&format=csv`,
      `${EXPORT_PATH}?format=ecs`,
      `${EXPORT_PATH}?id=a&format=ecs&filter=%5B%5D`,
      `${EXPORT_PATH}?id=a&format=ecs&filter=%7B`,
    ])
      expect(parseExportStreamUrl(new URL(bad, 'chrome-extension://abc/'))).toBeUndefined()
  })

  it('streams the same bytes as the Blob export, reports progress and the end, and stops on cancel', async () => {
    archive = openArchive(`export-${process.pid}-3`)
    await archive.storeFor({ id: 's' }).commit('s', fakeDocs(120), {})
    const filter = { actions: ['Login failed'] }
    const blob = await exportNdjson(archive, filter, 'ecs')
    const response = exportStreamResponse(archive, { id: 'e3', filter, format: 'ecs' }, channel, { pageSize: 10 })
    expect(response.headers.get('content-type')).toBe('application/x-ndjson')
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="atlassian-audit-ecs-.*\.ndjson"$/,
    )
    expect(await response.text()).toBe(await blob.blob.text())
    const done = messages.filter((m) => m.id === 'e3' && m.kind === 'done')
    expect(done).toEqual([{ id: 'e3', kind: 'done', events: blob.events, bytes: blob.bytes }])
    expect(messages.filter((m) => m.kind === 'progress').length).toBeGreaterThan(1)
    expect(listeners.size).toBe(0)

    const cancelled = exportStreamResponse(archive, { id: 'e4', filter: {}, format: 'ecs' }, channel, { pageSize: 10 })
    const reader = cancelled.body!.getReader()
    await reader.read()
    for (const l of listeners) l(new MessageEvent('message', { data: { id: 'e4', kind: 'cancel' } }))
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return
      })(),
    ).rejects.toThrow()
    expect(messages.at(-1)).toEqual({ id: 'e4', kind: 'failed', error: 'cancelled' })
  })
})
