// An Atlassian simulator: one HTTP server on 127.0.0.1 whose path prefixes stand in for hosts.
//   /cloud       a Cloud site (Confluence Cloud under /cloud/wiki, Jira Cloud under /cloud/rest)
//   /confluence  /jira  /bitbucket   Data Center instances with those context paths
//   /gateway     https://api.atlassian.com (/ex/{product}/{cloudId}/…, /admin/v1/…)
// It follows shared/docs/atlassian-apis.md; where that doc says UNCONFIRMED it picks the behaviour that is
// hardest on a client. docs/fake-atlassian.md lists every such choice.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { canonicalJson } from '../../src/core/ecs/identity'
import { errorBody, type Family, loginPage, MSG, serverErrorResponse, sitePage } from './bodies'
import {
  fixtureRecords,
  formatJiraCreated,
  Generator,
  type Raw,
  recordTime,
  retime,
  storedOf,
  TIME,
  withTime,
} from './data'
import {
  type ApiKey,
  AUDIT_APIS,
  type ExpiredSessionMode,
  FaultControl,
  type FaultRule,
  type InsertWhilePagingFault,
  type RateLimitFault,
  type RequestFacts,
  type ServerErrorFault,
  type TruncateFault,
  type Via,
} from './faults'
import { Prng } from './prng'
import { SortedStore, STORE_KEYS, type Stored, type StoreKey } from './store'

export type { ApiKey, ExpiredSessionMode, FaultHandle, Via } from './faults'
export { AUDIT_APIS, FaultControl } from './faults'
export type { StoreKey } from './store'

export type SiteKey = 'cloud' | 'confluence-dc' | 'jira-dc' | 'bitbucket-dc' | 'org'
/** A site, or one of the two record stores behind the Cloud site. */
export type RecordSite = SiteKey | 'confluence-cloud' | 'jira-cloud'

export interface FakeAtlassianOptions {
  /** Default 0 = a random free port. The server binds 127.0.0.1 only. */
  port?: number
  /** PRNG seed for generated data, credentials and probabilistic faults (deterministic). Default 1. */
  seed?: number
  /** Clock in epoch ms. Default Date.now. */
  now?: () => number
  /**
   * Generated records per site, besides the fixture records ('cloud' = each of the two Cloud stores).
   * Default 300 per store, spread over the last 10 days.
   */
  volume?: Partial<Record<SiteKey | StoreKey, number>>
  /** Org `/events` requests allowed per minute (Atlassian: 10). 0 = unlimited. */
  orgEventsPerMinute?: number
  /** Answer to an expired or unknown session cookie. Default 'auto' (302 to login on Cloud, 401 on DC). */
  expiredSession?: ExpiredSessionMode
  /** Host used in DC `nextPageLink` (the real link is built from the server's base URL). Default 'localhost'. */
  dcLinkHost?: string
  /** A DC non-admin querying /rest/auditing/1.0/events gets a 403 (default) or an empty 200 page. */
  dcNonAdmin?: 'forbidden' | 'empty'
  /** Confluence Cloud's "fixed system limit" on `limit`. Default 1000. */
  confluenceCloudMaxLimit?: number
  /** SameSite attribute of the session cookies ('omit' leaves it out). Default 'Lax'. */
  cookieSameSite?: 'Lax' | 'Strict' | 'None' | 'omit'
  /** Time zone (minutes east of UTC) used for Jira/DC date-times sent without a zone. Default +600 (UTC+10). */
  siteUtcOffsetMinutes?: number
}

export interface Credentials {
  /** Admin account e-mail (Cloud Basic auth, and the DC username's e-mail). */
  email: string
  /** Classic (unscoped) API token of the admin: works on the site and through the gateway. */
  apiToken: string
  /** Scoped API token of the admin: 401 on the site URL, works through the gateway. */
  scopedToken: string
  /** Scoped API token without the audit scopes: 401 "Unauthorized; scope does not match" through the gateway. */
  wrongScopeToken: string
  /** DC personal access token of the admin (Bearer), valid on all three DC instances. */
  pat: string
  /** Organization API key (Bearer) for /gateway/admin. */
  orgKey: string
  /** An authenticated user who is not an administrator (Cloud Basic). */
  viewerEmail: string
  viewerToken: string
  /** DC PAT of the non-admin user. */
  viewerPat: string
  /** DC username/password Basic auth of the admin (the viewer's DC password is viewerToken). */
  dcUsername: string
  dcPassword: string
  viewerUsername: string
}

export interface RequestLogEntry {
  seq: number
  /** Clock value when the request arrived. */
  at: number
  method: string
  /** Path without the query string. */
  path: string
  /** Query parameters (values of names that look secret are replaced by "[redacted]"). */
  query: Record<string, string>
  api: ApiKey
  via: Via | 'none'
  /** Scheme of the Authorization header presented, if any. Never its value. */
  auth: 'none' | 'basic' | 'bearer' | 'other'
  /** What the presented secret turned out to be. Never its value. */
  credential: CredentialKind
  /** Names (never values) of the cookies sent. */
  cookieNames: string[]
  hasAuthorization: boolean
  hasCookies: boolean
  user?: 'admin' | 'viewer'
  status: number
  /** Faults that acted on the request. */
  faults: string[]
  /** Records in the body (audit APIs, 200 only). */
  records?: number
  /** Time spent in the handler (ms), without fault delays. */
  ms: number
}

export type CredentialKind =
  | 'none'
  | 'session'
  | 'stale-session'
  | 'api-token'
  | 'scoped-token'
  | 'wrong-scope-token'
  | 'viewer-token'
  | 'pat'
  | 'viewer-pat'
  | 'dc-password'
  | 'viewer-password'
  | 'org-key'
  | 'invalid'

export interface ServedEntry {
  api: ApiKey
  store: StoreKey
  /** The raw record exactly as served. */
  record: unknown
  /** canonicalJson(record): a stable identity (key order independent). Computed lazily, then cached. */
  readonly identity: string
  /** Atlassian's own id where the record has one (Jira Cloud `id`, org event `id`), as a string. */
  id?: string
  times: number
}

export interface ApiServedStats {
  requests: number
  /** 200 pages delivered in full. */
  pages: number
  /** Records delivered (with repeats). */
  records: number
  /** Distinct records delivered. */
  distinct: number
  /** Time spent in handlers for this API (ms). */
  serveMs: number
  truncated: number
}

export interface ServedLog extends ApiServedStats {
  byApi: Partial<Record<ApiKey, ApiServedStats>>
  /** Every distinct record delivered (optionally by one API), with how many times. */
  entries(api?: ApiKey): ServedEntry[]
  /** Set of identities (canonical JSON) delivered. */
  identities(api?: ApiKey): Set<string>
}

export interface FakeAtlassian {
  url: string
  sites: Record<SiteKey, { baseUrl: string }>
  gatewayUrl: string
  cloudId: string
  orgId: string
  credentials: Credentials
  faults: FaultControl
  /** Add records (their own timestamps are kept; a record without one gets "now"). */
  insert(site: RecordSite, records: unknown[]): void
  /** Realistic raw records, not inserted. 'cloud' generates Confluence Cloud records. */
  generate(site: RecordSite, n: number, opts?: { sameMillisecond?: boolean; at?: number }): unknown[]
  /** Insert n generated records that all share one millisecond (default: one second before now). */
  insertSameMillisecond(site: RecordSite, n: number, at?: number): unknown[]
  served(): ServedLog
  resetServed(): void
  /** Everything stored, newest-first, in the API's native shape ('cloud' = Confluence then Jira). */
  records(site: RecordSite): unknown[]
  /** Per-request log (method, path, query, auth kind, cookie names; never secret values). */
  requests(): RequestLogEntry[]
  clearRequests(): void
  close(): Promise<void>
}

// -----------------------------------------------------------------------------------------------------

type User = 'admin' | 'viewer'
type Realm = 'cloud' | 'gateway-ex' | 'gateway-admin' | 'confluence-dc' | 'jira-dc' | 'bitbucket-dc'
type Failure = 'missing' | 'invalid' | 'expired-session' | 'scoped-on-site' | 'scope-mismatch' | 'cookie-with-token'

interface AuthResult {
  user?: User
  credential: CredentialKind
  failure?: Failure
}

interface Session {
  user: User
  realm: Realm
  epoch: number
}

interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  q: URLSearchParams
  entry: RequestLogEntry
  facts: RequestFacts
  family: Family
  realm: Realm
  /** Base URL of the site the request is for (what a client would configure). */
  siteBase: string
  t0: number
  requestId: string
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

const DC_CONTEXT: Record<'confluence-dc' | 'jira-dc' | 'bitbucket-dc', string> = {
  'confluence-dc': 'confluence',
  'jira-dc': 'jira',
  'bitbucket-dc': 'bitbucket',
}
const DC_MAX_LIMIT: Record<'confluence-dc' | 'jira-dc' | 'bitbucket-dc', number> = {
  'confluence-dc': 100_000,
  'jira-dc': 100_000,
  'bitbucket-dc': 10_000,
}
const CLOUD_ID = 'c57406ca-1d2e-4f3a-9b8c-7d6e5f4a3b2c'
const ORG_ID = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d'
const SECRET_QUERY = /token|password|secret|key|auth/i

class Simulator {
  readonly now: () => number
  readonly seed: number
  readonly gen: Generator
  readonly faults: FaultControl
  readonly stores = {} as Record<StoreKey, SortedStore>
  readonly orgById = new Map<string, Stored>()
  readonly credentials: Credentials
  private readonly sessions = new Map<string, Session>()
  private readonly sessionRng: Prng
  private seq = 0
  private readonly log: RequestLogEntry[] = []
  private logSeq = 0
  private readonly servedStats = new Map<ApiKey, ApiServedStats & { counts: Map<Stored, number> }>()
  private readonly orgRateWindow = new Map<string, number[]>()
  private readonly legacyCache = new WeakMap<Stored, Raw>()
  private readonly identityCache = new WeakMap<object, string>()
  private server!: Server
  url = ''
  port = 0

