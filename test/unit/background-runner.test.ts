import 'fake-indexeddb/auto'
import { fakeBrowser } from '@webext-core/fake-browser'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type Archive, openArchive } from '../../src/extension/db'
import type { Envelope, SiteView, StatusReport } from '../../src/extension/messages'
import { siteOrigins } from '../../src/extension/site-origins'
import { Background, MAINTENANCE_ALARM, SYNC_ALARM_PREFIX } from '../../src/extension/sync-runner'

vi.mock('webextension-polyfill', async () => ({
  default: (await import('@webext-core/fake-browser')).fakeBrowser,
}))

const NOW = Date.UTC(2025, 2, 1, 12)
const SITE_URL = 'https://acme.atlassian.net'
const TOKEN = 'tok-SECRET-1234567890'

/** A minimal Jira Cloud audit API: newest-first records, from/to/offset/limit, Basic auth or session cookie. */
class FakeJira {
  records: {
    id: number
    created: string
    summary: string
    category: string
    remoteAddress: string
    authorAccountId: string
  }[] = []
  sessionValid = true
  requests: { url: string; credentials?: RequestCredentials; authorization?: string }[] = []
  status = 200

  add(n: number, newest = NOW - 60_000) {
    const start = this.records.length
    for (let i = 0; i < n; i++) {
      const id = start + i + 1
      this.records.push({
        id,
        created: new Date(newest - (n - i) * 60_000).toISOString().replace('Z', '+0000'),
        summary: id % 3 ? 'User created' : 'Login failed',
        category: 'user management',
        remoteAddress: `192.0.2.${id % 7}`,
        authorAccountId: `acct-${id % 4}`,
      })
    }
  }

  fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers)
    this.requests.push({ url, credentials: init.credentials, authorization: headers.get('authorization') ?? undefined })
    const u = new URL(url)
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
    if (this.status !== 200) return json({ errorMessages: ['nope'], errors: {} }, this.status)
    const auth = headers.get('authorization')
    const authed = auth
      ? auth === `Basic ${btoa(`admin@acme.test:${TOKEN}`)}`
      : init.credentials === 'include' && this.sessionValid
    if (!authed)
      return json({ errorMessages: ['Client must be authenticated to access this resource.'], errors: {} }, 401)
    if (u.pathname !== '/rest/api/3/auditing/record') return json({}, 404)
    const from = Date.parse(u.searchParams.get('from')!)
    const to = Date.parse(u.searchParams.get('to')!)
    const offset = Number(u.searchParams.get('offset') ?? 0)
    const limit = Number(u.searchParams.get('limit') ?? 100)
    const inWindow = this.records
      .filter((r) => {
        const t = Date.parse(r.created.replace('+0000', 'Z'))
        return t >= from && t <= to
      })
      .sort((a, b) => Date.parse(b.created.replace('+0000', 'Z')) - Date.parse(a.created.replace('+0000', 'Z')))
    return json({ offset, limit, total: inWindow.length, records: inWindow.slice(offset, offset + limit) })
  }
}

let archive: Archive
let jira: FakeJira
let bg: Background
let granted: boolean
let clock = NOW
let n = 0

beforeEach(() => {
  fakeBrowser.reset()
  granted = true
  clock = NOW
  ;(fakeBrowser.permissions as { contains: unknown }).contains = vi.fn(async () => granted)
  archive = openArchive(`bg-test-${process.pid}-${n++}`)
  jira = new FakeJira()
  bg = new Background({ archive, fetch: jira.fetch, now: () => clock })
})
afterEach(async () => {
  await archive.destroy()
})

async function call<T>(message: unknown): Promise<T> {
  const env = (await bg.handle(message)) as Envelope<T>
  if (!env.ok) throw new Error(`${env.error.code}: ${env.error.message}`)
  return env.value
}

async function addSite(auth: 'basic' | 'session' = 'basic'): Promise<SiteView> {
  const site = await call<SiteView>({
    type: 'saveSite',
    site: { url: `${SITE_URL}/`, product: 'jira', deployment: 'cloud', auth, email: 'admin@acme.test', name: 'Acme' },
    secret: auth === 'basic' ? TOKEN : undefined,
  })
  // saveSite starts the first run in the background: let it finish
  await bg.runSite(site.id)
  return site
}

