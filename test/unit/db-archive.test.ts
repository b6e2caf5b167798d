import 'fake-indexeddb/auto'
import { Dexie } from 'dexie'
import { describe, expect, it } from 'vitest'
import { documentKey } from '../../src/core/ecs/identity'
import type { EcsDocument } from '../../src/core/model'
import { type Archive, openArchive } from '../../src/extension/db'
import type { EventFilter, StoredEvent } from '../../src/extension/messages'
import { fakeDoc, fakeDocs, freshArchives } from './setup-extension'

const fresh = freshArchives('test-archive')

const SITE_A = { id: 'site-a', product: 'confluence' as const, deployment: 'cloud' as const }
const SITE_B = { id: 'site-b', product: 'jira' as const, deployment: 'dc' as const }

/** Reference implementation of the filter over plain arrays, newest first. */
function expected(all: { site: string; doc: EcsDocument; product: string }[], f: EventFilter): string[] {
  const text = f.text?.toLowerCase()
  return all
    .filter(({ site, doc, product }) => {
      const ts = Date.parse(doc['@timestamp']!)
      const user = (doc.user as { name?: string } | undefined)?.name
      const ip = (doc.source as { ip?: string } | undefined)?.ip
      if (f.from !== undefined && ts < f.from) return false
      if (f.to !== undefined && ts > f.to) return false
      if (f.siteIds && !f.siteIds.includes(site)) return false
      if (f.products && !f.products.includes(product as never)) return false
      if (f.actions && !f.actions.includes(doc.event.action!)) return false
      if (f.users && !(user && f.users.includes(user))) return false
      if (f.ips && !(ip && f.ips.includes(ip))) return false
      if (f.categories && !(doc.event.category ?? []).some((c) => f.categories!.includes(c))) return false
      if (text) {
        const hay = `${doc.event.action}\n${user}\n${ip}\n${doc.message}\n${doc.event.original}`.toLowerCase()
        if (!hay.includes(text)) return false
      }
      return true
    })
    .map(({ doc }) => ({ ts: Date.parse(doc['@timestamp']!), key: documentKey(doc) }))
    .sort((a, b) => b.ts - a.ts || (a.key < b.key ? 1 : -1))
    .map((x) => x.key)
}

async function allPages(a: Archive, f: EventFilter, limit: number): Promise<string[]> {
  const keys: string[] = []
  let before: StoredEvent extends never ? never : { ts: number; key: string } | undefined
  for (let i = 0; i < 1000; i++) {
    const page = await a.recentEvents(f, { limit, before })
    keys.push(...page.events.map((e) => e.key))
    if (!page.next) break
    before = page.next
  }
  return keys
}

describe('archive store (core Store)', () => {
  it('commits docs and state atomically and idempotently, returning only the newly added docs', async () => {
    const a = fresh()
    const store = a.storeFor(SITE_A)
    const docs = fakeDocs(50)
    expect(await store.loadState('s1')).toBeUndefined()
    const added = await store.commit('s1', docs.slice(0, 30), { cursor: 30 })
    expect(added).toHaveLength(30)
    expect(await store.loadState('s1')).toEqual({ cursor: 30 })
    // overlap: 20 already stored + 20 new, and one duplicate inside the batch
    const again = await store.commit('s1', [...docs.slice(10, 50), docs[45]!], { cursor: 50 })
    expect(again.map(documentKey)).toEqual(docs.slice(30, 50).map(documentKey))
    expect(await store.loadState('s1')).toEqual({ cursor: 50 })
    expect(await a.totalEvents()).toBe(50)
    expect(await a.siteEvents('site-a')).toBe(50)
    expect(await a.unseen()).toBe(50)
    // a full re-sync adds nothing and changes no counter
    expect(await store.commit('s1', docs, { cursor: 50 })).toEqual([])
    expect(await a.totalEvents()).toBe(50)
    const facets = await a.facets()
    expect(facets.users.reduce((s, f) => s + f.count, 0)).toBe(50)
  })

  it('never makes the state durable without the documents (failed commit leaves both untouched)', async () => {
    const a = fresh()
    const store = a.storeFor(SITE_A)
    await store.commit('s1', fakeDocs(5), { cursor: 5 })
    const bad = fakeDocs(5, Date.UTC(2025, 1, 1))
    // a value IndexedDB cannot clone makes the bulkAdd fail with DataCloneError, not ConstraintError
    ;(bad[2] as Record<string, unknown>).boom = () => 1
    await expect(store.commit('s1', bad, { cursor: 10 })).rejects.toThrow()
    expect(await store.loadState('s1')).toEqual({ cursor: 5 })
    expect(await a.totalEvents()).toBe(5)
    expect((await a.recentEvents({}, { limit: 100 })).events).toHaveLength(5)
  })

  it('keys documents by documentKey: the same Atlassian id from the same site is one event', async () => {
    const a = fresh()
    const store = a.storeFor(SITE_A)
    const first = fakeDoc({ ts: 1000, id: '42', action: 'x' })
    const changed = fakeDoc({ ts: 1000, id: '42', action: 'x', message: 'processedAt changed' })
    expect(first.event.hash).not.toBe(changed.event.hash)
    await store.commit('s', [first], {})
    expect(await store.commit('s', [changed], {})).toEqual([])
    expect(await a.totalEvents()).toBe(1)
  })
})

