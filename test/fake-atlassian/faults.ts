// Run-time switchable faults. Each fault is a rule: which requests it targets, how often it fires
// (probability, from a PRNG seeded by the simulator's seed, and/or a count), and what it does.

import { Prng } from './prng'
import type { StoreKey } from './store'

/** Every route the simulator knows, by API. The first nine serve audit records. */
export type ApiKey =
  | 'confluence-cloud'
  | 'confluence-cloud-since'
  | 'jira-cloud'
  | 'confluence-dc'
  | 'confluence-dc-legacy'
  | 'jira-dc'
  | 'bitbucket-dc'
  | 'org-events'
  | 'org-events-stream'
  | 'org-list'
  | 'tenant-info'
  | 'myself'
  | 'login'
  | 'page'
  | 'unknown'

export const AUDIT_APIS: readonly ApiKey[] = [
  'confluence-cloud',
  'confluence-cloud-since',
  'jira-cloud',
  'confluence-dc',
  'confluence-dc-legacy',
  'jira-dc',
  'bitbucket-dc',
  'org-events',
  'org-events-stream',
]

/** Where a request arrived: a site prefix or the gateway. */
export type Via = 'cloud' | 'confluence-dc' | 'jira-dc' | 'bitbucket-dc' | 'gateway'

/** How an expired or invalid session is answered. 'auto' = 302 to the login page on Cloud, 401 on DC. */
export type ExpiredSessionMode = 'auto' | '401' | '302' | 'html'

export interface FaultTarget {
  /** APIs the fault applies to. Default: every audit-record API (AUDIT_APIS). */
  apis?: readonly ApiKey[]
  /** Restrict to records of these stores ('cloud' = both Cloud stores). */
  sites?: readonly (StoreKey | 'cloud')[]
  /** Restrict to requests that arrived through a site prefix or through the gateway. */
  via?: readonly Via[]
  /** Chance (0..1) that a matching request triggers the fault. Default 1. Drawn from the seeded PRNG. */
  probability?: number
  /** Fire at most this many times, then stay inert. Default: unlimited. */
  count?: number
  /** Let this many matching requests pass untouched before the fault may fire. Default 0. */
  after?: number
}

export interface RateLimitFault extends FaultTarget {
  /** How Retry-After is sent: delta seconds, an HTTP date, or not at all (only X-RateLimit-Reset). Default 'seconds'. */
  retryAfter?: 'seconds' | 'date' | 'none'
  /** Seconds to wait. Default 1. */
  retryAfterSeconds?: number
  /** 429 (default) or 503 (Jira also sends Retry-After on some 503s). */
  status?: 429 | 503
}

export interface ServerErrorFault extends FaultTarget {
  /** Default 500. 'random' picks one of 500/502/503/504 per request. */
  status?: 500 | 502 | 503 | 504 | 'random'
}

export interface SlowFault extends FaultTarget {
  delayMs: number
}

export interface ExpiredSessionFault extends FaultTarget {
  /** Default: the simulator's expired-session mode. */
  mode?: ExpiredSessionMode
}

export interface InsertWhilePagingFault extends FaultTarget {
  /** Records inserted each time the fault fires. Default 5. */
  records?: number
  /** All records of one firing share one millisecond. */
  sameMillisecond?: boolean
  /**
   * Event time of the inserted records. Default 'window-top': now, but never later than the upper bound the
   * request asked for, so the records land inside the client's pinned window and shift offset paging.
   * 'now' = the clock. A number = that epoch ms.
   */
  at?: 'window-top' | 'now' | number
  /** Spread inserted records up to this many ms before `at` (late arrivals). Default 0. */
  lateByMs?: number
  /** Also fire on first pages (no start/offset/cursor). Default false: only between page requests. */
  onFirstPage?: boolean
}

export interface TruncateFault extends FaultTarget {
  /**
   * 'destroy': Content-Length of the whole body, part of the body, then the connection is destroyed.
   * 'malformed': an honest Content-Length of a body cut short, so the response ends normally but is not JSON.
   * Default 'destroy'.
   */
  mode?: 'destroy' | 'malformed'
  /** Fraction of the body that is sent. Default 0.5. */
  keepFraction?: number
}

export type FaultKind = 'rateLimit' | 'serverError' | 'slow' | 'expiredSession' | 'insertWhilePaging' | 'truncate'

export interface FaultRule {
  id: number
  kind: FaultKind
  options: FaultTarget & Record<string, unknown>
  /** Matching requests seen. */
  seen: number
  /** Times the fault fired. */
  hits: number
  active: boolean
  rng: Prng
}

export interface FaultHandle {
  readonly id: number
  /** Times this fault has fired so far. */
  readonly hits: number
  /** Switch this fault off. */
  off(): void
}

export interface RequestFacts {
  api: ApiKey
  store?: StoreKey
  via: Via
}

