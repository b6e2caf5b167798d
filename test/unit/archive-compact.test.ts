// Compact archive rows: an event the normalizer can rebuild is stored as its original record text plus the
// normalizer's recipe, and rebuilt when read. These tests hold that to "the same document, byte for byte":
// for every fixture record through every entry point of the normalizer, and for an archive of compact rows
// against an archive of the same documents stored whole (every query, the dashboard, retention).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  compactDocument,
  type NormalizeOptions,
  normalizePage,
  normalizeRecord,
  normalizeText,
  rebuildDocument,
} from '../../src/core/ecs/normalize'
import type { Deployment, EcsDocument, Product } from '../../src/core/model'
import type { Archive, SiteRef } from '../../src/extension/db'
import type { EventFilter } from '../../src/extension/messages'
import { freshArchives } from './setup-extension'

const golden = join(import.meta.dirname, '..', 'golden')
const read = (...p: string[]) => readFileSync(join(golden, ...p), 'utf8')
const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '')

interface Source {
  name: string
  text: string
  product: Product
  deployment: Deployment
}

const source = (name: string, file: string, product: Product, deployment: Deployment): Source => ({
  name,
  text: read(file),
  product,
  deployment,
})

const SOURCES: Source[] = [
  source('confluence cloud log', 'fixtures/atlassian_confluence/test-audit-cloud.log', 'confluence', 'cloud'),
  source('jira cloud log', 'fixtures/atlassian_jira/test-audit-cloud.log', 'jira', 'cloud'),
  source('confluence dc log', 'fixtures/atlassian_confluence/test-audit-api.log', 'confluence', 'dc'),
  source('jira dc log', 'fixtures/atlassian_jira/test-audit-api.log', 'jira', 'dc'),
  source('bitbucket dc log', 'fixtures/atlassian_bitbucket/test-audit-api.log', 'bitbucket', 'dc'),
  source('confluence dc file', 'atlassian-fixtures/confluence-dc-audit.file.ndjson', 'confluence', 'dc'),
]
const PAGES: Source[] = [
  source('confluence cloud page', 'atlassian-fixtures/confluence-cloud-audit.page.json', 'confluence', 'cloud'),
  source('jira cloud page', 'atlassian-fixtures/jira-cloud-auditing-record.page.json', 'jira', 'cloud'),
  source('confluence dc page', 'atlassian-fixtures/confluence-dc-auditing-events.page.json', 'confluence', 'dc'),
  source('jira dc page', 'atlassian-fixtures/jira-dc-auditing-events.page.json', 'jira', 'dc'),
  source('bitbucket dc page', 'atlassian-fixtures/bitbucket-dc-auditing-events.page.json', 'bitbucket', 'dc'),
  source('org events page', 'atlassian-fixtures/admin-org-events.page.json', 'org', 'cloud'),
]

/** Checks that each document is compact exactly when it should be, and rebuilds to the same JSON. */
function checkRebuild(docs: EcsDocument[]): number {
  let compact = 0
  for (const doc of docs) {
    const c = compactDocument(doc)
    if (doc.event.kind === 'event' && typeof doc.event.original === 'string') {
      expect(c, doc.event.original).toBeDefined()
    }
    if (doc.event.kind === 'pipeline_error' || doc.event.original === undefined) expect(c).toBeUndefined()
    if (!c) continue
    compact++
    expect(c.original).toBe(doc.event.original)
    expect(JSON.stringify(rebuildDocument(c.original, c.recipe))).toBe(JSON.stringify(doc))
  }
  return compact
}