describe('background: sites, secrets and sync', () => {
  it('saves a site without ever returning its secret, syncs it, and re-syncs without duplicates', async () => {
    jira.add(250)
    const site = await addSite()
    expect(site).toMatchObject({ url: SITE_URL, hasSecret: true })
    expect(JSON.stringify(site)).not.toContain(TOKEN)
    expect(JSON.stringify(await call({ type: 'listSites' }))).not.toContain(TOKEN)
    expect(await archive.totalEvents()).toBe(250)
    expect(jira.requests.every((r) => r.credentials === 'omit')).toBe(true)

    clock = NOW + 3_600_000
    jira.add(30, clock - 1000)
    const again = await bg.runSite(site.id)
    expect(again).toMatchObject({ code: 'ok', added: 30 })
    expect(await archive.totalEvents()).toBe(280)
    const status = await call<StatusReport>({ type: 'getStatus' })
    expect(status.sites[0]).toMatchObject({
      siteId: site.id,
      running: false,
      events: 280,
      lastResult: { code: 'ok', added: 30 },
    })
    expect(status.sites[0]!.lastSuccessAt).toBe(new Date(clock).toISOString())
    expect(status.totalEvents).toBe(280)
    // the stored documents are ECS with their original record
    const page = await archive.recentEvents({}, { limit: 1 })
    expect(JSON.parse(page.events[0]!.doc.event.original!)).toMatchObject({ id: 280 })
  })

  it('uses the browser session (credentials include, no Authorization) and reports an expired session', async () => {
    jira.add(5)
    const site = await addSite('session')
    expect(await archive.totalEvents()).toBe(5)
    expect(jira.requests.every((r) => r.credentials === 'include' && !r.authorization)).toBe(true)
    jira.sessionValid = false
    const res = await bg.runSite(site.id)
    expect(res.code).toBe('session-expired')
    const status = await call<StatusReport>({ type: 'getStatus' })
    expect(status.sites[0]!.lastResult?.code).toBe('session-expired')
    expect(status.sites[0]!.lastSuccessAt).toBeDefined()
  })

  it('does not sync without the host permission and says so', async () => {
    granted = false
    jira.add(5)
    const site = await addSite()
    const res = await bg.runSite(site.id)
    expect(res.code).toBe('permission-missing')
    expect(jira.requests).toHaveLength(0)
    expect(fakeBrowser.permissions.contains).toHaveBeenCalledWith({ origins: ['https://acme.atlassian.net/*'] })
    expect(siteOrigins({ url: SITE_URL, auth: 'scoped', product: 'jira' })).toEqual([
      'https://acme.atlassian.net/*',
      'https://api.atlassian.com/*',
    ])
    expect(
      siteOrigins({ url: SITE_URL, auth: 'scoped', product: 'jira', gateway: 'http://127.0.0.1:9000/gw' }),
    ).toEqual(['https://acme.atlassian.net/*', 'http://127.0.0.1/*'])
    // the organization audit log's site URL is its gateway
    expect(siteOrigins({ url: 'https://api.atlassian.com', auth: 'org-key', product: 'org' })).toEqual([
      'https://api.atlassian.com/*',
    ])
  })

  it('classifies test-connection results and never echoes the secret', async () => {
    jira.add(3)
    const draft = { url: SITE_URL, product: 'jira', deployment: 'cloud', auth: 'basic', email: 'admin@acme.test' }
    expect(await call({ type: 'testConnection', site: draft, secret: TOKEN })).toMatchObject({ code: 'ok' })
    const wrong = await call<{ code: string; message: string }>({
      type: 'testConnection',
      site: draft,
      secret: 'wrong-token-xyz',
    })
    expect(wrong.code).toBe('bad-credentials')
    expect(wrong.message).not.toContain('wrong-token-xyz')
    jira.status = 403
    expect(await call({ type: 'testConnection', site: draft, secret: TOKEN })).toMatchObject({ code: 'not-admin' })
    jira.status = 200
    expect(await call({ type: 'testConnection', site: { ...draft, auth: 'pat' }, secret: TOKEN })).toMatchObject({
      code: 'invalid-config',
    })
    expect(await call({ type: 'testConnection', site: { ...draft, url: 'not a url' }, secret: TOKEN })).toMatchObject({
      code: 'invalid-config',
    })
    // editing a saved site: the stored secret is used when none is typed
    const site = await addSite()
    expect(await call({ type: 'testConnection', site: { ...draft, id: site.id } })).toMatchObject({ code: 'ok' })
    granted = false
    expect(await call({ type: 'testConnection', site: draft, secret: TOKEN })).toMatchObject({
      code: 'permission-missing',
    })
  })

  it('removes a site with its secret, checkpoints and alarm; keeps or deletes its events on request', async () => {
    jira.add(10)
    const a = await addSite()
    expect(await fakeBrowser.storage.local.get(null)).toHaveProperty(`secret:site:${a.id}`)
    expect(await fakeBrowser.alarms.get(SYNC_ALARM_PREFIX + a.id)).toBeDefined()
    expect(await call({ type: 'removeSite', siteId: a.id })).toEqual({ removed: true })
    const stored = await fakeBrowser.storage.local.get(null)
    expect(JSON.stringify(stored)).not.toContain(TOKEN)
    expect(await fakeBrowser.alarms.get(SYNC_ALARM_PREFIX + a.id)).toBeUndefined()
    expect(await archive.loadStreamState(`${a.id}|jira-cloud`)).toBeUndefined()
    expect(await archive.totalEvents()).toBe(10)
    const b = await addSite()
    expect(await archive.totalEvents()).toBe(10)
    await call({ type: 'removeSite', siteId: b.id, deleteEvents: true })
    expect(await archive.siteEvents(b.id)).toBe(0)
  })
})

