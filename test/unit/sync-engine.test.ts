// The sync engine against a small in-process stub of the audit APIs (Jira Cloud offset paging, DC cursor
// paging, org events-stream), with adversarial schedules: inserts inside the pinned window while paging,
// clusters of records sharing one millisecond across page boundaries, kills at random pages. The full
// simulator (test/fake-atlassian) is exercised in sync-simulator.test.ts; this file pins the algorithm.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { StateFileStore } from '../../src/cli/state-file-store'
import type { ApiId } from '../../src/core/atlassian/apis'
import { apiFor } from '../../src/core/atlassian/apis'
import { createAuthenticator } from '../../src/core/atlassian/auth'
import type { FetchLike } from '../../src/core/atlassian/client'
import { AtlassianClient } from '../../src/core/atlassian/client'
import type { StreamTarget } from '../../src/core/atlassian/connect'
import { connect } from '../../src/core/atlassian/connect'
import { MalformedResponseError, NotAdminError, SessionExpiredError } from '../../src/core/atlassian/errors'
import type { EcsDocument, Product, Site } from '../../src/core/model'
import type { SyncProgress } from '../../src/core/sync/engine'
import { syncAll, syncStream } from '../../src/core/sync/engine'
import { MemoryStore } from '../../src/core/sync/memory-store'
import { Prng } from '../fake-atlassian/prng'

const DAY = 86_400_000
const T0 = Date.parse('2025-03-01T00:00:00.000Z')

/** Uniform [0, 1) numbers from one seed (the simulator's generator). */
function prng(seed: number): () => number {
  const p = new Prng(seed)
  return () => p.next()
}

interface Rec {
  ts: number
  tie: number
  processedAt: number
  uid: string
}

type Kind = 'jira-cloud' | 'dc' | 'org'

/** A tiny server for three paging styles. `beforePage` runs before each page is computed (insert faults). */
class Stub {
  recs: Rec[] = []
  private nextTie = 1
  clock = T0
  beforePage?: (req: URL) => void
  requests = 0
  /** Serve records sharing one millisecond in a new random order on every request (offset APIs). */
  shuffleTies?: () => number

  constructor(readonly kind: Kind) {}

  add(ts: number, processedLag = 0): Rec {
    const r = { ts, tie: this.nextTie++, processedAt: ts + processedLag, uid: `u${this.nextTie}` }
    this.recs.push(r)
    return r
  }

  raw(r: Rec): Record<string, unknown> {
    if (this.kind === 'jira-cloud') {
      return {
        id: r.tie,
        summary: 'User created',
        created: new Date(r.ts).toISOString().replace('Z', '+0000'),
        uid: r.uid,
      }
    }
    if (this.kind === 'dc') return { timestamp: new Date(r.ts).toISOString(), type: { action: 'x' }, uid: r.uid }
    return {
      id: r.uid,
      type: 'events',
      attributes: { time: new Date(r.ts).toISOString(), processedAt: new Date(r.processedAt).toISOString() },
    }
  }

  private newestFirst(from: number, to: number): Rec[] {
    const list = this.recs.filter((r) => r.ts >= from && r.ts <= to).sort((a, b) => b.ts - a.ts || b.tie - a.tie)
    const rnd = this.shuffleTies
    if (!rnd) return list
    for (let start = 0; start < list.length; ) {
      let end = start + 1
      while (end < list.length && list[end]!.ts === list[start]!.ts) end++
      for (let i = end - 1; i > start; i--) {
        const j = start + Math.floor(rnd() * (i - start + 1))
        ;[list[i], list[j]] = [list[j]!, list[i]!]
      }
      start = end
    }
    return list
  }

