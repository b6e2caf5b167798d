// The engine's one-page read-ahead (src/core/sync/read-ahead.ts) against a stub server that records when each
// request reaches it and when its answer leaves, and a Store that records when each commit starts and ends:
// - the next request overlaps the previous page's processing (ordering, and wall time ≈ N × max, not the sum);
// - never two requests at the server at once; after a 429 nothing is sent ahead any more;
// - a failing commit, an abort, a truncated body or a kill in the middle still give exactly-once on resume.

import { describe, expect, it, vi } from 'vitest'
import type { ApiId } from '../../src/core/atlassian/apis'
import { apiFor } from '../../src/core/atlassian/apis'
import { createAuthenticator } from '../../src/core/atlassian/auth'
import type { FetchLike } from '../../src/core/atlassian/client'
import { AtlassianClient } from '../../src/core/atlassian/client'
import type { StreamTarget } from '../../src/core/atlassian/connect'
import type { EcsDocument, Product, Site } from '../../src/core/model'
import type { SyncOptions } from '../../src/core/sync/engine'
import { syncStream } from '../../src/core/sync/engine'
import { MemoryStore } from '../../src/core/sync/memory-store'
import type { StreamState } from '../../src/core/sync/store'

const T0 = Date.parse('2025-03-01T00:00:00.000Z')
const DAY = 86_400_000

type Kind = 'jira-cloud' | 'dc' | 'org'

interface Served {
  url: URL
  start: number
  end: number
}

function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(signal.reason)
      },
      { once: true },
    )
  })
}

/** Records at distinct minutes (ids u1 …); Jira Cloud offset paging, DC cursor paging, org events-stream. */
class Stub {
  readonly times: number[] = []
  served: Served[] = []
  inFlight = 0
  maxInFlight = 0
  aborted = 0
  serveMs = 0
  /** Per request (0-based index of the request): answer this instead of the page. */
  fault?: (index: number, url: URL) => 'truncate' | '429' | undefined
  onRequest?: (index: number, url: URL) => void

  constructor(
    readonly kind: Kind,
    count: number,
  ) {
    for (let i = 0; i < count; i++) this.times.push(T0 - (i + 1) * 60_000)
  }

  uidAt(i: number): string {
    return `u${i + 1}`
  }

  private raw(i: number): Record<string, unknown> {
    const t = new Date(this.times[i]).toISOString()
    if (this.kind === 'jira-cloud') return { id: i + 1, uid: this.uidAt(i), created: t.replace('Z', '+0000') }
    if (this.kind === 'dc') return { uid: this.uidAt(i), timestamp: t, type: { action: 'x' } }
    return { id: this.uidAt(i), type: 'events', attributes: { time: t, processedAt: t } }
  }

