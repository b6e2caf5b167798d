// Issue 4 end to end in Debian Chromium with the chrome-test build and the Atlassian simulator in-process:
// add a Cloud site with the browser session (after logging in on the simulator's page) and a Data Center site
// with a personal access token from the options page, sync, review and filter in the popup, open a detail,
// export and compare with what the simulator served, look at the dashboard, then restart the browser on the
// same profile and find everything still there, with no duplicate after the next sync.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/core/ecs/identity'
import { type FakeAtlassian, startFakeAtlassian } from '../fake-atlassian/server'
import {
  background,
  exportFromPopup,
  fillSiteForm,
  formStatus,
  PAGES,
  popupCounts,
  type StatusReport,
  visibleRows,
  waitForSync,
} from './extension-steps'
import { type ChromiumExtension, ensureBuilt, formatConsoleErrors, launchChromium, screenshot } from './harness'

const SYNCED_APIS = ['confluence-cloud', 'confluence-cloud-since', 'jira-dc'] as const

describe('Chromium: sites, sync, popup, export, dashboard, restart', () => {
  let sim: FakeAtlassian
  let ext: ChromiumExtension
  let profile: string
  let total = 0

  /** Identities (canonical JSON of the raw record) the simulator delivered to the extension. */
  const servedIdentities = () => {
    const all = new Set<string>()
    for (const api of SYNCED_APIS) for (const id of sim.served().identities(api)) all.add(id)
    return all
  }

  beforeAll(async () => {
    ensureBuilt(['chrome-test'])
    sim = await startFakeAtlassian({
      seed: 4,
      volume: { cloud: 120, 'jira-dc': 150, 'confluence-dc': 5, 'bitbucket-dc': 5, org: 5 },
    })
    profile = mkdtempSync(path.join(tmpdir(), 'e2e-ui-chromium-'))
    ext = await launchChromium({ userDataDir: profile })
  })
  afterAll(async () => {
    await ext?.close()
    await sim?.close()
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  it('adds a Cloud site with the browser session and a Data Center site with a token, and tests them', async () => {
    // The admin is logged in to the site in a normal tab: that session is what the extension uses.
    const tab = await ext.context.newPage()
    await tab.goto(`${sim.sites.cloud.baseUrl}/login?user=admin`)
    await tab.close()

    const options = await ext.openPage(PAGES.options)
    await fillSiteForm(options, {
      url: sim.sites.cloud.baseUrl,
      product: 'Confluence',
      deployment: 'Cloud',
      auth: 'Browser session',
    })
    await options.getByRole('button', { name: 'Test connection' }).click()
    expect(await formStatus(options)).toContain('Working')
    const since = new Date().toISOString()
    await options.getByRole('button', { name: 'Save site' }).click()
    await expect.poll(() => formStatus(options)).toContain('Saved')
    await options.getByRole('button', { name: 'Close' }).click()

    await fillSiteForm(options, {
      url: sim.sites['jira-dc'].baseUrl,
      product: 'Jira',
      deployment: 'Data Center',
      auth: 'Personal access token',
      token: sim.credentials.pat,
    })
    await options.getByRole('button', { name: 'Test connection' }).click()
    expect(await formStatus(options)).toContain('Working')
    await options.getByRole('button', { name: 'Save site' }).click()
    await expect.poll(() => formStatus(options)).toContain('Saved')
    // The token field is emptied and the secret is nowhere in the page any more.
    expect(await options.getByLabel('Token').inputValue()).toBe('')
    expect(await options.content()).not.toContain(sim.credentials.pat)

    // A wrong token is classified in admin words.
    await options.getByRole('button', { name: 'Close' }).click()
    await fillSiteForm(options, {
      url: sim.sites['jira-dc'].baseUrl,
      product: 'Jira',
      deployment: 'Data Center',
      auth: 'Personal access token',
      token: 'not-a-valid-token',
    })
    await options.getByRole('button', { name: 'Test connection' }).click()
    expect(await formStatus(options)).toContain('Sign-in refused')
    await options.getByRole('button', { name: 'Close' }).click()

    // Saving a new site starts its first sync.
    const status = await waitForSync(ext, since)
    expect(status.sites).toHaveLength(2)
    for (const s of status.sites) expect(s.lastResult?.code, s.lastResult?.message).toBe('ok')
    total = status.totalEvents
    expect(total).toBeGreaterThan(100)
    expect(total).toBe(servedIdentities().size)
    await options.reload()
    await expect.poll(() => options.locator('.site-list li').count()).toBe(2)
    await screenshot(options, 'chromium-options')
    await options.close()
  })

  let popup: Page
  it('shows the newest events first in the popup, with counts in a status region', async () => {
    popup = await ext.openPage(PAGES.popup)
    await popup.setViewportSize({ width: 580, height: 640 })
    await expect.poll(() => popupCounts(popup)).toContain(`${total.toLocaleString('en')} events stored`)
    const rows = popup.getByRole('grid').getByRole('row')
    await expect.poll(() => rows.count()).toBeGreaterThan(5)
    // Virtualized: only the rows in view (plus a few) are in the DOM, not all of them.
    expect(await rows.count()).toBeLessThan(40)
    const times = await popup.locator('.grid-row .cell-time').allTextContents()
    expect(times).toEqual([...times].sort().reverse())
    await screenshot(popup, 'chromium-popup')
  })

  it('filters by product, free text and time range, combined', async () => {
    await popup.getByLabel('Product').selectOption({ label: 'Jira' })
    await expect.poll(() => popupCounts(popup)).toMatch(/matching events of/)
    const jiraStatus = await background<StatusReport>(ext, { type: 'getStatus' })
    const jiraSite = jiraStatus.sites.find((s) => s.events > 0 && s.lastResult)
    expect(jiraSite).toBeDefined()
    const jiraCount = Number((await popupCounts(popup)).replace(/,/g, '').match(/^(\d+)/)?.[1])
    expect(jiraCount).toBeGreaterThan(0)
    expect(jiraCount).toBeLessThan(total)

    // Free text on top of the product: an action that exists in the Jira DC data.
    const firstAction = (await popup.locator('.grid-row .cell-action').first().textContent())
      ?.replace('failed', '')
      .trim()
    expect(firstAction).toBeTruthy()
    await popup.getByLabel('Search').fill(firstAction!)
    await expect
      .poll(async () => {
        const actions = await popup.locator('.grid-row .cell-action').allTextContents()
        return actions.length > 0 && actions.every((a) => a.toLowerCase().includes(firstAction!.toLowerCase()))
      })
      .toBe(true)
    const narrowed = Number((await popupCounts(popup)).replace(/,/g, '').match(/^(\d+)/)?.[1])
    expect(narrowed).toBeGreaterThan(0)
    expect(narrowed).toBeLessThanOrEqual(jiraCount)

    // A time range in the future matches nothing.
    await popup.getByLabel('Time range').selectOption({ label: 'Between dates…' })
    await popup.getByLabel('From').fill('2099-01-01T00:00')
    await expect.poll(() => popup.locator('.empty').textContent()).toContain('No event matches')
    await popup.getByRole('button', { name: 'Clear filters' }).click()
    await expect.poll(() => popupCounts(popup)).toContain(`${total.toLocaleString('en')} events stored`)
  })

  it('opens the detail of an event: its ECS document and the original record, as text', async () => {
    const row = popup.getByRole('grid').getByRole('row').first()
    const action = (await row.locator('.cell-action').textContent())?.replace('failed', '').trim()
    await row.click()
    await expect(popup.getByRole('heading', { level: 2 }).textContent()).resolves.toBe(action)
    const ecs = JSON.parse((await popup.getByTestId('ecs-document').textContent()) ?? '{}')
    expect(ecs.event.action).toBe(action)
    const original = JSON.parse((await popup.getByTestId('original-record').textContent()) ?? '{}')
    expect(servedIdentities().has(canonicalJson(original))).toBe(true)
    await screenshot(popup, 'chromium-popup-detail')
    await popup.keyboard.press('Escape')
    await expect.poll(() => popup.getByRole('grid').count()).toBe(1)
  })

  it('exports exactly what the filter shows, and all of it unfiltered, as the simulator served it', async () => {
    const all = await exportFromPopup(popup)
    expect(all.filename).toMatch(/^atlassian-audit-ecs-.*\.ndjson$/)
    // Streamed to disk by the service worker (export-stream.ts), not a blob: URL held by the browser.
    expect(all.url).toMatch(new RegExp(`^chrome-extension://${ext.extensionId}/export\\.ndjson\\?`))
    expect(all.lines).toHaveLength(total)
    const exported = new Set(
      all.lines.map((doc) => canonicalJson(JSON.parse((doc as { event: { original: string } }).event.original))),
    )
    expect(exported).toEqual(servedIdentities())

    await popup.getByLabel('Product').selectOption({ label: 'Jira' })
    await expect.poll(() => popupCounts(popup)).toMatch(/matching events of/)
    const shown = Number((await popupCounts(popup)).replace(/,/g, '').match(/^(\d+)/)?.[1])
    const jira = await exportFromPopup(popup)
    expect(jira.lines).toHaveLength(shown)
    for (const doc of jira.lines) expect((doc as { event: { module?: string } }).event.module).toBe('atlassian_jira')
    await popup.getByRole('button', { name: 'Clear filters' }).click()
  })

  it('exports the raw Atlassian records when the options say so', async () => {
    const options = await ext.openPage(PAGES.options)
    await options.getByLabel(/Raw Atlassian records/).check()
    await options.getByRole('button', { name: 'Save settings' }).click()
    await expect.poll(() => options.getByText('Settings saved.').count()).toBe(1)
    await options.close()
    await popup.reload()
    await expect.poll(() => popupCounts(popup)).toContain('events stored')
    const raw = await exportFromPopup(popup)
    expect(raw.filename).toMatch(/^atlassian-audit-raw-/)
    expect(raw.url).toContain('/export.ndjson?')
    // The popup reports what the worker wrote.
    await expect.poll(() => popup.getByText(/^Exported [\d,]+ events \(.*raw Atlassian records\)/).count()).toBe(1)
    expect(new Set(raw.lines.map((r) => canonicalJson(r)))).toEqual(servedIdentities())
    await background(ext, { type: 'saveSettings', settings: { exportFormat: 'ecs' } })
  })

  it('shows the dashboard over the same filters', async () => {
    const dashboard = await ext.openPage(`${PAGES.dashboard}?product=jira`)
    await dashboard.setViewportSize({ width: 1200, height: 1000 })
    await expect.poll(() => dashboard.getByRole('status').first().textContent()).toMatch(/\d+ events/)
    for (const name of [
      'Events over time',
      'Top actions',
      'Rarest actions',
      'Top users',
      'Top source IPs',
      'Failed logins',
      'Permission changes',
    ]) {
      await expect(dashboard.getByRole('heading', { name: new RegExp(name) }).count()).resolves.toBe(1)
    }
    expect(await dashboard.getByLabel('Product').inputValue()).toBe('jira')
    await expect.poll(() => dashboard.locator('.ranked li').count()).toBeGreaterThan(3)
    expect(await dashboard.locator('canvas').count()).toBeGreaterThan(0)
    await screenshot(dashboard, 'chromium-dashboard')
    await dashboard.close()
  })

  it('keeps everything across a browser restart, without duplicates after the next sync', async () => {
    await popup.close()
    await ext.close()
    ext = await launchChromium({ userDataDir: profile })
    const popup2 = await ext.openPage(PAGES.popup)
    await expect.poll(() => popupCounts(popup2)).toContain(`${total.toLocaleString('en')} events stored`)

    // Session cookies end with the browser: log in again, as an admin would, and add new records upstream.
    const tab = await ext.context.newPage()
    await tab.goto(`${sim.sites.cloud.baseUrl}/login?user=admin`)
    await tab.close()
    const fresh = sim.generate('jira-dc', 3)
    sim.insert('jira-dc', fresh)

    const since = new Date().toISOString()
    await popup2.getByRole('button', { name: 'Sync now' }).click()
    const status = await waitForSync(ext, since)
    for (const s of status.sites) expect(s.lastResult?.code, s.lastResult?.message).toBe('ok')
    expect(status.totalEvents).toBe(total + 3)
    expect(status.totalEvents).toBe(servedIdentities().size)
    await expect.poll(() => popupCounts(popup2)).toContain(`${(total + 3).toLocaleString('en')} events stored`)
    const exported = await exportFromPopup(popup2)
    const keys = exported.lines.map((d) => (d as { event: { hash: string } }).event.hash)
    expect(new Set(keys).size).toBe(keys.length)
    expect(keys).toHaveLength(total + 3)
    expect(await visibleRows(popup2)).not.toHaveLength(0)
    // The simulator's own login page may log a favicon 404 in the web tab; only the extension's pages count.
    const ours = ext.consoleErrors().filter((e) => !e.url.startsWith(new URL(sim.sites.cloud.baseUrl).origin))
    expect(formatConsoleErrors(ours)).toBe('')
  })
})