describe('archive queries', () => {
  async function seeded() {
    const a = fresh()
    const docsA = fakeDocs(120, Date.UTC(2025, 0, 10), 'https://a.example')
    const docsB = fakeDocs(80, Date.UTC(2025, 0, 10) - 30_000, 'https://b.example')
    await a.storeFor(SITE_A).commit('a', docsA, {})
    await a.storeFor(SITE_B).commit('b', docsB, {})
    // an event without user/ip/category/action
    const bare = fakeDoc({ ts: Date.UTC(2025, 0, 9, 12), site: 'https://a.example' })
    // categorized but without an action: category filters must still find it
    const noAction = fakeDoc({
      ts: Date.UTC(2025, 0, 9, 13),
      site: 'https://a.example',
      categories: ['iam'],
      user: 'user3',
    })
    await a.storeFor(SITE_A).commit('a', [bare, noAction], {})
    const all = [
      ...docsA.map((doc) => ({ site: 'site-a', product: 'confluence', doc })),
      ...docsB.map((doc) => ({ site: 'site-b', product: 'jira', doc })),
      { site: 'site-a', product: 'confluence', doc: bare },
      { site: 'site-a', product: 'confluence', doc: noAction },
    ]
    return { a, all }
  }

  const t0 = Date.UTC(2025, 0, 10)
  const filters: [string, EventFilter][] = [
    ['none', {}],
    ['time range', { from: t0 - 90 * 60_000, to: t0 - 30 * 60_000 }],
    ['site', { siteIds: ['site-b'] }],
    ['two sites', { siteIds: ['site-a', 'site-b'] }],
    ['product', { products: ['jira'] }],
    ['category', { categories: ['configuration'] }],
    ['two categories', { categories: ['authentication', 'web'] }],
    ['action', { actions: ['Login failed'] }],
    ['actions', { actions: ['Login failed', 'User created'] }],
    ['user', { users: ['user3'] }],
    ['ip', { ips: ['10.0.0.4', '10.0.0.1'] }],
    ['text', { text: 'NUMBER 1' }],
    [
      'combined',
      {
        siteIds: ['site-a'],
        actions: ['Page updated', 'User deleted'],
        users: ['user1', 'user2'],
        from: t0 - 100 * 60_000,
      },
    ],
    ['combined text', { products: ['confluence'], categories: ['iam'], text: 'user5' }],
    ['nothing', { users: ['nobody'] }],
  ]

  it.each(filters)('filter %s: pages newest first match a reference implementation', async (_name, f) => {
    const { a, all } = await seeded()
    const want = expected(all, f)
    expect(await allPages(a, f, 7)).toEqual(want)
    const first = await a.recentEvents(f, { limit: 25 })
    expect(first.events.map((e) => e.key)).toEqual(want.slice(0, 25))
    const count = await a.countEvents(f)
    expect(count).toEqual({ count: want.length, exact: true })
    // one listed dimension and/or a time range (no text) is exact (counters or an index count); else capped
    const dims = ['siteIds', 'products', 'categories', 'actions', 'users', 'ips'].filter((k) => k in f)
    const fromCounters =
      !f.text && (dims.length === 0 || (dims.length === 1 && (dims[0] !== 'categories' || f.from === undefined)))
    const capped = await a.countEvents(f, 10)
    expect(capped).toEqual(
      fromCounters
        ? { count: want.length, exact: true }
        : { count: Math.min(10, want.length), exact: want.length <= 10 },
    )
  })

  it('pages through events that share a timestamp without losing or repeating any', async () => {
    const a = fresh()
    const docs = Array.from({ length: 30 }, (_, i) => fakeDoc({ ts: 5000 + (i % 3), action: `a${i}`, user: 'u' }))
    await a.storeFor(SITE_A).commit('s', docs, {})
    const keys = await allPages(a, {}, 4)
    expect(new Set(keys).size).toBe(30)
    expect(await allPages(a, { users: ['u'] }, 4)).toEqual(keys)
  })

  it('pages through a long run of one millisecond, over several sites, filtered or not, like a full sort would', async () => {
    const a = fresh()
    const run = (site: string, n: number, ts: number, from: number) =>
      Array.from({ length: n }, (_, i) =>
        fakeDoc({
          site,
          ts,
          id: `${from + i}`,
          action: i % 3 ? 'User created' : 'Login failed',
          user: `u${i % 4}`,
          message: i % 2 ? 'odd needle' : 'even',
        }),
      )
    // 700 events in one millisecond on site A (more than any read batch), around smaller runs and single events
    await a.storeFor(SITE_A).commit('a', [...run('https://a.example', 700, 9000, 0), ...fakeDocs(40, 9000)], {})
    await a
      .storeFor(SITE_B)
      .commit('b', [...run('https://b.example', 130, 9000, 1000), ...run('https://b.example', 90, 8999, 2000)], {})
    const everything = (await a.recentEvents({}, { limit: 10_000 })).events
    expect(everything).toHaveLength(700 + 40 + 130 + 90)
    const sorted = [...everything].sort((x, y) => y.ts - x.ts || (x.key < y.key ? 1 : x.key > y.key ? -1 : 0))
    expect(everything.map((e) => e.key)).toEqual(sorted.map((e) => e.key))
    const expected = (keep: (e: StoredEvent) => boolean) => sorted.filter(keep).map((e) => e.key)
    const cases: [EventFilter, (e: StoredEvent) => boolean][] = [
      [{}, () => true],
      [{ users: ['u1'] }, (e) => e.user === 'u1'],
      [{ text: 'needle' }, (e) => e.doc.message === 'odd needle'],
      [
        { actions: ['Login failed'], text: 'needle' },
        (e) => e.action === 'Login failed' && e.doc.message === 'odd needle',
      ],
      [{ siteIds: [SITE_A.id] }, (e) => e.siteId === SITE_A.id],
    ]
    for (const [filter, keep] of cases) {
      const want = expected(keep)
      expect(want.length).toBeGreaterThan(0)
      for (const pageSize of [23, 333])
        expect(await allPages(a, filter, pageSize), JSON.stringify(filter)).toEqual(want)
      const iterated: string[] = []
      for await (const page of a.iterate(filter, 250)) iterated.push(...page.map((e) => e.key))
      expect(iterated).toEqual(want)
    }
  })

  it('returns the stored event with its ECS document and flattened fields', async () => {
    const { a, all } = await seeded()
    const doc = all[3]!.doc
    const ev = await a.getEvent(documentKey(doc))
    expect(ev?.doc).toEqual(doc)
    expect(ev).toMatchObject({
      siteId: 'site-a',
      product: 'confluence',
      action: doc.event.action,
      user: 'user3',
      ip: '10.0.0.3',
    })
    expect(await a.getEvent('missing')).toBeUndefined()
  })

  it('maintains facets from counters', async () => {
    const { a } = await seeded()
    const f = await a.facets()
    expect(f.siteIds).toEqual([
      { value: 'site-a', count: 122 },
      { value: 'site-b', count: 80 },
    ])
    expect(f.products.map((p) => p.value).sort()).toEqual(['confluence', 'jira'])
    expect(f.categories.map((c) => c.value).sort()).toEqual(['authentication', 'configuration', 'iam', 'web'])
    expect(f.actions).toHaveLength(6)
    expect(f.users).toHaveLength(7)
    expect(f.ips).toEqual([])
    const withIps = await a.facets(1000, 50)
    expect(withIps.ips.reduce((s, x) => s + x.count, 0)).toBe(50)
    expect(f.actions.reduce((s, x) => s + x.count, 0)).toBe(200)
  })

  it('text search stops at the scan limit, says so, and goes on from there until the archive is read', async () => {
    const { a } = await seeded()
    const page = await a.recentEvents({ text: 'no such text' }, { limit: 10, scanLimit: 50 })
    expect(page.events).toEqual([])
    expect(page.truncated).toBe(true)
    expect(page.next).toBeDefined() // nothing found yet, but not everything read: where to go on from
    let next = page.next
    let steps = 1
    while (next && steps < 100) {
      const more = await a.recentEvents({ text: 'no such text' }, { limit: 10, scanLimit: 50, before: next })
      expect(more.events).toEqual([])
      next = more.next
      steps++
    }
    expect(next).toBeUndefined()
    expect(steps).toBeGreaterThan(2)
    const full = await a.recentEvents({ text: 'no such text' }, { limit: 10 })
    expect(full.truncated).toBe(false)
  })

  it('a text search paged with a small scan limit over several sites finds every match, in order, once', async () => {
    const { a } = await seeded()
    for (const text of ['user1', 'login', 'created']) {
      const want: string[] = []
      for await (const p of a.iterate({ text }, 1000)) want.push(...p.map((e) => e.key))
      expect(want.length, text).toBeGreaterThan(3)
      for (const [limit, scanLimit] of [
        [5, 7],
        [3, 40],
        [20, 13],
      ] as const) {
        const got: string[] = []
        let before: { ts: number; key: string } | undefined
        for (let i = 0; i < 1000; i++) {
          const page = await a.recentEvents({ text }, { limit, scanLimit, before })
          got.push(...page.events.map((e) => e.key))
          if (!page.next) break
          before = page.next
        }
        expect(got, `${text} ${limit}/${scanLimit}`).toEqual(want)
      }
    }
  })

  it('aggregates for the dashboard, from counters and from a filtered scan', async () => {
    const { a, all } = await seeded()
    const whole = await a.aggregate({})
    expect(whole.sampled).toBe(false)
    expect(whole.total).toBe(202)
    expect(whole.overTime.reduce((s, b) => s + b.count, 0)).toBe(202)
    const failed = all.filter((x) => x.doc.event.action === 'Login failed').length
    expect(whole.failedLogins.count).toBe(failed)
    expect(whole.failedLogins.recent.every((e) => e.action === 'Login failed')).toBe(true)
    expect(whole.permissionChanges.count).toBe(all.filter((x) => x.doc.event.action === 'Permission granted').length)
    expect(whole.topActions[0]!.count).toBeGreaterThanOrEqual(whole.rarestActions[0]!.count)
    const site = await a.aggregate({ siteIds: ['site-b'] }, { bucket: 'hour' })
    expect(site.total).toBe(80)
    expect(site.bucket).toBe('hour')
    expect(site.overTime.reduce((s, b) => s + b.count, 0)).toBe(80)
    expect(site.topUsers.reduce((s, u) => s + u.count, 0)).toBe(80)
    const sample = await a.aggregate({ siteIds: ['site-a'] }, { scanLimit: 20 })
    expect(sample).toMatchObject({ total: 20, sampled: true })
  })

  it("lists the dashboard's newest failed logins and permission changes from a maintained list, as a read would", async () => {
    const a = fresh()
    const end = Date.UTC(2025, 0, 10)
    const docs = Array.from({ length: 400 }, (_, i) =>
      fakeDoc({
        ts: end - i * 60_000,
        action: i % 7 === 0 ? 'Login failed' : i % 11 === 0 ? 'Permission granted' : 'Page viewed',
        categories: i % 7 === 0 ? ['authentication'] : i % 11 === 0 ? ['iam'] : ['web'],
        types: i % 11 === 0 ? ['change'] : ['info'],
        outcome: i % 7 === 0 ? 'failure' : 'success',
        user: `u${i % 5}`,
      }),
    )
    // committed oldest first, in pages, as a backfill would
    for (let i = docs.length; i > 0; i -= 60)
      await a.storeFor(SITE_A).commit('s', docs.slice(Math.max(0, i - 60), i), {})
    const newest = (action: string, n: number, kept = docs) =>
      kept
        .filter((d) => d.event.action === action)
        .slice(0, n)
        .map(documentKey)
    const whole = await a.aggregate({})
    expect(whole.failedLogins.recent.map((e) => e.key)).toEqual(newest('Login failed', 10))
    expect(whole.permissionChanges.recent.map((e) => e.key)).toEqual(newest('Permission granted', 10))
    // the list is bounded: the counter row holds at most 50 entries per flag
    const recent = (await a.db.counters.get('recent'))!
    expect(Object.keys(recent.counts).filter((k) => k.startsWith('failed-login\n'))).toHaveLength(50)
    // retention that removes listed events: what is left is still right (read from the archive if need be)
    await a.enforceRetention({ retentionDays: 0, maxEvents: 30 }, end + 1, 50)
    const after = await a.aggregate({})
    const kept = docs.slice(0, 30)
    expect(after.failedLogins.recent.map((e) => e.key)).toEqual(newest('Login failed', 10, kept))
    expect(after.failedLogins.count).toBe(5)
    expect(after.permissionChanges.recent.map((e) => e.key)).toEqual(newest('Permission granted', 10, kept))
    expect(after.permissionChanges.recent).toHaveLength(2)
  })

  it('iterates all matching events in bounded pages', async () => {
    const { a, all } = await seeded()
    const keys: string[] = []
    for await (const page of a.iterate({ categories: ['iam'] }, 9)) {
      expect(page.length).toBeLessThanOrEqual(9)
      keys.push(...page.map((e) => e.key))
    }
    expect(keys).toEqual(expected(all, { categories: ['iam'] }))
  })
})

