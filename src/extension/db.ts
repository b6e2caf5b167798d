// The archive: IndexedDB through Dexie. This is the only file that knows table and index names; pages and
// the background ask for things by meaning (recentEvents, countEvents, facets, aggregate, storeFor ...).
//
// Schema (see docs/extension.md for the reasons):
//   events   key (documentKey) + flattened fields, each filter dimension indexed together with the time
//            ([site+ts], [action+ts] ...) so every single-dimension filter is answered newest-first with a limit.
//            An event the normalizer can rebuild is kept compact: its original record text and the normalizer's
//            recipe instead of the ECS document, which is rebuilt when read (see toRow).
//   streams  per-stream sync state (the core Store's checkpoints), committed in the same transaction as events.
//   counters maintained counts (total, per site/product/category/action/user/IP/day, badge), updated in the same
//            transaction as inserts and retention deletes, so the popup never counts rows.
//   outbox   (v2) events queued per collector, enqueued in the same transaction as the events themselves.

import { Dexie, type DexieOptions, type Table } from 'dexie'
import { documentKey } from '../core/ecs/identity'
import { compactDocument, rebuildDocument } from '../core/ecs/normalize'
import type { Deployment, EcsDocument, Product } from '../core/model'
import type { CollectorStatus, OutboxBacklog, OutboxEntry, OutboxStore } from '../core/sinks/outbox'
import { collectorAccepts } from '../core/sinks/outbox'
import type { CollectorConfig } from '../core/sinks/sink'
import type { Store, StreamState } from '../core/sync/store'
import type {
  AggregateOptions,
  Aggregates,
  ArchiveQueries,
  EventCount,
  EventFilter,
  Facets,
  FacetValue,
  PageCursor,
  RecentOptions,
  RecentPage,
  StoredEvent,
  TimeBucket,
} from './messages'

export const ARCHIVE_NAME = 'atlassian-audit'
const DAY = 86_400_000
/** Rows a text search (or a filtered dashboard) examines at most; reading is roughly 5-20k rows/s. */
const DEFAULT_SCAN_LIMIT = 20_000
/** The unfiltered dashboard's top IPs come from this many newest events (IPs have no counters). */
export const TOP_IPS_SAMPLE = 5_000
const HOUR = 3_600_000

/**
 * A stored event row: the fields the indexes and counters are built on, and the event itself either compact
 * (`raw` + `recipe`: the original record text and how the normalizer was called; the document is rebuilt when
 * read) or whole (`doc`: documents the normalizer cannot rebuild exactly, such as pipeline_error documents, and
 * every row stored before compact rows existed).
 */
interface EventRow {
  key: string
  ts: number
  site: string
  product: Product | ''
  deployment: Deployment | ''
  /** Sorted categories joined by ','. Not indexed: see the category filter in plan(). */
  cat?: string
  /** '' when the record has none, so that every event is in [action+ts] (category filters read it). */
  action: string
  user?: string
  ip?: string
  outcome?: string
  /** Sorted event.type values joined by ','; absent in rows stored whole before this field existed. */
  type?: string
  raw?: string
  recipe?: string
  doc?: EcsDocument
}

interface StreamRow {
  id: string
  site: string
  state: StreamState
}

type CounterDim =
  | 'total'
  | 'site'
  | 'product'
  | 'category'
  | 'catkey'
  | 'action'
  | 'user'
  | 'siteproduct'
  | 'actioncat'
  | 'day'
  | 'siteday'
  | 'flag'
  | 'meta'
  | 'recent'

/**
 * One row per dimension holding every value's count. A commit then rewrites a dozen small rows instead of
 * one row per distinct user/action/day it touched (that cost as much as storing the events themselves).
 */
interface CounterRow {
  dim: CounterDim
  counts: Record<string, number>
}

/** An outbox entry (core/sinks/outbox.ts OutboxEntry) with its primary key `${collectorId}\n${key}`. */
interface OutboxRow extends OutboxEntry {
  id: string
  /** Enqueue order (ties of enqueuedAt are delivered in the order they were queued). */
  seq: number
}

const FLAG_FAILED_LOGIN = 'failed-login'
const FLAG_PERMISSION_CHANGE = 'permission-change'
const UNSEEN = 'unseen'

class ArchiveDb extends Dexie {
  events!: Table<EventRow, string>
  streams!: Table<StreamRow, string>
  counters!: Table<CounterRow, CounterDim>
  outbox!: Table<OutboxRow, string>
  collectorStatus!: Table<CollectorStatus, string>

  constructor(name: string, options?: DexieOptions) {
    super(name, options)
    this.version(1).stores({
      // No index on ts alone: "all sites, newest first" merges the few [site+ts] ranges, one index less to write.
      // No [cat+ts] either: the category follows from the action (the normalizer's tables map action →
      // category), so a category filter reads the [action+ts] ranges of that category's actions.
      events: 'key, [site+ts], [action+ts], [user+ts], [ip+ts]',
      streams: 'id, site',
      counters: 'dim',
    })
    // v2: the outbox for collectors (issue 5). Existing events are not queued retroactively: a collector
    // added later receives what is synced after it was added (its "push everything" is an export).
    // Entries hold keys only (the document is read from events at delivery), so a long queue costs little;
    // [collectorId+state+dueAt+seq] answers "due now, earliest first, then oldest" with a limit.
    this.version(2).stores({
      outbox: 'id, seq, [collectorId+state+dueAt+seq], [collectorId+state+seq]',
      collectorStatus: 'collectorId',
    })
  }
}

// ---------------------------------------------------------------------------------------------------------
// Flattening a document into its index fields

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v
  if (typeof v === 'number') return String(v)
  return undefined
}

function field(doc: EcsDocument, path: string[]): unknown {
  let cur: unknown = doc
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[p]
  }
  return cur
}

/** The user an event is shown under: the login name, else the display name, e-mail or account id. */
export function eventUser(doc: EcsDocument): string | undefined {
  return (
    str(field(doc, ['user', 'name'])) ??
    str(field(doc, ['user', 'full_name'])) ??
    str(field(doc, ['user', 'email'])) ??
    str(field(doc, ['user', 'id']))
  )
}

function stringList(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x !== '')
  if (typeof v === 'string' && v !== '') return [v]
  return []
}

// Archive keys: documentKey's 128-bit hex packed into 9 UTF-16 code units of 15 bits each (0x4000-0xBFFF, no
// surrogates), order-preserving. Every secondary index entry carries the primary key (in Chromium's LevelDB
// backing store twice: in the entry's key and its value), so 9 units instead of 32 make each of the five index
// entries of an event about 90 bytes smaller. Pages and the outbox only ever see the hex form.
const HEX128 = /^[0-9a-f]{32}$/

export function packKey(hex: string): string {
  if (!HEX128.test(hex)) return hex
  let v = BigInt(`0x${hex}`) << 7n
  const units: number[] = new Array(9)
  for (let i = 8; i >= 0; i--) {
    units[i] = 0x4000 + Number(v & 0x7fffn)
    v >>= 15n
  }
  return String.fromCharCode(...units)
}

