// Issue 4's security checks, in Chromium with the chrome-test build and the simulator:
// - a record whose fields hold HTML or script is shown as text, in the list, the detail and the dashboard;
// - secrets (an API token, a personal access token) never reach the DOM after entry, the export, or any
//   console output of the pages and the service worker;
// - the built manifests ask for exactly the permissions docs/ui.md lists.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { ConsoleMessage } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeAtlassian, startFakeAtlassian } from '../fake-atlassian/server'
import { exportFromPopup, fillSiteForm, formStatus, PAGES, popupCounts, waitForSync } from './extension-steps'
import { type ChromiumExtension, ensureBuilt, formatConsoleErrors, launchChromium, REPO_ROOT } from './harness'

const MARKUP = {
  summary: '<img src=x onerror="window.__xss=1">Page <b>archived</b>',
  author: '<script>window.__xss=2</script>Mallory',
  object: '<iframe src="javascript:window.__xss=3"></iframe>',
}

describe('built manifests ask only for the documented permissions', () => {
  const documented = (() => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs/ui.md'), 'utf8')
    const section = doc.split(/^## Permissions$/m)[1]?.split(/^## /m)[0] ?? ''
    return [...section.matchAll(/^\| `([a-zA-Z]+)` \|/gm)].map((m) => m[1]).sort()
  })()
  const manifest = (target: string) =>
    JSON.parse(readFileSync(path.join(REPO_ROOT, 'dist', target, 'manifest.json'), 'utf8')) as {
      permissions?: string[]
      host_permissions?: string[]
      optional_host_permissions?: string[]
    }

  beforeAll(() => ensureBuilt(['chrome', 'chrome-test', 'firefox']))

  it('docs/ui.md lists them', () => {
    expect(documented).toEqual(['activeTab', 'alarms', 'storage', 'unlimitedStorage'])
  })
  it.each(['chrome', 'chrome-test', 'firefox'])(
    '%s: permissions = the documented list, hosts only on request',
    (target) => {
      const m = manifest(target)
      expect([...(m.permissions ?? [])].sort()).toEqual(documented)
      expect(m.optional_host_permissions).toEqual(['https://*/*', 'http://*/*'])
      if (target === 'chrome-test') expect(m.host_permissions).toEqual(['http://127.0.0.1/*', 'http://localhost/*'])
      else expect(m.host_permissions).toBeUndefined()
    },
  )
})

