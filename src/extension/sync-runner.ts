// The background's work, apart from the listener wiring in background.ts (so unit tests drive it directly):
// scheduled and on-demand sync per site through the core engine into the archive, outbox delivery to
// collectors, retention, the badge, and the answers to the pages' messages.
//
// All state lives in storage.local (sites, settings, status) and IndexedDB (events, checkpoints, outbox):
// a service worker that is stopped mid-run loses only the run in flight, and the engine resumes it from the
// last committed page at the next alarm.

import browser from 'webextension-polyfill'
import type { FetchLike } from '../core/atlassian/client'
import { connect } from '../core/atlassian/connect'
import { AtlassianError, AuthConfigError } from '../core/atlassian/errors'
import { AUTH_MODES, type Credential, DEPLOYMENTS, PRODUCTS, type Site } from '../core/model'
import { createSink } from '../core/sinks'
import { CollectorError } from '../core/sinks/errors'
import { type DeliverReport, deliver } from '../core/sinks/outbox'
import type { CollectorConfig } from '../core/sinks/sink'
import { fetchAuditPage, type SyncProgress, syncStream } from '../core/sync/engine'
import type { Archive } from './db'
import type {
  CodedResult,
  CollectorStatusView,
  CollectorView,
  Envelope,
  Request,
  ResponseMap,
  ResultCode,
  RunResult,
  SiteDraft,
  SiteStatus,
  SiteView,
  StatusReport,
} from './messages'
import { isRequest } from './messages'
import * as config from './settings'
import { gatewayOf, originPattern, siteOrigins } from './site-origins'

export const SYNC_ALARM_PREFIX = 'sync:'
export const MAINTENANCE_ALARM = 'maintenance'
export const PUSH_ALARM = 'push'
const MAINTENANCE_PERIOD_MINUTES = 60

export interface BackgroundDeps {
  archive: Archive
  fetch: FetchLike
  now?: () => number
}

const ERROR_CODES: Record<string, ResultCode> = {
  'session-expired': 'session-expired',
  'invalid-credentials': 'bad-credentials',
  'not-admin': 'not-admin',
  'no-audit-log-plan': 'plan-without-audit',
  'scope-mismatch': 'scope-missing',
  'rate-limited': 'rate-limited',
  'site-unreachable': 'unreachable',
  'server-error': 'error',
  'malformed-response': 'bad-response',
  'endpoint-not-found': 'not-found',
  'http-error': 'error',
  'auth-config': 'invalid-config',
}

/** A failure as the UI shows it. Messages of typed errors are already redacted by the client. */
export function classify(error: unknown): CodedResult {
  if (error instanceof AtlassianError) return { code: ERROR_CODES[error.code] ?? 'error', message: error.message }
  if (error instanceof CollectorError) return { code: 'invalid-config', message: error.message }
  if (error instanceof TypeError && /URL/i.test(error.message)) {
    return { code: 'invalid-config', message: 'The site URL is not a valid URL.' }
  }
  const name = error instanceof Error ? error.name : ''
  if (name === 'AbortError' || name === 'TimeoutError')
    return { code: 'unreachable', message: 'The request timed out.' }
  // Unknown errors may quote a request; keep only their kind, never their text.
  console.error('atlassian-audit: unexpected failure', name || 'unknown error')
  return { code: 'error', message: `Unexpected failure (${name || 'unknown error'}). See the extension's console.` }
}

function normalizeUrl(url: string): string {
  const u = new URL(url.trim())
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString()
}

export class Background {
  private readonly archive: Archive
  private readonly fetch: FetchLike
  private readonly now: () => number
  private readonly runs = new Map<string, Promise<RunResult>>()
  private readonly pushes = new Map<string, Promise<DeliverReport>>()
  private retention?: Promise<number>

  constructor(deps: BackgroundDeps) {
    this.archive = deps.archive
    this.fetch = deps.fetch
    this.now = deps.now ?? Date.now
  }

  /** At every service-worker start: forget runs that a stopped worker left "running", re-create alarms, badge. */
  async start(): Promise<void> {
    const statuses = await config.getStatuses()
    for (const [id, s] of Object.entries(statuses)) {
      if (s.running) await config.patchStatus(id, { running: undefined, progress: undefined })
    }
    await this.ensureAlarms()
    await this.updateBadge()
    // A backlog left by a stopped worker, a browser restart or an update (which clears alarms) is not left to
    // wait for the next new event: deliver what is due now (entries backing off keep their time).
    void this.pushAll(false)
  }