  constructor(readonly opts: FakeAtlassianOptions) {
    this.now = opts.now ?? Date.now
    this.seed = opts.seed ?? 1
    this.gen = new Generator(this.seed)
    this.faults = new FaultControl(this.seed)
    this.faults.expiredSessionMode = opts.expiredSession ?? 'auto'
    this.faults.orgEventsPerMinute = opts.orgEventsPerMinute ?? 10
    this.sessionRng = new Prng(this.seed, 7)
    const c = new Prng(this.seed, 3)
    this.credentials = {
      email: 'admin@example.com',
      apiToken: `ATATT3xFfGF0${c.token(40)}=${c.hex(8).toUpperCase()}`,
      scopedToken: `ATATT3xFfGF0${c.token(40)}=${c.hex(8).toUpperCase()}`,
      wrongScopeToken: `ATATT3xFfGF0${c.token(40)}=${c.hex(8).toUpperCase()}`,
      pat: `${c.token(44)}`,
      orgKey: `ATCTT3xFfGN0${c.token(40)}=${c.hex(8).toUpperCase()}`,
      viewerEmail: 'viewer@example.com',
      viewerToken: `ATATT3xFfGF0${c.token(40)}=${c.hex(8).toUpperCase()}`,
      viewerPat: `${c.token(44)}`,
      dcUsername: 'admin',
      dcPassword: `dc-${c.token(16)}`,
      viewerUsername: 'viewer',
    }
    for (const k of STORE_KEYS) this.stores[k] = new SortedStore(k === 'org')
    this.seedStores()
  }

  // ---------------------------------------------------------------------------------------------- data

  private volumeOf(store: StoreKey): number {
    const v = this.opts.volume ?? {}
    const own = v[store]
    if (own !== undefined) return own
    if ((store === 'confluence-cloud' || store === 'jira-cloud') && v.cloud !== undefined) return v.cloud
    return 300
  }

  private seedStores(): void {
    const now = this.now()
    const newestFixture = now - 4 * TIME.DAY
    for (const store of STORE_KEYS) {
      const g = this.gen
      const fixtures = retime(store, fixtureRecords(store), newestFixture)
      const oldestFixture = Math.min(...fixtures.map((r) => recordTime(store, r) ?? newestFixture))
      // Generated times: 10 % older than the fixtures (back to 10 days), 90 % newer (up to a minute ago).
      const n = this.volumeOf(store)
      const times: number[] = []
      let olderSoFar = 0
      while (times.length < n) {
        // Jira ids below the fixtures' 11650 run out: keep older Jira records under 11,000.
        const older = g.rng.chance(0.1) && (store !== 'jira-cloud' || olderSoFar < 11_000)
        const ts = older
          ? oldestFixture - 1 - Math.floor(g.rng.next() * (oldestFixture - (now - 10 * TIME.DAY)))
          : newestFixture + 1 + Math.floor(g.rng.next() * (now - TIME.MINUTE - newestFixture - 1))
        // Bursts: bulk operations write many records in one millisecond.
        const burst = g.rng.chance(0.03) ? g.rng.int(2, 30) : 1
        for (let i = 0; i < burst && times.length < n; i++) {
          times.push(ts)
          if (older) olderSoFar++
        }
      }
      times.sort((a, b) => a - b)
      const entries: Array<{ raw: Raw; ts: number; fixtureIndex: number }> = []
      // Fixtures are newest-first: a larger index is older, so among equal times it sorts first.
      fixtures.forEach((raw, i) => {
        entries.push({ raw, ts: recordTime(store, raw) ?? 0, fixtureIndex: fixtures.length - i })
      })
      const olderCount = times.filter((t) => t < oldestFixture).length
      // Jira ids grow with time: older generated records get ids below the fixtures' 11650.
      const olderIds: number[] = []
      if (store === 'jira-cloud') {
        for (let i = 0; i < olderCount; i++) olderIds.push(g.olderJiraId())
        olderIds.reverse()
      }
      let olderSeen = 0
      for (const ts of times) {
        let raw: Raw
        switch (store) {
          case 'confluence-cloud':
            raw = g.confluenceCloud(ts)
            break
          case 'jira-cloud':
            raw = g.jiraCloud(ts, ts < oldestFixture ? olderIds[olderSeen++] : g.nextJiraId())
            break
          case 'org':
            raw = g.org(ts, ts + g.processingLag(), ORG_ID, CLOUD_ID)
            break
          default:
            raw = g.dc(store, ts)
        }
        entries.push({ raw, ts, fixtureIndex: 0 })
      }
      entries.sort((a, b) => a.ts - b.ts || a.fixtureIndex - b.fixtureIndex)
      const stored: Stored[] = entries.map((e) => storedOf(store, e.raw, this.tieFor(store, e.raw)))
      this.stores[store].load(stored)
      if (store === 'org') for (const s of stored) this.orgById.set(String(s.raw.id), s)
    }
  }

  private tieFor(store: StoreKey, raw: Raw): number {
    if (store === 'jira-cloud' && typeof raw.id === 'number') return raw.id
    if (store === 'confluence-dc' || store === 'jira-dc' || store === 'bitbucket-dc') return this.gen.nextDcId(store)
    return ++this.seq
  }

  storesOf(site: RecordSite): StoreKey[] {
    return site === 'cloud' ? ['confluence-cloud', 'jira-cloud'] : [site]
  }

  insert(site: RecordSite, records: unknown[]): void {
    for (const rec of records) {
      if (rec === null || typeof rec !== 'object') throw new Error('insert: records must be objects')
      let store: StoreKey
      if (site === 'cloud') store = 'creationDate' in rec || 'affectedObject' in rec ? 'confluence-cloud' : 'jira-cloud'
      else store = site
      this.insertOne(store, structuredClone(rec) as Raw)
    }
  }

  private insertOne(store: StoreKey, raw: Raw): Stored {
    let r = raw
    if (recordTime(store, r) === undefined) r = withTime(store, r, this.now(), 0)
    if (store === 'jira-cloud' && typeof r.id !== 'number') r = { id: this.gen.nextJiraId(), ...r }
    if (store === 'org') {
      const a = r.attributes as Raw
      if (typeof a.processedAt !== 'string')
        r = { ...r, attributes: { ...a, processedAt: new Date(this.now()).toISOString() } }
      if (typeof r.id !== 'string') r = { ...r, id: this.gen.rng.uuid() }
    }
    const s = storedOf(store, r, this.tieFor(store, r))
    this.stores[store].insert(s)
    if (store === 'org') this.orgById.set(String(r.id), s)
    return s
  }

  generate(site: RecordSite, n: number, opts: { sameMillisecond?: boolean; at?: number } = {}): Raw[] {
    const store: StoreKey = site === 'cloud' ? 'confluence-cloud' : site
    const top = opts.at ?? this.now()
    const times: number[] = []
    let t = top
    for (let i = 0; i < n; i++) {
      times.push(t)
      if (!opts.sameMillisecond) t -= this.gen.rng.int(1, 2000)
    }
    times.reverse() // oldest first, so Jira ids grow with time
    const out: Raw[] = []
    for (const ts of times) {
      switch (store) {
        case 'confluence-cloud':
          out.push(this.gen.confluenceCloud(ts))
          break
        case 'jira-cloud':
          out.push(this.gen.jiraCloud(ts, this.gen.nextJiraId()))
          break
        case 'org':
          out.push(this.gen.org(ts, ts + this.gen.rng.int(200, 3000), ORG_ID, CLOUD_ID))
          break
        default:
          out.push(this.gen.dc(store, ts))
      }
    }
    return out.reverse()
  }

  records(site: RecordSite): Raw[] {
    const out: Raw[] = []
    for (const store of this.storesOf(site)) {
      const items = this.stores[store].items
      for (let i = items.length - 1; i >= 0; i--) out.push(items[i].raw)
    }
    return out
  }

  // ------------------------------------------------------------------------------------------- served

  private stats(api: ApiKey) {
    let s = this.servedStats.get(api)
    if (!s) {
      s = { requests: 0, pages: 0, records: 0, distinct: 0, serveMs: 0, truncated: 0, counts: new Map() }
      this.servedStats.set(api, s)
    }
    return s
  }

  served(): ServedLog {
    const byApi: Partial<Record<ApiKey, ApiServedStats>> = {}
    const total: ApiServedStats = { requests: 0, pages: 0, records: 0, distinct: 0, serveMs: 0, truncated: 0 }
    const all = new Set<Stored>()
    for (const [api, s] of this.servedStats) {
      byApi[api] = {
        requests: s.requests,
        pages: s.pages,
        records: s.records,
        distinct: s.counts.size,
        serveMs: s.serveMs,
        truncated: s.truncated,
      }
      total.requests += s.requests
      total.pages += s.pages
      total.records += s.records
      total.serveMs += s.serveMs
      total.truncated += s.truncated
      for (const k of s.counts.keys()) all.add(k)
    }
    total.distinct = all.size
    const snapshot = new Map<ApiKey, Map<Stored, number>>()
    for (const [api, s] of this.servedStats) snapshot.set(api, new Map(s.counts))
    const entries = (api?: ApiKey): ServedEntry[] => {
      const out: ServedEntry[] = []
      for (const [a, counts] of snapshot) {
        if (api && a !== api) continue
        const store = storeOfApi(a)
        for (const [s, times] of counts) {
          const record = a === 'confluence-dc-legacy' ? this.legacyRecord(s) : s.raw
          const id = store === 'jira-cloud' || store === 'org' ? String(record.id) : undefined
          const cache = this.identityCache
          out.push({
            api: a,
            store,
            record,
            id,
            times,
            // Computed on first use and cached: canonical JSON of 100,000 records takes seconds.
            get identity() {
              let v = cache.get(record)
              if (v === undefined) {
                v = canonicalJson(record)
                cache.set(record, v)
              }
              return v
            },
          })
        }
      }
      return out
    }
    return {
      ...total,
      byApi,
      entries,
      identities: (api?: ApiKey) => new Set(entries(api).map((e) => e.identity)),
    }
  }