describe('Chromium: markup shows as text, secrets stay out of the DOM, exports and logs', () => {
  let sim: FakeAtlassian
  let ext: ChromiumExtension
  const messages: string[] = []
  let secrets: string[]

  beforeAll(async () => {
    ensureBuilt(['chrome-test'])
    sim = await startFakeAtlassian({
      seed: 21,
      volume: { cloud: 30, 'jira-dc': 30, 'confluence-dc': 2, 'bitbucket-dc': 2, org: 2 },
    })
    secrets = [sim.credentials.apiToken, sim.credentials.pat]
    const [template] = sim.generate('confluence-cloud', 1) as Record<string, unknown>[]
    sim.insert('confluence-cloud', [
      {
        ...template,
        summary: MARKUP.summary,
        author: { ...(template!.author as object), displayName: MARKUP.author, publicName: MARKUP.author },
        affectedObject: { name: MARKUP.object, objectType: 'Page' },
        creationDate: Date.now() - 60_000,
      },
    ])
    ext = await launchChromium()
    // Every console message of every page and of the service worker, whatever its level.
    const record = (msg: ConsoleMessage) => messages.push(`${msg.type()}: ${msg.text()}`)
    ext.context.on('console', record)
    ext.serviceWorker.on('console', record)
  })
  afterAll(async () => {
    await ext?.close()
    await sim?.close()
  })

  it('adds sites with an API token and a personal access token; the page never shows them again', async () => {
    const options = await ext.openPage(PAGES.options)
    const since = new Date().toISOString()
    await fillSiteForm(options, {
      url: sim.sites.cloud.baseUrl,
      product: 'Confluence',
      deployment: 'Cloud',
      auth: 'Email and API token',
      email: sim.credentials.email,
      token: sim.credentials.apiToken,
    })
    await options.getByRole('button', { name: 'Save site' }).click()
    await expect.poll(() => formStatus(options)).toContain('Saved')
    expect(await options.getByLabel('Token').inputValue()).toBe('')
    await options.getByRole('button', { name: 'Close' }).click()
    await fillSiteForm(options, {
      url: sim.sites['jira-dc'].baseUrl,
      product: 'Jira',
      deployment: 'Data Center',
      auth: 'Personal access token',
      token: sim.credentials.pat,
    })
    await options.getByRole('button', { name: 'Save site' }).click()
    await expect.poll(() => formStatus(options)).toContain('Saved')
    await options.getByRole('button', { name: 'Test connection' }).click()
    expect(await formStatus(options)).toContain('Working')

    const status = await waitForSync(ext, since)
    for (const s of status.sites) expect(s.lastResult?.code, s.lastResult?.message).toBe('ok')

    // Editing a site shows that a token is stored, never the token.
    await options.reload()
    await options.getByRole('button', { name: /^Edit .*jira/i }).click()
    expect(await options.getByLabel('Token').inputValue()).toBe('')
    expect(await options.getByLabel('Token').getAttribute('placeholder')).toContain('Stored')
    const html = await options.content()
    for (const secret of secrets) expect(html).not.toContain(secret)
  })

  it('shows a record full of markup as text in the list, the detail and the dashboard', async () => {
    const popup = await ext.openPage(PAGES.popup)
    await expect.poll(() => popupCounts(popup)).toMatch(/events stored/)
    await popup.getByLabel('Search').fill('onerror')
    const row = popup.getByRole('grid').getByRole('row').first()
    await expect.poll(() => row.textContent()).toContain(MARKUP.summary)
    expect(await row.textContent()).toContain(MARKUP.author)
    await row.click()
    await expect.poll(() => popup.getByRole('heading', { level: 2 }).textContent()).toBe(MARKUP.summary)
    const ecs = (await popup.getByTestId('ecs-document').textContent()) ?? ''
    const original = (await popup.getByTestId('original-record').textContent()) ?? ''
    expect(original).toContain(JSON.stringify(MARKUP.object).slice(1, -1))
    expect(ecs).toContain('onerror')
    // Nothing was parsed as markup and nothing ran.
    expect(await popup.locator('img[src="x"], script:not([src]), iframe, b').count()).toBe(0)
    expect(await popup.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined()

    const dashboard = await ext.openPage(`${PAGES.dashboard}?text=onerror`)
    await expect.poll(() => dashboard.getByRole('status').first().textContent()).toMatch(/^1 events/)
    await expect.poll(() => dashboard.locator('.ranked').first().textContent()).toContain(MARKUP.summary)
    expect(await dashboard.locator('img[src="x"], iframe, b').count()).toBe(0)
    expect(await dashboard.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined()
    const html = await dashboard.content()
    for (const secret of secrets) expect(html).not.toContain(secret)
  })

  it('keeps the secrets out of the export and of every console message', async () => {
    const popup = await ext.openPage(PAGES.popup)
    await expect.poll(() => popupCounts(popup)).toMatch(/events stored/)
    const exported = await exportFromPopup(popup)
    expect(exported.lines.length).toBeGreaterThan(30)
    for (const secret of secrets) expect(exported.text).not.toContain(secret)
    for (const secret of secrets) expect(await popup.content()).not.toContain(secret)

    // A failing sync (wrong token) must not echo the token either.
    const options = await ext.openPage(PAGES.options)
    await fillSiteForm(options, {
      url: sim.sites['jira-dc'].baseUrl,
      product: 'Jira',
      deployment: 'Data Center',
      auth: 'Personal access token',
      token: `${sim.credentials.pat}x`,
    })
    await options.getByRole('button', { name: 'Test connection' }).click()
    const refused = await formStatus(options)
    expect(refused).toContain('Sign-in refused')
    expect(refused).not.toContain(sim.credentials.pat)

    const logs = messages.join('\n')
    for (const secret of secrets) expect(logs).not.toContain(secret)
    const errors = formatConsoleErrors(ext.consoleErrors())
    for (const secret of secrets) expect(errors).not.toContain(secret)
  })
})
