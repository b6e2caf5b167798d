// Small configuration in browser.storage.local: sites, collectors, their secrets (kept under their own keys,
// never returned to a page), settings and per-site run status. Everything the background needs after a
// service-worker restart is here or in IndexedDB; nothing lives only in memory.
//
// Secrets are stored in storage.local as entered: the extension's storage is readable by whoever can read
// the browser profile on disk (the same holds for the session cookies the browser keeps). See docs/extension.md.

import browser from 'webextension-polyfill'
import type { Site } from '../core/model'
import type { CollectorConfig } from '../core/sinks/sink'
import { DEFAULT_SETTINGS, type RunResult, type Settings } from './messages'

const SITES = 'sites'
const COLLECTORS = 'collectors'
const SETTINGS = 'settings'
const STATUS = 'siteStatus'
const siteSecretKey = (id: string) => `secret:site:${id}`
const collectorSecretKey = (id: string) => `secret:collector:${id}`

// Read-modify-write of one storage key must not interleave (two sites finishing at once would lose a status).
let queue: Promise<unknown> = Promise.resolve()
function serialized<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work, work)
  queue = run.catch(() => undefined)
  return run
}

async function read<T>(key: string): Promise<T | undefined> {
  const got = await browser.storage.local.get(key)
  return got[key] as T | undefined
}

export async function getSites(): Promise<Site[]> {
  return (await read<Site[]>(SITES)) ?? []
}

export async function getSite(id: string): Promise<Site | undefined> {
  return (await getSites()).find((s) => s.id === id)
}

/** Inserts or replaces the site; a secret given is stored (an empty string deletes it, undefined keeps it). */
export async function putSite(site: Site, secret?: string): Promise<void> {
  return serialized(async () => {
    const sites = await getSites()
    const i = sites.findIndex((s) => s.id === site.id)
    if (i >= 0) sites[i] = site
    else sites.push(site)
    await browser.storage.local.set({ [SITES]: sites })
    if (secret === '') await browser.storage.local.remove(siteSecretKey(site.id))
    else if (secret !== undefined) await browser.storage.local.set({ [siteSecretKey(site.id)]: secret })
  })
}

export async function deleteSite(id: string): Promise<boolean> {
  return serialized(async () => {
    const sites = await getSites()
    const rest = sites.filter((s) => s.id !== id)
    await browser.storage.local.set({ [SITES]: rest })
    await browser.storage.local.remove(siteSecretKey(id))
    const statuses = await getStatuses()
    delete statuses[id]
    await browser.storage.local.set({ [STATUS]: statuses })
    return rest.length !== sites.length
  })
}

export async function getSiteSecret(id: string): Promise<string | undefined> {
  return read<string>(siteSecretKey(id))
}

export async function hasSiteSecret(id: string): Promise<boolean> {
  return (await getSiteSecret(id)) !== undefined
}

export async function getCollectors(): Promise<CollectorConfig[]> {
  return (await read<CollectorConfig[]>(COLLECTORS)) ?? []
}

export async function putCollector(collector: CollectorConfig, secret?: string): Promise<void> {
  return serialized(async () => {
    const all = await getCollectors()
    const i = all.findIndex((c) => c.id === collector.id)
    if (i >= 0) all[i] = collector
    else all.push(collector)
    await browser.storage.local.set({ [COLLECTORS]: all })
    if (secret === '') await browser.storage.local.remove(collectorSecretKey(collector.id))
    else if (secret !== undefined) await browser.storage.local.set({ [collectorSecretKey(collector.id)]: secret })
  })
}

export async function deleteCollector(id: string): Promise<boolean> {
  return serialized(async () => {
    const all = await getCollectors()
    const rest = all.filter((c) => c.id !== id)
    await browser.storage.local.set({ [COLLECTORS]: rest })
    await browser.storage.local.remove(collectorSecretKey(id))
    return rest.length !== all.length
  })
}

export async function getCollectorSecret(id: string): Promise<string | undefined> {
  return read<string>(collectorSecretKey(id))
}

function clampInt(v: unknown, min: number, max: number, fallback: number): number {
  const n = typeof v === 'number' ? v : Number(v)
  if (!Number.isFinite(n)) return fallback
  return Math.min(max, Math.max(min, Math.round(n)))
}

/** Settings with every field present and in range (unknown or broken values fall back to the defaults). */
export function sanitizeSettings(raw: Partial<Settings> | undefined): Settings {
  const r = raw ?? {}
  const d = DEFAULT_SETTINGS
  return {
    syncIntervalMinutes: clampInt(r.syncIntervalMinutes, 1, 24 * 60, d.syncIntervalMinutes),
    overlapMinutes: clampInt(r.overlapMinutes, 0, 24 * 60, d.overlapMinutes),
    lookbackDays: clampInt(r.lookbackDays, 1, 3650, d.lookbackDays),
    retentionDays: clampInt(r.retentionDays, 0, 36500, d.retentionDays),
    maxEvents: clampInt(r.maxEvents, 0, 1_000_000_000, d.maxEvents),
    exportFormat: r.exportFormat === 'raw' ? 'raw' : 'ecs',
  }
}

export async function getSettings(): Promise<Settings> {
  return sanitizeSettings(await read<Partial<Settings>>(SETTINGS))
}

export async function saveSettings(patch: Partial<Settings>): Promise<Settings> {
  return serialized(async () => {
    const next = sanitizeSettings({ ...(await getSettings()), ...patch })
    await browser.storage.local.set({ [SETTINGS]: next })
    return next
  })
}

/** What survives a restart about a site's runs (the in-flight progress is kept too, for the popup). */
export interface StoredSiteStatus {
  lastRunAt?: string
  lastResult?: RunResult
  lastSuccessAt?: string
  /** Set while a run is in progress; cleared at service-worker start (a run cut off resumes at the next alarm). */
  running?: boolean
  progress?: { phase: string; pages: number; records: number; fraction?: number }
}

export async function getStatuses(): Promise<Record<string, StoredSiteStatus>> {
  return (await read<Record<string, StoredSiteStatus>>(STATUS)) ?? {}
}

export async function patchStatus(siteId: string, patch: Partial<StoredSiteStatus>): Promise<void> {
  return serialized(async () => {
    const all = await getStatuses()
    const cur = { ...(all[siteId] ?? {}), ...patch }
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete (cur as Record<string, unknown>)[k]
    all[siteId] = cur
    await browser.storage.local.set({ [STATUS]: all })
  })
}