  resetServed(): void {
    this.servedStats.clear()
  }

  requests(): RequestLogEntry[] {
    return this.log.map((e) => ({
      ...e,
      query: { ...e.query },
      cookieNames: [...e.cookieNames],
      faults: [...e.faults],
    }))
  }

  clearRequests(): void {
    this.log.length = 0
  }

  // ------------------------------------------------------------------------------------------- server

  async listen(port: number): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' })
          res.end(`simulator error: ${err instanceof Error ? err.message : String(err)}`)
        } else res.destroy()
      })
    })
    this.server.keepAliveTimeout = 5000
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => resolve())
    })
    this.port = (this.server.address() as AddressInfo).port
    this.url = `http://127.0.0.1:${this.port}`
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url)
    const authz = req.headers.authorization
    const cookies = parseCookies(req.headers.cookie)
    const query: Record<string, string> = {}
    for (const [k, v] of url.searchParams) query[k] = SECRET_QUERY.test(k) ? '[redacted]' : v
    const route = this.route(url.pathname)
    const entry: RequestLogEntry = {
      seq: ++this.logSeq,
      at: this.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      api: route.api,
      via: route.via ?? 'none',
      auth: !authz ? 'none' : /^basic /i.test(authz) ? 'basic' : /^bearer /i.test(authz) ? 'bearer' : 'other',
      credential: 'none',
      cookieNames: Object.keys(cookies),
      hasAuthorization: authz !== undefined,
      hasCookies: Object.keys(cookies).length > 0,
      status: 0,
      faults: [],
      ms: 0,
    }
    this.log.push(entry)
    const facts: RequestFacts = { api: route.api, store: route.store, via: route.via ?? 'cloud' }
    const ctx: Ctx = {
      req,
      res,
      url,
      q: url.searchParams,
      entry,
      facts,
      family: route.family,
      realm: route.realm,
      siteBase: route.siteBase,
      t0: 0,
      requestId: `${this.seed.toString(16)}-${entry.seq}`,
    }
    const stats = this.stats(route.api)
    stats.requests++

    const slow = this.faults.pick('slow', facts)
    if (slow) {
      entry.faults.push('slow')
      await new Promise((r) => setTimeout(r, Number(slow.options.delayMs) || 0))
    }
    ctx.t0 = performance.now()
    try {
      if (route.via === undefined || !route.handler) {
        this.sendJson(ctx, 404, errorBody(route.family, 404, 'Not Found', url.pathname, ctx.requestId))
        return
      }
      const method = req.method ?? 'GET'
      if (method !== 'GET' && method !== 'HEAD' && !(route.api === 'login' && method === 'POST')) {
        // Audit reads are GET only; a POST from a browser would also meet the XSRF check (doc §g.4).
        this.sendJson(
          ctx,
          405,
          errorBody(route.family, 405, `Method ${method} not allowed`, url.pathname, ctx.requestId),
          {
            allow: 'GET',
          },
        )
        return
      }
      const rl = this.faults.pick('rateLimit', facts)
      if (rl) {
        entry.faults.push('rateLimit')
        this.sendRateLimited(ctx, rl.options as RateLimitFault)
        return
      }
      const se = this.faults.pick('serverError', facts)
      if (se) {
        entry.faults.push('serverError')
        this.sendServerError(ctx, se)
        return
      }
      await route.handler(ctx, cookies)
    } catch (err) {
      if (err instanceof HttpError) {
        this.sendJson(ctx, err.status, errorBody(ctx.family, err.status, err.message, url.pathname, ctx.requestId))
      } else throw err
    }
  }

  private route(path: string): {
    api: ApiKey
    via?: Via
    store?: StoreKey
    family: Family
    realm: Realm
    siteBase: string
    handler?: (ctx: Ctx, cookies: Record<string, string>) => void | Promise<void>
  } {
    const cloudBase = `${this.url}/cloud`
    if (path === '/cloud' || path.startsWith('/cloud/')) {
      const sub = path.slice('/cloud'.length) || '/'
      const base = { via: 'cloud' as const, realm: 'cloud' as const, siteBase: cloudBase }
      if (sub === '/_edge/tenant_info')
        return { ...base, api: 'tenant-info', family: 'jira', handler: (c) => this.tenantInfo(c) }
      if (sub === '/login' || sub === '/login.jsp')
        return { ...base, api: 'login', family: 'jira', handler: (c) => this.login(c, 'cloud') }
      if (sub === '/logout')
        return { ...base, api: 'login', family: 'jira', handler: (c, k) => this.logout(c, k, 'cloud') }
      if (sub === '/wiki/rest/api/audit')
        return {
          ...base,
          api: 'confluence-cloud',
          store: 'confluence-cloud',
          family: 'confluence',
          handler: (c, k) => this.confluenceAudit(c, k, false),
        }
      if (sub === '/wiki/rest/api/audit/since')
        return {
          ...base,
          api: 'confluence-cloud-since',
          store: 'confluence-cloud',
          family: 'confluence',
          handler: (c, k) => this.confluenceAudit(c, k, true),
        }
      if (sub === '/wiki/rest/api/user/current')
        return { ...base, api: 'myself', family: 'confluence', handler: (c, k) => this.myself(c, k, 'confluence') }
      if (/^\/rest\/api\/[23]\/auditing\/record$/.test(sub))
        return {
          ...base,
          api: 'jira-cloud',
          store: 'jira-cloud',
          family: 'jira',
          handler: (c, k) => this.jiraAudit(c, k),
        }
      if (/^\/rest\/api\/[23]\/myself$/.test(sub))
        return { ...base, api: 'myself', family: 'jira', handler: (c, k) => this.myself(c, k, 'jira') }
      if (/^\/rest\/api\/[23]\/mypermissions$/.test(sub))
        return { ...base, api: 'myself', family: 'jira', handler: (c, k) => this.myself(c, k, 'jira-permissions') }
      if (sub.includes('/rest/'))
        return { ...base, api: 'unknown', family: sub.startsWith('/wiki') ? 'confluence' : 'jira' }
      return { ...base, api: 'page', family: 'jira', handler: (c, k) => this.page(c, k, 'Atlassian Cloud (simulated)') }
    }
    const dcMatch = path.match(/^\/(confluence|jira|bitbucket)(\/.*)?$/)
    if (dcMatch) {
      const m = dcMatch
      const site = `${m[1]}-dc` as 'confluence-dc' | 'jira-dc' | 'bitbucket-dc'
      const sub = m[2] ?? '/'
      const family: Family = m[1] === 'confluence' ? 'confluence' : m[1] === 'jira' ? 'jira' : 'bitbucket'
      const base = { via: site, realm: site, siteBase: `${this.url}/${m[1]}`, family }
      if (sub === '/rest/auditing/1.0/events')
        return { ...base, api: site, store: site, handler: (c, k) => this.dcEvents(c, k, site) }
      if (site === 'confluence-dc' && (sub === '/rest/api/audit' || sub === '/rest/api/audit/since'))
        return {
          ...base,
          api: 'confluence-dc-legacy',
          store: site,
          handler: (c, k) => this.confluenceAudit(c, k, sub.endsWith('/since')),
        }
      if (/^\/(login|login\.jsp|login\.action|dologin\.action)$/.test(sub))
        return { ...base, api: 'login', handler: (c) => this.login(c, site) }
      if (sub === '/logout' || sub === '/logout.action')
        return { ...base, api: 'login', handler: (c, k) => this.logout(c, k, site) }
      if (
        (site === 'confluence-dc' && sub === '/rest/api/user/current') ||
        (site === 'jira-dc' && sub === '/rest/api/2/myself') ||
        (site === 'bitbucket-dc' && sub === '/plugins/servlet/applinks/whoami')
      )
        return {
          ...base,
          api: 'myself',
          handler: (c, k) => this.myself(c, k, m[1] as 'confluence' | 'jira' | 'bitbucket'),
        }
      if (sub.includes('/rest/')) return { ...base, api: 'unknown' }
      return { ...base, api: 'page', handler: (c, k) => this.page(c, k, `${m[1]} Data Center (simulated)`) }
    }
    if (path.startsWith('/gateway/')) {
      const gw = { via: 'gateway' as const, siteBase: cloudBase }
      const exMatch = path.match(/^\/gateway\/ex\/(confluence|jira)\/([^/]+)(\/.*)$/)
      if (exMatch) {
        const m = exMatch
        const [, product, cloudId, sub] = m
        const family: Family = product === 'confluence' ? 'confluence' : 'jira'
        const ex = { ...gw, realm: 'gateway-ex' as const, family }
        const checkCloud =
          (h: (c: Ctx, k: Record<string, string>) => void | Promise<void>) => (c: Ctx, k: Record<string, string>) => {
            if (cloudId !== CLOUD_ID) {
              this.sendJson(c, 404, { code: 404, message: 'Not Found' })
              return
            }
            return h(c, k)
          }
        if (product === 'confluence' && (sub === '/wiki/rest/api/audit' || sub === '/wiki/rest/api/audit/since')) {
          const since = sub.endsWith('/since')
          return {
            ...ex,
            api: since ? 'confluence-cloud-since' : 'confluence-cloud',
            store: 'confluence-cloud',
            handler: checkCloud((c, k) => this.confluenceAudit(c, k, since)),
          }
        }
        if (product === 'confluence' && sub === '/wiki/rest/api/user/current')
          return { ...ex, api: 'myself', handler: checkCloud((c, k) => this.myself(c, k, 'confluence')) }
        if (product === 'jira' && /^\/rest\/api\/[23]\/auditing\/record$/.test(sub))
          return { ...ex, api: 'jira-cloud', store: 'jira-cloud', handler: checkCloud((c, k) => this.jiraAudit(c, k)) }
        if (product === 'jira' && /^\/rest\/api\/[23]\/myself$/.test(sub))
          return { ...ex, api: 'myself', handler: checkCloud((c, k) => this.myself(c, k, 'jira')) }
        return { ...ex, api: 'unknown' }
      }
      const adm = { ...gw, realm: 'gateway-admin' as const, family: 'admin' as const }
      if (path === '/gateway/admin/v1/orgs') return { ...adm, api: 'org-list', handler: (c, k) => this.orgList(c, k) }
      const evMatch = path.match(/^\/gateway\/admin\/v1\/orgs\/([^/]+)\/(events|events-stream)$/)
      if (evMatch) {
        const m = evMatch
        const [, orgId, which] = m
        return {
          ...adm,
          api: which === 'events' ? 'org-events' : 'org-events-stream',
          store: 'org',
          handler: (c, k) => this.orgEvents(c, k, orgId, which === 'events-stream'),
        }
      }
      const oneMatch = path.match(/^\/gateway\/admin\/v1\/orgs\/([^/]+)\/events\/([^/]+)$/)
      if (oneMatch) {
        const m = oneMatch
        const [, orgId, eventId] = m
        return { ...adm, api: 'org-list', handler: (c, k) => this.orgEvent(c, k, orgId, eventId) }
      }
      return { ...adm, api: 'unknown' }
    }
    return { api: 'unknown', family: 'jira', realm: 'cloud', siteBase: this.url }
  }

  // --------------------------------------------------------------------------------------------- auth

  private authenticate(ctx: Ctx, cookies: Record<string, string>): AuthResult {
    const c = this.credentials
    const header = ctx.req.headers.authorization
    const realm = ctx.realm
    let basic: { user: string; secret: string } | undefined
    let bearer: string | undefined
    if (header) {
      const [scheme, value = ''] = header.split(/\s+/, 2)
      if (/^basic$/i.test(scheme)) {
        const decoded = Buffer.from(value, 'base64').toString('utf8')
        const i = decoded.indexOf(':')
        basic = i < 0 ? { user: decoded, secret: '' } : { user: decoded.slice(0, i), secret: decoded.slice(i + 1) }
      } else if (/^bearer$/i.test(scheme)) bearer = value
      else return { credential: 'invalid', failure: 'invalid' }
    }

    if (realm === 'gateway-admin') {
      if (bearer === c.orgKey) return { user: 'admin', credential: 'org-key' }
      if (header) return { credential: 'invalid', failure: 'invalid' }
      return { credential: 'none', failure: 'missing' }
    }

    if (realm === 'cloud' || realm === 'gateway-ex') {
      if (basic) {
        const email = basic.user.toLowerCase()
        if (email === c.email && basic.secret === c.apiToken) return { user: 'admin', credential: 'api-token' }
        if (email === c.viewerEmail && basic.secret === c.viewerToken)
          return { user: 'viewer', credential: 'viewer-token' }
        if (email === c.email && basic.secret === c.scopedToken) {
          // Scoped tokens only work through api.atlassian.com (doc §g.2).
          return realm === 'gateway-ex'
            ? { user: 'admin', credential: 'scoped-token' }
            : { credential: 'scoped-token', failure: 'scoped-on-site' }
        }
        if (email === c.email && basic.secret === c.wrongScopeToken) {
          return realm === 'gateway-ex'
            ? { credential: 'wrong-scope-token', failure: 'scope-mismatch' }
            : { credential: 'wrong-scope-token', failure: 'scoped-on-site' }
        }
        return { credential: 'invalid', failure: 'invalid' }
      }
      if (bearer !== undefined) return { credential: bearer === c.orgKey ? 'org-key' : 'invalid', failure: 'invalid' }
      // The gateway never looks at site cookies.
      if (realm === 'gateway-ex') return { credential: 'none', failure: 'missing' }
      const token = cookies['tenant.session.token']
      if (token === undefined) return { credential: 'none', failure: 'missing' }
      const s = this.validSession(token, 'cloud')
      return s ? { user: s.user, credential: 'session' } : { credential: 'stale-session', failure: 'expired-session' }
    }

    // Data Center
    const jsession = cookies[sessionCookie(realm)]
    if (bearer !== undefined) {
      // Doc §g.3: a cookie next to a PAT gives 401 "os_authType was 'any' and an invalid cookie was sent".
      // Whether a *valid* session cookie also breaks it is UNCONFIRMED; we refuse any session cookie.
      if (jsession !== undefined) return { credential: 'invalid', failure: 'cookie-with-token' }
      if (bearer === c.pat) return { user: 'admin', credential: 'pat' }
      if (bearer === c.viewerPat) return { user: 'viewer', credential: 'viewer-pat' }
      return { credential: 'invalid', failure: 'invalid' }
    }
    if (basic) {
      const u = basic.user.toLowerCase()
      if ((u === c.dcUsername || u === c.email) && (basic.secret === c.dcPassword || basic.secret === c.apiToken))
        return { user: 'admin', credential: 'dc-password' }
      if ((u === c.viewerUsername || u === c.viewerEmail) && basic.secret === c.viewerToken)
        return { user: 'viewer', credential: 'viewer-password' }
      return { credential: 'invalid', failure: 'invalid' }
    }
    if (jsession === undefined) return { credential: 'none', failure: 'missing' }
    const s = this.validSession(jsession, realm)
    return s ? { user: s.user, credential: 'session' } : { credential: 'stale-session', failure: 'expired-session' }
  }

  private validSession(token: string, realm: Realm): Session | undefined {
    const s = this.sessions.get(token)
    if (!s || s.realm !== realm || s.epoch !== this.faults.sessionEpoch) return undefined
    return s
  }

  /** Authenticates; on failure sends the answer and returns undefined. */
  private requireUser(ctx: Ctx, cookies: Record<string, string>): User | undefined {
    const a = this.authenticate(ctx, cookies)
    ctx.entry.credential = a.credential
    if (!a.failure && a.credential === 'session') {
      const rule = this.faults.pick('expiredSession', ctx.facts)
      if (rule) {
        ctx.entry.faults.push('expiredSession')
        this.sendExpired(ctx, (rule.options.mode as ExpiredSessionMode | undefined) ?? this.faults.expiredSessionMode)
        return undefined
      }
    }
    if (a.failure) {
      this.sendAuthFailure(ctx, a.failure)
      return undefined
    }
    ctx.entry.user = a.user
    return a.user
  }

  private sendAuthFailure(ctx: Ctx, failure: Failure): void {
    const path = ctx.url.pathname
    switch (failure) {
      case 'expired-session':
        this.sendExpired(ctx, this.faults.expiredSessionMode)
        return
      case 'scope-mismatch':
        this.sendJson(ctx, 401, { code: 401, message: MSG.scopeMismatch })
        return
      case 'cookie-with-token':
        this.sendJson(ctx, 401, errorBody(ctx.family, 401, MSG.staleCookieWithToken, path, ctx.requestId), {
          'x-seraph-loginreason': 'AUTHENTICATED_FAILED',
        })
        return
      case 'scoped-on-site':
        this.sendJson(ctx, 401, errorBody(ctx.family, 401, MSG.unauthenticated, path, ctx.requestId))
        return
      default: {
        const headers: Record<string, string> = {}
        if (ctx.entry.auth === 'basic' && ctx.realm !== 'gateway-admin')
          headers['www-authenticate'] =
            `Basic realm="${ctx.family === 'confluence' ? 'Confluence' : ctx.family === 'bitbucket' ? 'Bitbucket' : 'Jira'}"`
        if (ctx.realm !== 'cloud' && ctx.realm.endsWith('-dc')) headers['x-seraph-loginreason'] = 'AUTHENTICATED_FAILED'
        const msg =
          ctx.realm === 'gateway-admin'
            ? MSG.adminUnauthorized
            : ctx.family === 'bitbucket'
              ? 'Authentication failed. Please check your credentials and try again.'
              : MSG.unauthenticated
        this.sendJson(
          ctx,
          401,
          errorBody(ctx.family === 'gateway' ? 'jira' : ctx.family, 401, msg, path, ctx.requestId),
          headers,
        )
      }
    }
  }

  private sendExpired(ctx: Ctx, mode: ExpiredSessionMode): void {
    const cloud = ctx.realm === 'cloud'
    const effective = mode === 'auto' ? (cloud ? '302' : '401') : mode
    const loginPath = cloud ? `${ctx.siteBase}/login` : `${ctx.siteBase}/login`
    const original = `${ctx.siteBase}${ctx.url.pathname.slice(new URL(ctx.siteBase).pathname.length)}${ctx.url.search}`
    if (effective === '302') {
      const param = cloud ? 'continue' : 'os_destination'
      this.send(
        ctx,
        302,
        { location: `${loginPath}?${param}=${encodeURIComponent(original)}`, 'content-length': '0' },
        '',
      )
      return
    }
    if (effective === 'html') {
      this.sendHtml(
        ctx,
        200,
        loginPage({ title: 'Log in to continue', action: loginPath, continueTo: original, product: ctx.realm }),
      )
      return
    }
    this.sendJson(ctx, 401, errorBody(ctx.family, 401, MSG.unauthenticated, ctx.url.pathname, ctx.requestId), {
      'x-seraph-loginreason': 'AUTHENTICATED_FAILED',
    })
  }

  // ---------------------------------------------------------------------------------------- responses

  /** Writes the response; returns true when a truncate fault cut the body. */
  private send(ctx: Ctx, status: number, headers: Record<string, string | string[]>, body: string): boolean {
    const { res, entry } = ctx
    const buf = Buffer.from(body, 'utf8')
    entry.status = status
    const trunc = status === 200 && buf.length > 1 ? this.faults.pick('truncate', ctx.facts) : undefined
    if (trunc) {
      const o = trunc.options as TruncateFault
      const keep = Math.max(1, Math.min(buf.length - 1, Math.floor(buf.length * (o.keepFraction ?? 0.5))))
      entry.faults.push(`truncate:${o.mode ?? 'destroy'}`)
      this.finish(ctx, true)
      if ((o.mode ?? 'destroy') === 'malformed') {
        res.writeHead(status, { ...headers, 'content-length': String(keep) })
        res.end(buf.subarray(0, keep))
      } else {
        res.writeHead(status, { ...headers, 'content-length': String(buf.length) })
        res.write(buf.subarray(0, keep), () => res.destroy())
      }
      return true
    }
    res.writeHead(status, { ...headers, 'content-length': String(buf.length) })
    res.end(buf)
    this.finish(ctx, false)
    return false
  }

  private finish(ctx: Ctx, truncated: boolean): void {
    const ms = performance.now() - ctx.t0
    ctx.entry.ms = ms
    const s = this.stats(ctx.entry.api)
    s.serveMs += ms
    if (truncated) s.truncated++
  }

  private sendJson(ctx: Ctx, status: number, body: unknown, headers: Record<string, string> = {}): boolean {
    const ct =
      ctx.family === 'admin' || ctx.family === 'gateway' ? 'application/json' : 'application/json;charset=UTF-8'
    return this.send(ctx, status, { 'content-type': ct, ...headers }, JSON.stringify(body))
  }

  private sendHtml(ctx: Ctx, status: number, html: string, headers: Record<string, string> = {}): void {
    this.send(ctx, status, { 'content-type': 'text/html;charset=UTF-8', ...headers }, html)
  }

  /** Sends a page of records and counts them as served (unless the body was cut). */
  private sendPage(
    ctx: Ctx,
    body: unknown,
    page: Stored[],
    served: Stored[] = page,
    headers: Record<string, string> = {},
  ): void {
    ctx.entry.records = page.length
    if (this.sendJson(ctx, 200, body, headers)) return
    const s = this.stats(ctx.entry.api)
    s.pages++
    s.records += served.length
    for (const r of served) s.counts.set(r, (s.counts.get(r) ?? 0) + 1)
  }

  private sendRateLimited(ctx: Ctx, o: RateLimitFault): void {
    const secs = o.retryAfterSeconds ?? 1
    const now = this.now()
    const headers: Record<string, string> = {}
    if ((o.retryAfter ?? 'seconds') === 'seconds') headers['retry-after'] = String(secs)
    else if (o.retryAfter === 'date')
      headers['retry-after'] = new Date(Math.ceil((now + secs * 1000) / 1000) * 1000).toUTCString()
    // Jira's X-RateLimit-Reset has minute precision (yyyy-MM-ddTHH:mmZ); round up so it is never early.
    const reset = new Date(Math.ceil((now + secs * 1000) / 60_000) * 60_000)
    headers['x-ratelimit-reset'] = `${reset.toISOString().slice(0, 16)}Z`
    headers['x-ratelimit-limit'] = '100'
    headers['x-ratelimit-remaining'] = '0'
    headers['x-ratelimit-nearlimit'] = 'true'
    if (ctx.realm.endsWith('-dc')) {
      // DC's admin-enabled rate limiting (doc §h) uses a token bucket and its own headers.
      headers['x-ratelimit-interval-seconds'] = '1'
      headers['x-ratelimit-fillrate'] = '10'
    } else if (ctx.family === 'jira') headers['ratelimit-reason'] = 'jira-burst-based'
    const status = o.status ?? 429
    this.sendJson(
      ctx,
      status,
      errorBody(
        ctx.family,
        status,
        status === 429 ? 'Rate limit exceeded.' : 'Service Unavailable',
        ctx.url.pathname,
        ctx.requestId,
      ),
      headers,
    )
  }

  private sendServerError(ctx: Ctx, rule: FaultRule): void {
    const o = rule.options as ServerErrorFault
    const statuses = [500, 502, 503, 504] as const
    const status = o.status === 'random' ? statuses[Math.floor(rule.rng.next() * 4)] : (o.status ?? 500)
    const { contentType, body } = serverErrorResponse(ctx.family, status, ctx.url.pathname, ctx.requestId)
    const headers: Record<string, string> = { 'content-type': contentType }
    if (status === 503) headers['retry-after'] = '1'
    this.send(ctx, status, headers, body)
  }

  // ------------------------------------------------------------------------------------- simple routes

  private tenantInfo(ctx: Ctx): void {
    this.sendJson(ctx, 200, { cloudId: CLOUD_ID, baseUrl: ctx.siteBase })
  }

  private cookieAttrs(path: string): string {
    const same = this.opts.cookieSameSite ?? 'Lax'
    return `Path=${path}; HttpOnly${same === 'omit' ? '' : `; SameSite=${same}`}`
  }

  private async login(ctx: Ctx, realm: Realm): Promise<void> {
    const method = ctx.req.method ?? 'GET'
    const sitePath = new URL(ctx.siteBase).pathname
    let user = ctx.q.get('user')
    let cont = ctx.q.get('continue') ?? ctx.q.get('os_destination')
    if (method === 'POST') {
      const form = new URLSearchParams(await readBody(ctx.req))
      user = form.get('user') ?? (form.get('username')?.startsWith('viewer') ? 'viewer' : 'admin')
      cont = form.get('continue') ?? form.get('os_destination') ?? cont
    }
    if (user !== 'admin' && user !== 'viewer') {
      this.sendHtml(
        ctx,
        200,
        loginPage({ title: 'Log in', action: `${sitePath}/login`, continueTo: cont ?? undefined, product: realm }),
      )
      return
    }
    const token =
      realm === 'cloud'
        ? `eyJraWQiOiJzZXNzaW9uLXNlcnZpY2UiLCJhbGciOiJSUzI1NiJ9.${this.sessionRng.token(64)}`
        : this.sessionRng.hex(32).toUpperCase()
    this.sessions.set(token, { user, realm, epoch: this.faults.sessionEpoch })
    const cookies =
      realm === 'cloud'
        ? [
            `tenant.session.token=${token}; ${this.cookieAttrs(sitePath)}`,
            `atlassian.xsrf.token=${this.sessionRng.hex(40)}_lin; Path=${sitePath}`,
          ]
        : [`${sessionCookie(realm)}=${token}; ${this.cookieAttrs(sitePath)}`]
    const target = cont && isSafeContinue(cont, ctx.siteBase, sitePath) ? cont : `${sitePath}/`
    ctx.entry.user = user
    this.send(ctx, 302, { location: target, 'set-cookie': cookies, 'content-length': '0' }, '')
  }

  private logout(ctx: Ctx, cookies: Record<string, string>, realm: Realm): void {
    const sitePath = new URL(ctx.siteBase).pathname
    const name = sessionCookie(realm)
    if (cookies[name]) this.sessions.delete(cookies[name])
    this.send(
      ctx,
      302,
      { location: `${sitePath}/login`, 'set-cookie': `${name}=; Path=${sitePath}; Max-Age=0`, 'content-length': '0' },
      '',
    )
  }

  private page(ctx: Ctx, cookies: Record<string, string>, title: string): void {
    const name = sessionCookie(ctx.realm)
    const s = cookies[name] ? this.validSession(cookies[name], ctx.realm) : undefined
    this.sendHtml(
      ctx,
      ctx.url.pathname.endsWith('/') || !ctx.url.pathname.includes('.') ? 200 : 404,
      sitePage({ title, user: s?.user, loginUrl: `${new URL(ctx.siteBase).pathname}/login` }),
    )
  }

  private myself(
    ctx: Ctx,
    cookies: Record<string, string>,
    kind: 'confluence' | 'jira' | 'jira-permissions' | 'bitbucket',
  ): void {
    const a = this.authenticate(ctx, cookies)
    ctx.entry.credential = a.credential
    // Confluence answers an anonymous caller with an "anonymous" user rather than 401 (doc §g.4).
    if (
      a.failure &&
      kind === 'confluence' &&
      (a.failure === 'missing' || a.failure === 'expired-session') &&
      ctx.realm !== 'gateway-ex'
    ) {
      this.sendJson(ctx, 200, { type: 'anonymous', displayName: 'Anonymous', profilePicture: null, _links: {} })
      return
    }
    if (a.failure) {
      this.sendAuthFailure(ctx, a.failure)
      return
    }
    const admin = a.user === 'admin'
    const c = this.credentials
    const email = admin ? c.email : c.viewerEmail
    const name = admin ? 'Alana Admin' : 'Victor Viewer'
    const accountId = admin ? '5b10ac8d82e05b22cc7d4ef5' : '712020:0d7c9a5e-8d2e-4a3f-9b61-2f0f4a1c7e11'
    ctx.entry.user = a.user
    if (kind === 'jira-permissions') {
      this.sendJson(ctx, 200, {
        permissions: {
          ADMINISTER: { id: '0', key: 'ADMINISTER', name: 'Administer Jira', type: 'GLOBAL', havePermission: admin },
        },
      })
      return
    }
    if (kind === 'bitbucket') {
      this.send(
        ctx,
        200,
        { 'content-type': 'text/plain;charset=UTF-8', 'x-ausername': admin ? c.dcUsername : c.viewerUsername },
        admin ? c.dcUsername : c.viewerUsername,
      )
      return
    }
    if (kind === 'confluence') {
      this.sendJson(ctx, 200, {
        type: 'known',
        accountId,
        accountType: 'atlassian',
        email,
        publicName: name,
        displayName: name,
        username: ctx.realm.endsWith('-dc') ? (admin ? c.dcUsername : c.viewerUsername) : undefined,
        isExternalCollaborator: false,
        _links: { base: `${ctx.siteBase}${ctx.realm === 'cloud' ? '/wiki' : ''}` },
      })
      return
    }
    const dc = ctx.realm.endsWith('-dc')
    this.sendJson(
      ctx,
      200,
      dc
        ? {
            self: `${ctx.siteBase}/rest/api/2/user?username=${admin ? c.dcUsername : c.viewerUsername}`,
            key: admin ? 'JIRAUSER10000' : 'JIRAUSER10001',
            name: admin ? c.dcUsername : c.viewerUsername,
            emailAddress: email,
            displayName: name,
            active: true,
            timeZone: 'Australia/Sydney',
          }
        : {
            self: `${ctx.siteBase}/rest/api/3/user?accountId=${accountId}`,
            accountId,
            accountType: 'atlassian',
            emailAddress: email,
            displayName: name,
            active: true,
            timeZone: 'Australia/Sydney',
            locale: 'en_US',
          },
      dc ? { 'x-ausername': admin ? c.dcUsername : c.viewerUsername, 'x-seraph-loginreason': 'OK' } : {},
    )
  }

  // -------------------------------------------------------------------------------------- audit routes

  /** Common gate of every audit API: auth, admin, plan. Returns false when it already answered. */
  private gate(ctx: Ctx, cookies: Record<string, string>, store: StoreKey): boolean {
    const user = this.requireUser(ctx, cookies)
    if (!user) return false
    return this.planAndAdmin(ctx, user, store)
  }

  private planAndAdmin(ctx: Ctx, user: User, store: StoreKey): boolean {
    if (this.faults.noAuditPlan.has(store)) {
      ctx.entry.faults.push('noAuditPlan')
      if (store === 'jira-cloud')
        this.sendJson(ctx, 403, errorBody('jira', 403, MSG.jiraFree, ctx.url.pathname, ctx.requestId))
      else if (store === 'confluence-cloud')
        this.sendJson(ctx, 403, errorBody('confluence', 403, MSG.confluenceFree, ctx.url.pathname, ctx.requestId))
      else if (store === 'org')
        this.sendJson(ctx, 403, errorBody('admin', 403, MSG.orgNoGuard, ctx.url.pathname, ctx.requestId))
      else if (ctx.entry.api === 'confluence-dc-legacy')
        this.sendJson(ctx, 404, errorBody('confluence', 404, 'Not Found', ctx.url.pathname, ctx.requestId))
      // DC without the auditing plugin (Jira < 8.8, Confluence < 7.5, Bitbucket < 7.0): the servlet's HTML 404.
      else
        this.sendHtml(
          ctx,
          404,
          '<!doctype html><html lang="en"><head><title>HTTP Status 404 – Not Found</title></head><body><h1>HTTP Status 404 – Not Found</h1></body></html>',
        )
      return false
    }
    if (user === 'viewer') {
      if (ctx.realm.endsWith('-dc') && ctx.entry.api !== 'confluence-dc-legacy' && this.opts.dcNonAdmin === 'empty')
        return true
      const msg =
        ctx.family === 'jira'
          ? MSG.jiraNotAdmin
          : ctx.family === 'confluence'
            ? MSG.confluenceNotAdmin
            : ctx.family === 'bitbucket'
              ? MSG.bitbucketNotAdmin
              : MSG.adminNoPermission
      this.sendJson(ctx, 403, errorBody(ctx.family, 403, msg, ctx.url.pathname, ctx.requestId))
      return false
    }
    return true
  }

  /** insertWhilePaging: add records to the store being paged, between page requests. */
  private maybeInsert(ctx: Ctx, store: StoreKey, continuation: boolean, windowTop: number | undefined): void {
    const rule = this.faults.pick(
      'insertWhilePaging',
      ctx.facts,
      (r) => continuation || (r.options as InsertWhilePagingFault).onFirstPage === true,
    )
    if (!rule) return
    const o = rule.options as InsertWhilePagingFault
    const now = this.now()
    const at = typeof o.at === 'number' ? o.at : o.at === 'now' ? now : Math.min(now, windowTop ?? now)
    const n = o.records ?? 5
    ctx.entry.faults.push(`insert:${n}`)
    const late = o.lateByMs ?? 0
    const base = o.sameMillisecond ? at : undefined
    const recs = this.generate(store, n, { sameMillisecond: o.sameMillisecond, at })
    for (const r of recs) {
      let raw = r
      if (base === undefined && late > 0)
        raw = withTime(store, r, at - rule.rng.int(0, late), store === 'org' ? 500 : 0)
      this.insertOne(store, raw)
    }
  }

  private confluenceAudit(ctx: Ctx, cookies: Record<string, string>, since: boolean): void {
    const legacy = ctx.entry.api === 'confluence-dc-legacy'
    const storeKey: StoreKey = legacy ? 'confluence-dc' : 'confluence-cloud'
    if (!this.gate(ctx, cookies, storeKey)) return
    const q = ctx.q
    const start = intParam(q, 'start', 0, 0)
    const maxLimit = legacy ? 1000 : (this.opts.confluenceCloudMaxLimit ?? 1000)
    const limit = Math.min(intParam(q, 'limit', 1000, 0), maxLimit)
    let from: number | undefined
    let to: number | undefined
    if (since) {
      const number = intParam(q, 'number', 3, 0)
      const units = (q.get('units') ?? 'MONTHS').toUpperCase()
      const now = this.now()
      from = subtractUnits(now, number, units)
      to = now
    } else {
      from = confluenceDate(q.get('startDate'), legacy, this.zoneOffset)
      to = confluenceDate(q.get('endDate'), legacy, this.zoneOffset)
    }
    this.maybeInsert(ctx, storeKey, start > 0, to)
    const store = this.stores[storeKey]
    const lo = from === undefined ? 0 : store.indexAtOrAfter(from)
    const hi = to === undefined ? store.size : store.indexAfterMs(to)
    const search = q.get('searchString')?.toLowerCase()
    const page = search
      ? scanNewestFirst(store, lo, hi, start, limit, (s) =>
          confluenceMatches(legacy ? this.legacyRecord(s) : s.raw, search),
        )
      : store.newestFirst(lo, hi, start, limit)
    const results = legacy ? page.map((s) => this.legacyRecord(s)) : page.map((s) => s.raw)
    const wikiBase = legacy ? ctx.siteBase : `${ctx.siteBase}/wiki`
    this.sendPage(
      ctx,
      {
        results,
        start,
        limit,
        size: results.length,
        _links: {
          base: wikiBase,
          context: legacy ? new URL(ctx.siteBase).pathname : '/wiki',
          self: `${wikiBase}/rest/api/audit${since ? '/since' : ''}`,
        },
      },
      page,
    )
  }

  private get zoneOffset(): number {
    return this.opts.siteUtcOffsetMinutes ?? 600
  }

  /** Confluence DC legacy `/rest/api/audit` view of a unified-API entity (Cloud's AuditRecord shape). */
  legacyRecord(s: Stored): Raw {
    let r = this.legacyCache.get(s)
    if (r) return r
    const e = s.raw
    const author = (e.author ?? {}) as Raw
    const type = (e.type ?? {}) as Raw
    const affected = Array.isArray(e.affectedObjects) ? (e.affectedObjects as Raw[]) : []
    const changed = Array.isArray(e.changedValues) ? (e.changedValues as Raw[]) : []
    r = {
      author: {
        type: author.id === '-2' ? 'anonymous' : 'known',
        displayName: author.name ?? '',
        operations: null,
        username: author.name ?? '',
        userKey: author.id ?? '',
      },
      remoteAddress: typeof e.source === 'string' ? e.source : '',
      creationDate: s.ts,
      summary: type.action ?? '',
      description: '',
      category: type.category ?? '',
      sysAdmin: false,
      affectedObject: affected[0]
        ? { name: affected[0].name ?? '', objectType: affected[0].type ?? '' }
        : { name: '', objectType: '' },
      changedValues: changed.map((c) => ({ name: c.key ?? '', oldValue: c.from ?? '', newValue: c.to ?? '' })),
      associatedObjects: affected.slice(1).map((a) => ({ name: a.name ?? '', objectType: a.type ?? '' })),
    }
    this.legacyCache.set(s, r)
    return r
  }

  private jiraAudit(ctx: Ctx, cookies: Record<string, string>): void {
    if (!this.gate(ctx, cookies, 'jira-cloud')) return
    const q = ctx.q
    const offset = intParam(q, 'offset', 0, 0)
    let limit = intParam(q, 'limit', 1000, Number.NEGATIVE_INFINITY)
    // Values <= 0 or > 1000 are reset to 1000 (doc §c, per a typed client's doc comment).
    if (limit <= 0 || limit > 1000) limit = 1000
    const from = jiraDate(q.get('from'), this.zoneOffset, 'from')
    const to = jiraDate(q.get('to'), this.zoneOffset, 'to')
    this.maybeInsert(ctx, 'jira-cloud', offset > 0, to)
    const store = this.stores['jira-cloud']
    let page: Stored[] = []
    if (from === undefined || to === undefined || from <= to) {
      const lo = from === undefined ? 0 : store.indexAtOrAfter(from)
      const hi = to === undefined ? store.size : store.indexAfterMs(to)
      const filter = q.get('filter')?.toLowerCase().split(/\s+/).filter(Boolean)
      page = filter?.length
        ? scanNewestFirst(store, lo, hi, offset, limit, (s) => jiraMatches(s.raw, filter))
        : store.newestFirst(lo, hi, offset, limit)
    }
    // `total` counts every stored record whatever the window or filter (jira.js observed it unfiltered), so it
    // is more than a windowed client can reach and must not be a stop condition.
    this.sendPage(ctx, { offset, limit, total: store.size, records: page.map((s) => s.raw) }, page)
  }

  private dcEvents(
    ctx: Ctx,
    cookies: Record<string, string>,
    site: 'confluence-dc' | 'jira-dc' | 'bitbucket-dc',
  ): void {
    if (!this.gate(ctx, cookies, site)) return
    const q = ctx.q
    const limitRaw = intParam(q, 'limit', 200, Number.NEGATIVE_INFINITY)
    if (limitRaw < 1) throw new HttpError(400, 'limit must be greater than or equal to 1')
    const limit = Math.min(limitRaw, DC_MAX_LIMIT[site])
    const offset = intParam(q, 'offset', 0, 0)
    const from = dcDate(q.get('from'), this.zoneOffset, 'from')
    const to = dcDate(q.get('to'), this.zoneOffset, 'to')
    const cursorRaw = q.get('pageCursor')
    let cursor: { ts: number; id: number } | undefined
    if (cursorRaw) {
      const m = cursorRaw.match(/^(\d+),(\d+)$/)
      if (!m) throw new HttpError(400, `Invalid page cursor: ${cursorRaw}`)
      cursor = { ts: Number(m[1]), id: Number(m[2]) }
    }
    this.maybeInsert(ctx, site, cursor !== undefined || offset > 0, to === undefined ? undefined : to - 1)
    const store = this.stores[site]
    if (ctx.entry.user === 'viewer') {
      // dcNonAdmin: 'empty' — a non-admin sees only what it administers: here, nothing.
      this.sendPage(ctx, { entities: [], pagingInfo: { lastPage: true, size: 0 } }, [])
      return
    }
    // [from, to): `to` is exclusive (UNCONFIRMED in the doc; the harder choice for "+1 ms" clients).
    const lo = from === undefined ? 0 : store.indexAtOrAfter(from)
    let hi = to === undefined ? store.size : store.indexAtOrAfter(to)
    if (cursor) hi = Math.min(hi, store.indexAtOrAfter(cursor.ts, cursor.id))
    const filters = dcFilters(q)
    const page = filters
      ? scanNewestFirst(store, lo, hi, offset, limit, filters)
      : store.newestFirst(lo, hi, offset, limit)
    const entities = page.map((s) => s.raw)
    // lastPage only when the page is not full: a full final page is followed by an empty one.
    const last = page.length < limit
    let pagingInfo: Raw
    if (last) pagingInfo = { lastPage: true, size: entities.length }
    else {
      const tail = page[page.length - 1]
      const next = `${tail.ts},${tail.tie}`
      const linkBase = `http://${this.opts.dcLinkHost ?? 'localhost'}:${this.port}/${DC_CONTEXT[site]}`
      pagingInfo = {
        lastPage: false,
        nextPageOffset: 0,
        nextPageCursor: next,
        nextPageLink: `${linkBase}/rest/auditing/1.0/events?offset=0&limit=${limit}&pageCursor=${next}`,
        size: entities.length,
      }
    }
    this.sendPage(ctx, { entities, pagingInfo }, page)
  }

  private orgAuth(ctx: Ctx, cookies: Record<string, string>, orgId: string | undefined): boolean {
    const user = this.requireUser(ctx, cookies)
    if (!user) return false
    if (orgId !== undefined && orgId !== ORG_ID) {
      this.sendJson(ctx, 403, errorBody('admin', 403, MSG.adminNoPermission, ctx.url.pathname, ctx.requestId))
      return false
    }
    return true
  }

  private orgList(ctx: Ctx, cookies: Record<string, string>): void {
    if (!this.orgAuth(ctx, cookies, undefined)) return
    const gw = `${this.url}/gateway`
    this.sendJson(ctx, 200, {
      data: [
        {
          id: ORG_ID,
          type: 'orgs',
          attributes: { name: 'Example Org' },
          relationships: {
            domains: { links: { related: `${gw}/admin/v1/orgs/${ORG_ID}/domains` } },
            users: { links: { related: `${gw}/admin/v1/orgs/${ORG_ID}/users` } },
          },
          links: { self: `${gw}/admin/v1/orgs/${ORG_ID}` },
        },
      ],
      links: { self: `${gw}/admin/v1/orgs`, prev: null, next: null },
    })
  }

  private orgEvent(ctx: Ctx, cookies: Record<string, string>, orgId: string, eventId: string): void {
    if (!this.orgAuth(ctx, cookies, orgId)) return
    const s = this.orgById.get(eventId)
    if (!s) throw new HttpError(404, 'Event not found')
    this.sendJson(ctx, 200, { data: s.raw })
  }

  /** Sliding one-minute window per API key and path (doc §f.2: 10 requests/min). */
  private orgRateLimited(ctx: Ctx): boolean {
    const per = this.faults.orgEventsPerMinute
    if (per <= 0) return false
    const now = this.now()
    const key = ctx.url.pathname
    const window = (this.orgRateWindow.get(key) ?? []).filter((t) => t > now - 60_000)
    this.orgRateWindow.set(key, window)
    if (window.length >= per) {
      const resetAt = window[0] + 60_000
      this.sendJson(ctx, 429, errorBody('admin', 429, 'Rate limit exceeded', ctx.url.pathname, ctx.requestId), {
        'retry-after': String(Math.max(1, Math.ceil((resetAt - now) / 1000))),
        'x-ratelimit-limit': String(per),
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': new Date(resetAt).toISOString(),
      })
      ctx.entry.faults.push('orgRateLimit')
      return true
    }
    window.push(now)
    ctx.res.setHeader('x-ratelimit-limit', String(per))
    ctx.res.setHeader('x-ratelimit-remaining', String(per - window.length))
    ctx.res.setHeader('x-ratelimit-reset', new Date((window[0] ?? now) + 60_000).toISOString())
    return false
  }

  private orgEvents(ctx: Ctx, cookies: Record<string, string>, orgId: string, stream: boolean): void {
    if (!this.orgAuth(ctx, cookies, orgId)) return
    if (!stream && this.orgRateLimited(ctx)) return
    if (!this.planAndAdmin(ctx, 'admin', 'org')) return
    const q = ctx.q
    const store = this.stores.org
    const gw = `${this.url}/gateway/admin/v1/orgs/${ORG_ID}/${stream ? 'events-stream' : 'events'}`
    const maxLimit = stream ? 500 : 1000
    const limitRaw = intParam(q, 'limit', stream ? 200 : 100, Number.NEGATIVE_INFINITY)
    if (limitRaw < 1) throw new HttpError(400, 'limit must be a positive integer')
    const limit = Math.min(limitRaw, maxLimit)
    const cursorRaw = q.get('cursor')
    let c: OrgCursor
    if (cursorRaw) {
      const decoded = decodeCursor(cursorRaw)
      if (!decoded || decoded.k !== (stream ? 's' : 'e')) throw new HttpError(400, 'Invalid cursor')
      c = decoded
    } else {
      const order = (q.get('sortOrder') ?? 'asc').toLowerCase()
      if (stream && order !== 'asc' && order !== 'desc') throw new HttpError(400, 'sortOrder must be asc or desc')
      c = {
        k: stream ? 's' : 'e',
        o: stream ? (order as 'asc' | 'desc') : 'desc',
        f: epochParam(q, 'from'),
        t: epochParam(q, 'to'),
        action: q.get('action') ?? undefined,
      }
    }
    this.maybeInsert(ctx, 'org', cursorRaw !== null, c.t === undefined ? undefined : c.t - 1)
    const inWindow = (s: Stored) =>
      (c.f === undefined || s.ts >= c.f) &&
      (c.t === undefined || s.ts < c.t) &&
      (!c.action || (s.raw.attributes as Raw).action === c.action)
    const page: Stored[] = []
    let lastPos: { p: number; tie: number } | undefined = c.p === undefined ? undefined : { p: c.p, tie: c.tie ?? 0 }
    if (!stream) {
      // /events: newest-first by event time (UNCONFIRMED in the doc; the admin UI's order).
      const lo = c.f === undefined ? 0 : store.indexAtOrAfter(c.f)
      let hi = c.t === undefined ? store.size : store.indexAtOrAfter(c.t)
      if (c.p !== undefined) hi = Math.min(hi, store.indexAtOrAfter(c.p, c.tie ?? 0))
      page.push(
        ...(c.action ? scanNewestFirst(store, lo, hi, 0, limit, inWindow) : store.newestFirst(lo, hi, 0, limit)),
      )
      const tail = page[page.length - 1]
      if (tail) lastPos = { p: tail.ts, tie: tail.tie }
    } else {
      // /events-stream: ordered by processedAt; from/to select event *time* (doc §f.3 does not say which;
      // event time is the harder choice: a client resuming from a processedAt high-water mark without its
      // cursor misses events processed late).
      const idx = store.byProcessed!
      const lag = store.processingLag
      const pOf = (s: Stored) => s.processedAt ?? s.ts
      if (c.o === 'asc') {
        let i =
          c.p !== undefined
            ? store.processedIndexAtOrAfter(c.p, (c.tie ?? 0) + 0.5)
            : c.f === undefined
              ? 0
              : store.processedIndexAtOrAfter(c.f + lag.min)
        for (; i < idx.length && page.length < limit; i++) {
          const s = idx[i]
          if (c.t !== undefined && pOf(s) - lag.max >= c.t) break
          lastPos = { p: pOf(s), tie: s.tie }
          if (inWindow(s)) page.push(s)
        }
      } else {
        let i = (c.p !== undefined ? store.processedIndexAtOrAfter(c.p, c.tie ?? 0) : idx.length) - 1
        for (; i >= 0 && page.length < limit; i--) {
          const s = idx[i]
          if (c.f !== undefined && pOf(s) - lag.min < c.f) break
          lastPos = { p: pOf(s), tie: s.tie }
          if (inWindow(s)) page.push(s)
        }
      }
    }
    const full = page.length === limit
    // events-stream: "a cursor is now returned on the last page" (doc §f.3); /events: only when a page is full.
    const next = stream || full ? encodeCursor({ ...c, p: lastPos?.p, tie: lastPos?.tie }) : undefined
    const self = `${gw}${ctx.url.search}`
    this.sendPage(
      ctx,
      {
        data: page.map((s) => s.raw),
        meta: next ? { next, page_size: limit } : { page_size: limit },
        links: next ? { self, prev: null, next: `${gw}?cursor=${encodeURIComponent(next)}` } : { self, prev: null },
      },
      page,
    )
  }
}

