// The typed protocol between extension pages (popup, options, dashboard) and the background.
// Small requests and answers only: large results (event lists, aggregates, exports) are read by the pages
// straight from IndexedDB through the query API in ./db.ts (see ArchiveQueries below).
//
// Every answer travels as an Envelope so that a failure in the background reaches the page as a typed
// BackgroundError (code + message) instead of a generic "Could not establish connection".

import browser from 'webextension-polyfill'
import type { Deployment, Product, Progress, Site } from '../core/model'
import type { CollectorConfig } from '../core/sinks/sink'

// ---------------------------------------------------------------------------------------------------------
// Result codes (what "Test connection" and per-site status show). The UI turns them into words.

export type ResultCode =
  | 'ok'
  /** The extension has no host permission for the site's origin: ask for it (permissions.request). */
  | 'permission-missing'
  /** Browser-session mode: not logged in, or the session expired. Log in to the site in a tab. */
  | 'session-expired'
  /** Token, e-mail or key refused (401). */
  | 'bad-credentials'
  /** Signed in, but not an administrator of the site / organization (403). */
  | 'not-admin'
  /** The site's plan has no audit log (Free plans). */
  | 'plan-without-audit'
  /** A scoped token lacks the audit scope, or a scoped token used on the site URL instead of the gateway. */
  | 'scope-missing'
  /** 429 / 503 with Retry-After: the run will be retried later. */
  | 'rate-limited'
  /** No audit API at this URL (wrong URL, product or deployment; too old a DC version). */
  | 'not-found'
  /** Network error, DNS, TLS, timeout. */
  | 'unreachable'
  /** The server answered something that is not the expected JSON (an HTML login page, a proxy page). */
  | 'bad-response'
  /** The configuration is incomplete or invalid (missing token, bad URL). */
  | 'invalid-config'
  /** Anything else: the message says what happened. */
  | 'error'

export interface CodedResult {
  code: ResultCode
  /** Words for an admin. Never contains a secret. */
  message: string
}

// ---------------------------------------------------------------------------------------------------------
// Sites, settings, status

/** A site as the UI sees it: never its secret, only whether one is stored. */
export interface SiteView extends Site {
  hasSecret: boolean
}

/** A site being created (no id yet) or edited (id set). */
export type SiteDraft = Omit<Site, 'id'> & { id?: string }

/** What one sync run of a site ended with. */
export interface RunResult extends CodedResult {
  /** ISO time the run ended. */
  at: string
  /** Events newly stored by this run (re-fetched overlap is not counted). */
  added: number
}

export interface SiteStatus {
  siteId: string
  running: boolean
  /** While running: pages and records seen so far, and a fraction when the API lets us estimate it. */
  progress?: Progress
  /** ISO time the last run started. */
  lastRunAt?: string
  lastResult?: RunResult
  /** ISO time of the last run that ended with code 'ok'. */
  lastSuccessAt?: string
  /** ISO time the next scheduled run is due (from the alarm). */
  nextRunAt?: string
  /** Events stored for this site (maintained counter). */
  events: number
}

export interface StatusReport {
  sites: SiteStatus[]
  /** All events stored (maintained counter). */
  totalEvents: number
  /** Events added since the popup was last opened (the badge). */
  unseen: number
}

export type ExportFormat = 'ecs' | 'raw'

export interface Settings {
  /** Minutes between background syncs of each site. Default 15, minimum 1. */
  syncIntervalMinutes: number
  /** Minutes re-read before the checkpoint on every run, so late-arriving records are not missed. */
  overlapMinutes: number
  /** Days fetched on the first run of a new site. */
  lookbackDays: number
  /** Delete events older than this many days; 0 = keep forever. */
  retentionDays: number
  /** Keep at most this many events (oldest deleted first); 0 = no limit. */
  maxEvents: number
  /** What "Export NDJSON" writes: ECS documents, or the raw Atlassian records (event.original). */
  exportFormat: ExportFormat
}

export const DEFAULT_SETTINGS: Settings = {
  syncIntervalMinutes: 15,
  overlapMinutes: 10,
  lookbackDays: 7,
  retentionDays: 0,
  maxEvents: 0,
  exportFormat: 'ecs',
}

// ---------------------------------------------------------------------------------------------------------
// Collectors (issue 5). The background keeps an outbox per collector and delivers after each sync.