  /** One periodic alarm per site (interval from the settings), plus maintenance; stale ones are removed. */
  async ensureAlarms(): Promise<void> {
    const [sites, settings, alarms] = await Promise.all([
      config.getSites(),
      config.getSettings(),
      browser.alarms.getAll(),
    ])
    const existing = new Map(alarms.map((a) => [a.name, a]))
    for (const site of sites) {
      const name = SYNC_ALARM_PREFIX + site.id
      const alarm = existing.get(name)
      if (!alarm || alarm.periodInMinutes !== settings.syncIntervalMinutes) {
        await browser.alarms.create(name, {
          periodInMinutes: settings.syncIntervalMinutes,
          delayInMinutes: alarm ? settings.syncIntervalMinutes : 0.1,
        })
      }
      existing.delete(name)
    }
    for (const name of existing.keys()) {
      if (name.startsWith(SYNC_ALARM_PREFIX)) await browser.alarms.clear(name)
    }
    if (!(await browser.alarms.get(MAINTENANCE_ALARM))) {
      await browser.alarms.create(MAINTENANCE_ALARM, { periodInMinutes: MAINTENANCE_PERIOD_MINUTES })
    }
  }

  async onAlarm(name: string): Promise<void> {
    if (name.startsWith(SYNC_ALARM_PREFIX)) {
      await this.runSite(name.slice(SYNC_ALARM_PREFIX.length))
    } else if (name === MAINTENANCE_ALARM) {
      await this.enforceRetention()
    } else if (name === PUSH_ALARM) {
      await this.pushAll(false)
    }
  }

  // ------------------------------------------------------------------------------------------ sync

  /** Runs one site's sync (or joins the run in progress). Never throws: the result is the status. */
  runSite(siteId: string): Promise<RunResult> {
    const running = this.runs.get(siteId)
    if (running) return running
    const run = this.doRun(siteId).finally(() => this.runs.delete(siteId))
    this.runs.set(siteId, run)
    return run
  }

  private async doRun(siteId: string): Promise<RunResult> {
    const site = await config.getSite(siteId)
    if (!site)
      return {
        code: 'invalid-config',
        message: 'This site is not configured any more.',
        at: iso(this.now())!,
        added: 0,
      }
    const startedAt = this.now()
    let added = 0
    let result: RunResult
    const origins = siteOrigins(site)
    if (!(await browser.permissions.contains({ origins }))) {
      result = {
        code: 'permission-missing',
        message: `The extension may not access ${origins.join(' and ')}. Open the options page and grant access to the site.`,
        at: iso(this.now())!,
        added: 0,
      }
      await config.patchStatus(siteId, { lastRunAt: iso(startedAt), lastResult: result })
      return result
    }
    await config.patchStatus(siteId, {
      running: true,
      lastRunAt: iso(startedAt),
      progress: { phase: 'connecting', pages: 0, records: 0 },
    })
    try {
      const [settings, secret] = await Promise.all([config.getSettings(), config.getSiteSecret(siteId)])
      const target = await connect(site, this.credentialOf(site, secret), {
        fetch: this.fetch,
        gatewayUrl: gatewayOf(site),
      })
      const collectors = await config.getCollectors()
      const store = this.archive.storeFor(site, () => collectors, this.now)
      let lastWrite = 0
      const res = await syncStream(target, store, {
        lookbackMs: settings.lookbackDays * 86_400_000,
        overlapMs: settings.overlapMinutes * 60_000,
        now: this.now,
        onProgress: (p: SyncProgress) => {
          added = p.stored
          // storage writes are throttled; they also keep the service worker alive during long runs
          if (this.now() - lastWrite < 500 && p.phase !== 'done') return
          lastWrite = this.now()
          void config.patchStatus(siteId, {
            progress: { phase: p.phase, pages: p.pages, records: p.records, fraction: p.fraction },
          })
        },
      })
      added = res.stored
      result = {
        code: 'ok',
        message: `${res.stored} new event${res.stored === 1 ? '' : 's'} (${res.fetched} fetched).`,
        at: iso(this.now())!,
        added,
      }
    } catch (e) {
      result = { ...classify(e), at: iso(this.now())!, added }
    }
    await config.patchStatus(siteId, {
      running: undefined,
      progress: undefined,
      lastResult: result,
      ...(result.code === 'ok' ? { lastSuccessAt: result.at } : {}),
    })
    await this.updateBadge()
    if (added > 0) await this.enforceRetention()
    // after every sync, also one without new events: a backlog waiting for a collector goes out in the background
    void this.pushAll(false)
    return result
  }