// ----------------------------------------------------------------------------------------------- helpers

interface OrgCursor {
  k: 'e' | 's'
  o: 'asc' | 'desc'
  f?: number
  t?: number
  p?: number
  tie?: number
  action?: string
}

function encodeCursor(c: OrgCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url')
}

function decodeCursor(s: string): OrgCursor | undefined {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as OrgCursor
    if (v && (v.k === 'e' || v.k === 's') && (v.o === 'asc' || v.o === 'desc')) return v
  } catch {
    // fall through
  }
  return undefined
}

function storeOfApi(api: ApiKey): StoreKey {
  switch (api) {
    case 'confluence-cloud':
    case 'confluence-cloud-since':
      return 'confluence-cloud'
    case 'jira-cloud':
      return 'jira-cloud'
    case 'confluence-dc':
    case 'confluence-dc-legacy':
      return 'confluence-dc'
    case 'jira-dc':
      return 'jira-dc'
    case 'bitbucket-dc':
      return 'bitbucket-dc'
    default:
      return 'org'
  }
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!header) return out
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i < 0) continue
    const name = part.slice(0, i).trim()
    if (name) out[name] = part.slice(i + 1).trim()
  }
  return out
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function isSafeContinue(target: string, siteBase: string, sitePath: string): boolean {
  return (
    target.startsWith(`${siteBase}/`) ||
    target === siteBase ||
    (target.startsWith(`${sitePath}/`) && !target.startsWith('//'))
  )
}

