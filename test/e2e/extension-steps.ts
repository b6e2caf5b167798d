// Steps the extension end-to-end tests share: driving the options page and popup by their accessible names,
// waiting for the background, reading a download. Playwright (Chromium) only; the Firefox test has its own.
import { readFileSync } from 'node:fs'
import type { Page, Worker } from 'playwright-core'
import { expect } from 'vitest'
import type { ChromiumExtension } from './harness.ts'

export const PAGES = {
  popup: 'src/extension/popup/index.html',
  options: 'src/extension/options/index.html',
  dashboard: 'src/extension/dashboard/index.html',
} as const

export interface SiteInput {
  url: string
  product: 'Confluence' | 'Jira' | 'Bitbucket' | 'Atlassian organization'
  deployment: 'Cloud' | 'Data Center'
  auth:
    | 'Browser session'
    | 'Email and API token'
    | 'Scoped API token'
    | 'Personal access token'
    | 'Organization API key'
  email?: string
  token?: string
  orgId?: string
  /** Scoped API token: the "API gateway" field (left empty when undefined). */
  gateway?: string
}

/** Fills the options page's site form (opening it with "Add site" first). */
export async function fillSiteForm(page: Page, site: SiteInput): Promise<void> {
  await page.getByRole('button', { name: 'Add site' }).click()
  await page.getByLabel('Site URL').fill(site.url)
  await page.getByLabel('Product').selectOption({ label: site.product })
  await page.getByLabel('Deployment').selectOption({ label: site.deployment })
  await page.getByLabel('Authentication').selectOption({ label: site.auth })
  if (site.email !== undefined) await page.getByLabel('Email').fill(site.email)
  if (site.orgId !== undefined) await page.getByLabel('Organization ID').fill(site.orgId)
  if (site.gateway !== undefined) await page.getByLabel('API gateway').fill(site.gateway)
  if (site.token !== undefined) await page.getByLabel('Token').fill(site.token)
}

/** The text of the site form's role=status region once it holds a result. */
export async function formStatus(page: Page): Promise<string> {
  const status = page.locator('form.site-form [role="status"]')
  await expect
    .poll(async () => (await status.textContent())?.replace('Working…', '').trim() ?? '', { timeout: 30_000 })
    .not.toBe('')
  return (await status.textContent()) ?? ''
}

interface Envelope<T> {
  ok: boolean
  value?: T
  error?: { code: string; message: string }
}

/** Sends a protocol message straight to the background (its test hook) and unwraps the answer. */
export async function background<T>(ext: ChromiumExtension, message: object): Promise<T> {
  const sw: Worker = await ext.getServiceWorker()
  const env = (await sw.evaluate(
    (m) => (globalThis as unknown as { __handle(m: unknown): Promise<unknown> }).__handle(m),
    message,
  )) as Envelope<T>
  if (!env.ok)
    throw new Error(`background refused ${JSON.stringify(message)}: ${env.error?.code} ${env.error?.message}`)
  return env.value as T
}

export interface StatusReport {
  sites: {
    siteId: string
    running: boolean
    lastResult?: { code: string; message: string; added: number; at: string }
    events: number
  }[]
  totalEvents: number
  unseen: number
}

/** Waits until every site has a result newer than `since` and none is running. */
export async function waitForSync(ext: ChromiumExtension, since: string, timeoutMs = 90_000): Promise<StatusReport> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const status = await background<StatusReport>(ext, { type: 'getStatus' })
    const done = status.sites.every((s) => !s.running && s.lastResult && s.lastResult.at >= since)
    if (done && status.sites.length > 0) return status
    if (Date.now() > deadline) throw new Error(`sync did not finish: ${JSON.stringify(status)}`)
    await new Promise((r) => setTimeout(r, 300))
  }
}

/** The popup's role=status count line. */
export async function popupCounts(popup: Page): Promise<string> {
  return (await popup.locator('footer [role="status"]').textContent()) ?? ''
}

/** Clicks "Export NDJSON" and returns the downloaded file's lines, parsed. */
export async function exportFromPopup(
  popup: Page,
): Promise<{ lines: unknown[]; text: string; filename: string; url: string }> {
  const downloading = popup.waitForEvent('download', { timeout: 60_000 })
  await popup.getByRole('button', { name: 'Export NDJSON' }).click()
  const download = await downloading
  const file = await download.path()
  const text = readFileSync(file, 'utf8')
  const lines = text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown)
  return { lines, text, filename: download.suggestedFilename(), url: download.url() }
}

/** Every row currently rendered in the popup's grid, as its text. */
export async function visibleRows(popup: Page): Promise<string[]> {
  return popup.getByRole('grid').getByRole('row').allTextContents()
}