export class FaultControl {
  private rules: FaultRule[] = []
  private nextId = 1
  private readonly seed: number
  /** Stores whose plan has no audit log (Free plan on Cloud, no auditing plugin on DC). */
  readonly noAuditPlan = new Set<StoreKey>()
  /** Bumped by expireSessions(); sessions created before are stale. */
  sessionEpoch = 0
  expiredSessionMode: ExpiredSessionMode = 'auto'
  /** Org `/events` requests allowed per minute per key and path (Atlassian: 10). 0 = unlimited. */
  orgEventsPerMinute = 10

  constructor(seed: number) {
    this.seed = seed
  }

  private add(kind: FaultKind, options: FaultTarget & object): FaultHandle {
    const rule: FaultRule = {
      id: this.nextId++,
      kind,
      options: options as FaultTarget & Record<string, unknown>,
      seen: 0,
      hits: 0,
      active: true,
      rng: new Prng(this.seed, 1000 + this.nextId),
    }
    this.rules.push(rule)
    return {
      id: rule.id,
      get hits() {
        return rule.hits
      },
      off: () => {
        rule.active = false
      },
    }
  }

  /** 429 (or 503) with Retry-After in seconds or date form, X-RateLimit-Reset and friends. */
  rateLimit(options: RateLimitFault = {}): FaultHandle {
    return this.add('rateLimit', options)
  }

  /** 5xx with the body a real server or its edge proxy sends. */
  serverError(options: ServerErrorFault = {}): FaultHandle {
    return this.add('serverError', options)
  }

  /** Delay the response (the delay is not counted in served().serveMs). */
  slow(options: SlowFault): FaultHandle {
    return this.add('slow', options)
  }

  /** Treat session-cookie requests as if the session had expired (login page, 401 or 302). */
  expiredSession(options: ExpiredSessionFault = {}): FaultHandle {
    return this.add('expiredSession', options)
  }

  /** Insert new records into the store being paged, just before a page is computed. */
  insertWhilePaging(options: InsertWhilePagingFault = {}): FaultHandle {
    return this.add('insertWhilePaging', options)
  }

  /** Cut the response body (connection destroyed mid-body, or a short body with an honest length). */
  truncate(options: TruncateFault = {}): FaultHandle {
    return this.add('truncate', options)
  }

  /**
   * Switch a site's plan: without audit log, the Cloud APIs answer 403 with the Free-plan message, DC answers
   * 404 for `/rest/auditing/1.0/events` (auditing plugin absent, as on versions before it), the org API 403.
   */
  setAuditPlan(site: StoreKey | 'cloud', hasAuditLog: boolean): void {
    const stores: StoreKey[] = site === 'cloud' ? ['confluence-cloud', 'jira-cloud'] : [site]
    for (const s of stores) {
      if (hasAuditLog) this.noAuditPlan.delete(s)
      else this.noAuditPlan.add(s)
    }
  }

  /** Same as setAuditPlan(site, !on): switch the "plan without audit log" on or off for a site. */
  noAuditLog(site: StoreKey | 'cloud', on = true): void {
    this.setAuditPlan(site, !on)
  }

  /** Invalidate every session issued so far (cookies become stale; clients must log in again). */
  expireSessions(): void {
    this.sessionEpoch++
  }

  setExpiredSessionMode(mode: ExpiredSessionMode): void {
    this.expiredSessionMode = mode
  }

  setOrgEventsRateLimit(perMinute: number): void {
    this.orgEventsPerMinute = perMinute
  }

  /** Remove every fault rule and plan switch; sessions stay as they are. */
  clear(): void {
    for (const r of this.rules) r.active = false
    this.rules = []
    this.noAuditPlan.clear()
  }

  /** Snapshot of the rules (for test diagnostics). */
  list(): Array<{ id: number; kind: FaultKind; seen: number; hits: number; active: boolean }> {
    return this.rules.map((r) => ({ id: r.id, kind: r.kind, seen: r.seen, hits: r.hits, active: r.active }))
  }

  /**
   * The first active rule of `kind` that fires for this request, or undefined. Each rule that matches
   * the target counts the request, whether it fires or not.
   */
  pick(kind: FaultKind, facts: RequestFacts, extra?: (rule: FaultRule) => boolean): FaultRule | undefined {
    for (const rule of this.rules) {
      if (!rule.active || rule.kind !== kind) continue
      if (!targets(rule.options, facts)) continue
      if (extra && !extra(rule)) continue
      rule.seen++
      if (rule.seen <= (rule.options.after ?? 0)) continue
      if (rule.options.count !== undefined && rule.hits >= rule.options.count) continue
      const p = rule.options.probability ?? 1
      if (p < 1 && !(rule.rng.next() < p)) continue
      rule.hits++
      return rule
    }
    return undefined
  }
}

function targets(t: FaultTarget, facts: RequestFacts): boolean {
  const apis = t.apis ?? AUDIT_APIS
  if (!apis.includes(facts.api)) return false
  if (t.via && !t.via.includes(facts.via)) return false
  if (t.sites) {
    if (!facts.store) return false
    const cloud = facts.store === 'confluence-cloud' || facts.store === 'jira-cloud'
    if (!t.sites.includes(facts.store) && !(cloud && t.sites.includes('cloud'))) return false
  }
  return true
}
