// Issue 4's smoke test in Firefox ESR (dist/firefox, puppeteer-core over WebDriver BiDi): log in on the
// simulator, add a Cloud site with the browser session and a Data Center site with a token from the options
// page, let them sync, review the events in the popup, filter, open a detail, and render the dashboard.
// Firefox has no host permission for 127.0.0.1 in its build, so this also exercises the options page's
// permission request (the prompt is answered "allow" by a preference, as a user would).
import type { Page } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeAtlassian, startFakeAtlassian } from '../fake-atlassian/server'
import { PAGES } from './extension-steps'
import { ensureBuilt, type FirefoxExtension, formatConsoleErrors, launchFirefox, screenshot } from './harness'

declare const browser: { runtime: { sendMessage(m: unknown): Promise<unknown> } }

interface Status {
  sites: { running: boolean; lastResult?: { code: string; message: string; at: string } }[]
  totalEvents: number
}

/** The id of the control labelled `label` (exact text of its <label>). */
async function controlId(page: Page, label: string): Promise<string> {
  const id = await page.evaluate((text) => {
    const found = [...document.querySelectorAll('label')].find((l) => l.textContent?.trim() === text)
    return found?.htmlFor ?? ''
  }, label)
  if (!id) throw new Error(`no control labelled "${label}"`)
  return `[id="${id}"]`
}

/** Clicks the button whose text is `name` with a real (trusted) click, as permission requests need. */
async function clickButton(page: Page, name: string): Promise<void> {
  const index = await page.evaluate(
    (text) => [...document.querySelectorAll('button')].findIndex((b) => b.textContent?.trim() === text),
    name,
  )
  if (index < 0) throw new Error(`no button "${name}"`)
  const buttons = await page.$$('button')
  await buttons[index]!.click()
}

async function select(page: Page, label: string, optionText: string): Promise<void> {
  const selector = await controlId(page, label)
  const value = await page.evaluate(
    (sel, text) =>
      [...(document.querySelector(sel) as HTMLSelectElement).options].find((o) => o.textContent === text)?.value,
    selector,
    optionText,
  )
  await page.select(selector, value ?? '')
}

async function type(page: Page, label: string, text: string): Promise<void> {
  await page.type(await controlId(page, label), text)
}

