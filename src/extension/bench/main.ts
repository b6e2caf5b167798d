// Benchmark page (not linked from the UI): test/bench/extension.bench.ts drives it through Playwright with
// page.evaluate(() => bench.<fn>(...)). It runs in a real extension page, so IndexedDB, structured clone and
// Blob storage are the browser's own.

import { Dexie } from 'dexie'
import { documentKey } from '../../core/ecs/identity'
import { compactDocument, normalizeRecord } from '../../core/ecs/normalize'
import type { EcsDocument, Product } from '../../core/model'
import { type Archive, openArchive, packKey } from '../db'
import { exportNdjson } from '../export'
import { streamExport } from '../export-stream'
import type { EventFilter } from '../messages'

const DAY = 86_400_000
const FILL_DB = 'bench-archive-1m'

// --------------------------------------------------------------------------------------------------------
// Realistic records: Jira Cloud audit records and Confluence/Jira DC audit entities (shapes of the fixtures
// in ../shared/fixtures/atlassian), normalized by the real normalizer.

const JIRA_ACTIONS: [string, string][] = [
  ["User's password changed", 'user management'],
  ['User created', 'user management'],
  ['User deleted', 'user management'],
  ['User added to group', 'group management'],
  ['User removed from group', 'group management'],
  ['Project created', 'projects'],
  ['Workflow updated', 'workflows'],
  ['Custom field created', 'fields'],
  ['Permission scheme updated', 'permissions'],
  ['Notification scheme updated', 'notifications'],
]
const DC_ACTIONS: [string, string][] = [
  ['User login failed', 'Security'],
  ['User logged in', 'Security'],
  ['Space permission added', 'Permissions'],
  ['Page deleted', 'Pages'],
  ['Global permission changed', 'Permissions'],
  ['Group created', 'Users and groups'],
  ['Application link created', 'Application links'],
]

let seed = 42
function rand(): number {
  // xorshift32: deterministic across runs, so both stores get identical objects
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) / 4294967296
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('')

export interface Site {
  id: string
  url: string
  product: Product
  deployment: 'cloud' | 'dc'
}
const SITES: Site[] = [
  { id: 'site-0', url: 'https://acme.atlassian.net', product: 'jira', deployment: 'cloud' },
  { id: 'site-1', url: 'https://acme-wiki.atlassian.net', product: 'jira', deployment: 'cloud' },
  { id: 'site-2', url: 'https://confluence.acme.internal', product: 'confluence', deployment: 'dc' },
  { id: 'site-3', url: 'https://jira.acme.internal', product: 'jira', deployment: 'dc' },
  { id: 'site-4', url: 'https://git.acme.internal', product: 'bitbucket', deployment: 'dc' },
]

function rawRecord(site: Site, i: number, ts: number, user: number, ip: string): unknown {
  if (site.deployment === 'cloud') {
    const [summary, category] = pick(JIRA_ACTIONS)
    const objectId = `qm:${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}:${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`
    return {
      id: i,
      summary,
      remoteAddress: ip,
      authorAccountId: `5b10ac8d82e05b22cc7d${(user + 4096).toString(16)}`,
      created: new Date(ts).toISOString().replace('Z', '+0000'),
      category,
      eventSource: '',
      objectItem: {
        id: objectId,
        name: objectId,
        typeName: 'USER',
        parentId: '10000',
        parentName: 'com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory',
      },
      associatedItems: [
        {
          id: objectId,
          name: `user${user}@acme.example`,
          typeName: 'USER',
          parentId: '10000',
          parentName: 'Jira Internal Directory',
        },
      ],
      changedValues: [
        { fieldName: 'Email', changedFrom: `old${user}@acme.example`, changedTo: `user${user}@acme.example` },
      ],
    }
  }
  const [action, category] = pick(DC_ACTIONS)
  return {
    timestamp: new Date(ts).toISOString(),
    author: {
      name: `User ${user}`,
      type: 'user',
      id: String(1000 + user),
      uri: `${site.url}/admin/users/viewuser.action?username=user${user}`,
      avatarUri: '',
    },
    type: {
      categoryI18nKey: `audit.category.${category.toLowerCase()}`,
      category,
      actionI18nKey: `audit.action.${i % 97}`,
      action,
    },
    affectedObjects: [
      { name: `Space ${i % 300}`, type: 'Space', uri: `${site.url}/spaces/S${i % 300}`, id: String(i % 300) },
    ],
    changedValues: [{ key: 'Permission', i18nKey: 'audit.permission', from: 'VIEW', to: 'VIEW,EDIT' }],
    source: ip,
    system: site.url,
    method: 'Browser',
    extraAttributes: [{ nameI18nKey: 'audit.attribute.id', name: 'Audit id', value: `${i}-${hex(16)}` }],
  }
}

