import { describe, expect, it } from 'vitest'
import type { EcsDocument } from '../../src/core/model'
import { sinkKey } from '../../src/core/sinks/batch'
import { CollectorAuthError } from '../../src/core/sinks/errors'
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  type DeliverReport,
  deliver,
  enqueueForCollectors,
  MemoryOutboxStore,
} from '../../src/core/sinks/outbox'
import type { CollectorConfig, SendResult, SendResultDetails, Sink } from '../../src/core/sinks/sink'
import { makeDoc } from './sinks-helpers'

type Behaviour = (docs: EcsDocument[], call: number) => Promise<SendResult & SendResultDetails>

/** A sink driven by a script, counting how often each key was accepted. */
function scriptedSink(behaviour: Behaviour) {
  const accepted = new Map<string, number>()
  let calls = 0
  const sink: Sink = {
    kind: 'http-ndjson',
    async send(docs) {
      const result = await behaviour(docs, calls++)
      for (const k of result.delivered) accepted.set(k, (accepted.get(k) ?? 0) + 1)
      return result
    },
  }
  return { sink, accepted, calls: () => calls }
}

const ok: Behaviour = async (docs) => ({ delivered: docs.map(sinkKey), retry: [], rejected: [] })

function archive(docs: EcsDocument[]) {
  const byKey = new Map(docs.map((d) => [sinkKey(d), d]))
  return {
    byKey,
    loadDocs: async (keys: string[]) => new Map(keys.filter((k) => byKey.has(k)).map((k) => [k, byKey.get(k)!])),
  }
}

const collector: CollectorConfig = {
  id: 'c1',
  kind: 'http-ndjson',
  url: 'https://x.example.com',
  auth: { scheme: 'none' },
  batchSize: 50,
}

/** Run deliver repeatedly on a fake clock, jumping to nextAttemptAt, until the outbox is empty or `until` passes. */
async function drain(
  store: MemoryOutboxStore,
  sink: Sink,
  loadDocs: (k: string[]) => Promise<Map<string, EcsDocument>>,
  clock: { t: number },
  until: number,
  onRound?: (report: DeliverReport) => void,
) {
  for (let round = 0; round < 10_000; round++) {
    const report = await deliver({ collector, store, loadDocs, sink, now: () => clock.t })
    onRound?.(report)
    const backlog = await store.backlog(collector.id)
    if (backlog.pending === 0) return round
    if (report.nextAttemptAt === undefined) throw new Error(`stuck: ${JSON.stringify(report)}`)
    clock.t = Math.max(clock.t + 1, report.nextAttemptAt)
    if (clock.t > until) throw new Error('not drained in time')
  }
  throw new Error('too many rounds')
}