export function unpackKey(key: string): string {
  if (key.length !== 9 || key.charCodeAt(0) < 0x4000) return key
  let v = 0n
  for (let i = 0; i < 9; i++) v = (v << 15n) | BigInt(key.charCodeAt(i) - 0x4000)
  return (v >> 7n).toString(16).padStart(32, '0')
}

/**
 * The row the archive stores for a document. Compact when the normalizer can rebuild the document from its
 * original text: storing a value costs IndexedDB more the bigger it is (Chromium also reads it back once to
 * take the index keys from it), and the ECS document, which holds that text in event.original, is
 * 2.6–2.8 times the size of the record (golden fixtures).
 */
function toRow(doc: EcsDocument, site: SiteRef): EventRow {
  const parsed = Date.parse(String(doc['@timestamp'] ?? ''))
  const categories = stringList(doc.event.category).sort()
  const row: EventRow = {
    key: packKey(documentKey(doc)),
    ts: Number.isFinite(parsed) ? parsed : 0,
    site: site.id,
    product: site.product ?? '',
    deployment: site.deployment ?? '',
    action: str(doc.event.action) ?? '',
  }
  const compact = compactDocument(doc)
  if (compact) {
    row.raw = compact.original
    row.recipe = compact.recipe
  } else row.doc = doc
  if (categories.length) row.cat = categories.join(',')
  const types = stringList(doc.event.type)
  if (types.length) row.type = types.sort().join(',')
  const user = eventUser(doc)
  if (user) row.user = user
  const ip = str(field(doc, ['source', 'ip'])) ?? str(field(doc, ['source', 'address']))
  if (ip) row.ip = ip
  const outcome = str(doc.event.outcome)
  if (outcome) row.outcome = outcome
  return row
}

/** The event's ECS document: stored whole, or rebuilt from its original text by the normalizer. */
function docOf(row: EventRow): EcsDocument {
  if (row.doc) return row.doc
  return rebuildDocument(row.raw ?? '', row.recipe ?? '')
}

function rowCategories(row: EventRow): string[] {
  return row.cat ? row.cat.split(',') : []
}

function rowTypes(row: EventRow): string[] {
  if (row.type !== undefined) return row.type.split(',')
  return row.doc ? stringList(row.doc.event.type) : []
}

function isFailedLogin(row: EventRow): boolean {
  return row.outcome === 'failure' && rowCategories(row).includes('authentication')
}

function isPermissionChange(row: EventRow): boolean {
  if (row.action && /permission|grant|revok|role|admin/i.test(row.action)) return true
  if (!rowCategories(row).includes('iam')) return false
  const types = rowTypes(row)
  return types.includes('change') || types.includes('admin') || types.includes('group')
}

/** A stored event for the pages; a compact row's document is rebuilt when first asked for (a list shows none). */
function toStored(row: EventRow): StoredEvent {
  let doc = row.doc
  return {
    key: unpackKey(row.key),
    ts: row.ts,
    siteId: row.site,
    product: row.product,
    deployment: row.deployment,
    action: row.action,
    categories: rowCategories(row),
    user: row.user ?? '',
    ip: row.ip ?? '',
    outcome: row.outcome ?? '',
    get doc() {
      doc ??= docOf(row)
      return doc
    },
  }
}

// ---------------------------------------------------------------------------------------------------------
// Counters

/**
 * The 'recent' counter row keeps, per dashboard flag, the newest RECENT_KEEP flagged events as
 * `<flag>\n<packed key>` → ts, so the dashboard lists them without reading through the archive.
 */
const RECENT_KEEP = 50

class CounterDeltas {
  readonly map = new Map<CounterDim, Map<string, number>>()
  /** 'recent' entries added (→ ts) or removed (→ undefined). */
  readonly recent = new Map<string, number | undefined>()
  private noteRecent(flag: string, row: EventRow, sign: 1 | -1): void {
    this.recent.set(`${flag}\n${row.key}`, sign > 0 ? row.ts : undefined)
  }
  add(dim: CounterDim, value: string, delta: number): void {
    let m = this.map.get(dim)
    if (!m) {
      m = new Map()
      this.map.set(dim, m)
    }
    m.set(value, (m.get(value) ?? 0) + delta)
  }
  /** The counter rows these deltas touch. */
  dims(): CounterDim[] {
    const dims = [...this.map.keys()]
    if (this.recent.size) dims.push('recent')
    return dims
  }
  /** The counter rows after these deltas, given the rows as read (absent = none yet). */
  apply(read: ReadonlyMap<CounterDim, CounterRow | undefined>): CounterRow[] {
    return this.dims().map((dim): CounterRow => {
      const counts = read.get(dim)?.counts ?? {}
      if (dim === 'recent') {
        applyRecent(counts, this.recent)
        return { dim, counts }
      }
      for (const [value, delta] of this.map.get(dim)!) {
        const n = (counts[value] ?? 0) + delta
        if (n > 0) counts[value] = n
        else delete counts[value]
      }
      return { dim, counts }
    })
  }
  addRow(row: EventRow, sign: 1 | -1): void {
    this.add('total', '', sign)
    this.add('site', row.site, sign)
    if (row.product) {
      this.add('product', row.product, sign)
      this.add('siteproduct', `${row.product}\n${row.site}`, sign)
    }
    if (row.cat) {
      this.add('catkey', row.cat, sign)
      for (const c of rowCategories(row)) this.add('category', c, sign)
    }
    if (row.action) this.add('action', row.action, sign)
    if (row.cat) this.add('actioncat', `${row.cat}\n${row.action}`, sign)
    if (row.user) this.add('user', row.user, sign)
    // No per-IP counters: IPs have too many distinct values (one counter write per event would double the
    // cost of storing); IP facets and top IPs come from the newest events instead.
    const day = String(Math.floor(row.ts / DAY))
    this.add('day', day, sign)
    this.add('siteday', `${row.site}\n${day}`, sign)
    if (isFailedLogin(row)) {
      this.add('flag', FLAG_FAILED_LOGIN, sign)
      this.noteRecent(FLAG_FAILED_LOGIN, row, sign)
    }
    if (isPermissionChange(row)) {
      this.add('flag', FLAG_PERMISSION_CHANGE, sign)
      this.noteRecent(FLAG_PERMISSION_CHANGE, row, sign)
    }
  }
}

/** Applies 'recent' changes to the row's entries and keeps the newest RECENT_KEEP per flag. */
function applyRecent(counts: Record<string, number>, changes: ReadonlyMap<string, number | undefined>): void {
  for (const [entry, ts] of changes) {
    if (ts === undefined) delete counts[entry]
    else counts[entry] = ts
  }
  const byFlag = new Map<string, [string, number][]>()
  for (const [entry, ts] of Object.entries(counts)) {
    const flag = entry.slice(0, entry.indexOf('\n'))
    const list = byFlag.get(flag)
    if (list) list.push([entry, ts])
    else byFlag.set(flag, [[entry, ts]])
  }
  for (const list of byFlag.values()) {
    if (list.length <= RECENT_KEEP) continue
    list.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0))
    for (const [entry] of list.slice(RECENT_KEEP)) delete counts[entry]
  }
}

