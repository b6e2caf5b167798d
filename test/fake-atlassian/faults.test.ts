// Switchable faults: 429, 5xx, slow, expired session, inserts while paging, shared milliseconds, truncated
// bodies, plans without audit log; count/after/probability, and determinism with the seed.

import { request } from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { adminBasic, bearer, getJson, login, NOW } from './helpers'
import { type FakeAtlassian, startFakeAtlassian } from './server'

let fa: FakeAtlassian
let jira: string
let conf: string
let dc: string

beforeAll(async () => {
  fa = await startFakeAtlassian({ seed: 51, now: () => NOW, volume: { cloud: 200, 'jira-dc': 100, org: 50 } })
  jira = `${fa.sites.cloud.baseUrl}/rest/api/3/auditing/record`
  conf = `${fa.sites.cloud.baseUrl}/wiki/rest/api/audit`
  dc = `${fa.sites['jira-dc'].baseUrl}/rest/auditing/1.0/events`
})
afterAll(() => fa.close())
afterEach(() => fa.faults.clear())

/** Raw HTTP GET that reports how the body ended (fetch hides a destroyed socket behind a TypeError). */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; declared: number; received: number; aborted: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let received = 0
      let aborted = false
      res.on('data', (c: Buffer) => {
        received += c.length
      })
      res.on('aborted', () => {
        aborted = true
      })
      res.on('error', () => {
        aborted = true
      })
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          declared: Number(res.headers['content-length']),
          received,
          aborted: aborted || !res.complete,
        }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