function intParam(q: URLSearchParams, name: string, dflt: number, min: number): number {
  const v = q.get(name)
  if (v === null || v === '') return dflt
  if (!/^-?\d+$/.test(v)) throw new HttpError(400, `Invalid value for parameter '${name}': ${v}`)
  const n = Number(v)
  return Math.max(n, min)
}

function epochParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)
  if (v === null || v === '') return undefined
  if (!/^\d+$/.test(v)) throw new HttpError(400, `'${name}' must be a UNIX epoch time in milliseconds`)
  return Number(v)
}

/** Confluence Cloud `startDate`/`endDate`: epoch ms only. The DC legacy endpoint also takes ISO-8601. */
/** The session cookie each product sets (§g.4): Bitbucket's is BITBUCKETSESSIONID, Jira's and Confluence's JSESSIONID. */
function sessionCookie(realm: Realm): string {
  if (realm === 'cloud') return 'tenant.session.token'
  return realm === 'bitbucket-dc' ? 'BITBUCKETSESSIONID' : 'JSESSIONID'
}

function confluenceDate(v: string | null, legacy: boolean, zone: number): number | undefined {
  if (v === null || v === '') return undefined
  if (/^\d+$/.test(v)) return Number(v)
  if (legacy) {
    const t = parseIsoDate(v, zone)
    if (t !== undefined) return t
  }
  throw new HttpError(400, `Unable to parse date '${v}': expected epoch time in milliseconds`)
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/

/** ISO-8601 with optional time and zone; a value without zone is read in the site's zone (`zone` minutes). */
function parseIsoDate(v: string, zone: number): number | undefined {
  const m = v.match(ISO)
  if (!m) return undefined
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', z] = m
  const ms = Number(frac.padEnd(3, '0').slice(0, 3))
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms)
  if (Number.isNaN(t)) return undefined
  let offset = zone
  if (z === 'Z') offset = 0
  else if (z) {
    const sign = z[0] === '-' ? -1 : 1
    const digits = z.slice(1).replace(':', '')
    offset = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)))
  }
  t -= offset * 60_000
  return t
}