  fetch: FetchLike = async (input) => {
    this.requests++
    this.clock += 1000
    const url = new URL(input)
    const q = url.searchParams
    this.beforePage?.(url)
    const limit = Number(q.get('limit'))
    const body = (b: unknown) => new Response(JSON.stringify(b), { headers: { 'content-type': 'application/json' } })
    if (this.kind === 'jira-cloud') {
      const list = this.newestFirst(Date.parse(q.get('from')!), Date.parse(q.get('to')!))
      const offset = Number(q.get('offset'))
      return body({
        offset,
        limit,
        total: list.length,
        records: list.slice(offset, offset + limit).map((r) => this.raw(r)),
      })
    }
    if (this.kind === 'dc') {
      let list = this.newestFirst(Date.parse(q.get('from')!), Date.parse(q.get('to')!))
      const cursor = q.get('pageCursor')
      if (cursor) {
        const [cts, ctie] = cursor.split(',').map(Number)
        list = list.filter((r) => r.ts < cts || (r.ts === cts && r.tie < ctie))
      }
      const page = list.slice(0, limit)
      const last = page[page.length - 1]
      const lastPage = list.length <= limit
      return body({
        entities: page.map((r) => this.raw(r)),
        pagingInfo: lastPage
          ? { lastPage: true, size: page.length }
          : { lastPage: false, nextPageCursor: `${last.ts},${last.tie}`, size: page.length },
      })
    }
    // org events-stream: ascending (processedAt, tie); cursor = "p,tie" of the last record returned.
    let list = [...this.recs].sort((a, b) => a.processedAt - b.processedAt || a.tie - b.tie)
    const cursor = q.get('cursor')
    if (cursor) {
      const [p, t] = cursor.split(',').map(Number)
      list = list.filter((r) => r.processedAt > p || (r.processedAt === p && r.tie > t))
    } else list = list.filter((r) => r.ts >= Number(q.get('from')))
    const page = list.slice(0, limit)
    const last = page[page.length - 1]
    return body({
      data: page.map((r) => this.raw(r)),
      meta: { page_size: limit, next: last ? `${last.processedAt},${last.tie}` : cursor },
    })
  }
}

function target(stub: Stub, product: Product, apiId?: ApiId): StreamTarget {
  const deployment = stub.kind === 'dc' ? 'dc' : 'cloud'
  const site: Site = {
    id: `s-${stub.kind}`,
    url: 'https://acme.test',
    product,
    deployment,
    auth: 'session',
    orgId: 'o1',
  }
  const auth = createAuthenticator({
    target: site,
    credential: stub.kind === 'org' ? { mode: 'org-key', secret: 'k-secret-123' } : { mode: 'session' },
    gatewayUrl: 'https://acme.test',
  })
  const client = new AtlassianClient({ fetch: stub.fetch, sleep: async () => {} }, auth)
  const api = apiFor({ product, deployment, orgId: 'o1' }, apiId)
  return { streamId: `${site.id}|${api.id}`, site, api, auth, client }
}

