// Issue 5 end to end in Chromium: a collector (Elasticsearch `_bulk` on real nginx) added in the options
// page receives every event synced from the simulator; while nginx is down the events wait in the outbox
// (backlog shown in the popup), they survive a browser restart, and "Push now" delivers them once nginx is
// back: every event arrives, always under the same _id.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CREDS, NginxCollector } from '../collectors/nginx'
import { type FakeAtlassian, startFakeAtlassian } from '../fake-atlassian/server'
import {
  background,
  exportFromPopup,
  fillSiteForm,
  formStatus,
  PAGES,
  popupCounts,
  waitForSync,
} from './extension-steps'
import { type ChromiumExtension, ensureBuilt, formatConsoleErrors, launchChromium, screenshot } from './harness'

interface CollectorStatus {
  collectorId: string
  backlog: number
  deliveredTotal: number
  lastError?: string
  running: boolean
}

/** `_id` → event.hash of every document nginx accepted in `_bulk` requests (action and document lines paired). */
async function deliveredIds(nginx: NginxCollector): Promise<Map<string, Set<string>>> {
  const ids = new Map<string, Set<string>>()
  // nginx writes a request's log line after it answered: wait for the log to settle.
  for (const request of await nginx.acceptedSettled()) {
    if (!request.uri.endsWith('/_bulk')) continue
    const lines = request.body.split('\n').filter((l) => l !== '')
    expect(lines.length % 2).toBe(0)
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i]!) as { create: { _id: string; _index: string } }
      const doc = JSON.parse(lines[i + 1]!) as { event: { hash: string } }
      const hashes = ids.get(action.create._id) ?? new Set<string>()
      hashes.add(doc.event.hash)
      ids.set(action.create._id, hashes)
    }
  }
  return ids
}

async function collectorStatus(ext: ChromiumExtension): Promise<CollectorStatus> {
  const [status] = await background<CollectorStatus[]>(ext, { type: 'getCollectorStatus' })
  if (!status) throw new Error('no collector status')
  return status
}

describe('Chromium: push to a collector through the outbox, across nginx downtime and a browser restart', () => {
  let sim: FakeAtlassian
  let nginx: NginxCollector
  let ext: ChromiumExtension
  let profile: string
  let total = 0

  beforeAll(async () => {
    ensureBuilt(['chrome-test'])
    nginx = new NginxCollector()
    await nginx.start()
    sim = await startFakeAtlassian({
      seed: 33,
      volume: { cloud: 5, 'jira-dc': 120, 'confluence-dc': 5, 'bitbucket-dc': 5, org: 5 },
    })
    profile = mkdtempSync(path.join(tmpdir(), 'e2e-push-'))
    ext = await launchChromium({ userDataDir: profile })
  })
  afterAll(async () => {
    await ext?.close()
    await sim?.close()
    await nginx?.dispose()
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  it('delivers every synced event to the collector added in the options page', async () => {
    const options = await ext.openPage(PAGES.options)
    await options.getByRole('button', { name: 'Add collector' }).click()
    await options.getByLabel('Collector type').selectOption('elasticsearch')
    await options.getByLabel('Collector URL').fill(nginx.baseUrl)
    await options.getByLabel('Collector authentication').selectOption('basic')
    await options.getByLabel('User name').fill(CREDS.esUser)
    await options.getByLabel('Collector secret').fill(CREDS.esPassword)
    await options.getByLabel(/^Extra headers/).fill('X-Source: atlassian-audit\nX-Team:  secops ')
    await options.getByRole('button', { name: 'Save collector' }).click()
    await expect.poll(() => options.locator('[data-collector-id]').count()).toBe(1)
    expect(await options.content()).not.toContain(CREDS.esPassword)
    const [saved] = await background<{ headers?: Record<string, string> }[]>(ext, { type: 'listCollectors' })
    expect(saved?.headers).toEqual({ 'X-Source': 'atlassian-audit', 'X-Team': 'secops' })

    const since = new Date().toISOString()
    await fillSiteForm(options, {
      url: sim.sites['jira-dc'].baseUrl,
      product: 'Jira',
      deployment: 'Data Center',
      auth: 'Personal access token',
      token: sim.credentials.pat,
    })
    await options.getByRole('button', { name: 'Save site' }).click()
    await expect.poll(() => formStatus(options)).toContain('Saved')
    const status = await waitForSync(ext, since)
    total = status.totalEvents
    expect(total).toBeGreaterThan(100)

    await expect.poll(async () => (await collectorStatus(ext)).deliveredTotal, { timeout: 60_000 }).toBe(total)
    expect((await collectorStatus(ext)).backlog).toBe(0)
    expect((await deliveredIds(nginx)).size).toBe(total)
    await expect
      .poll(() => options.locator('[data-collector-id] .collector-status').textContent(), { timeout: 15_000 })
      .toContain(`delivered ${total.toLocaleString('en')}`)
    await screenshot(options, 'chromium-options-collector')
    await options.close()
  })

  let popup: Page
  it('keeps new events in the outbox while the collector is down, and shows the backlog', async () => {
    await nginx.stop()
    sim.insert('jira-dc', sim.generate('jira-dc', 20))
    popup = await ext.openPage(PAGES.popup)
    const since = new Date().toISOString()
    await popup.getByRole('button', { name: 'Sync now' }).click()
    const status = await waitForSync(ext, since)
    expect(status.totalEvents).toBe(total + 20)
    await expect.poll(async () => (await collectorStatus(ext)).lastError ?? '', { timeout: 60_000 }).not.toBe('')
    const waiting = await collectorStatus(ext)
    expect(waiting.backlog).toBe(20)
    expect(waiting.deliveredTotal).toBe(total)

    await popup.getByText(/^Collectors \(1\)/).click()
    await expect.poll(() => popup.locator('.collectors summary').textContent()).toContain('backlog 20')
    await screenshot(popup, 'chromium-popup-collector-backlog')
  })

  it('delivers the backlog after a browser restart with "Push now", every event under the same _id', async () => {
    await popup.close()
    await ext.close()
    ext = await launchChromium({ userDataDir: profile })
    expect((await collectorStatus(ext)).backlog).toBe(20)
    await nginx.start()

    popup = await ext.openPage(PAGES.popup)
    await expect.poll(() => popupCounts(popup)).toContain(`${(total + 20).toLocaleString('en')} events stored`)
    await popup.getByText(/^Collectors \(1\)/).click()
    await popup.getByRole('button', { name: 'Push now' }).click()
    await expect.poll(async () => (await collectorStatus(ext)).backlog, { timeout: 60_000 }).toBe(0)

    const ids = await deliveredIds(nginx)
    expect(ids.size).toBe(total + 20)
    // At least once, never under two ids: each _id always carried the same document.
    for (const hashes of ids.values()) expect(hashes.size).toBe(1)
    const exported = await exportFromPopup(popup)
    const exportedHashes = new Set(exported.lines.map((d) => (d as { event: { hash: string } }).event.hash))
    const deliveredHashes = new Set([...ids.values()].flatMap((h) => [...h]))
    expect(deliveredHashes).toEqual(exportedHashes)
    expect(formatConsoleErrors(ext.consoleErrors())).toBe('')
  })
})