// ---------------------------------------------------------------------------------------------------------
// Query planning

type Dimension = 'site' | 'product' | 'cat' | 'action' | 'user' | 'ip'

interface Plan {
  /** Index ranges to read newest-first and merge; each range is [index, lower, upper]. */
  ranges: { index: string; lower: unknown; upper: unknown }[]
  /** Conditions the chosen index does not already guarantee; absent when the ranges are exact. */
  residual?: (row: EventRow) => boolean
  /** Upper bound of the rows the plan will read (from counters), for information. */
  estimate: number
}

const MIN = -Infinity
const MAX = Infinity

function hasConditions(filter: EventFilter): boolean {
  return (
    filter.from !== undefined ||
    filter.to !== undefined ||
    !!filter.siteIds?.length ||
    !!filter.products?.length ||
    !!filter.categories?.length ||
    !!filter.actions?.length ||
    !!filter.users?.length ||
    !!filter.ips?.length ||
    !!filter.text?.trim()
  )
}

/** The text a search looks in: the indexed fields and the original record (a compact row is not rebuilt). */
function searchable(row: EventRow): string {
  const message = row.doc ? field(row.doc, ['message']) : undefined
  const original = unescapeJson(row.raw ?? row.doc?.event.original ?? '')
  return `${row.action}\n${row.user ?? ''}\n${row.ip ?? ''}\n${typeof message === 'string' ? message : ''}\n${original}`.toLowerCase()
}

const JSON_ESCAPE = /\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))/g
const ESCAPED: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

/**
 * The original record's JSON text with its string escapes read, so that a search finds what the admin saw
 * (`"Admins"`, `é`) in a summary Atlassian sent as `\"Admins\"` or `\u00e9`. Text without a backslash is
 * returned as it is.
 */
export function unescapeJson(text: string): string {
  if (!text.includes('\\')) return text
  return text.replace(JSON_ESCAPE, (_m, hex: string | undefined, ch: string | undefined) =>
    hex !== undefined ? String.fromCharCode(Number.parseInt(hex, 16)) : ESCAPED[ch!]!,
  )
}

function matcher(filter: EventFilter, skip: Set<Dimension | 'time'>): (row: EventRow) => boolean {
  const tests: ((row: EventRow) => boolean)[] = []
  const from = filter.from
  const to = filter.to
  if (!skip.has('time')) {
    if (from !== undefined) tests.push((r) => r.ts >= from)
    if (to !== undefined) tests.push((r) => r.ts <= to)
  }
  const oneOf = (dim: Dimension, values: readonly string[] | undefined, get: (r: EventRow) => string | undefined) => {
    if (!values?.length || skip.has(dim)) return
    const set = new Set(values)
    tests.push((r) => {
      const v = get(r)
      return v !== undefined && set.has(v)
    })
  }
  oneOf('site', filter.siteIds, (r) => r.site)
  oneOf('product', filter.products, (r) => r.product)
  oneOf('action', filter.actions, (r) => r.action || undefined)
  oneOf('user', filter.users, (r) => r.user)
  oneOf('ip', filter.ips, (r) => r.ip)
  if (filter.categories?.length && !skip.has('cat')) {
    const wanted = filter.categories
    tests.push((r) => rowCategories(r).some((c) => wanted.includes(c)))
  }
  const text = filter.text?.trim().toLowerCase()
  if (text) tests.push((r) => searchable(r).includes(text))
  return (row) => {
    for (const t of tests) if (!t(row)) return false
    return true
  }
}

/** Where a range read stopped: the last row read, and how many rows it read at that ts (they are skipped). */
interface ReadPosition {
  ts: number
  key: string
  ties: number
}

/** Most rows a filtered read (text, dashboard flag, several conditions) examines per IndexedDB request. */
const SCAN_BATCH = 500

/** The position after reading `rows` (newest first) from `pos`. */
function nextPosition(pos: ReadPosition | undefined, rows: readonly EventRow[]): ReadPosition {
  const last = rows[rows.length - 1]!
  let ties = 0
  for (let i = rows.length - 1; i >= 0 && rows[i]!.ts === last.ts; i--) ties++
  // a run of one millisecond that began in an earlier read
  if (ties === rows.length && pos && pos.ts === last.ts) ties += pos.ties
  return { ts: last.ts, key: last.key, ties }
}

function compareNewestFirst(a: { ts: number; key: string }, b: { ts: number; key: string }): number {
  if (a.ts !== b.ts) return b.ts - a.ts
  return a.key < b.key ? 1 : a.key > b.key ? -1 : 0
}

// ---------------------------------------------------------------------------------------------------------

export interface SiteRef {
  id: string
  product?: Product
  deployment?: Deployment
}

export interface RetentionPolicy {
  /** Delete events whose time is older than this many days (0 = keep). */
  retentionDays: number
  /** Keep at most this many events (0 = no limit). */
  maxEvents: number
}

/** The archive. Open it once per page / service worker with openArchive(). */
export class Archive implements ArchiveQueries {
  readonly db: ArchiveDb

  /** The collectors' outbox (core/sinks/outbox.ts OutboxStore) in the same database. */
  readonly outbox: OutboxStore

  constructor(name = ARCHIVE_NAME, options?: DexieOptions) {
    this.db = new ArchiveDb(name, options)
    this.outbox = new DexieOutboxStore(this.db)
  }

  /** Archived documents by key (the outbox delivery reads them); missing keys are absent from the map. */
  async loadDocs(keys: string[]): Promise<Map<string, EcsDocument>> {
    const rows = await this.db.events.bulkGet(keys.map(packKey))
    const out = new Map<string, EcsDocument>()
    rows.forEach((row, i) => {
      if (row) out.set(keys[i]!, docOf(row))
    })
    return out
  }

  close(): void {
    this.db.close()
  }

  /** Deletes the whole database (tests, "reset" in options). */
  async destroy(): Promise<void> {
    await this.db.delete()
  }

  // ------------------------------------------------------------------ sync: the core Store

  /**
   * The core Store for one site. Every commit writes the new events, the stream state, the counters and
   * the outbox entries of the enabled collectors whose filter accepts them, in ONE transaction.
   */
  storeFor(
    site: SiteRef,
    collectors: () => readonly CollectorConfig[] = () => [],
    now: () => number = Date.now,
  ): Store {
    return {
      loadState: async (streamId) => (await this.db.streams.get(streamId))?.state,
      commit: async (streamId, docs, state) => {
        const added = await this.commitRows(
          docs.map((d) => toRow(d, site)),
          docs,
          { id: streamId, site: site.id, state },
          collectors(),
          now(),
        )
        return added.map((i) => docs[i]!)
      },
    }
  }