describe('rate limiting', () => {
  it('sends 429 with Retry-After seconds, X-RateLimit-Reset (minute precision) and friends, count times', async () => {
    const h = fa.faults.rateLimit({ count: 2, retryAfterSeconds: 3 })
    const a = await getJson(jira, adminBasic(fa))
    expect(a.status).toBe(429)
    expect(a.headers.get('retry-after')).toBe('3')
    expect(a.headers.get('x-ratelimit-reset')).toBe('2025-03-10T12:01Z')
    expect(a.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(a.headers.get('ratelimit-reason')).toBe('jira-burst-based')
    expect((await getJson(jira, adminBasic(fa))).status).toBe(429)
    expect((await getJson(jira, adminBasic(fa))).status).toBe(200)
    expect(h.hits).toBe(2)
  })

  it('can send Retry-After as an HTTP date, or leave it out', async () => {
    fa.faults.rateLimit({ count: 1, retryAfter: 'date', retryAfterSeconds: 2 })
    const d = await getJson(conf, adminBasic(fa))
    expect(d.status).toBe(429)
    expect(d.headers.get('retry-after')).toBe(new Date(NOW + 2000).toUTCString())
    fa.faults.rateLimit({ count: 1, retryAfter: 'none' })
    const n = await getJson(conf, adminBasic(fa))
    expect(n.headers.get('retry-after')).toBeNull()
    expect(n.headers.get('x-ratelimit-reset')).not.toBeNull()
  })

  it('targets only the APIs, sites and via it is given', async () => {
    fa.faults.rateLimit({ sites: ['jira-dc'] })
    expect((await getJson(jira, adminBasic(fa))).status).toBe(200)
    const dcLimited = await getJson(dc, bearer(fa.credentials.pat))
    expect(dcLimited.status).toBe(429)
    expect(dcLimited.headers.get('x-ratelimit-fillrate')).toBe('10')
    expect(dcLimited.headers.get('x-ratelimit-interval-seconds')).toBe('1')
    fa.faults.clear()
    fa.faults.rateLimit({ via: ['gateway'] })
    expect((await getJson(jira, adminBasic(fa))).status).toBe(200)
    expect(
      (await getJson(`${fa.gatewayUrl}/ex/jira/${fa.cloudId}/rest/api/3/auditing/record`, adminBasic(fa))).status,
    ).toBe(429)
    // tenant_info is not an audit API: untouched unless named.
    expect((await getJson(`${fa.sites.cloud.baseUrl}/_edge/tenant_info`)).status).toBe(200)
  })
})

describe('server errors and slowness', () => {
  it('answers 500 in the product shape and 502/503/504 as the edge does', async () => {
    fa.faults.serverError({ count: 1, status: 500 })
    const e500 = await getJson(jira, adminBasic(fa))
    expect(e500.status).toBe(500)
    expect(e500.body).toEqual({ errorMessages: ['Internal server error'], errors: {} })
    fa.faults.serverError({ count: 1, status: 502 })
    const e502 = await getJson(jira, adminBasic(fa))
    expect(e502.status).toBe(502)
    expect(e502.headers.get('content-type')).toBe('text/html')
    expect(e502.body).toContain('502 Bad Gateway')
    fa.faults.serverError({ count: 1, status: 503 })
    const e503 = await getJson(conf, adminBasic(fa))
    expect(e503.status).toBe(503)
    expect(e503.headers.get('retry-after')).toBe('1')
    fa.faults.serverError({ count: 1, status: 504 })
    expect((await getJson(dc, bearer(fa.credentials.pat))).status).toBe(504)
  })

  it('fires with a probability drawn from the seed: same seed, same schedule', async () => {
    const schedule = async (seed: number) => {
      const other = await startFakeAtlassian({ seed, now: () => NOW, volume: { cloud: 5 } })
      other.faults.serverError({ probability: 0.3, status: 'random' })
      const statuses: number[] = []
      for (let i = 0; i < 30; i++) {
        statuses.push(
          (await getJson(`${other.sites.cloud.baseUrl}/rest/api/3/auditing/record?limit=1`, adminBasic(other))).status,
        )
      }
      await other.close()
      return statuses
    }
    const a = await schedule(7)
    expect(await schedule(7)).toEqual(a)
    expect(a.filter((s) => s >= 500).length).toBeGreaterThan(2)
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(10)
    expect(await schedule(8)).not.toEqual(a)
  })

  it('delays responses without counting the delay as serving time; `after` skips the first requests', async () => {
    fa.resetServed()
    fa.faults.slow({ delayMs: 300, after: 1, count: 1 })
    let t = performance.now()
    await getJson(jira, adminBasic(fa))
    expect(performance.now() - t).toBeLessThan(250)
    t = performance.now()
    await getJson(jira, adminBasic(fa))
    expect(performance.now() - t).toBeGreaterThanOrEqual(290)
    expect(fa.served().byApi['jira-cloud']?.serveMs).toBeLessThan(250)
  })
})

describe('expired sessions', () => {
  it('turns valid session requests into expired answers for count requests, in the chosen mode', async () => {
    const cookie = await login(`${fa.sites.cloud.baseUrl}/login`)
    fa.faults.expiredSession({ count: 1, mode: 'html' })
    const html = await getJson(conf, { cookie })
    expect(html.status).toBe(200)
    expect(html.headers.get('content-type')).toContain('text/html')
    fa.faults.expiredSession({ count: 1, mode: '302' })
    expect((await getJson(conf, { cookie })).status).toBe(302)
    fa.faults.expiredSession({ count: 1, mode: '401' })
    expect((await getJson(conf, { cookie })).status).toBe(401)
    expect((await getJson(conf, { cookie })).status).toBe(200)
    // Token requests are not sessions: untouched.
    fa.faults.expiredSession({})
    expect((await getJson(conf, adminBasic(fa))).status).toBe(200)
  })
})

describe('inserts while paging and shared milliseconds', () => {
  it('inserts records inside the pinned window between page requests (offset paging repeats records)', async () => {
    const h = fa.faults.insertWhilePaging({ records: 4, apis: ['jira-cloud'] })
    const to = encodeURIComponent(new Date(NOW).toISOString())
    const p1 = await getJson(`${jira}?to=${to}&limit=20`, adminBasic(fa))
    expect(h.hits).toBe(0) // first pages are left alone
    const p2 = await getJson(`${jira}?to=${to}&offset=20&limit=20`, adminBasic(fa))
    expect(h.hits).toBe(1)
    expect(p2.body.records.slice(0, 4)).toEqual(p1.body.records.slice(16, 20))
    const served = fa.served().entries('jira-cloud')
    expect(served.filter((e) => e.times > 1).length).toBeGreaterThanOrEqual(4)
  })

  it('can make the inserted records late (older than now) and share one millisecond', async () => {
    const before = fa.records('jira-dc').length
    fa.faults.insertWhilePaging({ records: 30, sameMillisecond: true, apis: ['jira-dc'], count: 1 })
    const first = await getJson(`${dc}?limit=10`, bearer(fa.credentials.pat))
    await getJson(`${dc}?limit=10&pageCursor=${first.body.pagingInfo.nextPageCursor}`, bearer(fa.credentials.pat))
    const all = fa.records('jira-dc') as Array<{ timestamp: string }>
    expect(all.length).toBe(before + 30)
    const iso = new Date(NOW).toISOString()
    expect(all.filter((e) => e.timestamp === iso).length).toBe(30)
  })

  it('insertSameMillisecond puts a block of records in one ms', () => {
    const at = NOW - 5000
    fa.insertSameMillisecond('confluence-cloud', 1500, at)
    const inMs = (fa.records('confluence-cloud') as Array<{ creationDate: number }>).filter(
      (r) => r.creationDate === at,
    )
    expect(inMs.length).toBe(1500)
  })
})

describe('truncated bodies', () => {
  it("'destroy' declares the full length, sends part of it and drops the connection", async () => {
    fa.faults.truncate({ count: 1 })
    const r = await rawGet(`${jira}?limit=50`, adminBasic(fa))
    expect(r.status).toBe(200)
    expect(r.aborted).toBe(true)
    expect(r.received).toBeLessThan(r.declared)
    await expect(fetch(`${jira}?limit=50`, { headers: adminBasic(fa) }).then((x) => x.text())).resolves.toContain(
      'records',
    )
  })

  it("'malformed' sends an honest, short body that is not JSON; neither counts as served", async () => {
    fa.resetServed()
    fa.faults.truncate({ count: 1, mode: 'malformed', keepFraction: 0.3 })
    const res = await fetch(`${conf}?limit=50`, { headers: adminBasic(fa) })
    const text = await res.text()
    expect(res.status).toBe(200)
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(text))
    expect(() => JSON.parse(text)).toThrow()
    const s = fa.served()
    expect(s.byApi['confluence-cloud']).toMatchObject({ truncated: 1, pages: 0, records: 0 })
  })
})

describe('plans without audit log', () => {
  it('Cloud: 403 with the Free-plan messages; DC: HTML 404 (no auditing plugin); org: 403', async () => {
    fa.faults.setAuditPlan('cloud', false)
    fa.faults.setAuditPlan('jira-dc', false)
    fa.faults.setAuditPlan('org', false)
    const j = await getJson(jira, adminBasic(fa))
    expect(j.status).toBe(403)
    expect(j.body.errorMessages[0]).toMatch(/Free plans/)
    const c = await getJson(conf, adminBasic(fa))
    expect(c.status).toBe(403)
    expect(c.body.message).toBe(
      'Cannot make this request because you are on Free edition. Please upgrade to standard or premium.',
    )
    const d = await getJson(dc, bearer(fa.credentials.pat))
    expect(d.status).toBe(404)
    expect(d.headers.get('content-type')).toContain('text/html')
    const o = await getJson(`${fa.gatewayUrl}/admin/v1/orgs/${fa.orgId}/events-stream`, bearer(fa.credentials.orgKey))
    expect(o.status).toBe(403)
    fa.faults.setAuditPlan('cloud', true)
    expect((await getJson(jira, adminBasic(fa))).status).toBe(200)
  })
})
