import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import { documentKey } from '../../src/core/ecs/identity'
import type { EcsDocument } from '../../src/core/model'
import { deliver, MemoryOutboxStore, type OutboxStore } from '../../src/core/sinks/outbox'
import type { CollectorConfig, Sink } from '../../src/core/sinks/sink'
import { type Archive, openArchive } from '../../src/extension/db'
import { fakeDocs } from './setup-extension'

let archive: Archive
let n = 0
afterEach(async () => {
  await archive.destroy()
})
function fresh(): Archive {
  archive = openArchive(`outbox-${process.pid}-${n++}`)
  return archive
}

const collector = (id: string, filter?: CollectorConfig['filter'], enabled = true): CollectorConfig => ({
  id,
  kind: 'http-ndjson',
  url: 'https://collector.example',
  auth: { scheme: 'none' },
  batchSize: 7,
  filter,
  enabled,
})

describe('Dexie OutboxStore', () => {
  it('behaves like the in-memory reference store for the same operations', async () => {
    const dexie = fresh().outbox
    const memory = new MemoryOutboxStore()
    const keys = fakeDocs(30).map(documentKey)
    const both = async <T>(op: (s: OutboxStore) => Promise<T>): Promise<T> => {
      const [a, b] = await Promise.all([op(dexie), op(memory)])
      expect(a).toEqual(b)
      return a
    }
    expect(await both((s) => s.enqueue('c', keys.slice(0, 20), 1000))).toBe(20)
    expect(await both((s) => s.enqueue('c', keys.slice(10, 30), 2000))).toBe(10)
    expect(await both((s) => s.enqueue('other', keys.slice(0, 3), 1500))).toBe(3)
    await both((s) => s.takeDue('c', 1500, 5))
    await both((s) => s.markRetry('c', keys.slice(0, 5), 5000, 'HTTP 503'))
    const due = await both((s) => s.takeDue('c', 3000, 100))
    expect(due.map((e) => e.key)).toEqual(keys.slice(5, 30))
    await both((s) => s.markRejected('c', [{ key: keys[6]!, reason: 'mapping' }]))
    await both((s) => s.remove('c', keys.slice(7, 12)))
    await both((s) => s.backlog('c'))
    expect((await dexie.backlog('c')).pending).toBe(24)
    await both((s) => s.takeDue('c', 6000, 100))
    expect(await both((s) => s.requeueRejected('c', 7000))).toBe(1)
    await both((s) => s.takeDue('c', 7000, 3))
    await both((s) => s.updateStatus('c', { lastError: 'x', lastErrorAt: 1, consecutiveFailures: 2, retryAt: 9 }))
    await both((s) => s.updateStatus('c', { retryAt: undefined, deliveredTotal: 4 }))
    await both((s) => s.getStatus('c'))
    await both((s) => s.removeCollector('c'))
    await both((s) => s.backlog('c'))
    await both((s) => s.getStatus('c'))
    expect((await dexie.backlog('other')).pending).toBe(3)
  })

  it('queues new events in the same transaction as the events, per collector filter', async () => {
    const a = fresh()
    const docs = fakeDocs(40, Date.UTC(2025, 0, 10), 'https://a.example')
    const collectors = [
      collector('all'),
      collector('only-b', { sites: ['https://b.example'] }),
      collector('jira', { products: ['jira'] }),
      collector('off', undefined, false),
    ]
    for (const d of docs) (d.atlassian as Record<string, unknown>).product = 'confluence'
    const store = a.storeFor({ id: 'site-a', product: 'confluence' }, () => collectors)
    expect(await store.commit('s', docs.slice(0, 25), {})).toHaveLength(25)
    // the re-sync overlap is not queued twice
    expect(await store.commit('s', docs, {})).toHaveLength(15)
    expect((await a.outbox.backlog('all')).pending).toBe(40)
    expect((await a.outbox.backlog('only-b')).pending).toBe(0)
    expect((await a.outbox.backlog('jira')).pending).toBe(0)
    expect((await a.outbox.backlog('off')).pending).toBe(0)
    // a failed commit queues nothing
    const bad = fakeDocs(3, Date.UTC(2025, 1, 1))
    ;(bad[1] as Record<string, unknown>).boom = () => 1
    await expect(store.commit('s', bad, {})).rejects.toThrow()
    expect((await a.outbox.backlog('all')).pending).toBe(40)
  })

  it('delivers at least once through the core loop, with the archive as the document source', async () => {
    const a = fresh()
    const c = collector('c')
    const docs = fakeDocs(50)
    await a.storeFor({ id: 's' }, () => [c]).commit('s', docs, {})
    const received = new Map<string, number>()
    let call = 0
    const sink: Sink = {
      kind: 'http-ndjson',
      async send(batch: EcsDocument[]) {
        call++
        if (call === 3)
          return { delivered: [], retry: batch.map(documentKey), rejected: [], transientError: 'HTTP 503' }
        for (const d of batch) received.set(documentKey(d), (received.get(documentKey(d)) ?? 0) + 1)
        return { delivered: batch.map(documentKey), retry: [], rejected: [] }
      },
    }
    // entries are queued at the real time of the commit
    let clock = Date.now() + 1000
    const first = await deliver({
      collector: c,
      store: a.outbox,
      loadDocs: (k) => a.loadDocs(k),
      sink,
      now: () => clock,
    })
    expect(first.outcome).toBe('retrying')
    expect((await a.outbox.getStatus('c'))?.consecutiveFailures).toBe(1)
    clock = first.nextAttemptAt!
    const second = await deliver({
      collector: c,
      store: a.outbox,
      loadDocs: (k) => a.loadDocs(k),
      sink,
      now: () => clock,
    })
    expect(second.outcome).toBe('done')
    expect(received.size).toBe(50)
    expect([...received.values()].every((x) => x === 1)).toBe(true)
    expect(await a.outbox.backlog('c')).toEqual({ pending: 0, rejected: 0 })
    expect((await a.outbox.getStatus('c'))?.deliveredTotal).toBe(50)
  })
})