/** Jira Cloud `from`/`to`: ISO-8601 string. An unencoded "+" arrives as a space and is rejected. */
function jiraDate(v: string | null, zone: number, name: string): number | undefined {
  if (v === null || v === '') return undefined
  const t = parseIsoDate(v, zone)
  if (t === undefined) throw new HttpError(400, `Invalid date format for '${name}': ${v}`)
  return t
}

function dcDate(v: string | null, zone: number, name: string): number | undefined {
  if (v === null || v === '') return undefined
  const t = parseIsoDate(v, zone)
  if (t === undefined)
    throw new HttpError(400, `Invalid '${name}' date: ${v}. Expected ISO-8601, e.g. 2020-12-30T13:53:17.996Z`)
  return t
}

function subtractUnits(now: number, n: number, units: string): number {
  const d = new Date(now)
  const fixed: Record<string, number> = {
    NANOS: 1e-6,
    MICROS: 1e-3,
    MILLIS: 1,
    SECONDS: 1000,
    MINUTES: 60_000,
    HOURS: 3_600_000,
    HALF_DAYS: 43_200_000,
    DAYS: 86_400_000,
    WEEKS: 7 * 86_400_000,
  }
  if (units in fixed) return now - Math.floor(n * fixed[units])
  const months: Record<string, number> = { MONTHS: 1, YEARS: 12, DECADES: 120, CENTURIES: 1200, MILLENNIA: 12000 }
  if (units in months) {
    d.setUTCMonth(d.getUTCMonth() - n * months[units])
    return d.getTime()
  }
  if (units === 'ERAS' || units === 'FOREVER') return Number.MIN_SAFE_INTEGER
  throw new HttpError(400, `Invalid units: ${units}`)
}