describe('outbox delivery', () => {
  it('delivers everything in batches and records the last success', async () => {
    const docs = Array.from({ length: 230 }, (_, i) => makeDoc(i))
    const store = new MemoryOutboxStore()
    const { loadDocs } = archive(docs)
    expect(await enqueueForCollectors(store, [collector], docs, 1000)).toEqual({ c1: 230 })
    expect(await enqueueForCollectors(store, [collector], docs, 1000)).toEqual({ c1: 0 })
    const s = scriptedSink(ok)
    const report = await deliver({ collector, store, loadDocs, sink: s.sink, now: () => 2000 })
    expect(report).toMatchObject({ outcome: 'done', delivered: 230, batches: 5, retried: 0 })
    expect(report.nextAttemptAt).toBeUndefined()
    expect(s.accepted.size).toBe(230)
    expect(await store.backlog('c1')).toEqual({ pending: 0, rejected: 0 })
    expect(await store.getStatus('c1')).toMatchObject({
      lastSuccessAt: 2000,
      deliveredTotal: 230,
      consecutiveFailures: 0,
    })
  })

  it('a collector that is down for a while: backoff grows with jitter, nothing is lost, everything arrives', async () => {
    const docs = Array.from({ length: 300 }, (_, i) => makeDoc(i))
    const store = new MemoryOutboxStore()
    const { loadDocs } = archive(docs)
    await enqueueForCollectors(store, [collector], docs, 0)
    const clock = { t: 0 }
    const downUntil = 40 * 60_000
    const s = scriptedSink(async (batch) =>
      clock.t < downUntil
        ? {
            delivered: [],
            retry: batch.map(sinkKey),
            rejected: [],
            transientError: 'cannot reach the collector (ECONNREFUSED)',
          }
        : ok(batch, 0),
    )
    const waits: number[] = []
    let last = 0
    await drain(store, s.sink, loadDocs, clock, 24 * 3600_000, (r) => {
      if (r.outcome === 'retrying') {
        waits.push(r.nextAttemptAt! - last)
        expect(r.error).toMatch(/ECONNREFUSED/)
      }
      last = r.nextAttemptAt ?? clock.t
    })
    expect(s.accepted.size).toBe(300)
    for (const d of docs) expect(s.accepted.get(sinkKey(d))).toBeGreaterThanOrEqual(1)
    // exponential with equal jitter: the n-th wait lies in [½, 1] · min(max, base · 2^(n-1))
    waits.forEach((w, i) => {
      const cap = Math.min(DEFAULT_BACKOFF.maxMs, DEFAULT_BACKOFF.baseMs * 2 ** i)
      expect(w).toBeGreaterThanOrEqual(cap / 2)
      expect(w).toBeLessThanOrEqual(cap)
    })
    expect(waits.length).toBeGreaterThan(5)
    // while down, only one request per round: the loop does not hammer a collector that is down
    expect(s.calls()).toBeLessThan(waits.length + 10)
    const status = await store.getStatus('c1')
    expect(status).toMatchObject({ consecutiveFailures: 0, deliveredTotal: 300 })
    expect(status?.retryAt).toBeUndefined()
  })

  it('429 bursts with per-item retries and Retry-After: every document is delivered at least once', async () => {
    const docs = Array.from({ length: 500 }, (_, i) => makeDoc(i))
    const store = new MemoryOutboxStore()
    const { loadDocs } = archive(docs)
    await enqueueForCollectors(store, [collector], docs, 0)
    let seed = 42
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const s = scriptedSink(async (batch, call) => {
      if (call % 3 === 1)
        return {
          delivered: [],
          retry: batch.map(sinkKey),
          rejected: [],
          transientError: 'HTTP 429',
          retryAfterMs: 30_000,
        }
      const delivered: string[] = []
      const retry: string[] = []
      for (const d of batch) (rand() < 0.3 ? retry : delivered).push(sinkKey(d))
      return { delivered, retry, rejected: [], transientError: retry.length ? 'per-item 429' : undefined }
    })
    const clock = { t: 0 }
    const reports: (DeliverReport & { at: number })[] = []
    await drain(store, s.sink, loadDocs, clock, 7 * 24 * 3600_000, (r) => reports.push({ ...r, at: clock.t }))
    expect(s.accepted.size).toBe(500)
    // Retry-After is honoured: after a whole-batch 429 the next attempt is at least 30 s later
    const throttled = reports.filter((r) => r.error === 'HTTP 429')
    expect(throttled.length).toBeGreaterThan(0)
    for (const r of throttled) expect(r.nextAttemptAt! - r.at).toBeGreaterThanOrEqual(30_000)
    expect(await store.backlog('c1')).toEqual({ pending: 0, rejected: 0 })
  })

  it('restart: a loop killed mid-request leaves its entries; a new loop on the same store delivers all', async () => {
    const docs = Array.from({ length: 120 }, (_, i) => makeDoc(i))
    const store = new MemoryOutboxStore()
    const { loadDocs } = archive(docs)
    await enqueueForCollectors(store, [collector], docs, 0)
    const controller = new AbortController()
    const hanging: Sink = {
      kind: 'http-ndjson',
      send: (_docs, signal) =>
        new Promise((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason))
          setTimeout(() => controller.abort(new Error('service worker terminated')), 5)
        }),
    }
    const first = scriptedSink(ok)
    // first batch goes through, the second request hangs and the "service worker" dies
    let n = 0
    const flaky: Sink = {
      kind: 'http-ndjson',
      send: (d, sig) => (n++ === 0 ? first.sink.send(d, sig) : hanging.send(d, sig)),
    }
    const r1 = await deliver({ collector, store, loadDocs, sink: flaky, now: () => 10, signal: controller.signal })
    expect(r1).toMatchObject({ outcome: 'aborted', delivered: 50 })
    expect((await store.backlog('c1')).pending).toBe(70)
    const second = scriptedSink(ok)
    const r2 = await deliver({ collector, store, loadDocs, sink: second.sink, now: () => 20 })
    expect(r2).toMatchObject({ outcome: 'done', delivered: 70 })
    const all = new Set([...first.accepted.keys(), ...second.accepted.keys()])
    expect(all.size).toBe(120)
  })

  it('wrong credentials: entries kept, clear last error, long backoff; "Push now" retries at once', async () => {
    const docs = Array.from({ length: 10 }, (_, i) => makeDoc(i))
    const store = new MemoryOutboxStore()
    const { loadDocs } = archive(docs)
    await enqueueForCollectors(store, [collector], docs, 0)
    const bad: Sink = {
      kind: 'elasticsearch',
      send: async () => {
        throw new CollectorAuthError(
          'Elasticsearch rejected the credentials (HTTP 401): wrong user name, password, token or API key',
          401,
        )
      },
    }
    const r = await deliver({ collector, store, loadDocs, sink: bad, now: () => 1000, random: () => 0 })
    expect(r.outcome).toBe('failed')
    expect(r.error).toMatch(/HTTP 401/)
    expect(r.nextAttemptAt).toBe(1000 + DEFAULT_BACKOFF.configErrorMs)
    expect((await store.backlog('c1')).pending).toBe(10)
    expect(await store.getStatus('c1')).toMatchObject({ lastErrorAt: 1000, consecutiveFailures: 1 })
    const waiting = await deliver({ collector, store, loadDocs, sink: scriptedSink(ok).sink, now: () => 2000 })
    expect(waiting).toMatchObject({ outcome: 'waiting', delivered: 0 })
    const now = await deliver({ collector, store, loadDocs, sink: scriptedSink(ok).sink, now: () => 3000, force: true })
    expect(now).toMatchObject({ outcome: 'done', delivered: 10 })
    expect(await store.getStatus('c1')).toMatchObject({ consecutiveFailures: 0, lastSuccessAt: 3000 })
  })

  it('rejected documents stay visible as rejected (not retried, not lost) and can be re-queued', async () => {
    const docs = Array.from({ length: 4 }, (_, i) => makeDoc(i))
    const store = new MemoryOutboxStore()
    const { loadDocs } = archive(docs)
    await enqueueForCollectors(store, [collector], docs, 0)
    const s = scriptedSink(async (batch) => ({
      delivered: batch.slice(1).map(sinkKey),
      retry: [],
      rejected: [{ key: sinkKey(batch[0]), reason: 'HTTP 400: mapper_parsing_exception' }],
    }))
    const r = await deliver({ collector, store, loadDocs, sink: s.sink, now: () => 5 })
    expect(r).toMatchObject({ outcome: 'done', delivered: 3, rejected: 1 })
    expect(await store.backlog('c1')).toEqual({ pending: 0, rejected: 1 })
    expect(await store.getStatus('c1')).toMatchObject({
      lastError: '1 document rejected: HTTP 400: mapper_parsing_exception',
      rejectedTotal: 1,
    })
    expect(store.all('c1')[0]).toMatchObject({ state: 'rejected', lastError: 'HTTP 400: mapper_parsing_exception' })
    expect(await store.requeueRejected('c1', 6)).toBe(1)
    expect((await deliver({ collector, store, loadDocs, sink: scriptedSink(ok).sink, now: () => 7 })).delivered).toBe(1)
  })

  it('per-collector filters by site and product; documents gone from the archive are dropped and counted', async () => {
    const jira = makeDoc(1, 'jira', 'https://a.atlassian.net')
    const conf = makeDoc(2, 'confluence', 'https://a.atlassian.net')
    const otherSite = makeDoc(3, 'jira', 'https://b.atlassian.net')
    const onlyJiraA: CollectorConfig = {
      ...collector,
      id: 'j',
      filter: { products: ['jira'], sites: ['https://a.atlassian.net/'] },
    }
    const all: CollectorConfig = { ...collector, id: 'all' }
    const off: CollectorConfig = { ...collector, id: 'off', enabled: false }
    const store = new MemoryOutboxStore()
    expect(await enqueueForCollectors(store, [onlyJiraA, all, off], [jira, conf, otherSite], 0)).toEqual({
      j: 1,
      all: 3,
    })
    const { loadDocs, byKey } = archive([jira, conf, otherSite])
    byKey.delete(sinkKey(conf))
    const s = scriptedSink(ok)
    const r = await deliver({ collector: all, store, loadDocs, sink: s.sink, now: () => 1 })
    expect(r).toMatchObject({ delivered: 2, missing: 1 })
    // the filter changed after queueing: the entry no longer matching is dropped, not sent
    const narrowed: CollectorConfig = { ...onlyJiraA, filter: { products: ['confluence'] } }
    const r2 = await deliver({ collector: narrowed, store, loadDocs, sink: s.sink, now: () => 1 })
    expect(r2).toMatchObject({ delivered: 0, filtered: 1 })
  })

  it('overlapping calls for one collector share a single run', async () => {
    const docs = Array.from({ length: 60 }, (_, i) => makeDoc(i))
    const store = new MemoryOutboxStore()
    const { loadDocs } = archive(docs)
    await enqueueForCollectors(store, [collector], docs, 0)
    const s = scriptedSink(async (batch) => {
      await new Promise((r) => setTimeout(r, 5))
      return ok(batch, 0)
    })
    const [a, b] = await Promise.all([
      deliver({ collector, store, loadDocs, sink: s.sink, now: () => 1 }),
      deliver({ collector, store, loadDocs, sink: s.sink, now: () => 1 }),
    ])
    expect(a).toBe(b)
    expect(s.calls()).toBe(2)
    expect([...s.accepted.values()].every((n) => n === 1)).toBe(true)
  })

  it('backoffDelay stays within [½, 1] of the capped exponential', () => {
    expect(backoffDelay(1, DEFAULT_BACKOFF, () => 0)).toBe(2500)
    expect(backoffDelay(1, DEFAULT_BACKOFF, () => 1)).toBe(5000)
    expect(backoffDelay(4, DEFAULT_BACKOFF, () => 1)).toBe(40_000)
    expect(backoffDelay(50, DEFAULT_BACKOFF, () => 1)).toBe(DEFAULT_BACKOFF.maxMs)
  })
})
