// Large volumes (100,000+ records served 1000 per page, O(page) work per request), the served() log used
// by exactly-once tests and the overhead benchmark, and determinism with a seed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/core/ecs/identity'
import { adminBasic, getJson, NOW } from './helpers'
import { type FakeAtlassian, type SiteKey, startFakeAtlassian } from './server'

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

describe('100,000 records', () => {
  let fa: FakeAtlassian
  beforeAll(async () => {
    fa = await startFakeAtlassian({
      seed: 61,
      now: () => NOW,
      volume: {
        'jira-cloud': 100_000,
        'confluence-cloud': 0,
        'confluence-dc': 0,
        'jira-dc': 0,
        'bitbucket-dc': 0,
        org: 0,
      },
    })
  })
  afterAll(() => fa.close())

  it('serves them 1000 per page, each exactly once, with per-page work independent of the offset', async () => {
    const total = fa.records('jira-cloud').length
    expect(total).toBe(100_082)
    const to = encodeURIComponent(new Date(NOW).toISOString())
    const t0 = performance.now()
    let got = 0
    let pages = 0
    for (let offset = 0; ; offset += 1000) {
      const { body } = await getJson(
        `${fa.sites.cloud.baseUrl}/rest/api/3/auditing/record?to=${to}&offset=${offset}&limit=1000`,
        adminBasic(fa),
      )
      got += body.records.length
      pages++
      if (body.records.length < 1000) break
    }
    const wall = performance.now() - t0
    expect(got).toBe(total)
    const served = fa.served()
    expect(served.byApi['jira-cloud']).toMatchObject({ pages, records: total, distinct: total })
    expect(served.serveMs).toBeGreaterThan(0)
    expect(served.serveMs).toBeLessThan(wall)
    const ms = fa
      .requests()
      .filter((e) => e.api === 'jira-cloud')
      .map((e) => e.ms)
    // Deep offsets cost what shallow ones cost (sorted array + binary search, not a scan).
    expect(median(ms.slice(-20, -1))).toBeLessThan(median(ms.slice(1, 20)) * 4 + 2)
  })

  it('exposes every served record with a canonical identity and its Jira id', () => {
    const entries = fa.served().entries('jira-cloud')
    expect(entries.length).toBe(100_082)
    const sample = entries[12345]
    expect(sample.identity).toBe(canonicalJson(sample.record))
    expect(sample.id).toBe(String((sample.record as { id: number }).id))
    expect(entries.every((e) => e.times === 1)).toBe(true)
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length) // Jira ids stay unique at volume
  })
})

describe('determinism', () => {
  const sites: SiteKey[] = ['cloud', 'confluence-dc', 'jira-dc', 'bitbucket-dc', 'org']

  it('generates the same records and credentials for the same seed and clock, different ones otherwise', async () => {
    const a = await startFakeAtlassian({ seed: 99, now: () => NOW })
    const b = await startFakeAtlassian({ seed: 99, now: () => NOW })
    const c = await startFakeAtlassian({ seed: 100, now: () => NOW })
    try {
      expect(a.url).not.toBe(b.url)
      for (const s of sites) {
        expect(b.records(s)).toEqual(a.records(s))
        expect(c.records(s)).not.toEqual(a.records(s))
      }
      expect(b.credentials).toEqual(a.credentials)
      expect(b.generate('jira-dc', 5, { at: NOW })).toEqual(a.generate('jira-dc', 5, { at: NOW }))
      const same = a.generate('confluence-cloud', 4, { sameMillisecond: true, at: NOW - 10 }) as Array<{
        creationDate: number
      }>
      expect(same.every((r) => r.creationDate === NOW - 10)).toBe(true)
    } finally {
      await Promise.all([a.close(), b.close(), c.close()])
    }
  })

  it('spreads the default data over the last 10 days, with shared milliseconds', async () => {
    const fa = await startFakeAtlassian({ seed: 3, now: () => NOW })
    try {
      const times = (fa.records('confluence-cloud') as Array<{ creationDate: number }>).map((r) => r.creationDate)
      expect(Math.max(...times)).toBeLessThanOrEqual(NOW)
      expect(Math.min(...times)).toBeGreaterThanOrEqual(NOW - 10 * 86_400_000)
      expect(new Set(times).size).toBeLessThan(times.length)
      const actions = new Set((fa.records('confluence-cloud') as Array<{ summary: string }>).map((r) => r.summary))
      for (const a of [
        'User deactivated',
        'Space exported',
        'App installed',
        'Space permission added',
        'User added to group',
      ]) {
        expect(actions.has(a)).toBe(true)
      }
    } finally {
      await fa.close()
    }
  })
})
