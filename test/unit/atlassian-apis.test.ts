import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { apiFor } from '../../src/core/atlassian/apis'
import { parseIsoTime } from '../../src/core/atlassian/apis/api'
import { parseOrgList } from '../../src/core/atlassian/apis/org-events'

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/atlassian/${name}`, import.meta.url), 'utf8')) as unknown
const W = { from: Date.parse('2025-01-01T00:00:00.000Z'), to: Date.parse('2025-01-08T00:00:00.123Z') }

describe('audit API modules', () => {
  it('Confluence Cloud: epoch-ms window, start/limit, results, creationDate', () => {
    const api = apiFor({ product: 'confluence', deployment: 'cloud' })
    expect(api.request(W, 1000, { offset: 7 })).toEqual({
      path: '/wiki/rest/api/audit',
      query: { startDate: String(W.from), endDate: String(W.to), start: '7', limit: '1000' },
    })
    const page = api.parse(fixture('confluence-cloud-audit.page.json'))
    expect(page.records).toHaveLength(6)
    expect(page.limit).toBe(6)
    expect(api.recordTime(page.records[0])).toBe(1643096991153)
    expect(() => api.parse({ records: [] })).toThrow(/results/)
  })

  it('Jira Cloud: ISO window with an explicit Z, offset/limit, records, created with +0000', () => {
    const api = apiFor({ product: 'jira', deployment: 'cloud' })
    expect(api.request(W, 1000, { offset: 0 }).query).toEqual({
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-01-08T00:00:00.123Z',
      offset: '0',
      limit: '1000',
    })
    const page = api.parse(fixture('jira-cloud-auditing-record.page.json'))
    expect(page.records).toHaveLength(4)
    expect(page.limit).toBe(4)
    expect(api.recordTime(page.records[0])).toBe(Date.parse('2021-12-10T11:57:29.971Z'))
  })

  it('DC auditing: ISO window, pageCursor from the original params, cursor as string or {cursor}', () => {
    for (const product of ['confluence', 'jira', 'bitbucket'] as const) {
      const api = apiFor({ product, deployment: 'dc' })
      expect(api.id).toBe('dc-auditing')
      expect(api.request(W, 500, { cursor: '1637627977899,168' })).toEqual({
        path: '/rest/auditing/1.0/events',
        query: {
          from: '2025-01-01T00:00:00.000Z',
          to: '2025-01-08T00:00:00.123Z',
          limit: '500',
          pageCursor: '1637627977899,168',
        },
      })
      expect(api.request(W, 500, {}).query.pageCursor).toBeUndefined()
    }
    const api = apiFor({ product: 'confluence', deployment: 'dc' })
    const page = api.parse(fixture('confluence-dc-auditing-events.page.json'))
    expect(page.records).toHaveLength(3)
    expect(page.nextCursor).toBe('1637627977899,168')
    expect(page.lastPage).toBe(false)
    expect(api.recordTime(page.records[2])).toBe(1637627977899)
    expect(api.parse({ entities: [], pagingInfo: { nextPageCursor: { cursor: '5,6' } } }).nextCursor).toBe('5,6')
    expect(api.parse({ entities: [], pagingInfo: { lastPage: true, size: 0 } })).toMatchObject({
      lastPage: true,
      nextCursor: undefined,
    })
    // a page that gives only the link: its pageCursor is the cursor (the link, without from/to, is not followed)
    expect(
      api.parse({
        entities: [{}],
        pagingInfo: {
          lastPage: false,
          nextPageLink: 'http://host/rest/auditing/1.0/events?offset=0&limit=2&pageCursor=1637628276398,179',
        },
      }).nextCursor,
    ).toBe('1637628276398,179')
    const bb = apiFor({ product: 'bitbucket', deployment: 'dc' })
    expect(bb.parse(fixture('bitbucket-dc-auditing-events.page.json')).nextCursor).toBe('1638036657333,41')
    expect(api.recordTime({ timestamp: { epochSecond: 1637624567, nano: 332000000 } })).toBe(1637624567332)
  })

  it('Confluence DC legacy: /rest/api/audit with the Cloud envelope', () => {
    const api = apiFor({ product: 'confluence', deployment: 'dc' }, 'confluence-dc-legacy')
    expect(api.request(W, 1000, { offset: 1000 })).toMatchObject({ path: '/rest/api/audit', query: { start: '1000' } })
    expect(api.paging).toBe('newest-first-offset')
    expect(api.parse(fixture('confluence-cloud-audit.page.json')).records).toHaveLength(6)
  })

  it('org events-stream: from only on the first request, then the cursor; processedAt is the time', () => {
    const api = apiFor({ product: 'org', deployment: 'cloud', orgId: 'org 1' })
    expect(api.request(W, 200, {})).toEqual({
      path: '/admin/v1/orgs/org%201/events-stream',
      query: { from: String(W.from), limit: '200', sortOrder: 'asc' },
    })
    expect(api.request(W, 200, { cursor: 'abc' }).query).toEqual({ cursor: 'abc', limit: '200' })
    const page = api.parse(fixture('admin-org-events-stream.page.json'))
    expect(page.records).toHaveLength(3)
    expect(page.nextCursor).toBe('eyJzb3J0T3JkZXIiOiJhc2MiLCJwcm9jZXNzZWRBdCI6MTc0MDY4MjIxNDAyMH0')
    expect(page.limit).toBe(3)
    expect(api.recordTime(page.records[0])).toBe(Date.parse('2025-02-27T18:41:57.640Z'))
    // "pass meta.next as cursor (or follow links.next, which is a full URL)"
    const linkOnly = {
      data: [],
      meta: { page_size: 200 },
      links: { next: 'https://api.atlassian.com/admin/v1/orgs/o/events-stream?cursor=c%2B2&limit=200' },
    }
    expect(api.parse(linkOnly).nextCursor).toBe('c+2')
    expect(api.parse({ data: [], meta: { next: 'm1' }, links: { next: '/x?cursor=l1' } }).nextCursor).toBe('m1')
    expect(api.maxLimit).toBe(200) // the documented default; 500 is not Atlassian's word
    expect(() => apiFor({ product: 'org', deployment: 'cloud' })).toThrow(/--org/)
    expect(
      parseOrgList({ data: [{ id: 'o1' }, { id: 'o2' }], links: { next: 'https://g/admin/v1/orgs?cursor=n1' } }),
    ).toEqual({
      ids: ['o1', 'o2'],
      next: 'n1',
    })
  })

  it('Bitbucket Cloud has no audit API', () => {
    expect(() => apiFor({ product: 'bitbucket', deployment: 'cloud' })).toThrow(/Bitbucket Cloud/)
  })

  it('parses Jira offsets without a colon', () => {
    expect(parseIsoTime('2021-12-10T11:57:29.971+0100')).toBe(Date.parse('2021-12-10T10:57:29.971Z'))
    expect(parseIsoTime('nonsense')).toBeUndefined()
  })
})

describe('parseIsoTime fast path', () => {
  it('agrees with Date.parse for the shapes the APIs send', () => {
    for (const v of [
      '2021-12-10T11:57:29.971+0000',
      '2021-12-10T11:57:29.971Z',
      '2021-12-10T11:57:29.971+05:30',
      '2021-12-10T11:57:29.971-0800',
      '2024-02-29T23:59:59.999+00:00',
      '2021-12-10T11:57:29Z',
      '2021-12-10',
    ]) {
      expect(parseIsoTime(v)).toBe(Date.parse(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')))
    }
    expect(parseIsoTime('2021-1x-10T11:57:29.971Z')).toBeUndefined()
  })
})