// The collector configuration is the sinks' own (src/core/sinks/sink.ts): filter.sites holds site base URLs.
export type { CollectorConfig }

export type CollectorDraft = Omit<CollectorConfig, 'id'> & { id?: string }

export interface CollectorView extends CollectorConfig {
  hasSecret: boolean
}

export interface CollectorStatusView {
  collectorId: string
  /** Events queued and not yet delivered. */
  backlog: number
  /** Events the collector refused for good (mapping errors): kept, not retried; see lastError. */
  rejectedBacklog: number
  running: boolean
  /** ISO times. */
  lastSuccessAt?: string
  lastErrorAt?: string
  lastError?: string
  /** ISO time of the next automatic attempt while backing off. */
  retryAt?: string
  deliveredTotal: number
  rejectedTotal: number
  /** Enqueue time (ISO) of the oldest event still waiting. */
  oldestWaitingSince?: string
}

// ---------------------------------------------------------------------------------------------------------
// Requests and their answers

export type Request =
  | { type: 'syncNow'; siteId?: string }
  | { type: 'getStatus' }
  | { type: 'listSites' }
  | { type: 'saveSite'; site: SiteDraft; secret?: string }
  /** Removes the site, its secret, checkpoints and status. Its events stay unless deleteEvents is true. */
  | { type: 'removeSite'; siteId: string; deleteEvents?: boolean }
  /** Tries the site with this draft (and this secret, or the stored one when editing and none is given). */
  | { type: 'testConnection'; site: SiteDraft; secret?: string }
  /** The popup was opened: the badge count restarts from zero. */
  | { type: 'popupOpened' }
  | { type: 'getSettings' }
  | { type: 'saveSettings'; settings: Partial<Settings> }
  | { type: 'listCollectors' }
  | { type: 'saveCollector'; collector: CollectorDraft; secret?: string }
  /** Removes the collector, its secret and its queued outbox entries. */
  | { type: 'removeCollector'; collectorId: string }
  | { type: 'pushNow'; collectorId?: string }
  /** The entries a collector rejected go back into its queue (after the cause was fixed), and a push starts. */
  | { type: 'requeueRejected'; collectorId: string }
  | { type: 'getCollectorStatus' }

export type RequestType = Request['type']

export interface ResponseMap {
  syncNow: { started: string[] }
  getStatus: StatusReport
  listSites: SiteView[]
  saveSite: SiteView
  removeSite: { removed: boolean }
  testConnection: CodedResult
  popupOpened: { unseen: 0 }
  getSettings: Settings
  saveSettings: Settings
  listCollectors: CollectorView[]
  saveCollector: CollectorView
  removeCollector: { removed: boolean }
  pushNow: { started: string[] }
  requeueRejected: { requeued: number }
  getCollectorStatus: CollectorStatusView[]
}

export type ResponseOf<T extends Request> = ResponseMap[T['type']]

export type Envelope<T> = { ok: true; value: T } | { ok: false; error: CodedResult }

/** The background answered with an error (its code and message are for the UI to show). */
export class BackgroundError extends Error {
  readonly code: ResultCode
  constructor(result: CodedResult) {
    super(result.message)
    this.name = 'BackgroundError'
    this.code = result.code
  }
}

/** Send one request to the background and get its typed answer. Throws BackgroundError on failure. */
export async function send<T extends Request>(request: T): Promise<ResponseOf<T>> {
  const envelope = (await browser.runtime.sendMessage(request)) as Envelope<ResponseOf<T>> | undefined
  if (!envelope) throw new BackgroundError({ code: 'error', message: 'The background did not answer.' })
  if (!envelope.ok) throw new BackgroundError(envelope.error)
  return envelope.value
}

const REQUEST_TYPES: ReadonlySet<string> = new Set<RequestType>([
  'syncNow',
  'getStatus',
  'listSites',
  'saveSite',
  'removeSite',
  'testConnection',
  'popupOpened',
  'getSettings',
  'saveSettings',
  'listCollectors',
  'saveCollector',
  'removeCollector',
  'pushNow',
  'requeueRejected',
  'getCollectorStatus',
])

/** True for messages of this protocol (the background ignores anything else). */
export function isRequest(message: unknown): message is Request {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    REQUEST_TYPES.has((message as { type: string }).type)
  )
}