/** Newest-first over items[lo, hi) keeping records that match; O(skipped + page). */
function scanNewestFirst(
  store: SortedStore,
  lo: number,
  hi: number,
  skip: number,
  take: number,
  match: (s: Stored) => boolean,
): Stored[] {
  const out: Stored[] = []
  let skipped = 0
  for (let i = hi - 1; i >= lo && out.length < take; i--) {
    const s = store.items[i]
    if (!match(s)) continue
    if (skipped < skip) {
      skipped++
      continue
    }
    out.push(s)
  }
  return out
}

function confluenceMatches(r: Raw, term: string): boolean {
  const a = r.author as Raw | undefined
  const o = r.affectedObject as Raw | undefined
  return [r.summary, r.category, r.description, r.remoteAddress, a?.displayName, o?.name].some(
    (v) => typeof v === 'string' && v.toLowerCase().includes(term),
  )
}

/** Jira `filter`: every term must match one of the documented fields (doc §c). */
function jiraMatches(r: Raw, terms: string[]): boolean {
  const o = (r.objectItem ?? {}) as Raw
  const fields: unknown[] = [r.summary, r.category, r.eventSource, o.name, o.parentName, o.typeName, r.remoteAddress]
  for (const cv of (r.changedValues as Raw[] | undefined) ?? []) fields.push(cv.changedFrom, cv.changedTo)
  const texts = fields.filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase())
  return terms.every((t) => texts.some((v) => v.includes(t)))
}

