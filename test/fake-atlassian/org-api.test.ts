// Organization audit log: /admin/v1/orgs/{orgId}/events (10 req/min) and /events-stream (polling).

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { bearer, getJson, NOW } from './helpers'
import { type FakeAtlassian, startFakeAtlassian } from './server'

let fa: FakeAtlassian
let clock = NOW
let stream: string
let query: string
const key = () => bearer(fa.credentials.orgKey)

type OrgEvent = { id: string; attributes: { time: string; processedAt: string } }

beforeAll(async () => {
  fa = await startFakeAtlassian({ seed: 41, now: () => clock })
  stream = `${fa.gatewayUrl}/admin/v1/orgs/${fa.orgId}/events-stream`
  query = `${fa.gatewayUrl}/admin/v1/orgs/${fa.orgId}/events`
})
afterAll(() => fa.close())
beforeEach(() => {
  fa.faults.clear()
  fa.faults.setOrgEventsRateLimit(10)
  clock += 120_000 // a fresh rate-limit window for each test
})

describe('/events-stream', () => {
  it('pages ascending by processedAt, returning a cursor even on the last page', async () => {
    const all = fa.records('org') as OrgEvent[]
    const seen: OrgEvent[] = []
    let url = `${stream}?limit=100`
    let last: any
    for (let i = 0; i < 100; i++) {
      const { status, body } = await getJson(url, key())
      expect(status).toBe(200)
      seen.push(...body.data)
      last = body
      if (body.data.length < 100) break
      url = `${stream}?cursor=${body.meta.next}&limit=100`
    }
    expect(seen.length).toBe(all.length)
    expect(new Set(seen.map((e) => e.id)).size).toBe(all.length)
    const p = seen.map((e) => e.attributes.processedAt)
    expect(p).toEqual([...p].sort())
    // Ordered by processedAt, so event time is not monotonic (some events are processed late).
    const t = seen.map((e) => e.attributes.time)
    expect(t).not.toEqual([...t].sort())
    expect(last.meta.next).toEqual(expect.any(String))
    expect(last.links.next).toContain(`cursor=`)
  })

  it('resumes from the last cursor and returns only events processed since', async () => {
    let cursor: string | undefined
    let url = `${stream}?limit=500`
    for (;;) {
      const { body } = await getJson(url, key())
      cursor = body.meta.next
      if (body.data.length < 500) break
      url = `${stream}?cursor=${cursor}&limit=500`
    }
    const empty = await getJson(`${stream}?cursor=${cursor}`, key())
    expect(empty.body.data).toEqual([])
    expect(empty.body.meta.next).toBe(cursor)
    const fresh = fa.generate('org', 3, { at: clock })
    fa.insert('org', fresh)
    const poll = await getJson(`${stream}?cursor=${cursor}`, key())
    expect(poll.body.data.map((e: OrgEvent) => e.id).sort()).toEqual(fresh.map((e: any) => e.id).sort())
  })

  it('supports sortOrder=desc, keeps it in the cursor, and caps limit at 500', async () => {
    const first = await getJson(`${stream}?sortOrder=desc&limit=5`, key())
    const p = first.body.data.map((e: OrgEvent) => e.attributes.processedAt)
    expect(p).toEqual([...p].sort().reverse())
    const second = await getJson(`${stream}?cursor=${first.body.meta.next}&limit=5`, key())
    expect(second.body.data[0].attributes.processedAt <= p[4]).toBe(true)
    const big = await getJson(`${stream}?limit=1000`, key())
    expect(big.body.meta.page_size).toBe(500)
    expect(big.body.data.length).toBe(Math.min(500, fa.records('org').length))
  })

  it('selects from/to (epoch ms, [from, to)) on event time', async () => {
    const all = fa.records('org') as OrgEvent[]
    const from = Date.parse(all[40].attributes.time)
    const to = Date.parse(all[5].attributes.time)
    const { body } = await getJson(`${stream}?from=${from}&to=${to}&limit=500`, key())
    const expected = all.filter((e) => Date.parse(e.attributes.time) >= from && Date.parse(e.attributes.time) < to)
    expect(body.data.map((e: OrgEvent) => e.id).sort()).toEqual(expected.map((e) => e.id).sort())
    expect((await getJson(`${stream}?from=2025-01-01`, key())).status).toBe(400)
  })
})

describe('/events', () => {
  it('pages newest-first by time with meta.next until the data runs out', async () => {
    fa.faults.setOrgEventsRateLimit(0)
    const all = fa.records('org') as OrgEvent[]
    const seen: OrgEvent[] = []
    let url = `${query}?limit=50`
    for (;;) {
      const { status, body } = await getJson(url, key())
      expect(status).toBe(200)
      seen.push(...body.data)
      if (!body.meta.next) break
      url = body.links.next
    }
    expect(seen).toEqual(all)
  })

  it('allows 10 requests a minute, then 429 with Retry-After and X-RateLimit headers', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await getJson(`${query}?limit=1`, key())
      expect(r.status).toBe(200)
      expect(r.headers.get('x-ratelimit-remaining')).toBe(String(9 - i))
    }
    const limited = await getJson(`${query}?limit=1`, key())
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(limited.headers.get('x-ratelimit-reset')).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(limited.body).toMatchObject({ status: 429, error: 'Too Many Requests' })
    // The stream has no such limit.
    expect((await getJson(`${stream}?limit=1`, key())).status).toBe(200)
    clock += 61_000
    expect((await getJson(`${query}?limit=1`, key())).status).toBe(200)
  })

  it('serves a single event by id', async () => {
    const [first] = fa.records('org') as OrgEvent[]
    const r = await getJson(`${query}/${first.id}`, key())
    expect(r.body.data).toEqual(first)
  })
})