describe('Firefox ESR: sites, sync, popup, dashboard', () => {
  let sim: FakeAtlassian
  let ext: FirefoxExtension

  beforeAll(async () => {
    ensureBuilt(['firefox'])
    sim = await startFakeAtlassian({
      seed: 9,
      volume: { cloud: 60, 'jira-dc': 80, 'confluence-dc': 5, 'bitbucket-dc': 5, org: 5 },
    })
    ext = await launchFirefox({ prefs: { 'extensions.webextOptionalPermissionPrompts': false } })
  })
  afterAll(async () => {
    await ext?.close()
    await sim?.close()
  })

  const status = (page: Page) =>
    page
      .evaluate(async () => {
        const env = (await browser.runtime.sendMessage({ type: 'getStatus' })) as { value: unknown }
        return JSON.stringify(env.value)
      })
      .then((s) => JSON.parse(s) as Status)

  it('adds two sites from the options page and syncs them', async () => {
    const login = await ext.browser.newPage()
    await login.goto(`${sim.sites.cloud.baseUrl}/login?user=admin`)
    await login.close()

    const options = await ext.openPage(PAGES.options)
    const since = new Date().toISOString()
    await clickButton(options, 'Add site')
    await ext.waitFor(options, () => Boolean(document.querySelector('form.site-form')))
    await type(options, 'Site URL', sim.sites.cloud.baseUrl)
    await select(options, 'Product', 'Confluence')
    await select(options, 'Deployment', 'Cloud')
    await select(options, 'Authentication', 'Browser session')
    await clickButton(options, 'Test connection')
    await ext.waitFor(
      options,
      () => Boolean(document.querySelector('form.site-form [role="status"] [data-code]')),
      30_000,
    )
    expect(await options.evaluate(() => document.querySelector('[data-code]')?.getAttribute('data-code'))).toBe('ok')
    await clickButton(options, 'Save site')
    await ext.waitFor(options, () =>
      document.querySelector('form.site-form [role="status"]')?.textContent?.includes('Saved'),
    )
    await clickButton(options, 'Close')

    await clickButton(options, 'Add site')
    await ext.waitFor(options, () => Boolean(document.querySelector('form.site-form')))
    await type(options, 'Site URL', sim.sites['jira-dc'].baseUrl)
    await select(options, 'Product', 'Jira')
    await select(options, 'Deployment', 'Data Center')
    await select(options, 'Authentication', 'Personal access token')
    await type(options, 'Token', sim.credentials.pat)
    await clickButton(options, 'Save site')
    await ext.waitFor(options, () =>
      document.querySelector('form.site-form [role="status"]')?.textContent?.includes('Saved'),
    )
    const savedText = await options.evaluate(
      () => document.querySelector('form.site-form [role="status"]')?.textContent,
    )
    expect(savedText).not.toContain('not allowed')
    expect(
      await options.evaluate(() => (document.querySelector('input[type="password"]') as HTMLInputElement).value),
    ).toBe('')
    expect(await options.content()).not.toContain(sim.credentials.pat)

    const deadline = Date.now() + 90_000
    let s = await status(options)
    while (!(s.sites.length === 2 && s.sites.every((x) => !x.running && x.lastResult && x.lastResult.at >= since))) {
      if (Date.now() > deadline) throw new Error(`no sync: ${JSON.stringify(s)}`)
      await new Promise((r) => setTimeout(r, 300))
      s = await status(options)
    }
    for (const site of s.sites) expect(site.lastResult?.code, site.lastResult?.message).toBe('ok')
    const served = new Set([
      ...sim.served().identities('confluence-cloud'),
      ...sim.served().identities('confluence-cloud-since'),
      ...sim.served().identities('jira-dc'),
    ])
    expect(s.totalEvents).toBe(served.size)
    await screenshot(options, 'firefox-options')
    await options.close()
  })

  it('shows, filters and details the events in the popup', async () => {
    const popup = await ext.openPage(PAGES.popup)
    const total = await ext.waitFor(popup, () => {
      const m = document.querySelector('footer [role="status"]')?.textContent?.match(/^([\d,]+) events stored/)
      return m ? Number(m[1].replace(/,/g, '')) : 0
    })
    expect(total).toBeGreaterThan(50)
    const rows = await ext.waitFor(popup, () => document.querySelectorAll('[role="grid"] tr').length)
    expect(rows).toBeGreaterThan(3)
    expect(rows).toBeLessThan(40)
    await screenshot(popup, 'firefox-popup')

    await select(popup, 'Product', 'Jira')
    const filtered = await ext.waitFor(popup, () => {
      const m = document.querySelector('footer [role="status"]')?.textContent?.match(/^([\d,]+)\+? matching/)
      return m ? Number(m[1].replace(/,/g, '')) : 0
    })
    expect(filtered).toBeGreaterThan(0)
    expect(filtered).toBeLessThan(total)

    const rowHandles = await popup.$$('[role="grid"] tr')
    await rowHandles[0]!.click()
    const ecs = await ext.waitFor(popup, () => document.querySelector('[data-testid="ecs-document"]')?.textContent)
    expect(JSON.parse(ecs ?? '{}').event.module).toBe('atlassian_jira')
    await screenshot(popup, 'firefox-popup-detail')
    await popup.close()
  })

  it('renders the dashboard without errors', async () => {
    const dashboard = await ext.openPage(PAGES.dashboard)
    await ext.waitFor(dashboard, () => /\d+ events/.test(document.querySelector('[role="status"]')?.textContent ?? ''))
    expect(await dashboard.evaluate(() => document.querySelectorAll('.ranked li').length)).toBeGreaterThan(3)
    expect(await dashboard.evaluate(() => document.querySelectorAll('canvas').length)).toBeGreaterThan(0)
    await screenshot(dashboard, 'firefox-dashboard')
    expect(formatConsoleErrors(ext.consoleErrors())).toBe('')
  })
})
