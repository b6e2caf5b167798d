// The outbox: which documents still have to reach which collector, and the loop that delivers them.
// Storage-agnostic: the extension implements OutboxStore in IndexedDB (Dexie), tests use
// MemoryOutboxStore. At least once: an entry leaves the outbox only after the collector accepted the
// document (or it no longer exists / no longer matches the collector's filter). A crash at any point
// leaves the entry in place, so it is sent again; for Elasticsearch the `_id` makes that harmless.

import type { EcsDocument, Product } from '../model'
import { sinkKey } from './batch'
import { isCollectorError } from './errors'
import type { CollectorConfig, Sink } from './sink'

export interface OutboxEntry {
  collectorId: string
  /** Document key (`documentKey`), also the key of the archived document. */
  key: string
  enqueuedAt: number
  /** Not to be sent before this time (ms since epoch). */
  dueAt: number
  /** Failed attempts so far. */
  attempts: number
  /** `rejected`: the collector refused the document for good; kept (not retried) so that nothing vanishes silently. */
  state: 'pending' | 'rejected'
  lastError?: string
}

/** What the UI shows per collector. */
export interface CollectorStatus {
  collectorId: string
  lastSuccessAt?: number
  lastErrorAt?: number
  lastError?: string
  /** Failed delivery rounds in a row; drives the collector-wide backoff. */
  consecutiveFailures: number
  /** No automatic attempt before this time ("Push now" ignores it). */
  retryAt?: number
  deliveredTotal: number
  rejectedTotal: number
}

export interface OutboxBacklog {
  pending: number
  rejected: number
  /** Earliest dueAt among pending entries. */
  nextDueAt?: number
  oldestEnqueuedAt?: number
}

export interface OutboxStore {
  /** Queue keys for a collector; keys already queued (pending or rejected) are left as they are. Returns how many were added. */
  enqueue(collectorId: string, keys: readonly string[], now: number): Promise<number>
  /** Up to `limit` pending entries with dueAt ≤ now, earliest due first, then oldest first. Does not remove them. */
  takeDue(collectorId: string, now: number, limit: number): Promise<OutboxEntry[]>
  /** Remove entries (accepted by the collector, or nothing left to send). */
  remove(collectorId: string, keys: readonly string[]): Promise<void>
  /** attempts + 1, dueAt, lastError. */
  markRetry(collectorId: string, keys: readonly string[], dueAt: number, error: string): Promise<void>
  markRejected(collectorId: string, rejected: readonly { key: string; reason: string }[]): Promise<void>
  /** Put rejected entries back to pending (e.g. after the admin fixed a mapping). Returns how many. */
  requeueRejected(collectorId: string, now: number): Promise<number>
  backlog(collectorId: string): Promise<OutboxBacklog>
  getStatus(collectorId: string): Promise<CollectorStatus | undefined>
  /** Merge `patch` into the status (creating it). A key present with value `undefined` clears that field. */
  updateStatus(collectorId: string, patch: Partial<Omit<CollectorStatus, 'collectorId'>>): Promise<void>
  /** Forget a removed collector's entries and status. */
  removeCollector(collectorId: string): Promise<void>
}

// ---- filters ----

function siteOf(doc: EcsDocument): string | undefined {
  const site = (doc.atlassian as { site?: unknown } | undefined)?.site
  return typeof site === 'string' ? site.replace(/\/+$/, '') : undefined
}

function productOf(doc: EcsDocument): string | undefined {
  const product = (doc.atlassian as { product?: unknown } | undefined)?.product
  if (typeof product === 'string') return product
  const m = typeof doc.event?.dataset === 'string' ? /^atlassian_([a-z]+)\.audit$/.exec(doc.event.dataset) : null
  return m ? m[1] : undefined
}

/** Whether the collector's filter (sites, products) lets this document through. Empty lists = everything. */
export function collectorAccepts(collector: Pick<CollectorConfig, 'filter'>, doc: EcsDocument): boolean {
  const sites = collector.filter?.sites?.map((s) => s.replace(/\/+$/, ''))
  if (sites && sites.length > 0) {
    const site = siteOf(doc)
    if (site === undefined || !sites.includes(site)) return false
  }
  const products = collector.filter?.products
  if (products && products.length > 0) {
    const product = productOf(doc)
    if (product === undefined || !(products as readonly string[]).includes(product as Product)) return false
  }
  return true
}