  /** Adds rows (of `docs`) that are not stored yet (by key); returns the positions of those added, in order. */
  private async commitRows(
    rows: EventRow[],
    docs: readonly EcsDocument[],
    stream?: StreamRow,
    collectors: readonly CollectorConfig[] = [],
    now = Date.now(),
  ): Promise<number[]> {
    const { events, counters, streams, outbox } = this.db
    return this.db.transaction('rw', [events, counters, streams, outbox], async () => {
      // The counter rows are asked for first, so they are read while the events are written (requests run in
      // order); deltas assume every row is new and are redone in the rare commit that repeats stored events.
      let deltas = new CounterDeltas()
      for (const row of rows) deltas.addRow(row, 1)
      deltas.add('meta', UNSEEN, rows.length)
      const dims = deltas.dims()
      const current = rows.length ? counters.bulkGet(dims) : undefined
      current?.catch(() => undefined) // awaited below; a failed commit must not leave it unhandled
      const failed = new Set<number>()
      if (rows.length) {
        try {
          await events.bulkAdd(rows)
        } catch (e) {
          if (!(e instanceof Dexie.BulkError)) throw e
          for (const [pos, err] of Object.entries(e.failuresByPos)) {
            // ConstraintError = the key is already stored (re-synced overlap): idempotence, not a failure.
            if (err.name !== 'ConstraintError') throw err
            failed.add(Number(pos))
          }
        }
      }
      const added: number[] = []
      for (let i = 0; i < rows.length; i++) if (!failed.has(i)) added.push(i)
      const writes: Promise<unknown>[] = []
      if (added.length) {
        if (failed.size) {
          deltas = new CounterDeltas()
          for (const i of added) deltas.addRow(rows[i]!, 1)
          deltas.add('meta', UNSEEN, added.length)
        }
        const read = await current!
        writes.push(counters.bulkPut(deltas.apply(new Map(dims.map((dim, i) => [dim, read[i]])))))
        if (collectors.length) writes.push(this.enqueue(added, rows, docs, collectors, now))
      }
      if (stream) writes.push(streams.put(stream))
      await Promise.all(writes)
      return added
    })
  }

  private async applyDeltas(deltas: CounterDeltas): Promise<void> {
    const dims = deltas.dims()
    const read = await this.db.counters.bulkGet(dims)
    await this.db.counters.bulkPut(deltas.apply(new Map(dims.map((dim, i) => [dim, read[i]]))))
  }

  /** Queues the added events (positions in rows/docs) for every enabled collector whose filter accepts them. */
  private async enqueue(
    added: number[],
    rows: readonly EventRow[],
    docs: readonly EcsDocument[],
    collectors: readonly CollectorConfig[],
    now: number,
  ): Promise<void> {
    for (const c of collectors) {
      if (c.enabled === false) continue
      const keys = added.filter((i) => collectorAccepts(c, docs[i]!)).map((i) => unpackKey(rows[i]!.key))
      if (keys.length) await this.outbox.enqueue(c.id, keys, now)
    }
  }

  async loadStreamState(streamId: string): Promise<StreamState | undefined> {
    return (await this.db.streams.get(streamId))?.state
  }

  /** Checkpoints of a site (all its streams), deleted when the site is removed. */
  async deleteSiteStreams(siteId: string): Promise<number> {
    return this.db.streams.where('site').equals(siteId).delete()
  }

  // ------------------------------------------------------------------ counters

  private async dimCounts(dim: CounterDim): Promise<Record<string, number>> {
    return (await this.db.counters.get(dim))?.counts ?? {}
  }

  private async counter(dim: CounterDim, value = ''): Promise<number> {
    return (await this.dimCounts(dim))[value] ?? 0
  }

  async totalEvents(): Promise<number> {
    return this.counter('total')
  }

  async siteEvents(siteId: string): Promise<number> {
    return this.counter('site', siteId)
  }

  /** Events added since the popup was last opened. */
  async unseen(): Promise<number> {
    return this.counter('meta', UNSEEN)
  }

  async markSeen(): Promise<void> {
    await this.db.transaction('rw', this.db.counters, async () => {
      const counts = await this.dimCounts('meta')
      delete counts[UNSEEN]
      await this.db.counters.put({ dim: 'meta', counts })
    })
  }