describe('background: alarms, badge, settings, retention', () => {
  it('creates one alarm per site with the configured interval, and re-creates them after a restart', async () => {
    jira.add(2)
    const site = await addSite()
    expect((await fakeBrowser.alarms.get(SYNC_ALARM_PREFIX + site.id))?.periodInMinutes).toBe(15)
    await call({ type: 'saveSettings', settings: { syncIntervalMinutes: 5 } })
    expect((await fakeBrowser.alarms.get(SYNC_ALARM_PREFIX + site.id))?.periodInMinutes).toBe(5)
    // browser restart: alarms gone, a run was cut off while "running"
    await fakeBrowser.alarms.clearAll()
    await fakeBrowser.storage.local.set({
      siteStatus: { [site.id]: { running: true, progress: { phase: 'x', pages: 1, records: 1 } } },
    })
    const fresh = new Background({ archive, fetch: jira.fetch, now: () => NOW })
    await fresh.start()
    expect((await fakeBrowser.alarms.get(SYNC_ALARM_PREFIX + site.id))?.periodInMinutes).toBe(5)
    expect(await fakeBrowser.alarms.get(MAINTENANCE_ALARM)).toBeDefined()
    const status = await fresh.status()
    expect(status.sites[0]).toMatchObject({ running: false })
    expect(status.sites[0]!.progress).toBeUndefined()
  })

  it('an alarm runs the sync of its site', async () => {
    const site = await addSite()
    clock = NOW + 3_600_000
    jira.add(7, clock - 1000)
    await bg.onAlarm(SYNC_ALARM_PREFIX + site.id)
    expect(await archive.siteEvents(site.id)).toBe(7)
  })

  it('shows the events added since the popup was opened on the badge', async () => {
    jira.add(12)
    const site = await addSite()
    expect(await fakeBrowser.action.getBadgeText({})).toBe('12')
    expect(await call({ type: 'popupOpened' })).toEqual({ unseen: 0 })
    expect(await fakeBrowser.action.getBadgeText({})).toBe('')
    clock = NOW + 3_600_000
    jira.add(3, clock - 500)
    await bg.runSite(site.id)
    expect(await fakeBrowser.action.getBadgeText({})).toBe('3')
    expect((await call<StatusReport>({ type: 'getStatus' })).unseen).toBe(3)
  })

  it('sanitizes settings and enforces retention after a sync', async () => {
    expect(
      await call({ type: 'saveSettings', settings: { syncIntervalMinutes: 0, exportFormat: 'weird' } }),
    ).toMatchObject({
      syncIntervalMinutes: 1,
      exportFormat: 'ecs',
    })
    await call({ type: 'saveSettings', settings: { maxEvents: 20 } })
    jira.add(50)
    await addSite()
    expect(await archive.totalEvents()).toBe(20)
    const kept = (await archive.recentEvents({}, { limit: 100 })).events.map(
      (e) => JSON.parse(e.doc.event.original!).id,
    )
    expect(kept).toEqual(Array.from({ length: 20 }, (_, i) => 50 - i))
  })

  it('a site draft without a URL or with an unknown product, deployment or sign-in mode is invalid-config', async () => {
    const base = { url: `${SITE_URL}/`, product: 'jira', deployment: 'cloud', auth: 'basic', email: 'a@b.c' }
    for (const [site, words] of [
      [{ ...base, url: undefined }, /site URL/],
      [{ ...base, url: '  ' }, /site URL/],
      [{ ...base, product: 'trello' }, /Unknown product "trello"/],
      [{ ...base, deployment: 'server' }, /Unknown deployment/],
      [{ ...base, auth: 'kerberos' }, /Unknown sign-in mode/],
    ] as const) {
      for (const type of ['saveSite', 'testConnection'] as const) {
        const answer = (await bg.handle({ type, site, secret: TOKEN })) as Envelope<unknown> | { code: string }
        const result = 'ok' in answer ? (answer.ok ? answer.value : answer.error) : answer
        expect(result, `${type} ${JSON.stringify(site)}`).toMatchObject({ code: 'invalid-config', message: words })
      }
    }
  })

  it('rejects unknown messages with an error envelope', async () => {
    expect(await bg.handle({ type: 'dropTables' })).toMatchObject({ ok: false, error: { code: 'error' } })
    expect(await bg.handle('x')).toMatchObject({ ok: false })
  })
})