describe('retention', () => {
  it('deletes by age and by maximum count, oldest first, in chunks, keeping counters right', async () => {
    const a = fresh()
    const end = Date.UTC(2025, 0, 10)
    // 3 days of events, one per hour
    const docs = Array.from({ length: 72 }, (_, i) =>
      fakeDoc({ ts: end - i * 3_600_000, action: i % 2 ? 'odd' : 'even', user: `u${i % 3}`, ip: '10.1.1.1' }),
    )
    await a.storeFor(SITE_A).commit('s', docs, {})
    const now = end + 1
    expect(await a.enforceRetention({ retentionDays: 2, maxEvents: 0 }, now, 10)).toBe(24)
    expect(await a.totalEvents()).toBe(48)
    const oldest = (await allPages(a, {}, 100)).at(-1)
    expect(oldest).toBe(documentKey(docs[47]!))
    expect(await a.enforceRetention({ retentionDays: 2, maxEvents: 30 }, now, 7)).toBe(18)
    expect(await a.totalEvents()).toBe(30)
    expect(await allPages(a, {}, 100)).toEqual(docs.slice(0, 30).map(documentKey))
    const f = await a.facets()
    expect(f.actions).toEqual(
      expect.arrayContaining([
        { value: 'even', count: 15 },
        { value: 'odd', count: 15 },
      ]),
    )
    expect((await a.facets(1000, 100)).ips).toEqual([{ value: '10.1.1.1', count: 30 }])
    expect(await a.countEvents({ users: ['u0'] })).toEqual({ count: 10, exact: true })
    // deleting everything removes the counter rows (no facet value with count 0)
    expect(await a.enforceRetention({ retentionDays: 0, maxEvents: 1 }, now, 7)).toBe(29)
    expect((await a.facets()).actions).toEqual([{ value: 'even', count: 1 }])
    // a re-sync of deleted events stores them again, counted once
    await a.storeFor(SITE_A).commit('s', docs.slice(0, 5), {})
    expect(await a.totalEvents()).toBe(5)
  })

  it('deletes all events of a site', async () => {
    const a = fresh()
    await a.storeFor(SITE_A).commit('a', fakeDocs(30), {})
    await a.storeFor(SITE_B).commit('b', fakeDocs(20, Date.UTC(2025, 0, 10), 'https://b.example'), {})
    expect(await a.deleteSiteEvents('site-a', 7)).toBe(30)
    expect(await a.totalEvents()).toBe(20)
    expect((await a.facets()).siteIds).toEqual([{ value: 'site-b', count: 20 }])
    expect(await a.deleteSiteStreams('site-b')).toBe(1)
    expect(await a.loadStreamState('b')).toBeUndefined()
  })
})