  private async dimValues(dim: CounterDim, limit: number, rarest = false): Promise<FacetValue[]> {
    const sign = rarest ? -1 : 1
    return Object.entries(await this.dimCounts(dim))
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => sign * (b.count - a.count) || cmp(a.value, b.value))
      .slice(0, limit)
  }

  /**
   * Distinct values with counts, most frequent first (at most `limit` per dimension). IPs have no counters:
   * they are counted over the newest `ipSample` events only when asked (0 = not at all, the default).
   */
  async facets(limit = 1000, ipSample = 0): Promise<Facets> {
    const [siteIds, products, categories, actions, users, ips] = await Promise.all([
      this.dimValues('site', limit),
      this.dimValues('product', limit),
      this.dimValues('category', limit),
      this.dimValues('action', limit),
      this.dimValues('user', limit),
      ipSample > 0 ? this.recentIps(ipSample, limit) : Promise.resolve([]),
    ])
    return { siteIds, products, categories, actions, users, ips }
  }

  /** The IPs of the newest `scan` events, most frequent first (IPs have no maintained counters). */
  /** The source IPs of the newest `scan` events, most frequent first. */
  async recentIps(scan: number, limit = 1000): Promise<FacetValue[]> {
    const counts = new Map<string, number>()
    const { rows } = await this.readPage({}, scan, undefined, Number.MAX_SAFE_INTEGER)
    for (const row of rows) if (row.ip) counts.set(row.ip, (counts.get(row.ip) ?? 0) + 1)
    return [...counts]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => b.count - a.count || cmp(a.value, b.value))
      .slice(0, limit)
  }

  /**
   * Sites that hold events of these products (from counters): a product filter reads those sites' ranges.
   * `mixed`: one of them also holds events of another product (its product was changed in the options), so
   * the ranges need the product tested on each row.
   */
  private async sitesOf(products: readonly string[]): Promise<{ sites: string[]; count: number; mixed: boolean }> {
    const sites: string[] = []
    const others = new Set<string>()
    let count = 0
    for (const [value, n] of Object.entries(await this.dimCounts('siteproduct'))) {
      const [product, site] = value.split('\n') as [string, string]
      if (products.includes(product)) {
        sites.push(site)
        count += n
      } else if (n > 0) others.add(site)
    }
    return { sites, count, mixed: sites.some((site) => others.has(site)) }
  }

  private async sumCounters(dim: CounterDim, values: readonly string[]): Promise<number> {
    const counts = await this.dimCounts(dim)
    return values.reduce((n, v) => n + (counts[v] ?? 0), 0)
  }

  private async catKeysFor(categories: readonly string[]): Promise<{ keys: string[]; count: number }> {
    const matching = Object.entries(await this.dimCounts('catkey')).filter(([key]) =>
      key.split(',').some((c) => categories.includes(c)),
    )
    return { keys: matching.map(([key]) => key), count: matching.reduce((n, [, c]) => n + c, 0) }
  }

  /** Actions whose events carry any of these categories, and how many such events there are (from counters). */
  private async actionsOf(categories: readonly string[]): Promise<{ actions: string[]; count: number }> {
    const actions = new Set<string>()
    let count = 0
    for (const [value, n] of Object.entries(await this.dimCounts('actioncat'))) {
      const [catKey, action] = value.split('\n') as [string, string]
      if (catKey.split(',').some((c) => categories.includes(c))) {
        actions.add(action)
        count += n
      }
    }
    return { actions: [...actions], count }
  }

  private async dayRangeCount(from: number | undefined, to: number | undefined): Promise<number> {
    const lo = from === undefined ? MIN : Math.floor(from / DAY)
    const hi = to === undefined ? MAX : Math.floor(to / DAY)
    let n = 0
    for (const [day, c] of Object.entries(await this.dimCounts('day'))) {
      if (Number(day) >= lo && Number(day) <= hi) n += c
    }
    return n
  }

  // ------------------------------------------------------------------ queries

  /** Chooses the index whose ranges hold the fewest rows (known from the counters) for this filter. */
  private async plan(filter: EventFilter): Promise<Plan> {
    const from = filter.from ?? MIN
    const to = filter.to ?? MAX
    const candidates: { dim: Dimension; index: string; values: string[]; estimate: number }[] = []
    const consider = async (dim: Dimension, counterDim: CounterDim, index: string, values?: readonly string[]) => {
      if (!values?.length) return
      candidates.push({ dim, index, values: [...values], estimate: await this.sumCounters(counterDim, values) })
    }
    await consider('site', 'site', '[site+ts]', filter.siteIds)
    let productMixed = false
    if (filter.products?.length) {
      const { sites, count, mixed } = await this.sitesOf(filter.products)
      productMixed = mixed
      candidates.push({ dim: 'product', index: '[site+ts]', values: sites, estimate: count })
    }
    await consider('action', 'action', '[action+ts]', filter.actions)
    await consider('user', 'user', '[user+ts]', filter.users)
    // no IP counters: an IP filter is taken as very selective (it usually is); a wrong guess is only slower
    if (filter.ips?.length) candidates.push({ dim: 'ip', index: '[ip+ts]', values: [...filter.ips], estimate: 0 })
    if (filter.categories?.length) {
      const { actions, count } = await this.actionsOf(filter.categories)
      candidates.push({ dim: 'cat', index: '[action+ts]', values: actions, estimate: count })
    }
    // Every index is [value+ts], so each candidate's ranges already lie inside the time range: the one with
    // the fewest events (all time) is at least as good as reading everything in the time range.
    const best = candidates.sort((a, b) => a.estimate - b.estimate)[0]
    const hasText = !!filter.text?.trim()
    if (!best) {
      return {
        ranges: Object.keys(await this.dimCounts('site')).map((site) => ({
          index: '[site+ts]',
          lower: [site, from],
          upper: [site, to],
        })),
        residual: candidates.length || hasText ? matcher(filter, new Set(['time'])) : undefined,
        estimate: await this.dayRangeCount(filter.from, filter.to),
      }
    }
    const chosen = best
    return {
      ranges: chosen.values.map((v) => ({ index: chosen.index, lower: [v, from], upper: [v, to] })),
      // the action ranges of a category may hold events of that action with other categories, and a site's
      // range events of another product (mixed): keep the test
      residual:
        candidates.length > 1 || hasText || chosen.dim === 'cat' || (chosen.dim === 'product' && productMixed)
          ? matcher(
              filter,
              new Set(
                chosen.dim === 'cat' || (chosen.dim === 'product' && productMixed) ? ['time'] : [chosen.dim, 'time'],
              ),
            )
          : undefined,
      estimate: chosen.estimate,
    }
  }

  /**
   * Newest events matching the filter, one page at a time. Each index range is read newest-first with the
   * residual conditions applied while iterating, so a page reads about `limit` rows per range unless the
   * residual conditions (or a text search) reject many; a text search stops after `scanLimit` rows.
   */
  async recentEvents(filter: EventFilter, options: RecentOptions): Promise<RecentPage> {
    const before = options.before && { ts: options.before.ts, key: packKey(options.before.key) }
    const { rows, truncated, resumeAt } = await this.readPage(
      filter,
      options.limit,
      before,
      options.scanLimit ?? DEFAULT_SCAN_LIMIT,
    )
    const events = rows.map(toStored)
    const last = events[events.length - 1]
    const cursor = last && { ts: last.ts, key: last.key }
    // a search that stopped at its scan limit goes on from where it stopped, even when it found nothing yet
    const resume = resumeAt && { ts: resumeAt.ts, key: unpackKey(resumeAt.key) }
    return {
      events,
      next: rows.length === options.limit ? cursor : truncated ? (resume ?? cursor) : undefined,
      truncated,
    }
  }

  /** `before` holds a packed key here. */
  private async readPage(
    filter: EventFilter,
    limit: number,
    before: PageCursor | undefined,
    scanLimit: number,
    /** An extra condition (dashboard flags); like text, it makes the read stop after scanLimit rows. */
    extra?: (row: EventRow) => boolean,
  ): Promise<{ rows: EventRow[]; truncated: boolean; resumeAt?: { ts: number; key: string } }> {
    if (limit <= 0) return { rows: [], truncated: false }
    const plan = await this.plan(filter)
    const capped = !!filter.text?.trim() || extra !== undefined
    const residual = extra && plan.residual ? (r: EventRow) => plan.residual!(r) && extra(r) : (extra ?? plan.residual)
    const perRangeScan = Math.max(1, Math.ceil(scanLimit / plan.ranges.length))
    let truncated = false
    // The newest position at which a range stopped at its scan limit: rows older than it may still be unread in
    // that range, so none of them is handed out before it (the next page goes on from there, `resumeAt`).
    let frontier: { ts: number; key: string } | undefined
    // A k-way merge that reads each range in small batches and only reads on from the range whose rows are
    // being taken: "newest 50 of 5 sites" reads about 60 rows, not 5 × 50.
    const batch = plan.ranges.length === 1 ? limit : Math.min(limit, Math.ceil(limit / plan.ranges.length) + 2)
    interface Reader {
      index: string
      lower: unknown
      upper: unknown
      /** The last row read from this range: reading goes on strictly after it (older, or same ts and lower key). */
      pos?: ReadPosition
      buffer: EventRow[]
      done: boolean
      scanned: number
    }
    const readers: Reader[] = plan.ranges.map((range) => ({
      index: range.index,
      lower: range.lower,
      upper: range.upper,
      pos: before && { ts: before.ts, key: before.key, ties: 0 },
      buffer: [],
      done: tsOf(range.lower) > Math.min(tsOf(range.upper), before?.ts ?? Number.POSITIVE_INFINITY),
      scanned: 0,
    }))
    const refill = async (r: Reader) => {
      const found: EventRow[] = []
      // A residual condition that rejects rows makes the reads grow (up to SCAN_BATCH rows), so a rare match
      // costs few requests and a common one reads about what it keeps.
      let size = batch
      while (!r.done && found.length < batch) {
        let n = size
        size = Math.min(Math.max(size * 4, batch), SCAN_BATCH)
        if (capped) {
          n = Math.min(n, perRangeScan - r.scanned)
          if (n <= 0) {
            truncated = true
            r.done = true
            const at = r.pos ?? before
            if (at && (!frontier || compareNewestFirst(at, frontier) < 0)) frontier = { ts: at.ts, key: at.key }
            break
          }
        }
        const { rows, end } = await this.readAfter(r.index, r.lower, r.upper, r.pos, n)
        r.scanned += rows.length
        const last = rows[rows.length - 1]
        if (last) r.pos = nextPosition(r.pos, rows)
        for (const row of rows) if (!residual || residual(row)) found.push(row)
        if (end) r.done = true
      }
      r.buffer = found
    }
    const out: EventRow[] = []
    while (out.length < limit) {
      await Promise.all(readers.filter((r) => !r.buffer.length && !r.done).map(refill))
      let best: Reader | undefined
      for (const r of readers) {
        if (r.buffer.length && (!best || compareNewestFirst(r.buffer[0]!, best.buffer[0]!) < 0)) best = r
      }
      if (!best) break
      if (frontier && compareNewestFirst(best.buffer[0]!, frontier) > 0) break
      out.push(best.buffer.shift()!)
    }
    return { rows: out, truncated, resumeAt: frontier }
  }

  /**
   * Up to `n` rows of an index range, newest first, strictly after `pos`. The read is a plain key range with
   * a limit, which Dexie answers with one getAll (IndexedDB 3: with a direction) instead of a cursor stepping
   * row by row through a JS filter: the range ends at pos.ts, and the rows at pos.ts already read (the index
   * orders equal keys by primary key, so they come first) are dropped from the front. `end`: the range has
   * nothing after these rows.
   */
  private async readAfter(
    index: string,
    lower: unknown,
    upper: unknown,
    pos: ReadPosition | undefined,
    n: number,
  ): Promise<{ rows: EventRow[]; end: boolean }> {
    if (pos)
      upper = Array.isArray(upper)
        ? [upper[0], Math.min(upper[1] as number, pos.ts)]
        : Math.min(upper as number, pos.ts)
    if (tsOf(lower) > tsOf(upper)) return { rows: [], end: true }
    // rows at pos.ts that may already have been read: the count this reader saw, or more when it is not known
    let skip = pos?.ties ?? 0
    for (;;) {
      const want = n + skip
      const raw = await this.db.events.where(index).between(lower, upper, true, true).reverse().limit(want).toArray()
      let from = 0
      if (pos) while (from < raw.length && raw[from]!.ts === pos.ts && raw[from]!.key >= pos.key) from++
      if (from < raw.length || raw.length < want) return { rows: raw.slice(from), end: raw.length < want }
      // every row read was one already read (a long run of events in one millisecond): read further
      skip = skip * 2 + n
    }
  }

  /**
   * How many events match. Exact from counters for no filter or a single listed dimension; exact from an
   * index count for one dimension (or none) with a time range; otherwise counted up to `cap` by reading
   * rows (then exact is false: show "1,000+"). Reading is the slow part (thousands of rows per second), so
   * keep `cap` small.
   */
  async countEvents(filter: EventFilter, cap = 1000): Promise<EventCount> {
    if (!hasConditions(filter)) return { count: await this.totalEvents(), exact: true }
    const dims = (
      [
        ['site', filter.siteIds],
        ['product', filter.products],
        ['action', filter.actions],
        ['user', filter.users],
        ['category', filter.categories],
      ] as const
    ).filter(([, v]) => v?.length)
    const simple = filter.from === undefined && filter.to === undefined && !filter.text?.trim() && !filter.ips?.length
    if (simple && dims.length === 1) {
      const [dim, values] = dims[0]!
      if (dim === 'category') return { count: (await this.catKeysFor(values!)).count, exact: true }
      return { count: await this.sumCounters(dim, values!), exact: true }
    }
    const plan = await this.plan(filter)
    if (!plan.residual) {
      // the index ranges are exactly the matching events (one dimension and/or time): IndexedDB counts keys
      // without reading the rows, so this is exact and needs no cap
      const counts = await Promise.all(
        plan.ranges.map((r) =>
          tsOf(r.lower) > tsOf(r.upper)
            ? 0
            : this.db.events.where(r.index).between(r.lower, r.upper, true, true).count(),
        ),
      )
      return { count: counts.reduce((a, b) => a + b, 0), exact: true }
    }
    const { rows, truncated } = await this.readPage(filter, cap + 1, undefined, DEFAULT_SCAN_LIMIT)
    return { count: Math.min(rows.length, cap), exact: rows.length <= cap && !truncated }
  }

  async getEvent(key: string): Promise<StoredEvent | undefined> {
    const row = await this.db.events.get(packKey(key))
    return row ? toStored(row) : undefined
  }

  /**
   * Pages of matching events, newest first, for export and delivery: bounded memory whatever the size.
   * Text search is not capped here (every row in range is examined).
   */
  async *iterate(filter: EventFilter, pageSize = 1000, signal?: AbortSignal): AsyncGenerator<StoredEvent[]> {
    let before: PageCursor | undefined
    for (;;) {
      signal?.throwIfAborted()
      const { rows } = await this.readPage(filter, pageSize, before, Number.MAX_SAFE_INTEGER)
      if (rows.length) yield rows.map(toStored)
      if (rows.length < pageSize) return
      const last = rows[rows.length - 1]!
      before = { ts: last.ts, key: last.key }
    }
  }

  /** Figures for the dashboard. Unfiltered: from counters. Filtered: from the newest scanLimit matching events. */
  async aggregate(filter: EventFilter, options: AggregateOptions = {}): Promise<Aggregates> {
    const top = options.top ?? 10
    if (!hasConditions(filter)) {
      const [total, topActions, rarestActions, topUsers, topIps, failed, perms, days] = await Promise.all([
        this.totalEvents(),
        this.dimValues('action', top),
        this.dimValues('action', top, true),
        this.dimValues('user', top),
        this.recentIps(TOP_IPS_SAMPLE, top),
        this.counter('flag', FLAG_FAILED_LOGIN),
        this.counter('flag', FLAG_PERMISSION_CHANGE),
        this.dimCounts('day'),
      ])
      const overTime = Object.entries(days)
        .map(([day, count]) => ({ start: Number(day) * DAY, count }))
        .sort((a, b) => a.start - b.start)
      const [failedRecent, permRecent] = await Promise.all([
        this.recentFailedLogins(10, failed),
        this.recentPermissionChanges(10, perms),
      ])
      return {
        bucket: 'day',
        overTime,
        topActions,
        rarestActions,
        topUsers,
        topIps,
        topIpsFrom: Math.min(total, TOP_IPS_SAMPLE),
        failedLogins: { count: failed, recent: failedRecent },
        permissionChanges: { count: perms, recent: permRecent },
        total,
        sampled: false,
      }
    }
    const scanLimit = options.scanLimit ?? DEFAULT_SCAN_LIMIT
    const { rows, truncated } = await this.readPage(filter, scanLimit, undefined, scanLimit)
    const sampled = truncated || rows.length >= scanLimit
    const span = (filter.to ?? rows[0]?.ts ?? 0) - (filter.from ?? rows[rows.length - 1]?.ts ?? 0)
    const bucket = options.bucket && options.bucket !== 'auto' ? options.bucket : span <= 3 * DAY ? 'hour' : 'day'
    const width = bucket === 'hour' ? HOUR : DAY
    const buckets = new Map<number, number>()
    const actions = new Map<string, number>()
    const users = new Map<string, number>()
    const ips = new Map<string, number>()
    const failed: EventRow[] = []
    const perms: EventRow[] = []
    const bump = (m: Map<string, number>, k: string | undefined) => {
      if (k) m.set(k, (m.get(k) ?? 0) + 1)
    }
    for (const row of rows) {
      const start = Math.floor(row.ts / width) * width
      buckets.set(start, (buckets.get(start) ?? 0) + 1)
      bump(actions, row.action)
      bump(users, row.user)
      bump(ips, row.ip)
      if (isFailedLogin(row)) failed.push(row)
      if (isPermissionChange(row)) perms.push(row)
    }
    const ranked = (m: Map<string, number>) =>
      [...m].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || cmp(a.value, b.value))
    const actionsRanked = ranked(actions)
    const overTime: TimeBucket[] = [...buckets]
      .map(([start, count]) => ({ start, count }))
      .sort((a, b) => a.start - b.start)
    return {
      bucket,
      overTime,
      topActions: actionsRanked.slice(0, top),
      rarestActions: actionsRanked.slice(-top).reverse(),
      topUsers: ranked(users).slice(0, top),
      topIps: ranked(ips).slice(0, top),
      topIpsFrom: rows.length,
      failedLogins: { count: failed.length, recent: failed.slice(0, 10).map(toStored) },
      permissionChanges: { count: perms.length, recent: perms.slice(0, 10).map(toStored) },
      total: rows.length,
      sampled,
    }
  }

  /** Newest failed logins through the category index (not a scan of everything). */
  private async recentFailedLogins(limit: number, flagged: number): Promise<StoredEvent[]> {
    const listed = await this.recentFlagged(FLAG_FAILED_LOGIN, limit, flagged)
    if (listed) return listed
    const { rows } = await this.readPage({ categories: ['authentication'] }, limit, undefined, 20_000, isFailedLogin)
    return rows.map(toStored)
  }

  /**
   * The newest flagged events from the 'recent' counter row, or undefined when it cannot tell them all (an
   * archive written before the row existed, or retention removed listed ones): the caller then reads them.
   */
  private async recentFlagged(flag: string, limit: number, flagged: number): Promise<StoredEvent[] | undefined> {
    const prefix = `${flag}\n`
    const listed = Object.entries(await this.dimCounts('recent'))
      .filter(([entry]) => entry.startsWith(prefix))
      .map(([entry, ts]) => ({ key: entry.slice(prefix.length), ts }))
      .sort(compareNewestFirst)
      .slice(0, limit)
    const want = Math.min(limit, flagged)
    if (listed.length < want) return undefined
    const rows = await this.db.events.bulkGet(listed.map((e) => e.key))
    const found = rows.filter((r): r is EventRow => r !== undefined)
    return found.length === listed.length ? found.map(toStored) : undefined
  }

  /** Newest permission changes: actions that name permissions (from the action counters) and IAM changes. */
  private async recentPermissionChanges(limit: number, flagged: number): Promise<StoredEvent[]> {
    const listed = await this.recentFlagged(FLAG_PERMISSION_CHANGE, limit, flagged)
    if (listed) return listed
    const actions = (await this.dimValues('action', 100_000))
      .map((a) => a.value)
      .filter((a) => isPermissionChange({ action: a } as EventRow))
    const [byAction, byCategory] = await Promise.all([
      actions.length ? this.readPage({ actions }, limit, undefined, 20_000) : { rows: [] },
      this.readPage({ categories: ['iam'] }, limit, undefined, 20_000, isPermissionChange),
    ])
    const seen = new Set<string>()
    return [...byAction.rows, ...byCategory.rows]
      .filter((r) => !seen.has(r.key) && seen.add(r.key))
      .sort(compareNewestFirst)
      .slice(0, limit)
      .map(toStored)
  }

  // ------------------------------------------------------------------ retention

  /**
   * Deletes what the policy no longer keeps, oldest first, in transactions of at most `chunk` events, each
   * also updating the counters. Returns the number deleted. Bounded work per call: at most `maxChunks`.
   */
  async enforceRetention(policy: RetentionPolicy, now = Date.now(), chunk = 500, maxChunks = 200): Promise<number> {
    let deleted = 0
    for (let i = 0; i < maxChunks; i++) {
      const n = await this.deleteOldestChunk(policy, now, chunk)
      deleted += n
      if (n < chunk) break
    }
    return deleted
  }

  /**
   * Row keys among `rows` whose document an outbox entry still waits to deliver: retention must not delete them ("at least
   * once": an entry whose document is gone could only be dropped). Rejected entries do not hold their event.
   */
  private async awaitingDelivery(rows: EventRow[]): Promise<Set<string>> {
    const held = new Set<string>()
    const { outbox } = this.db
    if (rows.length === 0 || (await outbox.limit(1).count()) === 0) return held
    // the collectors with entries: one keyed step per collector, not a walk over the queue
    const collectors: string[] = []
    for (let e = await outbox.orderBy('[collectorId+state+seq]').first(); e; ) {
      collectors.push(e.collectorId)
      e = await outbox.where('[collectorId+state+seq]').above([e.collectorId, Dexie.maxKey]).first()
    }
    // rows are keyed by the packed key, outbox entries by the document key (hex)
    const docKeys = rows.map((r) => unpackKey(r.key))
    for (const c of collectors) {
      const entries = await outbox.bulkGet(docKeys.map((k) => outboxId(c, k)))
      entries.forEach((e, i) => {
        if (e && e.state === 'pending') held.add(rows[i]!.key)
      })
    }
    return held
  }

  private async deleteOldestChunk(policy: RetentionPolicy, now: number, chunk: number): Promise<number> {
    const { events, counters, outbox } = this.db
    return this.db.transaction('rw', [events, counters, outbox], async () => {
      const sites = Object.keys(await this.dimCounts('site'))
      // the oldest `n` events older than `before`, over all sites (each site's range read oldest-first)
      const oldest = async (n: number, before: number): Promise<EventRow[]> => {
        const perSite = await Promise.all(
          sites.map((site) =>
            events.where('[site+ts]').between([site, MIN], [site, before], true, false).limit(n).toArray(),
          ),
        )
        return perSite
          .flat()
          .sort((a, b) => -compareNewestFirst(a, b))
          .slice(0, n)
      }
      let victims: EventRow[] = []
      if (policy.retentionDays > 0) victims = await oldest(chunk, now - policy.retentionDays * DAY)
      if (victims.length < chunk && policy.maxEvents > 0) {
        const total = await this.totalEvents()
        const excess = total - victims.length - policy.maxEvents
        if (excess > 0) {
          const seen = new Set(victims.map((v) => v.key))
          const extra = (await oldest(Math.min(excess, chunk - victims.length) + victims.length, MAX)).filter(
            (r) => !seen.has(r.key),
          )
          victims = victims.concat(extra.slice(0, Math.min(excess, chunk - victims.length)))
        }
      }
      if (!victims.length) return 0
      // events still queued for a collector wait for their delivery (the next pass after it deletes them)
      const held = await this.awaitingDelivery(victims)
      const doomed = held.size ? victims.filter((v) => !held.has(v.key)) : victims
      if (doomed.length) await this.deleteRows(doomed)
      // a chunk held back in part (fewer than `chunk` deleted) ends this pass: the oldest would be picked again
      return doomed.length
    })
  }

  private async deleteRows(rows: EventRow[]): Promise<void> {
    const deltas = new CounterDeltas()
    for (const row of rows) deltas.addRow(row, -1)
    await this.db.events.bulkDelete(rows.map((r) => r.key))
    await this.applyDeltas(deltas)
  }

  /** Deletes every event of a site, in bounded transactions (removing a site with "delete its events"). */
  async deleteSiteEvents(siteId: string, chunk = 500): Promise<number> {
    let deleted = 0
    for (;;) {
      const n = await this.db.transaction('rw', [this.db.events, this.db.counters], async () => {
        const rows = await this.db.events
          .where('[site+ts]')
          .between([siteId, MIN], [siteId, MAX])
          .limit(chunk)
          .toArray()
        if (rows.length) await this.deleteRows(rows)
        return rows.length
      })
      deleted += n
      if (n < chunk) return deleted
    }
  }
}

