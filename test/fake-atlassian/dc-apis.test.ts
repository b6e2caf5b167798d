// Data Center unified auditing API (/rest/auditing/1.0/events) and Confluence DC's legacy /rest/api/audit.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { basic, bearer, getJson, NOW } from './helpers'
import { type FakeAtlassian, startFakeAtlassian } from './server'

let fa: FakeAtlassian
const events = (site: 'confluence-dc' | 'jira-dc' | 'bitbucket-dc') =>
  `${fa.sites[site].baseUrl}/rest/auditing/1.0/events`
const pat = () => bearer(fa.credentials.pat)

beforeAll(async () => {
  fa = await startFakeAtlassian({ seed: 21, now: () => NOW })
})
afterAll(() => fa.close())

async function pageAll(site: 'confluence-dc' | 'jira-dc' | 'bitbucket-dc', query: string, limit: number) {
  const out: Array<{ timestamp: string }> = []
  let cursor: string | undefined
  for (let i = 0; i < 10_000; i++) {
    const url = `${events(site)}?limit=${limit}${query}${cursor ? `&pageCursor=${cursor}` : ''}`
    const { status, body } = await getJson(url, pat())
    expect(status).toBe(200)
    out.push(...body.entities)
    if (body.pagingInfo.lastPage) return out
    cursor = body.pagingInfo.nextPageCursor
  }
  throw new Error('did not terminate')
}

describe('/rest/auditing/1.0/events', () => {
  it.each(['confluence-dc', 'jira-dc', 'bitbucket-dc'] as const)(
    '%s: cursor paging returns everything newest-first',
    async (site) => {
      const all = fa.records(site) as Array<{ timestamp: string }>
      expect(all.length).toBeGreaterThan(300)
      const seen = await pageAll(site, '', 37)
      expect(seen).toEqual(all)
      const ts = seen.map((e) => e.timestamp)
      expect(ts).toEqual([...ts].sort().reverse())
    },
  )

  it('uses the documented pagingInfo: cursor "<ms of last entity>,<id>", nextPageLink without from/to', async () => {
    const from = new Date(NOW - 5 * 86_400_000).toISOString()
    const to = new Date(NOW).toISOString()
    const { body } = await getJson(`${events('jira-dc')}?from=${from}&to=${to}&limit=5`, pat())
    const info = body.pagingInfo
    expect(info).toMatchObject({ lastPage: false, nextPageOffset: 0, size: 5 })
    const [ms] = info.nextPageCursor.split(',')
    expect(Number(ms)).toBe(Date.parse(body.entities[4].timestamp))
    expect(info.nextPageLink).toBe(
      `http://localhost:${new URL(fa.url).port}/jira/rest/auditing/1.0/events?offset=0&limit=5&pageCursor=${info.nextPageCursor}`,
    )
    expect(info.nextPageLink).not.toMatch(/from=|to=/)
  })

  it('ends with {lastPage:true,size} and, after a full final page, an empty one', async () => {
    const all = fa.records('bitbucket-dc')
    const { body } = await getJson(`${events('bitbucket-dc')}?limit=${all.length}`, pat())
    expect(body.entities.length).toBe(all.length)
    expect(body.pagingInfo.lastPage).toBe(false)
    const next = await getJson(
      `${events('bitbucket-dc')}?limit=${all.length}&pageCursor=${body.pagingInfo.nextPageCursor}`,
      pat(),
    )
    expect(next.body).toEqual({ entities: [], pagingInfo: { lastPage: true, size: 0 } })
  })

  it('keeps cursor paging stable when records arrive between pages', async () => {
    const site = 'confluence-dc'
    const before = fa.records(site)
    const first = await getJson(`${events(site)}?limit=50`, pat())
    fa.insert(site, fa.generate(site, 20, { at: NOW }))
    const rest = []
    let cursor = first.body.pagingInfo.nextPageCursor
    for (;;) {
      const { body } = await getJson(`${events(site)}?limit=50&pageCursor=${cursor}`, pat())
      rest.push(...body.entities)
      if (body.pagingInfo.lastPage) break
      cursor = body.pagingInfo.nextPageCursor
    }
    expect([...first.body.entities, ...rest]).toEqual(before)
  })

  it('keeps records of one millisecond apart across a page boundary via the cursor id', async () => {
    const at = NOW - 3_600_000
    fa.insertSameMillisecond('jira-dc', 25, at)
    const iso = new Date(at).toISOString()
    const inWindow = await pageAll('jira-dc', `&from=${iso}&to=${new Date(at + 1).toISOString()}`, 10)
    expect(inWindow.length).toBe(25)
    expect(inWindow).toEqual((fa.records('jira-dc') as Array<{ timestamp: string }>).filter((e) => e.timestamp === iso))
  })

  it('treats from as inclusive and to as exclusive', async () => {
    const all = fa.records('bitbucket-dc') as Array<{ timestamp: string }>
    const hi = all[3].timestamp
    const lo = all[30].timestamp
    const got = await pageAll('bitbucket-dc', `&from=${lo}&to=${hi}`, 1000)
    expect(got).toEqual(all.filter((e) => e.timestamp >= lo && e.timestamp < hi))
    expect(got.at(-1)?.timestamp).toBe(lo)
    expect(got.some((e) => e.timestamp === hi)).toBe(false)
  })

  it('caps limit at 10000 on Bitbucket and 100000 elsewhere; rejects limit 0 and bad input', async () => {
    fa.insert('bitbucket-dc', fa.generate('bitbucket-dc', 10_100, { at: NOW - 60_000 }))
    const bb = await getJson(`${events('bitbucket-dc')}?limit=20000`, pat())
    expect(bb.body.entities.length).toBe(10_000)
    expect(bb.body.pagingInfo.lastPage).toBe(false)
    expect((await getJson(`${events('jira-dc')}?limit=0`, pat())).status).toBe(400)
    expect((await getJson(`${events('jira-dc')}?pageCursor=abc`, pat())).status).toBe(400)
    const badDate = await getJson(`${events('jira-dc')}?from=yesterday`, pat())
    expect(badDate.status).toBe(400)
    expect(badDate.body).toEqual({ errorMessages: [expect.stringContaining('from')], errors: {} })
    const bbBad = await getJson(`${events('bitbucket-dc')}?limit=0`, pat())
    expect(bbBad.body.errors[0]).toMatchObject({ message: expect.any(String), exceptionName: expect.any(String) })
  })

  it('filters by actions and categories (i18n keys or names)', async () => {
    const key = 'jira.auditing.permission.scheme.updated'
    const got = await pageAll('jira-dc', `&actions=${key}`, 100)
    expect(got.length).toBeGreaterThan(0)
    for (const e of got as unknown as Array<{ type: { actionI18nKey: string } }>) expect(e.type.actionI18nKey).toBe(key)
  })

  it('has realistic sources: IPv6 and comma-separated proxy chains', () => {
    const sources = (fa.records('confluence-dc') as Array<{ source?: string }>).map((e) => e.source ?? '')
    expect(sources.some((s) => s.includes(':'))).toBe(true)
    expect(sources.some((s) => /^[^,]+,[^,]+$/.test(s))).toBe(true)
  })
})

