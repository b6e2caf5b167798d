import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import { documentKey } from '../../src/core/ecs/identity'
import { type Archive, openArchive } from '../../src/extension/db'
import { exportFileName, exportNdjson, ndjsonChunks } from '../../src/extension/export'
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

  it('stops when aborted', async () => {
    archive = openArchive(`export-${process.pid}-2`)
    await archive.storeFor({ id: 's' }).commit('s', fakeDocs(50), {})
    const ctl = new AbortController()
    const run = exportNdjson(archive, {}, 'ecs', { pageSize: 10, signal: ctl.signal, onProgress: () => ctl.abort() })
    await expect(run).rejects.toThrow()
  })
})