const outboxId = (collectorId: string, key: string) => `${collectorId}\n${key}`

/** The core OutboxStore over the outbox tables; joins an outer transaction (commitRows) when there is one. */
class DexieOutboxStore implements OutboxStore {
  constructor(private readonly db: ArchiveDb) {}

  async enqueue(collectorId: string, keys: readonly string[], now: number): Promise<number> {
    return this.db.transaction('rw', this.db.outbox, async () => {
      let seq = ((await this.db.outbox.orderBy('seq').last())?.seq ?? 0) + 1
      const rows: OutboxRow[] = keys.map((key) => ({
        id: outboxId(collectorId, key),
        collectorId,
        key,
        enqueuedAt: now,
        dueAt: now,
        attempts: 0,
        state: 'pending',
        seq: seq++,
      }))
      try {
        await this.db.outbox.bulkAdd(rows)
        return rows.length
      } catch (e) {
        if (!(e instanceof Dexie.BulkError)) throw e
        // already queued (pending or rejected): left as it is
        for (const err of Object.values(e.failuresByPos)) if (err.name !== 'ConstraintError') throw err
        return rows.length - Object.keys(e.failuresByPos).length
      }
    })
  }

  async takeDue(collectorId: string, now: number, limit: number): Promise<OutboxEntry[]> {
    const rows = await this.db.outbox
      .where('[collectorId+state+dueAt+seq]')
      .between([collectorId, 'pending', MIN, MIN], [collectorId, 'pending', now, MAX], true, true)
      .limit(limit)
      .toArray()
    return rows.map(({ id: _id, seq: _seq, ...entry }) => entry)
  }