  fetch: FetchLike = async (input, init) => {
    const url = new URL(input)
    const index = this.served.length
    const entry: Served = { url, start: performance.now(), end: 0 }
    this.served.push(entry)
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      this.onRequest?.(index, url)
      await sleep(this.serveMs, init.signal)
      const fault = this.fault?.(index, url)
      if (fault === '429') return new Response('{}', { status: 429, headers: { 'retry-after': '0' } })
      const text = JSON.stringify(this.page(url))
      return new Response(fault === 'truncate' ? text.slice(0, text.length >> 1) : text, {
        headers: { 'content-type': 'application/json' },
      })
    } catch (e) {
      this.aborted++
      throw e
    } finally {
      this.inFlight--
      entry.end = performance.now()
    }
  }

  private page(url: URL): unknown {
    const q = url.searchParams
    const limit = Number(q.get('limit'))
    const newestFirst = (from: number, to: number) =>
      this.times.map((t, i) => ({ t, i })).filter((r) => r.t >= from && r.t <= to)
    if (this.kind === 'jira-cloud') {
      const list = newestFirst(Date.parse(q.get('from') ?? ''), Date.parse(q.get('to') ?? ''))
      const offset = Number(q.get('offset'))
      const records = list.slice(offset, offset + limit).map((r) => this.raw(r.i))
      return { offset, limit, total: this.times.length, records }
    }
    if (this.kind === 'dc') {
      let list = newestFirst(Date.parse(q.get('from') ?? ''), Date.parse(q.get('to') ?? ''))
      const cursor = q.get('pageCursor')
      if (cursor) list = list.filter((r) => r.t < Number(cursor.split(',')[0]))
      const page = list.slice(0, limit)
      const last = page.at(-1)
      return {
        entities: page.map((r) => this.raw(r.i)),
        pagingInfo:
          list.length <= limit ? { lastPage: true } : { lastPage: false, nextPageCursor: `${last?.t},${last?.i}` },
      }
    }
    const asc = this.times.map((t, i) => ({ t, i })).reverse()
    const cursor = q.get('cursor')
    const list = cursor ? asc.filter((r) => r.t > Number(cursor)) : asc.filter((r) => r.t >= Number(q.get('from')))
    const page = list.slice(0, limit)
    return { data: page.map((r) => this.raw(r.i)), meta: { page_size: limit, next: String(page.at(-1)?.t ?? cursor) } }
  }
}

/** MemoryStore that records commit start/end times, can be slow, and can fail one commit. */
class TimedStore extends MemoryStore {
  commitsAt: { start: number; end: number }[] = []
  commitMs = 0
  failCommit?: number
  emitted: string[] = []

  override async commit(streamId: string, docs: EcsDocument[], state: StreamState): Promise<EcsDocument[]> {
    const start = performance.now()
    if (this.commitMs) await sleep(this.commitMs)
    if (this.failCommit !== undefined && this.commitsAt.length === this.failCommit) {
      this.failCommit = undefined
      throw new Error('disk full')
    }
    const added = await super.commit(streamId, docs, state)
    for (const d of added) this.emitted.push(uidOf(d))
    this.commitsAt.push({ start, end: performance.now() })
    return added
  }
}

function uidOf(doc: EcsDocument): string {
  const raw = JSON.parse(String(doc.event.original)) as { uid?: string; id?: string }
  return raw.uid ?? raw.id ?? ''
}

function target(stub: Stub): StreamTarget {
  const product: Product = stub.kind === 'jira-cloud' ? 'jira' : stub.kind === 'dc' ? 'confluence' : 'org'
  const deployment = stub.kind === 'dc' ? 'dc' : 'cloud'
  const site: Site = { id: `ra-${stub.kind}`, url: 'https://acme.test', product, deployment, auth: 'session' }
  const auth = createAuthenticator({
    target: site,
    credential: stub.kind === 'org' ? { mode: 'org-key', secret: 'k-secret-123' } : { mode: 'session' },
    gatewayUrl: 'https://acme.test',
  })
  const client = new AtlassianClient({ fetch: stub.fetch, sleep: async () => {}, random: () => 0 }, auth)
  const api = apiFor({ product, deployment, orgId: 'o1' }, undefined as ApiId | undefined)
  return { streamId: `${site.id}|${api.id}`, site, api, auth, client }
}

const opts = (extra: SyncOptions = {}): SyncOptions => ({ limit: 10, now: () => T0, lookbackMs: 30 * DAY, ...extra })

function expectExactlyOnce(stub: Stub, store: TimedStore) {
  expect(new Set(store.emitted).size).toBe(store.emitted.length)
  expect(new Set(store.emitted)).toEqual(new Set(stub.times.map((_, i) => stub.uidAt(i))))
}

