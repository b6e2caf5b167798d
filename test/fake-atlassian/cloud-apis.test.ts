// Confluence Cloud and Jira Cloud audit APIs of the simulator: paging, ordering, windows, envelopes.

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminBasic, basic, getJson, NOW } from './helpers'
import { type FakeAtlassian, startFakeAtlassian } from './server'

const here = dirname(fileURLToPath(import.meta.url))
let fa: FakeAtlassian
let conf: string
let jira: string

beforeAll(async () => {
  fa = await startFakeAtlassian({ seed: 11, now: () => NOW })
  conf = `${fa.sites.cloud.baseUrl}/wiki/rest/api/audit`
  jira = `${fa.sites.cloud.baseUrl}/rest/api/3/auditing/record`
})
afterAll(() => fa.close())

describe('Confluence Cloud /wiki/rest/api/audit', () => {
  it('pages newest-first with start/limit and the AuditRecordArray envelope', async () => {
    const all = fa.records('confluence-cloud') as Array<{ creationDate: number }>
    expect(all.length).toBe(37 + 300)
    const seen: unknown[] = []
    for (let start = 0; ; start += 100) {
      const { status, body } = await getJson(`${conf}?start=${start}&limit=100`, adminBasic(fa))
      expect(status).toBe(200)
      expect(body).toMatchObject({ start, limit: 100, size: body.results.length })
      expect(body._links).toMatchObject({ context: '/wiki' })
      expect(body._links.next).toBeUndefined()
      seen.push(...body.results)
      if (body.results.length < 100) break
    }
    expect(seen).toEqual(all)
    const times = (seen as Array<{ creationDate: number }>).map((r) => r.creationDate)
    expect(times).toEqual([...times].sort((a, b) => b - a))
  })

  it('includes both bounds of startDate/endDate (epoch ms)', async () => {
    const all = fa.records('confluence-cloud') as Array<{ creationDate: number }>
    const hi = all[10].creationDate
    const lo = all[40].creationDate
    const { body } = await getJson(`${conf}?startDate=${lo}&endDate=${hi}&limit=1000`, adminBasic(fa))
    const expected = all.filter((r) => r.creationDate >= lo && r.creationDate <= hi)
    expect(body.results).toEqual(expected)
    expect(body.results[0].creationDate).toBe(hi)
    expect(body.results.at(-1).creationDate).toBe(lo)
  })

  it('finds every re-timed fixture record in a 7-day lookback, in the fixture order', async () => {
    const from = NOW - 7 * 86_400_000
    const { body } = await getJson(`${conf}?startDate=${from}&endDate=${NOW}&limit=1000`, adminBasic(fa))
    const strip = ({ creationDate: _, ...rest }: { creationDate: number }) => JSON.stringify(rest)
    const served = body.results.map(strip)
    const fixture = readFileSync(join(here, 'fixtures', 'confluence-cloud.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => strip(JSON.parse(l)))
    // Each fixture record appears after the previous one (newest-first order kept; duplicates allowed).
    let at = -1
    for (const f of fixture) {
      at = served.indexOf(f, at + 1)
      expect(at).toBeGreaterThanOrEqual(0)
    }
  })

  it('echoes the capped limit and rejects non-epoch dates', async () => {
    const { body } = await getJson(`${conf}?limit=5000`, adminBasic(fa))
    expect(body.limit).toBe(1000)
    expect(body.results.length).toBe(Math.min(1000, fa.records('confluence-cloud').length))
    const bad = await getJson(`${conf}?startDate=2025-03-01T00:00:00Z`, adminBasic(fa))
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ statusCode: 400, data: { valid: false } })
  })

  it('shifts offsets when records are inserted inside the window (the reason to pin endDate)', async () => {
    const first = await getJson(`${conf}?endDate=${NOW}&limit=10`, adminBasic(fa))
    fa.insert('confluence-cloud', fa.generate('confluence-cloud', 3, { at: NOW }))
    const second = await getJson(`${conf}?endDate=${NOW}&start=10&limit=10`, adminBasic(fa))
    // The three new records pushed the old page down: the second page now repeats the last three.
    expect(second.body.results.slice(0, 3)).toEqual(first.body.results.slice(7, 10))
  })

  it('/since is relative to now (number + units)', async () => {
    const { body } = await getJson(`${conf}/since?number=2&units=DAYS&limit=1000`, adminBasic(fa))
    const all = fa.records('confluence-cloud') as Array<{ creationDate: number }>
    expect(body.results).toEqual(all.filter((r) => r.creationDate >= NOW - 2 * 86_400_000 && r.creationDate <= NOW))
  })

  it('searchString filters on string properties', async () => {
    const { body } = await getJson(`${conf}?searchString=space%20logo&limit=1000`, adminBasic(fa))
    expect(body.results.length).toBeGreaterThan(0)
    for (const r of body.results) expect(r.summary.toLowerCase()).toContain('space logo')
  })

  it('is the same store through the gateway with a scoped token', async () => {
    const gw = `${fa.gatewayUrl}/ex/confluence/${fa.cloudId}/wiki/rest/api/audit?limit=7`
    const viaGateway = await getJson(gw, basic(fa.credentials.email, fa.credentials.scopedToken))
    const viaSite = await getJson(`${conf}?limit=7`, adminBasic(fa))
    expect(viaGateway.status).toBe(200)
    expect(viaGateway.body.results).toEqual(viaSite.body.results)
    const wrongCloud = await getJson(`${fa.gatewayUrl}/ex/confluence/not-a-cloud/wiki/rest/api/audit`, adminBasic(fa))
    expect(wrongCloud.status).toBe(404)
  })
})