// ---------------------------------------------------------------------------------------------------------
// The archive query API (implemented in ./db.ts; pages call it directly, no messaging).

/** All conditions combine with AND; the values inside one list combine with OR. Absent = no condition. */
export interface EventFilter {
  /** Epoch milliseconds, inclusive. */
  from?: number
  /** Epoch milliseconds, inclusive. */
  to?: number
  siteIds?: string[]
  products?: Product[]
  /** ECS event.category values (an event matches when any of its categories is listed). */
  categories?: string[]
  /** ECS event.action values. */
  actions?: string[]
  /** The event's user as shown in the list (user.name, else full_name, email, id). */
  users?: string[]
  /** source.ip values. */
  ips?: string[]
  /** Case-insensitive substring over action, user, IP, message and the original record. */
  text?: string
}

/** One stored event as the pages see it. */
export interface StoredEvent {
  /** documentKey: the archive's primary key. */
  key: string
  /** @timestamp as epoch milliseconds (0 when the record had none). */
  ts: number
  siteId: string
  product: Product | ''
  deployment: Deployment | ''
  action: string
  categories: string[]
  user: string
  ip: string
  outcome: string
  doc: import('../core/model').EcsDocument
}

/** Position after the last row of a page: pass it back as `before` to get the next (older) page. */
export interface PageCursor {
  ts: number
  key: string
}

export interface RecentOptions {
  limit: number
  before?: PageCursor
  /** Free-text search scans at most this many candidate rows before giving up (default 20,000). */
  scanLimit?: number
}

export interface RecentPage {
  events: StoredEvent[]
  /** Cursor for the next page, absent when there are no more rows. */
  next?: PageCursor
  /** True when a text search stopped at scanLimit: older matches may exist (ask for the next page). */
  truncated: boolean
}

export interface EventCount {
  count: number
  /** False when counting stopped at the cap: show "1,000+". */
  exact: boolean
}

export interface FacetValue {
  value: string
  count: number
}

/**
 * Distinct values with their event counts (all time, maintained counters; independent of time range). `ips`
 * is empty unless asked for (`archive.facets(limit, ipSample)`): IPs have no counters and are counted over
 * the newest `ipSample` events.
 */
export interface Facets {
  siteIds: FacetValue[]
  products: FacetValue[]
  categories: FacetValue[]
  actions: FacetValue[]
  users: FacetValue[]
  ips: FacetValue[]
}

export interface AggregateOptions {
  /** Bucket width for events over time: 'auto' picks hour or day from the range. */
  bucket?: 'hour' | 'day' | 'auto'
  /** How many entries in each top/rarest list (default 10). */
  top?: number
  /** Matching events read at most (newest first) when the filter cannot use counters (default 20,000). */
  scanLimit?: number
}

export interface TimeBucket {
  /** Bucket start, epoch ms (UTC). */
  start: number
  count: number
}

export interface Aggregates {
  bucket: 'hour' | 'day'
  overTime: TimeBucket[]
  topActions: FacetValue[]
  rarestActions: FacetValue[]
  topUsers: FacetValue[]
  topIps: FacetValue[]
  /** How many (newest) events topIps is computed from: IPs have no counters, so unfiltered it is a sample. */
  topIpsFrom: number
  /** Events whose category includes 'authentication' and outcome is 'failure'. */
  failedLogins: { count: number; recent: StoredEvent[] }
  /** Events whose category includes 'iam' and type includes 'change', 'group' or 'admin', or actions about permissions. */
  permissionChanges: { count: number; recent: StoredEvent[] }
  /** Events the figures are based on. */
  total: number
  /** True when the numbers come from the newest scanLimit matching events only. */
  sampled: boolean
}

/**
 * What the pages call: `const archive = openArchive()` from ./db.ts returns an object with these methods.
 * All reads go newest-first through indexes; nothing here scans the whole archive.
 */
export interface ArchiveQueries {
  recentEvents(filter: EventFilter, options: RecentOptions): Promise<RecentPage>
  countEvents(filter: EventFilter, cap?: number): Promise<EventCount>
  facets(): Promise<Facets>
  aggregate(filter: EventFilter, options?: AggregateOptions): Promise<Aggregates>
  getEvent(key: string): Promise<StoredEvent | undefined>
}