const tmp = mkdtempSync(path.join(tmpdir(), 'sync-engine-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

/** A StateFileStore (the CLI's: keeps only the keys it may meet again) that records what it emits. */
async function emittingStore(file: string) {
  const emitted: EcsDocument[] = []
  const open = () => StateFileStore.open(file, async (docs) => void emitted.push(...docs))
  return { emitted, open }
}

function uidOf(doc: EcsDocument): string {
  return (JSON.parse(String(doc.event.original)) as { uid?: string; id?: string }).uid ?? ''
}
function orgIdOf(doc: EcsDocument): string {
  return (JSON.parse(String(doc.event.original)) as { id: string }).id
}

const VARIANTS: { kind: Kind; unstableTies?: boolean }[] = [
  { kind: 'jira-cloud' },
  // records of one millisecond in another order on every request: a page boundary inside them must not skip any
  { kind: 'jira-cloud', unstableTies: true },
  { kind: 'dc' },
  { kind: 'org' },
]

for (const { kind, unstableTies } of VARIANTS) {
  describe(`exactly once (${kind}${unstableTies ? ', ties in a new order on every request' : ''})`, () => {
    for (const seed of process.env.SYNC_SEEDS
      ? Array.from({ length: Number(process.env.SYNC_SEEDS) }, (_, i) => i + 1)
      : [1, 2, 3, 4, 5]) {
      it(`seed ${seed}: inserts while paging, same-millisecond clusters, kills and resumes`, async () => {
        const rnd = prng(seed * 7919 + kind.length)
        const stub = new Stub(kind)
        if (unstableTies) stub.shuffleTies = prng(seed * 31 + 7)
        // 7 days of history with clusters of up to 40 records in one millisecond (page size 25).
        let t = T0 - 7 * DAY + 1
        while (t < T0 - 1000) {
          const n = rnd() < 0.1 ? 1 + Math.floor(rnd() * 40) : 1
          for (let i = 0; i < n; i++) stub.add(t, Math.floor(rnd() * 5000))
          t += Math.floor(rnd() * 2 * 3_600_000)
        }
        // Faults: before some pages, insert records at the top of the requested window (inside the pinned
        // window: the late-arrival case) and at "now" (outside it).
        stub.beforePage = (url) => {
          if (rnd() < 0.3) {
            // (late arrivals: at the top of a window that ends in the last minutes, the overlap's business; a
            // window further back, such as one millisecond read again, gets its new records at "now")
            const to = url.searchParams.get('to')
            const top =
              to && Date.parse(to) > stub.clock - 5 * 60_000 ? Math.min(Date.parse(to), stub.clock) : stub.clock
            const n = 1 + Math.floor(rnd() * 5)
            for (let i = 0; i < n; i++) {
              const ts = rnd() < 0.5 ? top : stub.clock - Math.floor(rnd() * 60_000)
              // The events-stream orders by processing time, which only grows: a late event is processed now.
              stub.add(ts, kind === 'org' ? stub.clock + 60_000 - ts : Math.floor(rnd() * 100))
            }
          }
        }
        const product: Product = kind === 'jira-cloud' ? 'jira' : kind === 'dc' ? 'confluence' : 'org'
        const file = path.join(tmp, `${kind}${unstableTies ? '-unstable' : ''}-${seed}.json`)
        const { emitted, open } = await emittingStore(file)
        const debugLog: string[] = []
        const opts = { limit: 25, now: () => stub.clock, lookbackMs: 8 * DAY, log: (l: string) => debugLog.push(l) }
        const since = stub.clock - 8 * DAY
        // Several runs, each killed at a random request, then a clean run.
        let kills = 0
        for (let run = 0; run < 6; run++) {
          const controller = new AbortController()
          const killAt = stub.requests + 1 + Math.floor(rnd() * 12)
          const before: ((url: URL) => void) | undefined = stub.beforePage
          stub.beforePage = (url) => {
            before?.(url)
            if (stub.requests >= killAt) controller.abort(new Error('killed'))
          }
          try {
            await syncStream(target(stub, product), await open(), { ...opts, signal: controller.signal })
          } catch (e) {
            expect((e as Error).message).toBe('killed')
            kills++
          }
          stub.beforePage = before
        }
        expect(kills).toBeGreaterThan(0)
        stub.beforePage = undefined
        stub.clock += 20 * 60_000 // past the overlap of anything inserted at the top
        const finalUntil = stub.clock
        const last = await syncStream(target(stub, product), await open(), opts)
        expect(last.checkpoint).toBeGreaterThanOrEqual(finalUntil)

        const ids = emitted.map(kind === 'org' ? orgIdOf : uidOf)
        const expected = stub.recs
          .filter((r) => r.ts >= since && (kind === 'org' ? true : r.ts <= last.checkpoint!))
          .map((r) => r.uid)
        expect(new Set(ids).size).toBe(ids.length) // no repeats
        expect(new Set(ids)).toEqual(new Set(expected)) // nothing lost
      })
    }
  })
}

describe('overlap and late records', () => {
  it('collects a record that arrives late within the overlap, by identity, without repeating the others', async () => {
    const stub = new Stub('jira-cloud')
    for (let i = 0; i < 60; i++) stub.add(T0 - i * 60_000)
    const store = new MemoryStore()
    const tgt = target(stub, 'jira')
    const first = await syncStream(tgt, store, { limit: 25, now: () => stub.clock })
    expect(first.stored).toBe(60)
    const cp = first.checkpoint!
    stub.add(cp - 5 * 60_000) // written late, 5 min behind the checkpoint
    stub.add(cp - 60 * 60_000) // 1 h behind: outside the default 10-minute overlap
    stub.clock += 60_000
    const second = await syncStream(tgt, store, { limit: 25, now: () => stub.clock })
    expect(second.stored).toBe(1)
    const third = await syncStream(tgt, store, { limit: 25, now: () => stub.clock, overlapMs: 2 * 3_600_000 })
    expect(third.stored).toBe(1)
    expect(store.docs.size).toBe(62)
  })

  it('reports progress with a growing fraction and an estimate of what is left', async () => {
    const stub = new Stub('dc')
    for (let i = 0; i < 200; i++) stub.add(T0 - i * 3_000_000)
    const seen: SyncProgress[] = []
    await syncStream(target(stub, 'jira'), new MemoryStore(), {
      limit: 20,
      now: () => stub.clock,
      onProgress: (p) => seen.push(p),
    })
    expect(seen.length).toBeGreaterThan(5)
    const fractions = seen.map((p) => p.fraction ?? 0)
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b))
    expect(seen.at(-1)).toMatchObject({ phase: 'done', fraction: 1 })
    expect(seen[2].estimatedRemaining).toBeGreaterThan(0)
    expect(seen[2].phase).toBe('backfill')
  })

  it('the first run is capped at the API retention', async () => {
    const stub = new Stub('org')
    stub.add(T0 - 400 * DAY)
    stub.add(T0 - DAY)
    const logs: string[] = []
    const r = await syncStream(target(stub, 'org'), new MemoryStore(), {
      now: () => stub.clock,
      lookbackMs: 1000 * DAY,
      log: (l) => logs.push(l),
    })
    expect(r.stored).toBe(1)
  })
})