describe('compact documents (normalizer)', () => {
  it('every fixture record rebuilds exactly, with the site context, without it, line by line and as pages', () => {
    let compact = 0
    for (const s of [...SOURCES, ...PAGES]) {
      const contexts: NormalizeOptions[] = [
        { product: s.product, deployment: s.deployment, site: 'https://acme.example' },
        { site: 'https://acme.example' },
        {},
      ]
      for (const ctx of contexts) {
        const texts = s.text.trimStart().startsWith('{\n') ? [s.text] : lines(s.text)
        for (const t of texts) compact += checkRebuild(normalizeText(t, ctx))
        // the sync engine's path: parsed records one at a time
        for (const t of texts) {
          const parsed = JSON.parse(t)
          const records = parsed.entities ?? parsed.records ?? parsed.results ?? parsed.data ?? [parsed]
          compact += checkRebuild(records.map((r: unknown) => normalizeRecord(r, ctx)))
        }
      }
    }
    // 576 golden documents plus the page fixtures, three contexts, two paths: nearly all are events
    expect(compact).toBeGreaterThan(3000)
  })

  it("keeps a page's hints: a record only the page tells the shape and product of rebuilds as it was made", () => {
    const page = JSON.parse(read('atlassian-fixtures/confluence-dc-auditing-events.page.json'))
    // a DC entity with nothing of its own that tells its format or product
    const bare = { timestamp: '2024-05-01T10:00:00.000Z', summary: 'only the page says what this is' }
    const docs = normalizePage({ ...page, entities: [bare, ...page.entities] })
    expect(docs[0]!.event.kind).toBe('event')
    expect(docs[0]!.atlassian).toMatchObject({ product: 'confluence', deployment: 'dc' })
    expect(checkRebuild(docs)).toBe(docs.length)
    // alone, the same record is not an event: the recipe is what carries the page's hints
    expect(normalizeRecord(bare).event.kind).toBe('pipeline_error')
  })

  it('is stored whole when it cannot be rebuilt: no original kept, an error, a copy, or changed after normalizing', () => {
    const record = JSON.parse(lines(read('fixtures/atlassian_jira/test-audit-cloud.log'))[0]!)
    const ctx = { product: 'jira' as const, deployment: 'cloud' as const, site: 'https://acme.example' }
    expect(compactDocument(normalizeRecord(record, ctx))).toBeDefined()
    expect(compactDocument(normalizeRecord(record, { ...ctx, keepOriginal: false }))).toBeUndefined()
    expect(compactDocument(normalizeRecord({ ...record, created: 'not a time' }, ctx))).toBeUndefined()
    expect(compactDocument(structuredClone(normalizeRecord(record, ctx)))).toBeUndefined()
    const changed = normalizeRecord(record, ctx)
    changed.event.original = '{"changed":true}'
    // the recipe belongs to the document as made; an original changed afterwards is not what was normalized
    const c = compactDocument(changed)
    if (c) expect(JSON.stringify(rebuildDocument(c.original, c.recipe))).not.toBe(JSON.stringify(changed))
  })

  it('rebuilds a damaged row as a pipeline_error document holding its text, never throwing', () => {
    const doc = rebuildDocument('{"cut off', 'jira\ncloud\nhttps://acme.example\n\n')
    expect(doc.event.kind).toBe('pipeline_error')
    expect(doc.event.original).toBe('{"cut off')
    expect(doc.error?.message).toMatch(/stored original is not JSON/)
  })
})

// ---------------------------------------------------------------------------------------------------------

const fresh = freshArchives('test-compact')

/** The fixture sources as sites, each with its normalized documents (as a sync makes them). */
function siteDocs(): { site: SiteRef; docs: EcsDocument[] }[] {
  return [...SOURCES.slice(0, 5), ...PAGES].map((s, i) => {
    const ctx = { product: s.product, deployment: s.deployment, site: `https://site${i}.example` }
    const docs = (s.text.trimStart().startsWith('{\n') ? [s.text] : lines(s.text)).flatMap((t) => normalizeText(t, ctx))
    return { site: { id: `site-${i}`, product: s.product, deployment: s.deployment }, docs }
  })
}