/** Queue new documents for every enabled collector whose filter accepts them. Returns how many were added per collector. */
export async function enqueueForCollectors(
  store: OutboxStore,
  collectors: readonly CollectorConfig[],
  docs: readonly EcsDocument[],
  now: number,
): Promise<Record<string, number>> {
  const added: Record<string, number> = {}
  for (const collector of collectors) {
    if (collector.enabled === false) continue
    const keys = docs.filter((d) => collectorAccepts(collector, d)).map((d) => sinkKey(d))
    added[collector.id] = keys.length > 0 ? await store.enqueue(collector.id, keys, now) : 0
  }
  return added
}

// ---- backoff ----

export interface BackoffPolicy {
  /** Delay after the first failure. Default 5 s. */
  baseMs: number
  /** Upper bound. Default 15 min. */
  maxMs: number
  /** Minimum delay after a CollectorError (credentials, URL): those rarely fix themselves. Default 5 min. */
  configErrorMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: 15 * 60_000, configErrorMs: 5 * 60_000 }

/**
 * Exponential backoff with jitter: base · 2^(failures-1), capped, then spread over [½, 1] of that
 * ("equal jitter") so that many browsers that lost the same collector do not come back in lockstep,
 * while the delay never collapses towards zero.
 */
export function backoffDelay(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)))
  return Math.round(exp / 2 + (random() * exp) / 2)
}

// ---- the delivery loop ----

export interface DeliverOptions {
  collector: CollectorConfig
  store: OutboxStore
  /** Archived documents by key; keys that are missing are treated as gone (removed from the outbox). */
  loadDocs: (keys: string[]) => Promise<Map<string, EcsDocument>>
  sink: Sink
  now?: () => number
  random?: () => number
  backoff?: BackoffPolicy
  /** "Push now": ignore the collector's backoff and every entry's dueAt. */
  force?: boolean
  /** Stop after this many requests (a service worker has limited time); the rest waits for the next call. */
  maxBatches?: number
  signal?: AbortSignal
}

export type DeliverOutcome =
  /** Nothing (more) due. */
  | 'done'
  /** The collector is in backoff; nothing was sent. */
  | 'waiting'
  /** Some documents must wait (429/5xx/network); the loop stopped. */
  | 'retrying'
  /** The collector refused the request itself (credentials, privileges, URL); entries kept. */
  | 'failed'
  | 'paused'
  | 'aborted'
  | 'disabled'

export interface DeliverReport {
  outcome: DeliverOutcome
  delivered: number
  rejected: number
  retried: number
  /** Entries removed because their document is no longer in the archive. */
  missing: number
  /** Entries removed because the collector's filter no longer accepts the document. */
  filtered: number
  batches: number
  /** When to call deliver again (schedule an alarm), if anything is left. */
  nextAttemptAt?: number
  error?: string
}

const running = new WeakMap<OutboxStore, Map<string, Promise<DeliverReport>>>()

/**
 * Deliver due outbox entries of one collector, batch after batch, until nothing is due, the collector
 * pushes back, or `maxBatches` is reached. Calls for the same store and collector that overlap share one run.
 */
export function deliver(options: DeliverOptions): Promise<DeliverReport> {
  let perStore = running.get(options.store)
  if (!perStore) {
    perStore = new Map()
    running.set(options.store, perStore)
  }
  const id = options.collector.id
  const existing = perStore.get(id)
  if (existing) return existing
  const run = deliverLoop(options).finally(() => perStore.delete(id))
  perStore.set(id, run)
  return run
}