function dcFilters(q: URLSearchParams): ((s: Stored) => boolean) | undefined {
  const list = (name: string) =>
    q
      .get(name)
      ?.split(',')
      .map((v) => v.trim())
      .filter(Boolean)
  const categories = list('categories')
  const actions = list('actions')
  const userIds = list('userIds')
  const search = q.get('search')?.toLowerCase()
  if (!categories?.length && !actions?.length && !userIds?.length && !search) return undefined
  return (s) => {
    const type = (s.raw.type ?? {}) as Raw
    const author = (s.raw.author ?? {}) as Raw
    if (
      categories?.length &&
      !categories.includes(String(type.category)) &&
      !categories.includes(String(type.categoryI18nKey))
    )
      return false
    if (actions?.length && !actions.includes(String(type.action)) && !actions.includes(String(type.actionI18nKey)))
      return false
    if (userIds?.length && !userIds.includes(String(author.id))) return false
    if (search && !JSON.stringify(s.raw).toLowerCase().includes(search)) return false
    return true
  }
}

// ------------------------------------------------------------------------------------------------- API

export async function startFakeAtlassian(opts: FakeAtlassianOptions = {}): Promise<FakeAtlassian> {
  const sim = new Simulator(opts)
  await sim.listen(opts.port ?? 0)
  const url = sim.url
  return {
    url,
    sites: {
      cloud: { baseUrl: `${url}/cloud` },
      'confluence-dc': { baseUrl: `${url}/confluence` },
      'jira-dc': { baseUrl: `${url}/jira` },
      'bitbucket-dc': { baseUrl: `${url}/bitbucket` },
      org: { baseUrl: `${url}/gateway` },
    },
    gatewayUrl: `${url}/gateway`,
    cloudId: CLOUD_ID,
    orgId: ORG_ID,
    credentials: sim.credentials,
    faults: sim.faults,
    insert: (site, records) => sim.insert(site, records),
    generate: (site, n, o) => sim.generate(site, n, o),
    insertSameMillisecond: (site, n, at) => {
      const recs = sim.generate(site, n, { sameMillisecond: true, at: at ?? sim.now() - 1000 })
      sim.insert(site === 'cloud' ? 'confluence-cloud' : site, recs)
      return recs
    },
    served: () => sim.served(),
    resetServed: () => sim.resetServed(),
    records: (site) => sim.records(site),
    requests: () => sim.requests(),
    clearRequests: () => sim.clearRequests(),
    close: () => sim.close(),
  }
}

export { formatJiraCreated }
export const FAKE_ATLASSIAN_IDS = { cloudId: CLOUD_ID, orgId: ORG_ID }
export const AUDIT_API_KEYS = AUDIT_APIS