/** Record number `i` of `site` at time `ts`, normalized by the real normalizer as a sync would. */
function makeDoc(site: Site, i: number, ts: number): EcsDocument {
  const user = Math.floor(rand() * rand() * 500)
  const ip = `10.${(i >> 16) & 255}.${Math.floor(rand() * 8)}.${Math.floor(rand() * 250)}`
  return normalizeRecord(rawRecord(site, i, ts, user, ip), {
    product: site.product,
    deployment: site.deployment,
    site: site.url,
  })
}

/** n normalized documents for `site`, one per `stepMs` going back from `newest`; numbered from `start`. */
function makeDocs(site: Site, start: number, n: number, newest: number, stepMs: number): EcsDocument[] {
  const out: EcsDocument[] = []
  for (let k = 0; k < n; k++) out.push(makeDoc(site, start + k, newest - k * stepMs))
  return out
}

// --------------------------------------------------------------------------------------------------------

/**
 * The baselines' tables, no index: `plain` keys each document by its own event.hash (an inline key, as a Dexie
 * table is usually declared), `outofline` takes the keys beside the objects, which is cheaper in Chromium
 * (it takes an inline key, like index keys, from a deserialized copy of the value).
 */
class PlainDb extends Dexie {
  constructor(name: string) {
    super(name)
    this.version(1).stores({ plain: 'event.hash', outofline: '' })
  }
}

function jsonBytes(docs: EcsDocument[]): number {
  let n = 0
  for (const d of docs) n += JSON.stringify(d).length
  return n
}

/**
 * Events stored per second into the archive (all indexes, counters, dedupe, stream state; one commit per
 * chunk as the sync engine does) against a plain bulkPut of the same ECS document objects into a table with
 * no index (two ways of keying them, see PlainDb). The three take turns chunk by chunk, in rotating order, so
 * they grow side by side under the same conditions; generating the documents and their keys is not timed,
 * turning them into archive rows is.
 */
async function ingestCompare(n: number, chunk = 1000) {
  seed = 7
  const name = `bench-ingest-${Date.now()}`
  const archive = openArchive(`${name}-archive`)
  const plain = new PlainDb(`${name}-plain`)
  await archive.db.open()
  await plain.open()
  const ms = { archive: 0, plain: 0, outOfLine: 0 }
  let bytes = 0
  let compact = 0
  const t0 = Date.UTC(2025, 0, 1)
  for (let done = 0; done < n; done += chunk) {
    const site = SITES[(done / chunk) % SITES.length]!
    const docs = makeDocs(site, done, Math.min(chunk, n - done), t0 - done * 1000, 1000)
    bytes += jsonBytes(docs)
    const keys = docs.map((doc) => packKey(documentKey(doc)))
    for (const doc of docs) if (compactDocument(doc)) compact++
    const store = archive.storeFor(site)
    const runs: [keyof typeof ms, () => Promise<unknown>][] = [
      ['archive', () => store.commit(`${site.id}|bench`, docs, { v: 1, done })],
      ['plain', () => plain.table('plain').bulkPut(docs)],
      ['outOfLine', () => plain.table('outofline').bulkPut(docs, keys)],
    ]
    // rotate which goes first, so none always meets a warm cache
    for (let k = 0; k < runs.length; k++) {
      const [label, run] = runs[(done / chunk + k) % runs.length]!
      const s = performance.now()
      await run()
      ms[label] += performance.now() - s
    }
  }
  const stored = await archive.totalEvents()
  archive.close()
  plain.close()
  await Dexie.delete(`${name}-archive`)
  await Dexie.delete(`${name}-plain`)
  return {
    n,
    stored,
    compact,
    archiveMs: ms.archive,
    plainMs: ms.plain,
    outOfLineMs: ms.outOfLine,
    avgDocBytes: bytes / n,
  }
}