async function deliverLoop(options: DeliverOptions): Promise<DeliverReport> {
  const { collector, store, loadDocs, sink, signal } = options
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const policy = options.backoff ?? DEFAULT_BACKOFF
  const batchSize = Math.max(1, collector.batchSize ?? 500)
  const id = collector.id
  const report: DeliverReport = {
    outcome: 'done',
    delivered: 0,
    rejected: 0,
    retried: 0,
    missing: 0,
    filtered: 0,
    batches: 0,
  }
  const finish = async (outcome: DeliverOutcome): Promise<DeliverReport> => {
    report.outcome = outcome
    if (report.nextAttemptAt === undefined && outcome !== 'disabled') {
      const backlog = await store.backlog(id)
      if (backlog.nextDueAt !== undefined) report.nextAttemptAt = backlog.nextDueAt
    }
    return report
  }
  if (collector.enabled === false) return finish('disabled')
  const status = await store.getStatus(id)
  let failures = status?.consecutiveFailures ?? 0
  if (!options.force && status?.retryAt !== undefined && status.retryAt > now()) {
    report.nextAttemptAt = status.retryAt
    return finish('waiting')
  }

  const fail = async (keys: string[], error: string, minDelayMs: number): Promise<number> => {
    failures++
    const t = now()
    const retryAt = t + Math.max(backoffDelay(failures, policy, random), minDelayMs)
    if (keys.length > 0) await store.markRetry(id, keys, retryAt, error)
    await store.updateStatus(id, { lastError: error, lastErrorAt: t, consecutiveFailures: failures, retryAt })
    report.retried += keys.length
    report.nextAttemptAt = retryAt
    report.error = error
    return retryAt
  }

  for (;;) {
    if (signal?.aborted) return finish('aborted')
    if (options.maxBatches !== undefined && report.batches >= options.maxBatches) return finish('paused')
    const entries = await store.takeDue(id, options.force ? Number.POSITIVE_INFINITY : now(), batchSize)
    if (entries.length === 0) return finish('done')
    const keys = entries.map((e) => e.key)
    const docs = await loadDocs(keys)
    const gone: string[] = []
    const toSend: EcsDocument[] = []
    // the sink reports documents by sinkKey; map back to the outbox key in case they ever differ
    const entryKeyBySinkKey = new Map<string, string>()
    for (const key of keys) {
      const doc = docs.get(key)
      if (!doc) {
        gone.push(key)
        report.missing++
      } else if (!collectorAccepts(collector, doc)) {
        gone.push(key)
        report.filtered++
      } else {
        toSend.push(doc)
        entryKeyBySinkKey.set(sinkKey(doc), key)
      }
    }
    if (gone.length > 0) await store.remove(id, gone)
    if (toSend.length === 0) continue

    report.batches++
    let result: Awaited<ReturnType<Sink['send']>>
    try {
      result = await sink.send(toSend, signal)
    } catch (e) {
      if (signal?.aborted) return finish('aborted')
      const collectorError = isCollectorError(e)
      const message = collectorError ? e.message : `unexpected failure: ${e instanceof Error ? e.message : String(e)}`
      await fail([...entryKeyBySinkKey.values()], message, collectorError ? policy.configErrorMs : 0)
      return finish('failed')
    }
    const pending = new Set(entryKeyBySinkKey.values())
    const delivered: string[] = []
    for (const k of result.delivered) {
      const key = entryKeyBySinkKey.get(k)
      if (key !== undefined && pending.delete(key)) delivered.push(key)
    }
    const rejected: { key: string; reason: string }[] = []
    for (const r of result.rejected) {
      const key = entryKeyBySinkKey.get(r.key)
      if (key !== undefined && pending.delete(key)) rejected.push({ key, reason: r.reason })
    }
    // everything not explicitly accepted or refused (the retry list, and anything unaccounted for) is retried
    const retry = [...pending]
    if (delivered.length > 0) await store.remove(id, delivered)
    if (rejected.length > 0) await store.markRejected(id, rejected)
    report.delivered += delivered.length
    report.rejected += rejected.length
    const t = now()
    const totals = await store.getStatus(id)
    await store.updateStatus(id, {
      deliveredTotal: (totals?.deliveredTotal ?? 0) + delivered.length,
      rejectedTotal: (totals?.rejectedTotal ?? 0) + rejected.length,
      ...(delivered.length > 0 ? { lastSuccessAt: t } : {}),
      ...(rejected.length > 0
        ? {
            lastError: `${rejected.length} document${rejected.length === 1 ? '' : 's'} rejected: ${rejected[0].reason}`,
            lastErrorAt: t,
          }
        : {}),
    })
    if (retry.length > 0) {
      await fail(
        retry,
        result.transientError ?? 'the collector did not accept every document',
        result.retryAfterMs ?? 0,
      )
      return finish('retrying')
    }
    if (failures > 0) {
      failures = 0
      await store.updateStatus(id, { consecutiveFailures: 0, retryAt: undefined })
    }
  }
}