describe('a server that gives no way on', () => {
  it('stops with MalformedResponseError, never asks for the same page forever', async () => {
    const json = (b: unknown) => new Response(JSON.stringify(b), { headers: { 'content-type': 'application/json' } })
    // org events-stream: full pages without meta.next or links.next; then a cursor that never moves
    const org = new Stub('org')
    let orgCalls = 0
    const event = (i: number) => org.raw({ ts: T0 - 1000 + i, tie: i, processedAt: T0 - 1000 + i, uid: `o${i}` })
    org.fetch = async () => {
      orgCalls++
      return json({ data: Array.from({ length: 25 }, (_, i) => event(orgCalls * 100 + i)), meta: { page_size: 25 } })
    }
    const store = await (await emittingStore(path.join(tmp, 'stuck-org.json'))).open()
    await expect(syncStream(target(org, 'org'), store, { limit: 25, now: () => T0 })).rejects.toBeInstanceOf(
      MalformedResponseError,
    )
    expect(orgCalls).toBe(1)
    let sameCalls = 0
    org.fetch = async () => {
      sameCalls++
      return json({
        data: Array.from({ length: 25 }, (_, i) => event(sameCalls * 100 + i)),
        meta: { page_size: 25, next: 'stuck' },
      })
    }
    const again = await (await emittingStore(path.join(tmp, 'stuck-org-2.json'))).open()
    await expect(syncStream(target(org, 'org'), again, { limit: 25, now: () => T0 })).rejects.toThrow(
      /without a new cursor/,
    )
    expect(sameCalls).toBe(2)

    // DC: every page says lastPage false with the cursor it was asked with
    const dc = new Stub('dc')
    let dcCalls = 0
    dc.fetch = async (input) => {
      dcCalls++
      const cursor = new URL(input).searchParams.get('pageCursor') ?? `${T0 - 5000},9`
      return json({
        entities: Array.from({ length: 25 }, (_, i) => ({
          timestamp: new Date(T0 - 5000).toISOString(),
          uid: `d${dcCalls}-${i}`,
        })),
        pagingInfo: { lastPage: false, nextPageCursor: cursor },
      })
    }
    const dcStore = await (await emittingStore(path.join(tmp, 'stuck-dc.json'))).open()
    await expect(syncStream(target(dc, 'confluence'), dcStore, { limit: 25, now: () => T0 })).rejects.toThrow(
      /same next-page cursor/,
    )
    expect(dcCalls).toBe(2)
  })
})