/**
 * Experiment: the same rows into tables with different index lists (alternating), to see what an index costs;
 * rows hold the whole document or, as the archive stores them, the original record and its recipe.
 */
async function ingestVariants(n: number, schemas: string[], chunk = 1000, form: 'whole' | 'compact' = 'compact') {
  seed = 7
  const name = `bench-variants-${Date.now()}`
  const dbs = schemas.map((schema, i) => {
    const db = new Dexie(`${name}-${i}`)
    db.version(1).stores({ t: schema })
    return db
  })
  const ms = schemas.map(() => 0)
  const codes = new Map<string, number>()
  const code = (v: string | undefined) => {
    if (v === undefined) return undefined
    const known = codes.get(v)
    if (known !== undefined) return known
    codes.set(v, codes.size)
    return codes.size - 1
  }
  const t0 = Date.UTC(2025, 0, 1)
  for (let done = 0; done < n; done += chunk) {
    const site = SITES[(done / chunk) % SITES.length]!
    const docs = makeDocs(site, done, Math.min(chunk, n - done), t0 - done * 1000, 1000)
    const rows = docs.map((doc) => {
      const cat = Array.isArray(doc.event.category) ? [...doc.event.category].sort().join(',') : undefined
      const u = (doc.user as { name?: string; full_name?: string; id?: string } | undefined) ?? {}
      const user = u.name ?? u.full_name ?? u.id
      const ip = (doc.source as { ip?: string } | undefined)?.ip
      const action = doc.event.action
      return {
        key: packKey(documentKey(doc)),
        ts: Date.parse(String(doc['@timestamp'])),
        site: site.id,
        cat,
        action,
        user,
        ip,
        sc: code(`s${site.id}`),
        cc: code(`c${cat}`),
        ac: code(`a${action}`),
        uc: code(`u${user}`),
        ...(form === 'whole' ? { doc } : { raw: doc.event.original, recipe: compactDocument(doc)?.recipe }),
      }
    })
    for (let k = 0; k < dbs.length; k++) {
      const i = (done / chunk + k) % dbs.length
      const s = performance.now()
      await dbs[i]!.table('t').bulkPut(rows)
      ms[i]! += performance.now() - s
    }
  }
  for (const db of dbs) {
    db.close()
    await Dexie.delete(db.name)
  }
  return schemas.map((schema, i) => ({ schema, ms: ms[i] }))
}

/**
 * Fills the 1M archive (kept between runs in the same profile) up to `target` events: 5 sites, one year,
 * ~500 users, ~16k IPs. Every document is normalized from its own generated record, as a sync stores it.
 */
async function fill(target: number, chunk = 5000) {
  const archive = openArchive(FILL_DB)
  let total = await archive.totalEvents()
  const start = performance.now()
  const startTotal = total
  seed = 99
  const newest = Date.UTC(2025, 5, 1)
  const span = 365 * DAY
  while (total < target) {
    const n = Math.min(chunk, target - total)
    const site = SITES[Math.floor(total / chunk) % SITES.length]!
    const docs: EcsDocument[] = []
    for (let k = 0; k < n; k++) {
      const i = total + k
      docs.push(makeDoc(site, i, newest - Math.floor((i / target) * span) - (k % 1000)))
    }
    const added = await archive.storeFor(site).commit(`${site.id}|fill`, docs, { v: 1, total })
    total += added.length
    if (added.length === 0) break
    if (Math.floor(total / 100_000) !== Math.floor((total - added.length) / 100_000)) {
      const secs = (performance.now() - start) / 1000
      console.info(`bench-progress: ${total} events stored, ${Math.round((total - startTotal) / secs)} events/s`)
    }
  }
  archive.close()
  return { total, added: total - startTotal, ms: performance.now() - start }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const s = performance.now()
  const r = await f()
  return [performance.now() - s, r]
}

/**
 * What the popup does on open (its page is 100 rows), from a freshly opened database each time; then
 * filtered queries of one page.
 */
