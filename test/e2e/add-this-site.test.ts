// "Add this site" in the popup: from a Jira Data Center tab the admin is logged in to, one click requests
// access, saves the site with the browser session and syncs it. The popup is opened as a page with
// ?tab=<id> (a test cannot click the toolbar button; in real use activeTab gives the popup the tab's URL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeAtlassian, startFakeAtlassian } from '../fake-atlassian/server'
import { background, PAGES, popupCounts, type StatusReport, waitForSync } from './extension-steps'
import { type ChromiumExtension, ensureBuilt, formatConsoleErrors, launchChromium, screenshot } from './harness'

declare const chrome: { tabs: { query(q: { url: string }): Promise<{ id?: number }[]> } }

describe('Chromium: "Add this site" from the tab the admin is on', () => {
  let sim: FakeAtlassian
  let ext: ChromiumExtension

  beforeAll(async () => {
    ensureBuilt(['chrome-test'])
    sim = await startFakeAtlassian({
      seed: 5,
      volume: { cloud: 5, 'jira-dc': 60, 'confluence-dc': 5, 'bitbucket-dc': 5, org: 5 },
    })
    ext = await launchChromium()
  })
  afterAll(async () => {
    await ext?.close()
    await sim?.close()
  })

  it('detects Jira Data Center under its context path and adds it in one click', async () => {
    const tab = await ext.context.newPage()
    await tab.goto(`${sim.sites['jira-dc'].baseUrl}/login?user=admin`)
    const issueUrl = `${sim.sites['jira-dc'].baseUrl}/browse/OPS-1`
    await tab.goto(issueUrl)
    const sw = await ext.getServiceWorker()
    const [found] = await sw.evaluate((url) => chrome.tabs.query({ url }), issueUrl)
    expect(found?.id).toBeDefined()

    const popup = await ext.openPage(`${PAGES.popup}?tab=${found!.id}`)
    await popup.setViewportSize({ width: 580, height: 640 })
    const offer = popup.locator('.add-this-site')
    await expect.poll(() => offer.textContent()).toContain(`Jira Data Center at ${new URL(sim.url).host}`)
    await screenshot(popup, 'chromium-popup-add-this-site')
    const since = new Date().toISOString()
    await popup.getByRole('button', { name: 'Add this site' }).click()
    await expect.poll(() => popup.locator('.notice.good').textContent()).toContain('Syncing now')

    const status = await waitForSync(ext, since)
    expect(status.sites).toHaveLength(1)
    expect(status.sites[0]!.lastResult?.code, status.sites[0]!.lastResult?.message).toBe('ok')
    const sites = await background<{ url: string; product: string; deployment: string; auth: string }[]>(ext, {
      type: 'listSites',
    })
    expect(sites).toMatchObject([
      { url: sim.sites['jira-dc'].baseUrl, product: 'jira', deployment: 'dc', auth: 'session' },
    ])
    const total = (await background<StatusReport>(ext, { type: 'getStatus' })).totalEvents
    expect(total).toBe(sim.served().identities('jira-dc').size)
    await popup.reload()
    await expect.poll(() => popupCounts(popup)).toContain(`${total.toLocaleString('en')} events stored`)
    // Once the site is configured, the popup no longer offers to add it.
    expect(await popup.locator('.add-this-site').count()).toBe(0)
    // The simulator's own pages log a favicon 404 in the web tab; only the extension's pages count here.
    const ours = ext.consoleErrors().filter((e) => !e.url.startsWith(sim.url))
    expect(formatConsoleErrors(ours)).toBe('')
  })
})