describe('schema versions', () => {
  it('opens a version 1 database with the current schema, keeping its events', async () => {
    const name = `test-upgrade-${process.pid}`
    const v1 = new Dexie(name)
    v1.version(1).stores({
      events: 'key, [site+ts], [action+ts], [user+ts], [ip+ts]',
      streams: 'id, site',
      counters: 'dim',
    })
    const doc = fakeDoc({ ts: 1234, action: 'old' })
    await v1
      .table('events')
      .put({ key: documentKey(doc), ts: 1234, site: 's', product: '', deployment: '', action: 'old', doc })
    await v1.table('counters').put({ dim: 'total', counts: { '': 1 } })
    v1.close()
    const a = openArchive(name)
    try {
      expect(await a.totalEvents()).toBe(1)
      expect((await a.recentEvents({ actions: ['old'] }, { limit: 5 })).events[0]?.doc).toEqual(doc)
      expect(a.db.verno).toBe(2)
      expect(await a.db.outbox.count()).toBe(0)
    } finally {
      await a.destroy()
    }
  })
})

describe('packed keys', () => {
  it('round-trips documentKey hex and keeps its order', async () => {
    const { packKey, unpackKey } = await import('../../src/extension/db')
    const keys = ['0'.repeat(32), 'f'.repeat(32), ...fakeDocs(200).map(documentKey)]
    for (const k of keys) {
      const p = packKey(k)
      expect(p).toHaveLength(9)
      expect(unpackKey(p)).toBe(k)
    }
    const byHex = [...keys].sort()
    const byPacked = [...keys].sort((a, b) => (packKey(a) < packKey(b) ? -1 : packKey(a) > packKey(b) ? 1 : 0))
    expect(byPacked).toEqual(byHex)
    expect(packKey('not-hex')).toBe('not-hex')
    expect(unpackKey('not-hex')).toBe('not-hex')
  })

  it('a product filter follows each event, also on a site whose product was changed in the options', async () => {
    const a = fresh()
    const asJira = { id: 'site-x', product: 'jira' as const, deployment: 'cloud' as const }
    const asConfluence = { ...asJira, product: 'confluence' as const }
    await a.storeFor(asJira).commit('x', fakeDocs(10, Date.UTC(2025, 0, 10), 'https://x.example'), {})
    await a.storeFor(asConfluence).commit('x', fakeDocs(5, Date.UTC(2025, 0, 11), 'https://x.example', 100), {})
    for (const [product, n] of [
      ['confluence', 5],
      ['jira', 10],
    ] as const) {
      const filter: EventFilter = { products: [product] }
      const listed = await allPages(a, filter, 4)
      expect(listed, product).toHaveLength(n)
      expect((await a.countEvents(filter)).count).toBe(n)
      const iterated: string[] = []
      for await (const page of a.iterate(filter, 3)) iterated.push(...page.map((e) => e.key))
      expect(iterated).toEqual(listed)
      for (const e of (await a.recentEvents(filter, { limit: 20 })).events) expect(e.product).toBe(product)
    }
  })
})