describe('background.ts wiring', () => {
  it('registers message and alarm listeners at the top level and exposes test hooks', async () => {
    vi.resetModules()
    await import('../../src/extension/background')
    const hooks = globalThis as unknown as {
      __handle: (m: unknown) => Promise<Envelope<unknown>>
      __started: Promise<void>
    }
    await hooks.__started
    const [answer] = await fakeBrowser.runtime.onMessage.trigger({ type: 'getSettings' }, {}, () => undefined)
    expect(answer).toMatchObject({ ok: true, value: { syncIntervalMinutes: 15, exportFormat: 'ecs' } })
    // other protocols are left to other listeners
    const [other] = await fakeBrowser.runtime.onMessage.trigger({ kind: 'something-else' }, {}, () => undefined)
    expect(other).toBeUndefined()
    expect(await fakeBrowser.alarms.get(MAINTENANCE_ALARM)).toBeDefined()
    // started at browser start and after an install or update, too (Firefox keeps no alarms across a restart)
    expect(fakeBrowser.runtime.onStartup.hasListeners()).toBe(true)
    expect(fakeBrowser.runtime.onInstalled.hasListeners()).toBe(true)
    expect(await hooks.__handle({ type: 'getStatus' })).toMatchObject({
      ok: true,
      value: { sites: [], totalEvents: 0 },
    })
  })
})