  private credentialOf(site: Site, secret: string | undefined): Credential {
    return { mode: site.auth, email: site.email, secret }
  }

  /** Starts runs (all sites, or one) without waiting for them; the popup follows them with getStatus. */
  async syncNow(siteId?: string): Promise<string[]> {
    const ids = siteId ? [siteId] : (await config.getSites()).map((s) => s.id)
    for (const id of ids) void this.runSite(id)
    return ids
  }

  async enforceRetention(): Promise<number> {
    if (this.retention) return this.retention
    const run = (async () => {
      const s = await config.getSettings()
      if (!s.retentionDays && !s.maxEvents) return 0
      const deleted = await this.archive.enforceRetention(
        { retentionDays: s.retentionDays, maxEvents: s.maxEvents },
        this.now(),
      )
      // more than one bounded pass was needed: continue soon in a new call instead of holding the worker
      if (deleted >= 200 * 500)
        await browser.alarms.create(MAINTENANCE_ALARM, {
          delayInMinutes: 1,
          periodInMinutes: MAINTENANCE_PERIOD_MINUTES,
        })
      return deleted
    })().finally(() => {
      this.retention = undefined
    })
    this.retention = run
    return run
  }

  // ------------------------------------------------------------------------------------------ badge

  async updateBadge(): Promise<void> {
    const unseen = await this.archive.unseen()
    const text = unseen === 0 ? '' : unseen > 9999 ? `${Math.floor(unseen / 1000)}k` : String(unseen)
    await browser.action.setBadgeText({ text })
    if (unseen) await browser.action.setBadgeBackgroundColor({ color: '#0052CC' }).catch(() => undefined)
  }

  // ------------------------------------------------------------------------------------------ collectors

  /** Delivers the due outbox entries of every enabled collector (or one); reschedules itself when backing off. */
  async pushAll(force: boolean, collectorId?: string): Promise<string[]> {
    const collectors = (await config.getCollectors()).filter(
      (c) => c.enabled !== false && (!collectorId || c.id === collectorId),
    )
    if (collectors.length === 0) return []
    // Armed before delivering: a worker stopped in the middle still wakes up to finish.
    const armedNow = !(await browser.alarms.get(PUSH_ALARM))
    if (armedNow) await browser.alarms.create(PUSH_ALARM, { delayInMinutes: 5 })
    const reports = await Promise.all(collectors.map((c) => this.pushOne(c, force)))
    const next = reports
      .map((r) => r.nextAttemptAt)
      .filter((t): t is number => t !== undefined)
      .sort((a, b) => a - b)[0]
    if (next !== undefined) {
      const when = Math.max(next, this.now() + 30_000)
      // one collector's push never postpones the others' (the alarm is shared): only ever brought forward
      const current = await browser.alarms.get(PUSH_ALARM)
      if (!collectorId || !current || armedNow || current.scheduledTime > when)
        await browser.alarms.create(PUSH_ALARM, { when })
    } else if (!collectorId) await browser.alarms.clear(PUSH_ALARM)
    return collectors.map((c) => c.id)
  }