describe('Jira Cloud /rest/api/3/auditing/record', () => {
  it('pages with offset/limit, newest-first, ids growing with time', async () => {
    const all = fa.records('jira-cloud') as Array<{ id: number; created: string }>
    const seen: Array<{ id: number; created: string }> = []
    for (let offset = 0; ; offset += 150) {
      const { status, body } = await getJson(`${jira}?offset=${offset}&limit=150`, adminBasic(fa))
      expect(status).toBe(200)
      expect(body).toMatchObject({ offset, limit: 150, total: all.length })
      seen.push(...body.records)
      if (body.records.length < 150) break
    }
    expect(seen).toEqual(all)
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i - 1].created >= seen[i].created).toBe(true)
      expect(seen[i - 1].id).toBeGreaterThan(seen[i].id)
    }
    expect(seen.some((r) => r.id === 11897)).toBe(true) // a fixture record keeps its id
    expect(seen[0].created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/)
  })

  it('resets limit <= 0 or > 1000 to 1000 and keeps total unfiltered', async () => {
    for (const l of [0, -5, 5000]) {
      const { body } = await getJson(`${jira}?limit=${l}`, adminBasic(fa))
      expect(body.limit).toBe(1000)
    }
    const { body } = await getJson(`${jira}?filter=no-such-term-anywhere`, adminBasic(fa))
    expect(body.records).toEqual([])
    expect(body.total).toBe(fa.records('jira-cloud').length)
  })

  it('includes from and to, accepts Z, +00:00 and +0000, and returns nothing when from > to', async () => {
    const all = fa.records('jira-cloud') as Array<{ created: string }>
    const hi = all[5].created
    const lo = all[25].created
    const forms = [
      [hi.replace('+0000', 'Z'), lo.replace('+0000', 'Z')],
      [hi.replace('+0000', '+00:00'), lo.replace('+0000', '+00:00')],
      [hi, lo],
    ]
    for (const [to, from] of forms) {
      const { status, body } = await getJson(
        `${jira}?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
        adminBasic(fa),
      )
      expect(status).toBe(200)
      expect(body.records).toEqual(all.slice(5, 26).filter((r) => r.created <= hi && r.created >= lo))
      expect(body.records[0].created).toBe(hi)
    }
    const empty = await getJson(`${jira}?from=${encodeURIComponent(hi)}&to=${encodeURIComponent(lo)}`, adminBasic(fa))
    expect(empty.body.records).toEqual([])
  })

  it('rejects an unencoded "+" offset (it arrives as a space) and reads zone-less times as UTC+10', async () => {
    const raw = await getJson(`${jira}?from=2025-03-01T00:00:00.000+0000`, adminBasic(fa))
    expect(raw.status).toBe(400)
    expect(raw.body).toEqual({ errorMessages: [expect.stringContaining('from')], errors: {} })
    const all = fa.records('jira-cloud') as Array<{ created: string }>
    const t = Date.parse(all[3].created.replace('+0000', 'Z'))
    const local = new Date(t + 10 * 3_600_000).toISOString().slice(0, 23) // the same instant in UTC+10, no zone
    const { body } = await getJson(`${jira}?to=${local}&limit=1`, adminBasic(fa))
    expect(body.records[0].created).toBe(all[3].created)
  })

  it('answers other methods than GET with 405', async () => {
    const res = await fetch(jira, { method: 'POST', headers: adminBasic(fa) })
    expect(res.status).toBe(405)
    expect(await res.json()).toEqual({ errorMessages: ['Method POST not allowed'], errors: {} })
  })

  it('serves /rest/api/2 and the gateway path from the same store', async () => {
    const v2 = await getJson(`${fa.sites.cloud.baseUrl}/rest/api/2/auditing/record?limit=3`, adminBasic(fa))
    const gw = await getJson(
      `${fa.gatewayUrl}/ex/jira/${fa.cloudId}/rest/api/3/auditing/record?limit=3`,
      basic(fa.credentials.email, fa.credentials.scopedToken),
    )
    const v3 = await getJson(`${jira}?limit=3`, adminBasic(fa))
    expect(v2.body.records).toEqual(v3.body.records)
    expect(gw.body.records).toEqual(v3.body.records)
  })
})