// ---- in-memory store (tests, CLI) ----

/** OutboxStore in memory. Same semantics as the IndexedDB one; survives a "restart" as long as the object does. */
export class MemoryOutboxStore implements OutboxStore {
  private readonly entries = new Map<string, Map<string, OutboxEntry & { seq: number }>>()
  private readonly statuses = new Map<string, CollectorStatus>()
  private seq = 0

  private of(collectorId: string): Map<string, OutboxEntry & { seq: number }> {
    let m = this.entries.get(collectorId)
    if (!m) {
      m = new Map()
      this.entries.set(collectorId, m)
    }
    return m
  }

  async enqueue(collectorId: string, keys: readonly string[], now: number): Promise<number> {
    const m = this.of(collectorId)
    let added = 0
    for (const key of keys) {
      if (m.has(key)) continue
      m.set(key, { collectorId, key, enqueuedAt: now, dueAt: now, attempts: 0, state: 'pending', seq: this.seq++ })
      added++
    }
    return added
  }

  async takeDue(collectorId: string, now: number, limit: number): Promise<OutboxEntry[]> {
    const due = [...this.of(collectorId).values()].filter((e) => e.state === 'pending' && e.dueAt <= now)
    due.sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq)
    return due.slice(0, limit).map(({ seq: _seq, ...e }) => ({ ...e }))
  }

  async remove(collectorId: string, keys: readonly string[]): Promise<void> {
    const m = this.of(collectorId)
    for (const key of keys) m.delete(key)
  }

  async markRetry(collectorId: string, keys: readonly string[], dueAt: number, error: string): Promise<void> {
    const m = this.of(collectorId)
    for (const key of keys) {
      const e = m.get(key)
      if (!e) continue
      e.attempts++
      e.dueAt = dueAt
      e.lastError = error
    }
  }

  async markRejected(collectorId: string, rejected: readonly { key: string; reason: string }[]): Promise<void> {
    const m = this.of(collectorId)
    for (const r of rejected) {
      const e = m.get(r.key)
      if (!e) continue
      e.state = 'rejected'
      e.lastError = r.reason
    }
  }

  async requeueRejected(collectorId: string, now: number): Promise<number> {
    let n = 0
    for (const e of this.of(collectorId).values()) {
      if (e.state !== 'rejected') continue
      e.state = 'pending'
      e.dueAt = now
      n++
    }
    return n
  }

  async backlog(collectorId: string): Promise<OutboxBacklog> {
    const out: OutboxBacklog = { pending: 0, rejected: 0 }
    for (const e of this.of(collectorId).values()) {
      if (e.state === 'rejected') {
        out.rejected++
        continue
      }
      out.pending++
      if (out.nextDueAt === undefined || e.dueAt < out.nextDueAt) out.nextDueAt = e.dueAt
      if (out.oldestEnqueuedAt === undefined || e.enqueuedAt < out.oldestEnqueuedAt) out.oldestEnqueuedAt = e.enqueuedAt
    }
    return out
  }

  async getStatus(collectorId: string): Promise<CollectorStatus | undefined> {
    const s = this.statuses.get(collectorId)
    return s ? { ...s } : undefined
  }

  async updateStatus(collectorId: string, patch: Partial<Omit<CollectorStatus, 'collectorId'>>): Promise<void> {
    const s = this.statuses.get(collectorId) ?? {
      collectorId,
      consecutiveFailures: 0,
      deliveredTotal: 0,
      rejectedTotal: 0,
    }
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete (s as unknown as Record<string, unknown>)[k]
      else (s as unknown as Record<string, unknown>)[k] = v
    }
    this.statuses.set(collectorId, s)
  }

  async removeCollector(collectorId: string): Promise<void> {
    this.entries.delete(collectorId)
    this.statuses.delete(collectorId)
  }

  /** Test helper: every entry of a collector. */
  all(collectorId: string): OutboxEntry[] {
    return [...this.of(collectorId).values()].map(({ seq: _seq, ...e }) => ({ ...e }))
  }
}