  async remove(collectorId: string, keys: readonly string[]): Promise<void> {
    await this.db.outbox.bulkDelete(keys.map((k) => outboxId(collectorId, k)))
  }

  private async modify(collectorId: string, keys: readonly string[], change: (row: OutboxRow, i: number) => void) {
    await this.db.transaction('rw', this.db.outbox, async () => {
      const rows = await this.db.outbox.bulkGet(keys.map((k) => outboxId(collectorId, k)))
      const present: OutboxRow[] = []
      rows.forEach((row, i) => {
        if (!row) return
        change(row, i)
        present.push(row)
      })
      if (present.length) await this.db.outbox.bulkPut(present)
    })
  }

  async markRetry(collectorId: string, keys: readonly string[], dueAt: number, error: string): Promise<void> {
    await this.modify(collectorId, keys, (row) => {
      row.attempts++
      row.dueAt = dueAt
      row.lastError = error
    })
  }

  async markRejected(collectorId: string, rejected: readonly { key: string; reason: string }[]): Promise<void> {
    await this.modify(
      collectorId,
      rejected.map((r) => r.key),
      (row, i) => {
        row.state = 'rejected'
        row.lastError = rejected[i]!.reason
      },
    )
  }

  private stateRange(collectorId: string, state: OutboxEntry['state']) {
    return this.db.outbox
      .where('[collectorId+state+seq]')
      .between([collectorId, state, MIN], [collectorId, state, MAX], true, true)
  }