describe('read-ahead: overlap', () => {
  for (const kind of ['jira-cloud', 'dc', 'org'] as const) {
    it(`${kind}: the next request reaches the server before the previous page's commit ends`, async () => {
      const stub = new Stub(kind, 95)
      const store = new TimedStore()
      store.commitMs = 15
      stub.serveMs = 15
      const r = await syncStream(target(stub), store, opts())
      expectExactlyOnce(stub, store)
      expect(r.pages).toBe(10)
      // Request k + 1 (k = 0 …) is at the server while page k is being committed.
      const overlapped = store.commitsAt.slice(0, -1).filter((c, k) => stub.served[k + 1].start < c.end)
      expect(overlapped.length).toBe(store.commitsAt.length - 1)
      expect(stub.maxInFlight).toBe(1)
      // Offset paging guesses the next page while the page before was full: one dropped request at the end
      // at most (here Jira's total rules it out); cursor paging never guesses.
      expect(stub.served.length).toBeLessThanOrEqual(r.pages + (kind === 'jira-cloud' ? 0 : 1))
      expect(r.readAhead?.sent).toBeGreaterThanOrEqual(8)
    })
  }

  it('wall time of N pages is about N × max(serve, commit), not N × (serve + commit)', async () => {
    const run = async (readAhead: boolean) => {
      const stub = new Stub('dc', 80)
      stub.serveMs = 80
      const store = new TimedStore()
      store.commitMs = 80
      const t = performance.now()
      await syncStream(target(stub), store, opts({ readAhead }))
      expectExactlyOnce(stub, store)
      return { ms: performance.now() - t, pages: store.commitsAt.length }
    }
    const sequential = await run(false)
    const overlapped = await run(true)
    expect(sequential.pages).toBe(8)
    const sum = sequential.pages * 160
    expect(sequential.ms).toBeGreaterThanOrEqual(sum * 0.95)
    // Ideal: 80 (first request) + 8 × 80 = 720 ms; late timers on a busy machine add some. Far from the sum.
    expect(overlapped.ms).toBeLessThan(sum * 0.75)
  })

  it('the offset guess goes out before the body it follows is parsed, and only after a full page', async () => {
    const stub = new Stub('jira-cloud', 35) // pages of 10: 10, 10, 10, 5
    const order: string[] = []
    stub.onRequest = (_, url) => order.push(`request ${url.searchParams.get('offset')}`)
    const parse = JSON.parse
    const spy = vi.spyOn(JSON, 'parse').mockImplementation((text: string, reviver?: Parameters<typeof parse>[1]) => {
      const value = parse(text, reviver)
      if (text.startsWith('{"offset"')) order.push(`parse ${value.offset}`)
      return value
    })
    try {
      const r = await syncStream(target(stub), new TimedStore(), opts())
      // Page 0 gives no hint yet: its successor is asked after parsing it. From then on the page after a full
      // one is asked as soon as the body is in, before it is parsed. Jira's total (35) rules out offset 40.
      expect(order).toEqual([
        'request 0',
        'parse 0',
        'request 10',
        'request 20',
        'parse 10',
        'request 30',
        'parse 20',
        'parse 30',
      ])
      expect(r.readAhead).toEqual({ sent: 3, dropped: 0 })
    } finally {
      spy.mockRestore()
    }
  })

  it('one short page costs one request (incremental runs are not doubled)', async () => {
    const stub = new Stub('jira-cloud', 4)
    const store = new TimedStore()
    await syncStream(target(stub), store, opts())
    expect(stub.served.length).toBe(1)
  })
})

describe('read-ahead: rate limits', () => {
  it('after a 429 nothing is sent ahead: each request waits for the previous commit', async () => {
    const stub = new Stub('dc', 100)
    stub.serveMs = 2
    stub.fault = (i) => (i === 3 ? '429' : undefined)
    const store = new TimedStore()
    store.commitMs = 5
    const r = await syncStream(target(stub), store, opts())
    expectExactlyOnce(stub, store)
    expect(stub.maxInFlight).toBe(1)
    // Requests 0..3 (3 was rate limited, 4 is its retry); from then on request k+1 starts after commit k ends.
    const afterRetry = stub.served.slice(5)
    for (const req of afterRetry) {
      const previousCommit = store.commitsAt.filter((c) => c.end <= req.start)
      expect(previousCommit.length).toBe(stub.served.indexOf(req) - 1)
    }
    expect(r.readAhead?.sent).toBeLessThanOrEqual(3)
  })
})

