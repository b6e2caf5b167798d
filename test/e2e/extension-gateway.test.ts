// The two sign-ins that go through the Atlassian API gateway, end to end in Debian Chromium (chrome-test
// build): a Jira Cloud site with a scoped API token, whose requests go to the gateway set in the site form
// (https://api.atlassian.com unless the admin enters another), and the organization audit log with an
// organization API key, whose site URL is its gateway. Here both gateways are the simulator's.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeAtlassian, startFakeAtlassian } from '../fake-atlassian/server'
import { background, fillSiteForm, formStatus, PAGES, type StatusReport, waitForSync } from './extension-steps'
import { type ChromiumExtension, ensureBuilt, formatConsoleErrors, launchChromium } from './harness'

describe('Chromium: scoped token and organization API key through the gateway', () => {
  let sim: FakeAtlassian
  let ext: ChromiumExtension
  let profile: string

  beforeAll(async () => {
    ensureBuilt(['chrome-test'])
    sim = await startFakeAtlassian({ seed: 9, volume: { cloud: 60, org: 40 } })
    profile = mkdtempSync(path.join(tmpdir(), 'e2e-gateway-chromium-'))
    ext = await launchChromium({ userDataDir: profile })
  })
  afterAll(async () => {
    await ext?.close()
    await sim?.close()
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  it('tests, saves and syncs both, sending each secret only through the gateway', async () => {
    const options = await ext.openPage(PAGES.options)
    const since = new Date().toISOString()

    await fillSiteForm(options, {
      url: sim.sites.cloud.baseUrl,
      product: 'Jira',
      deployment: 'Cloud',
      auth: 'Scoped API token',
      email: sim.credentials.email,
      token: sim.credentials.scopedToken,
      gateway: sim.gatewayUrl,
    })
    await options.getByRole('button', { name: 'Test connection' }).click()
    expect(await formStatus(options)).toContain('Working')
    await options.getByRole('button', { name: 'Save site' }).click()
    await expect.poll(() => formStatus(options)).toContain('Saved')
    await options.getByRole('button', { name: 'Close' }).click()

    await fillSiteForm(options, {
      url: sim.gatewayUrl,
      product: 'Atlassian organization',
      deployment: 'Cloud',
      auth: 'Organization API key',
      orgId: sim.orgId,
      token: sim.credentials.orgKey,
    })
    await options.getByRole('button', { name: 'Test connection' }).click()
    expect(await formStatus(options)).toContain('Working')
    await options.getByRole('button', { name: 'Save site' }).click()
    await expect.poll(() => formStatus(options)).toContain('Saved')
    await options.getByRole('button', { name: 'Close' }).click()

    const status: StatusReport = await waitForSync(ext, since)
    expect(status.sites).toHaveLength(2)
    for (const s of status.sites) expect(s.lastResult?.code, s.lastResult?.message).toBe('ok')
    const served = sim.served()
    const jira = served.identities('jira-cloud').size
    const org = new Set([...served.identities('org-events-stream'), ...served.identities('org-events')]).size
    // (the first sync reads the default look-back window, so a few generated records may be older than it)
    expect(jira).toBeGreaterThan(sim.records('jira-cloud').length * 0.8)
    expect(org).toBeGreaterThan(sim.records('org').length * 0.8)
    expect(status.totalEvents).toBe(jira + org)

    // Every audit request went through the gateway, and no secret was ever sent to the site itself.
    const audit = sim.requests().filter((r) => r.records !== undefined)
    expect(audit.length).toBeGreaterThan(0)
    for (const r of audit) expect(r.via, r.path).toBe('gateway')
    const direct = sim.requests().filter((r) => r.via !== 'gateway')
    expect(direct.map((r) => r.api)).toContain('tenant-info')
    for (const r of direct) expect(r.hasAuthorization || r.hasCookies, `${r.path} ${r.credential}`).toBe(false)

    // The saved scoped site shows its gateway again when edited; no secret is in the page.
    const sites = await background<{ gateway?: string; auth: string }[]>(ext, { type: 'listSites' })
    expect(sites.find((s) => s.auth === 'scoped')?.gateway).toBe(sim.gatewayUrl)
    const html = await options.content()
    for (const secret of [sim.credentials.scopedToken, sim.credentials.orgKey]) expect(html).not.toContain(secret)
    expect(formatConsoleErrors(ext.consoleErrors())).toBe('')
    await options.close()
  })
})