describe('background: collectors', () => {
  it('queues synced events for a collector, pushes them, and reports status; secrets stay out of answers', async () => {
    const bodies: string[] = []
    let collectorDown = true
    const fetch = async (url: string, init: RequestInit): Promise<Response> => {
      if (url.startsWith('https://collector.example')) {
        expect(new Headers(init.headers).get('authorization')).toBe('Bearer col-SECRET-987654321')
        if (collectorDown) return new Response('down', { status: 503 })
        bodies.push(String(init.body))
        return new Response('{}', { status: 200 })
      }
      return jira.fetch(url, init)
    }
    bg = new Background({ archive, fetch, now: () => clock })
    const saved = await call<{ id: string; hasSecret: boolean }>({
      type: 'saveCollector',
      collector: {
        kind: 'http-ndjson',
        url: 'https://collector.example/ingest',
        auth: { scheme: 'bearer' },
        enabled: true,
      },
      secret: 'col-SECRET-987654321',
    })
    expect(saved.hasSecret).toBe(true)
    expect(JSON.stringify(await call({ type: 'listCollectors' }))).not.toContain('col-SECRET')
    const invalid = await bg.handle({
      type: 'saveCollector',
      collector: { kind: 'http-ndjson', url: 'http://collector.example/x', auth: { scheme: 'none' }, enabled: true },
    })
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid-config' } })

    jira.add(12)
    await addSite()
    await bg.pushAll(false)
    let [status] = await call<{ backlog: number; lastError?: string; retryAt?: string }[]>({
      type: 'getCollectorStatus',
    })
    expect(status).toMatchObject({ backlog: 12 })
    expect(status!.lastError).toContain('503')
    expect(status!.retryAt).toBeDefined()
    expect(await fakeBrowser.alarms.get('push')).toBeDefined()

    collectorDown = false
    expect(await call({ type: 'pushNow' })).toEqual({ started: [saved.id] })
    await bg.pushAll(true)
    ;[status] = await call<{ backlog: number; deliveredTotal: number }[]>({ type: 'getCollectorStatus' })
    expect(status).toMatchObject({ backlog: 0, deliveredTotal: 12 })
    const lines = bodies.join('').trim().split('\n')
    expect(lines).toHaveLength(12)
    expect(JSON.parse(lines[0]!).event.original).toBeDefined()

    expect(await call({ type: 'removeCollector', collectorId: saved.id })).toEqual({ removed: true })
    expect(JSON.stringify(await fakeBrowser.storage.local.get(null))).not.toContain('col-SECRET')
    expect(await call({ type: 'getCollectorStatus' })).toEqual([])
  })

  /**
   * A background whose fetch answers the NDJSON collector at https://collector.example with `refusal()` when it
   * gives a response, else accepts and counts the delivered lines; the collector is saved.
   */
  async function ndjsonCollector(refusal: () => Response | undefined) {
    let delivered = 0
    const fetch = async (url: string, init: RequestInit): Promise<Response> => {
      if (!url.startsWith('https://collector.example')) return jira.fetch(url, init)
      const refused = refusal()
      if (refused) return refused
      delivered += String(init.body).trim().split('\n').length
      return new Response('{}', { status: 200 })
    }
    bg = new Background({ archive, fetch, now: () => clock })
    const saved = await call<{ id: string }>({
      type: 'saveCollector',
      collector: {
        kind: 'http-ndjson',
        url: 'https://collector.example/ingest',
        auth: { scheme: 'none' },
        enabled: true,
      },
    })
    return { id: saved.id, fetch, delivered: () => delivered }
  }

  it('a backlog goes out after a restart with nothing new to sync, and retention never deletes what waits for it', async () => {
    let collectorDown = true
    const c = await ndjsonCollector(() => (collectorDown ? new Response('down', { status: 503 }) : undefined))
    jira.add(12)
    await addSite()
    await bg.pushAll(false)
    const backlog = async () => (await call<{ backlog: number }[]>({ type: 'getCollectorStatus' }))[0]!.backlog
    expect(await backlog()).toBe(12)

    // retention down to 5 events: the 12 wait for the collector, so none of them is deleted
    await call({ type: 'saveSettings', settings: { maxEvents: 5 } })
    await bg.enforceRetention()
    expect(await archive.totalEvents()).toBe(12)

    // the browser restarts (alarms gone), the collector is back, no new audit event
    await fakeBrowser.alarms.clearAll()
    collectorDown = false
    clock += 60 * 60_000
    bg = new Background({ archive, fetch: c.fetch, now: () => clock })
    await bg.start()
    for (let i = 0; i < 100 && (await backlog()) > 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(await backlog()).toBe(0)
    expect(c.delivered()).toBe(12)
    // delivered: now retention may delete them
    await bg.enforceRetention()
    expect(await archive.totalEvents()).toBe(5)
  })

  it('rejected events can be queued again once the cause is fixed, and then go out', async () => {
    let refuse = true
    const c = await ndjsonCollector(() =>
      refuse ? new Response('{"error":"mapping conflict"}', { status: 400 }) : undefined,
    )
    jira.add(6)
    await addSite()
    await bg.pushAll(true)
    const status = async () =>
      (await call<{ backlog: number; rejectedBacklog: number }[]>({ type: 'getCollectorStatus' }))[0]!
    expect(await status()).toMatchObject({ backlog: 0, rejectedBacklog: 6 })
    refuse = false
    expect(await call({ type: 'requeueRejected', collectorId: c.id })).toEqual({ requeued: 6 })
    await bg.pushAll(true)
    expect(await status()).toMatchObject({ backlog: 0, rejectedBacklog: 0 })
    expect(c.delivered()).toBe(6)
  })
})