describe('archive of compact rows', () => {
  it('answers every query exactly as an archive of the same documents stored whole', async () => {
    const compact = fresh()
    const whole = fresh()
    const sites = siteDocs()
    for (const { site, docs } of sites) {
      await compact.storeFor(site).commit('s', docs, {})
      // a structured clone is not the normalizer's object any more: stored whole
      await whole.storeFor(site).commit(
        's',
        docs.map((d) => structuredClone(d)),
        {},
      )
    }
    const rows = await compact.db.events.toArray()
    const compactRows = rows.filter((r) => r.raw !== undefined)
    expect(compactRows.length).toBeGreaterThan(500)
    for (const r of compactRows) expect(r.doc).toBeUndefined()
    for (const r of rows.filter((r) => r.raw === undefined)) expect(r.doc?.event.kind).toBe('pipeline_error')
    expect((await whole.db.events.toArray()).every((r) => r.doc !== undefined && r.raw === undefined)).toBe(true)

    const all = sites.flatMap((s) => s.docs)
    const json = (x: unknown) => JSON.stringify(x)
    const same = async <T>(f: (a: Archive) => Promise<T>) => expect(json(await f(compact))).toBe(json(await f(whole)))

    // every stored document comes back as it was given
    const page = await compact.recentEvents({}, { limit: all.length + 10 })
    expect(page.events).toHaveLength(new Set(all.map((d) => d.event.hash)).size)
    const byHash = new Map(all.map((d) => [d.event.hash, json(d)]))
    for (const e of page.events) expect(json(e.doc)).toBe(byHash.get(e.doc.event.hash))
    const keys = page.events.map((e) => e.key)
    expect(json([...(await compact.loadDocs(keys)).values()])).toBe(json(page.events.map((e) => e.doc)))

    const actions = (await compact.facets()).actions.map((a) => a.value)
    const filters: EventFilter[] = [
      {},
      { siteIds: ['site-2', 'site-7'] },
      { actions: actions.slice(0, 3) },
      { categories: ['authentication'] },
      { categories: ['iam'] },
      { text: 'admin' },
      { text: 'confluence' },
      { products: ['jira'], text: 'user' },
    ]
    for (const f of filters) {
      await same((a) => a.recentEvents(f, { limit: 40 }))
      await same((a) => a.countEvents(f))
      await same((a) => a.aggregate(f))
    }
    await same((a) => a.facets())
    const failed = (await compact.aggregate({})).failedLogins.count
    const perms = (await compact.aggregate({})).permissionChanges.count
    expect(failed + perms).toBeGreaterThan(0)

    // retention counts down the same counters (flags included) from compact rows as from whole ones
    for (const a of [compact, whole]) await a.enforceRetention({ retentionDays: 0, maxEvents: 100 })
    expect(await compact.totalEvents()).toBe(100)
    await same((a) => a.aggregate({}))
    await same((a) => a.facets())
    for (const a of [compact, whole]) await a.enforceRetention({ retentionDays: 0, maxEvents: 1 })
    await same((a) => a.aggregate({}))
  })
})

describe('text search over the original record', () => {
  it('finds what the admin saw, whatever JSON escapes Atlassian sent it with, in compact and whole rows', async () => {
    // a Confluence Cloud record whose summary Atlassian escaped: quotes, an accent as \u00e9, a slash as \/
    const text =
      '{"author":{"type":"user","displayName":"Ren\\u00e9e \\"Ops\\" Lead","accountId":"acc-1"},' +
      '"remoteAddress":"10.0.0.9","creationDate":1700000000000,"summary":"Added \\"Space Admins\\" to caf\\u00e9\\/docs",' +
      '"category":"Permissions","sysAdmin":false,"superAdmin":false,"affectedObject":{"name":"caf\\u00e9","objectType":"Space"},' +
      '"changedValues":[{"name":"Title","oldValue":"Old \\"Team\\" na\\u00efve","newValue":"x"}],"associatedObjects":[]}'
    const site = { id: 'esc', product: 'confluence' as const, deployment: 'cloud' as const }
    const docs = normalizeText(text, { product: 'confluence', deployment: 'cloud', site: 'https://esc.example' })
    expect(docs[0]?.event.kind).toBe('event')
    expect(compactDocument(docs[0]!)).toBeDefined()
    const compact = fresh()
    const whole = fresh()
    await compact.storeFor(site).commit('s', docs, {})
    await whole.storeFor(site).commit('s', [structuredClone(docs[0]!)], {})
    expect((await compact.db.events.toArray())[0]?.raw).toBe(text)
    for (const a of [compact, whole]) {
      // the summary and the name are also the action and user fields; the changed value is only in the record
      for (const q of ['"space admins"', 'café/docs', 'renée "ops"', 'CAFÉ', 'old "team" naïve']) {
        expect((await a.recentEvents({ text: q }, { limit: 10 })).events, q).toHaveLength(1)
      }
      // the escapes themselves are not what the admin searches for
      expect((await a.recentEvents({ text: 'caf\\u00e9' }, { limit: 10 })).events).toHaveLength(0)
      expect((await a.recentEvents({ text: 'nothing like it' }, { limit: 10 })).events).toHaveLength(0)
    }
  })
})