async function queries(reps = 9, pageSize = 100) {
  const first: number[] = []
  const popup: number[] = []
  let rows = 0
  for (let r = 0; r < reps; r++) {
    const archive = openArchive(FILL_DB)
    const [ms, page] = await timed(() => archive.recentEvents({}, { limit: pageSize }))
    first.push(ms)
    rows = page.events.length
    archive.close()
    const again = openArchive(FILL_DB)
    const [ms2] = await timed(() =>
      Promise.all([again.recentEvents({}, { limit: pageSize }), again.countEvents({}), again.facets()]),
    )
    popup.push(ms2)
    again.close()
  }
  const archive = openArchive(FILL_DB)
  const facets = await archive.facets()
  const ips = await archive.recentIps(2000)
  const newest = (await archive.recentEvents({}, { limit: 1 })).events[0]!.ts
  const filters: Record<string, EventFilter> = {
    site: { siteIds: ['site-2'] },
    action: { actions: [facets.actions[3]!.value] },
    'site+action+7 days': { siteIds: ['site-0'], actions: [facets.actions[0]!.value], from: newest - 7 * DAY },
    user: { users: [facets.users[5]!.value] },
    ip: { ips: [ips[10]!.value] },
    category: { categories: [facets.categories[0]!.value] },
    'last 24 h': { from: newest - DAY },
    'text, last 30 days': { text: 'user42', from: newest - 30 * DAY },
  }
  const filtered: Record<string, { medianMs: number; rows: number; truncated: boolean }> = {}
  for (const [label, f] of Object.entries(filters)) {
    const times: number[] = []
    let n = 0
    let truncated = false
    for (let r = 0; r < reps; r++) {
      const [ms, page] = await timed(() => archive.recentEvents(f, { limit: pageSize }))
      times.push(ms)
      n = page.events.length
      truncated = page.truncated
    }
    filtered[label] = { medianMs: median(times), rows: n, truncated }
  }
  const [countMs, count] = await timed(() =>
    archive.countEvents({ siteIds: ['site-0'], actions: [facets.actions[0]!.value] }),
  )
  const [count24Ms, count24] = await timed(() => archive.countEvents({ siteIds: ['site-2'], from: newest - DAY }))
  const [aggMs] = await timed(() => archive.aggregate({}))
  const total = await archive.totalEvents()
  archive.close()
  return {
    total,
    rows,
    firstRowsMs: first,
    popupOpenMs: popup,
    filtered,
    countMs,
    count,
    count24Ms,
    count24,
    aggregateAllMs: aggMs,
  }
}

/** Runs `work` while sampling the page's JS heap every 200 ms; returns its result, time and the heap's peak. */
async function withHeapPeak<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; jsHeapPeak: number }> {
  const mem = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory
  let peak = mem?.usedJSHeapSize ?? 0
  const timer = setInterval(() => {
    peak = Math.max(peak, mem?.usedJSHeapSize ?? 0)
  }, 200)
  const start = performance.now()
  try {
    const result = await work()
    return { result, ms: performance.now() - start, jsHeapPeak: Math.max(peak, mem?.usedJSHeapSize ?? 0) }
  } finally {
    clearInterval(timer)
  }
}

/** Exports the filter to a Blob as the popup does; samples the page's JS heap meanwhile. */
async function exportAll(filter: EventFilter = {}, format: 'ecs' | 'raw' = 'ecs') {
  const archive = openArchive(FILL_DB)
  const { result, ms, jsHeapPeak } = await withHeapPeak(() => exportNdjson(archive, filter, format, { pageSize: 1000 }))
  // read back the last bytes: the Blob is complete and readable
  const tail = await result.blob.slice(Math.max(0, result.blob.size - 65_536)).text()
  const lastLine = tail.trimEnd().split('\n').at(-1) ?? ''
  archive.close()
  return { events: result.events, bytes: result.bytes, ms, jsHeapPeak, lastLineIsJson: lastLine.startsWith('{') }
}

/**
 * The popup's Chromium export: the service worker streams the file to a download (export-stream.ts). The
 * runner first points the worker's export route at FILL_DB and waits for the download itself.
 */
async function exportStream(filter: EventFilter = {}, format: 'ecs' | 'raw' = 'ecs') {
  const { result, ms, jsHeapPeak } = await withHeapPeak(() => streamExport({ id: crypto.randomUUID(), filter, format }))
  return { ...result, ms, jsHeapPeak, fillDb: FILL_DB }
}

async function reset() {
  await Dexie.delete(FILL_DB)
}

Object.assign(globalThis, {
  bench: { ingestCompare, ingestVariants, fill, queries, exportAll, exportStream, reset },
})
document.getElementById('app')!.textContent = 'bench ready'

export type { Archive }