describe('read-ahead: faults in the middle keep exactly-once', () => {
  for (const kind of ['jira-cloud', 'dc', 'org'] as const) {
    it(`${kind}: a failing commit drops the page read ahead; the next run resumes without loss or repeat`, async () => {
      const stub = new Stub(kind, 95)
      stub.serveMs = 3
      const store = new TimedStore()
      store.commitMs = 5
      store.failCommit = 4
      await expect(syncStream(target(stub), store, opts())).rejects.toThrow('disk full')
      // The request sent ahead of the failed commit was aborted or finished, and nothing is left running.
      expect(stub.inFlight).toBe(0)
      expect(store.emitted.length).toBe(40)
      await syncStream(target(stub), store, opts())
      expectExactlyOnce(stub, store)
    })

    it(`${kind}: an abort while a page is read ahead cancels it; resume is exactly-once`, async () => {
      const stub = new Stub(kind, 95)
      // The request read ahead is at the server for 60 ms, the abort comes 5 ms into the commit: a wide margin
      // for a busy machine.
      stub.serveMs = 60
      const store = new TimedStore()
      store.commitMs = 20
      const controller = new AbortController()
      // Abort during the third commit: by then the request for page 4 is at the server.
      const commit = store.commit.bind(store)
      store.commit = async (...args) => {
        if (store.commitsAt.length === 2) setTimeout(() => controller.abort(new Error('killed')), 5)
        return commit(...args)
      }
      await expect(syncStream(target(stub), store, opts({ signal: controller.signal }))).rejects.toThrow('killed')
      expect(stub.aborted).toBeGreaterThanOrEqual(1)
      expect(stub.inFlight).toBe(0)
      store.commit = commit
      await syncStream(target(stub), store, opts())
      expectExactlyOnce(stub, store)
    })
  }

  it('a truncated body while the next page is read ahead: retried alone, exactly-once', async () => {
    const stub = new Stub('jira-cloud', 95)
    stub.serveMs = 3
    // Request 3 answers half a body: its JSON fails after the guessed next request went out.
    stub.fault = (i) => (i === 3 ? 'truncate' : undefined)
    const store = new TimedStore()
    const r = await syncStream(target(stub), store, opts())
    expectExactlyOnce(stub, store)
    expect(stub.maxInFlight).toBe(1)
    expect(r.readAhead?.dropped).toBeGreaterThanOrEqual(1)
  })

  it('random kills, commit failures and truncations over many runs: exactly-once (offset and cursor)', async () => {
    for (const kind of ['jira-cloud', 'dc', 'org'] as const) {
      let seed = kind.length * 7919
      const rnd = () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        return seed / 0x7fffffff
      }
      const stub = new Stub(kind, 333)
      stub.fault = () => (rnd() < 0.08 ? 'truncate' : undefined)
      const store = new TimedStore()
      for (let run = 0; run < 12; run++) {
        const controller = new AbortController()
        const killAt = stub.served.length + 2 + Math.floor(rnd() * 8)
        stub.onRequest = (i) => {
          if (i >= killAt) controller.abort(new Error('killed'))
        }
        if (rnd() < 0.3) store.failCommit = store.commitsAt.length + Math.floor(rnd() * 4)
        await syncStream(target(stub), store, opts({ signal: controller.signal })).catch(() => undefined)
        store.failCommit = undefined
      }
      stub.onRequest = undefined
      stub.fault = undefined
      await syncStream(target(stub), store, opts())
      expectExactlyOnce(stub, store)
      expect(stub.maxInFlight).toBe(1)
    }
  })
})