  private pushOne(collector: CollectorConfig, force: boolean): Promise<DeliverReport> {
    const running = this.pushes.get(collector.id)
    if (running) return running
    const run = (async (): Promise<DeliverReport> => {
      const origins = [originPattern(collector.url)]
      if (!(await browser.permissions.contains({ origins }))) {
        const error = `The extension may not access ${origins[0]}. Open the options page and grant access to the collector.`
        await this.archive.outbox.updateStatus(collector.id, { lastError: error, lastErrorAt: this.now() })
        return { outcome: 'failed', delivered: 0, rejected: 0, retried: 0, missing: 0, filtered: 0, batches: 0, error }
      }
      const secret = await config.getCollectorSecret(collector.id)
      try {
        const sink = createSink(collector, secret, { fetch: this.fetch })
        return await deliver({
          collector,
          store: this.archive.outbox,
          loadDocs: (keys) => this.archive.loadDocs(keys),
          sink,
          now: this.now,
          force,
          maxBatches: 200,
        })
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e)
        await this.archive.outbox.updateStatus(collector.id, { lastError: error, lastErrorAt: this.now() })
        return { outcome: 'failed', delivered: 0, rejected: 0, retried: 0, missing: 0, filtered: 0, batches: 0, error }
      }
    })().finally(() => this.pushes.delete(collector.id))
    this.pushes.set(collector.id, run)
    return run
  }

  private async collectorStatuses(): Promise<CollectorStatusView[]> {
    const collectors = await config.getCollectors()
    return Promise.all(
      collectors.map(async (c) => {
        const [status, backlog] = await Promise.all([
          this.archive.outbox.getStatus(c.id),
          this.archive.outbox.backlog(c.id),
        ])
        const view: CollectorStatusView = {
          collectorId: c.id,
          backlog: backlog.pending,
          rejectedBacklog: backlog.rejected,
          running: this.pushes.has(c.id),
          deliveredTotal: status?.deliveredTotal ?? 0,
          rejectedTotal: status?.rejectedTotal ?? 0,
        }
        if (status?.lastSuccessAt) view.lastSuccessAt = iso(status.lastSuccessAt)
        if (status?.lastErrorAt) view.lastErrorAt = iso(status.lastErrorAt)
        if (status?.lastError) view.lastError = status.lastError
        if (status?.retryAt) view.retryAt = iso(status.retryAt)
        if (backlog.oldestEnqueuedAt) view.oldestWaitingSince = iso(backlog.oldestEnqueuedAt)
        return view
      }),
    )
  }

  // ------------------------------------------------------------------------------------------ messages

  async status(): Promise<StatusReport> {
    const [sites, statuses, alarms, totalEvents, unseen] = await Promise.all([
      config.getSites(),
      config.getStatuses(),
      browser.alarms.getAll(),
      this.archive.totalEvents(),
      this.archive.unseen(),
    ])
    const due = new Map(alarms.map((a) => [a.name, a.scheduledTime]))
    const out: SiteStatus[] = []
    for (const site of sites) {
      const s = statuses[site.id] ?? {}
      const st: SiteStatus = {
        siteId: site.id,
        running: this.runs.has(site.id) || !!s.running,
        events: await this.archive.siteEvents(site.id),
      }
      if (s.progress && st.running) st.progress = s.progress
      if (s.lastRunAt) st.lastRunAt = s.lastRunAt
      if (s.lastResult) st.lastResult = s.lastResult
      if (s.lastSuccessAt) st.lastSuccessAt = s.lastSuccessAt
      const next = due.get(SYNC_ALARM_PREFIX + site.id)
      if (next !== undefined) st.nextRunAt = iso(next)
      out.push(st)
    }
    return { sites: out, totalEvents, unseen }
  }

  private async siteView(site: Site): Promise<SiteView> {
    return { ...site, hasSecret: await config.hasSiteSecret(site.id) }
  }

  private siteFromDraft(draft: SiteDraft, id: string): Site {
    // a message from a page is checked like any input: a clear invalid-config, not a TypeError
    if (typeof draft?.url !== 'string' || !draft.url.trim()) throw new AuthConfigError('Enter the site URL.')
    if (!PRODUCTS.includes(draft.product)) throw new AuthConfigError(`Unknown product "${String(draft.product)}".`)
    if (!DEPLOYMENTS.includes(draft.deployment))
      throw new AuthConfigError(`Unknown deployment "${String(draft.deployment)}".`)
    if (!AUTH_MODES.includes(draft.auth)) throw new AuthConfigError(`Unknown sign-in mode "${String(draft.auth)}".`)
    const site: Site = {
      id,
      url: normalizeUrl(draft.url),
      product: draft.product,
      deployment: draft.deployment,
      auth: draft.auth,
    }
    if (draft.orgId) site.orgId = draft.orgId.trim()
    if (draft.name) site.name = draft.name.trim()
    if (draft.email) site.email = draft.email.trim()
    if (draft.auth === 'scoped' && draft.gateway?.trim()) site.gateway = normalizeUrl(draft.gateway)
    return site
  }

  /** One page of the audit API with this configuration: the classified answer, nothing stored. */
  async testConnection(draft: SiteDraft, secret?: string): Promise<CodedResult> {
    let site: Site
    try {
      site = this.siteFromDraft(draft, draft.id ?? 'connection-test')
    } catch (e) {
      return classify(e)
    }
    const origins = siteOrigins(site)
    if (!(await browser.permissions.contains({ origins }))) {
      return {
        code: 'permission-missing',
        message: `The extension may not access ${origins.join(' and ')} yet: grant access first.`,
      }
    }
    const stored = secret === undefined && draft.id ? await config.getSiteSecret(draft.id) : undefined
    try {
      const target = await connect(site, this.credentialOf(site, secret ?? stored), {
        fetch: this.fetch,
        gatewayUrl: gatewayOf(site),
        maxAttempts: 2,
        maxRateLimitRetries: 0,
      })
      const now = this.now()
      await fetchAuditPage(target, target.api.request({ from: now - 86_400_000, to: now }, 1, {}))
      return { code: 'ok', message: `Connected: ${target.api.label} answered.` }
    } catch (e) {
      return classify(e)
    }
  }

  /** Answers one page request; failures become an error envelope (never a rejected promise). */
  async handle(message: unknown): Promise<Envelope<unknown>> {
    if (!isRequest(message)) return { ok: false, error: { code: 'error', message: 'Unknown request.' } }
    try {
      return { ok: true, value: await this.dispatch(message) }
    } catch (e) {
      return { ok: false, error: classify(e) }
    }
  }

  private async dispatch(m: Request): Promise<ResponseMap[Request['type']]> {
    switch (m.type) {
      case 'syncNow':
        return { started: await this.syncNow(m.siteId) }
      case 'getStatus':
        return this.status()
      case 'listSites':
        return Promise.all((await config.getSites()).map((s) => this.siteView(s)))
      case 'saveSite': {
        const isNew = !m.site.id
        const site = this.siteFromDraft(m.site, m.site.id ?? crypto.randomUUID())
        await config.putSite(site, m.secret)
        await this.ensureAlarms()
        if (isNew) void this.runSite(site.id)
        return this.siteView(site)
      }
      case 'removeSite': {
        const removed = await config.deleteSite(m.siteId)
        await browser.alarms.clear(SYNC_ALARM_PREFIX + m.siteId)
        await this.archive.deleteSiteStreams(m.siteId)
        if (m.deleteEvents) await this.archive.deleteSiteEvents(m.siteId)
        await this.updateBadge()
        return { removed }
      }
      case 'testConnection':
        return this.testConnection(m.site, m.secret)
      case 'popupOpened':
        await this.archive.markSeen()
        await this.updateBadge()
        return { unseen: 0 }
      case 'getSettings':
        return config.getSettings()
      case 'saveSettings': {
        const saved = await config.saveSettings(m.settings)
        await this.ensureAlarms()
        void this.enforceRetention()
        return saved
      }
      case 'listCollectors':
        return Promise.all(
          (await config.getCollectors()).map(
            async (c): Promise<CollectorView> => ({
              ...c,
              hasSecret: (await config.getCollectorSecret(c.id)) !== undefined,
            }),
          ),
        )
      case 'saveCollector': {
        const collector: CollectorConfig = { ...m.collector, id: m.collector.id ?? crypto.randomUUID() }
        createSink(collector, m.secret ?? (await config.getCollectorSecret(collector.id)))
        await config.putCollector(collector, m.secret)
        // changed settings (credentials, URL) deserve a try now, not after the backoff of the old ones
        if (m.collector.id)
          await this.archive.outbox.updateStatus(collector.id, { consecutiveFailures: 0, retryAt: undefined })
        return { ...collector, hasSecret: (await config.getCollectorSecret(collector.id)) !== undefined }
      }
      case 'removeCollector': {
        const removed = await config.deleteCollector(m.collectorId)
        await this.archive.outbox.removeCollector(m.collectorId)
        return { removed }
      }
      case 'pushNow': {
        const ids = (await config.getCollectors())
          .filter((c) => c.enabled !== false && (!m.collectorId || c.id === m.collectorId))
          .map((c) => c.id)
        void this.pushAll(true, m.collectorId)
        return { started: ids }
      }
      case 'requeueRejected': {
        const requeued = await this.archive.outbox.requeueRejected(m.collectorId, this.now())
        if (requeued > 0) void this.pushAll(true, m.collectorId)
        return { requeued }
      }
      case 'getCollectorStatus':
        return this.collectorStatuses()
    }
  }
}