describe('Confluence DC legacy /rest/api/audit', () => {
  it('serves the unified events in the Cloud AuditRecord shape with start/limit (max 1000)', async () => {
    const url = `${fa.sites['confluence-dc'].baseUrl}/rest/api/audit`
    const auth = basic(fa.credentials.dcUsername, fa.credentials.dcPassword)
    const { status, body } = await getJson(`${url}?limit=5000`, auth)
    expect(status).toBe(200)
    expect(body.limit).toBe(1000)
    const unified = fa.records('confluence-dc') as Array<{ timestamp: string; type: { action: string } }>
    expect(body.results.length).toBe(Math.min(1000, unified.length))
    expect(body.results[0]).toMatchObject({
      creationDate: Date.parse(unified[0].timestamp),
      summary: unified[0].type.action,
    })
    const iso = await getJson(
      `${url}?startDate=${encodeURIComponent(unified[10].timestamp)}&endDate=${Date.parse(unified[2].timestamp)}`,
      auth,
    )
    const lo = Date.parse(unified[10].timestamp)
    const hi = Date.parse(unified[2].timestamp)
    expect(iso.body.results.length).toBe(
      unified.filter((e) => Date.parse(e.timestamp) >= lo && Date.parse(e.timestamp) <= hi).length,
    )
    expect(fa.served().byApi['confluence-dc-legacy']?.records).toBeGreaterThan(0)
  })
})