describe('a 401 from a signed-in account that is not an administrator', () => {
  it('is NotAdminError when the who-am-I resource knows the user, else what the 401 said', async () => {
    const json = (b: unknown, status = 200) =>
      new Response(JSON.stringify(b), { status, headers: { 'content-type': 'application/json' } })
    for (const [me, expected] of [
      [json({ accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Viewer' }), NotAdminError],
      [json({ message: 'Client must be authenticated' }, 401), SessionExpiredError],
    ] as const) {
      const stub = new Stub('jira-cloud')
      const paths: string[] = []
      stub.fetch = async (input) => {
        const url = new URL(input)
        paths.push(url.pathname)
        if (url.pathname === '/rest/api/3/myself') return me.clone()
        return json({ errorMessages: ['You are not authorized'] }, 401)
      }
      const store = await (
        await emittingStore(path.join(tmp, `not-admin-${paths.length}-${expected.name}.json`))
      ).open()
      const e = await syncStream(target(stub, 'jira'), store, { limit: 25, now: () => T0 }).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(expected)
      if (expected === NotAdminError) expect((e as Error).message).toMatch(/signed in .* may not read its audit log/)
      expect(paths).toEqual(['/rest/api/3/auditing/record', '/rest/api/3/myself'])
    }
  })
})

describe('Confluence DC legacy dates (their text format is UNCONFIRMED)', () => {
  it('a 400 to epoch milliseconds has the same dates sent as ISO-8601, for the rest of the run', async () => {
    const stub = new Stub('dc')
    const asked: string[] = []
    const recs = Array.from({ length: 30 }, (_, i) => ({
      author: { type: 'user', displayName: 'Admin' },
      remoteAddress: '10.0.0.1',
      creationDate: T0 - 60_000 - i * 1000,
      summary: `Changed ${i}`,
      category: 'Permissions',
      sysAdmin: true,
      affectedObject: { name: '', objectType: '' },
      changedValues: [],
      associatedObjects: [],
    }))
    stub.fetch = async (input) => {
      const q = new URL(input).searchParams
      const start = q.get('startDate') ?? ''
      asked.push(/^\d+$/.test(start) ? 'epoch' : 'iso')
      if (/^\d+$/.test(start))
        return new Response('{"statusCode":400,"message":"Bad date"}', {
          status: 400,
          headers: { 'content-type': 'application/json' },
        })
      const from = Date.parse(start)
      const to = Date.parse(q.get('endDate') ?? '')
      const offset = Number(q.get('start'))
      const limit = Number(q.get('limit'))
      const inWindow = recs.filter((r) => r.creationDate >= from && r.creationDate <= to)
      const results = inWindow.slice(offset, offset + limit)
      return new Response(JSON.stringify({ results, start: offset, limit, size: results.length }), {
        headers: { 'content-type': 'application/json' },
      })
    }
    const { emitted, open } = await emittingStore(path.join(tmp, 'legacy-dates.json'))
    const result = await syncStream(target(stub, 'confluence', 'confluence-dc-legacy'), await open(), {
      limit: 25,
      now: () => T0,
      readAhead: false,
    })
    expect(emitted).toHaveLength(30)
    expect(result.checkpoint).toBe(T0)
    expect(asked).toEqual(['epoch', 'iso', 'iso'])
  })
})

describe('an upper bound in the future', () => {
  it('is capped at now: a record written after the run is collected by the next one', async () => {
    for (const kind of ['jira-cloud', 'dc'] as const) {
      const stub = new Stub(kind)
      for (let i = 0; i < 5; i++) stub.add(stub.clock - 60_000 * (i + 1))
      const product: Product = kind === 'jira-cloud' ? 'jira' : 'confluence'
      const { emitted, open } = await emittingStore(path.join(tmp, `future-${kind}.json`))
      const log: string[] = []
      const first = await syncStream(target(stub, product), await open(), {
        limit: 25,
        now: () => stub.clock,
        until: stub.clock + 3_600_000,
        log: (l) => log.push(l),
      })
      expect(first.checkpoint).toBeLessThanOrEqual(stub.clock + 1000)
      expect(log.join('\n')).toMatch(/in the future: collecting up to now/)
      const late = stub.add(stub.clock + 5_000)
      stub.clock += 60_000
      await syncStream(target(stub, product), await open(), { limit: 25, now: () => stub.clock })
      expect(emitted.map(uidOf)).toContain(late.uid)
      expect(emitted).toHaveLength(6)
    }
  })
})

describe('syncAll', () => {
  it('runs sites independently: one failing site does not stop the others', async () => {
    const ok1 = new Stub('jira-cloud')
    const ok2 = new Stub('dc')
    for (let i = 0; i < 30; i++) {
      ok1.add(T0 - i * 1000)
      ok2.add(T0 - i * 1000)
    }
    const store = new MemoryStore()
    const expired: FetchLike = async () => new Response(null, { status: 302, headers: { location: '/login' } })
    const site = (id: string, product: Product, deployment: 'cloud' | 'dc'): Site => ({
      id,
      url: `https://${id}.test`,
      product,
      deployment,
      auth: 'session',
    })
    const outcomes = await syncAll(
      [
        { site: site('a', 'jira', 'cloud'), prepare: async () => target(ok1, 'jira') },
        {
          site: site('b', 'confluence', 'cloud'),
          prepare: () => connect(site('b', 'confluence', 'cloud'), { mode: 'session' }, { fetch: expired }),
        },
        { site: site('c', 'confluence', 'dc'), prepare: async () => target(ok2, 'confluence') },
      ],
      store,
      { now: () => T0 + 1000, concurrency: 2 },
    )
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true])
    expect(outcomes[1].error).toBeInstanceOf(SessionExpiredError)
    expect(outcomes[0].result?.stored).toBe(30)
    expect(outcomes[2].result?.stored).toBe(30)
    expect(store.docs.size).toBe(60)
  })
})