  async requeueRejected(collectorId: string, now: number): Promise<number> {
    return this.stateRange(collectorId, 'rejected').modify({ state: 'pending', dueAt: now })
  }

  async backlog(collectorId: string): Promise<OutboxBacklog> {
    const [pending, rejected, oldest, nextDue] = await Promise.all([
      this.stateRange(collectorId, 'pending').count(),
      this.stateRange(collectorId, 'rejected').count(),
      this.stateRange(collectorId, 'pending').first(),
      this.db.outbox
        .where('[collectorId+state+dueAt+seq]')
        .between([collectorId, 'pending', MIN, MIN], [collectorId, 'pending', MAX, MAX], true, true)
        .first(),
    ])
    const out: OutboxBacklog = { pending, rejected }
    if (nextDue) out.nextDueAt = nextDue.dueAt
    if (oldest) out.oldestEnqueuedAt = oldest.enqueuedAt
    return out
  }

  async getStatus(collectorId: string): Promise<CollectorStatus | undefined> {
    return this.db.collectorStatus.get(collectorId)
  }

  async updateStatus(collectorId: string, patch: Partial<Omit<CollectorStatus, 'collectorId'>>): Promise<void> {
    await this.db.transaction('rw', this.db.collectorStatus, async () => {
      const cur: CollectorStatus = (await this.db.collectorStatus.get(collectorId)) ?? {
        collectorId,
        consecutiveFailures: 0,
        deliveredTotal: 0,
        rejectedTotal: 0,
      }
      const next: Record<string, unknown> = { ...cur }
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) delete next[k]
        else next[k] = v
      }
      await this.db.collectorStatus.put(next as unknown as CollectorStatus)
    })
  }

  async removeCollector(collectorId: string): Promise<void> {
    await this.db.transaction('rw', [this.db.outbox, this.db.collectorStatus], async () => {
      await this.stateRange(collectorId, 'pending').delete()
      await this.stateRange(collectorId, 'rejected').delete()
      await this.db.collectorStatus.delete(collectorId)
    })
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function tsOf(bound: unknown): number {
  return Array.isArray(bound) ? (bound[1] as number) : (bound as number)
}

/** Opens the archive (Dexie opens lazily on first use). */
export function openArchive(name = ARCHIVE_NAME, options?: DexieOptions): Archive {
  return new Archive(name, options)
}

export type { EventRow }
