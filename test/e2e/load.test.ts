// Issue 2, "What it must show": the built extension loads in Debian Chromium with no console errors in the
// service worker, popup and options page (and the dashboard), and the Firefox build installs in Firefox ESR
// and its popup and options page render without errors. The last block proves that the error collectors
// are not blind, so that "zero errors" above means something.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ChromiumExtension,
  type ConsoleError,
  ensureBuilt,
  type FirefoxExtension,
  formatConsoleErrors,
  launchChromium,
  launchFirefox,
  screenshot,
} from './harness.ts'

// The evaluate() callbacks run inside the browser, where these extension globals exist.
interface ExtensionGlobal {
  runtime: {
    id: string
    getManifest(): { name: string; version: string }
    getBackgroundPage(): Promise<{ console: Console }>
  }
  storage: { local: { get(key: string): Promise<Record<string, unknown>>; set(items: object): Promise<void> } }
}
declare const chrome: ExtensionGlobal
declare const browser: ExtensionGlobal

const PAGES = {
  popup: 'src/extension/popup/index.html',
  options: 'src/extension/options/index.html',
  dashboard: 'src/extension/dashboard/index.html',
} as const

// No error is ignored today: on this machine (no network) neither browser logs anything into the extension's
// own contexts. Firefox's own network noise (remote settings, add-on update checks) goes to its stderr and the
// browser console, which the page listeners never see. If a known-harmless message ever has to be ignored,
// list it here with the reason.
const HARMLESS: readonly { pattern: RegExp; why: string }[] = []
const unexpected = (errors: readonly ConsoleError[]) =>
  errors.filter((e) => !HARMLESS.some((h) => h.pattern.test(e.text)))

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('Chromium: the chrome-test build loads without errors', () => {
  let ext: ChromiumExtension

  beforeAll(async () => {
    ensureBuilt(['chrome-test'])
    ext = await launchChromium()
  })
  afterAll(async () => {
    await ext?.close()
  })

  it('starts the service worker with the extension APIs', async () => {
    expect(ext.serviceWorker.url()).toBe(ext.url('service-worker-loader.js'))
    const seen = await ext.serviceWorker.evaluate(() => ({
      id: chrome.runtime.id,
      version: chrome.runtime.getManifest().version,
    }))
    expect(seen.id).toBe(ext.extensionId)
    expect(seen.version).toMatch(/^\d+\.\d+\.\d+$/)
  })

  for (const [name, pagePath] of Object.entries(PAGES)) {
    it(`renders the ${name} page`, async () => {
      const page = await ext.openPage(pagePath)
      await page.waitForLoadState('networkidle')
      await page.waitForFunction(() => (document.body?.textContent ?? '').trim().length > 0)
      expect(await page.title()).not.toBe('')
      await screenshot(page, `chromium-${name}`)
      await settle(300)
      await page.close()
    })
  }

  it('has logged no error in the service worker or any page', async () => {
    // Give async start-up work (storage, IndexedDB) in the worker time to fail if it is going to.
    await settle(500)
    const errors = unexpected(ext.consoleErrors())
    expect(errors, formatConsoleErrors(errors)).toEqual([])
  })
})

describe('Firefox ESR: the firefox build installs and its pages render without errors', () => {
  let ext: FirefoxExtension

  beforeAll(async () => {
    ensureBuilt(['firefox'])
    ext = await launchFirefox()
  })
  afterAll(async () => {
    await ext?.close()
  })

  for (const [name, pagePath] of Object.entries({ popup: PAGES.popup, options: PAGES.options })) {
    it(`renders the ${name} page`, async () => {
      const page = await ext.openPage(pagePath)
      await ext.waitFor(page, () => (document.body?.textContent ?? '').trim().length > 0)
      const runtime = await page.evaluate(() => ({
        id: browser.runtime.id,
        name: browser.runtime.getManifest().name,
      }))
      expect(runtime.id).toBe(ext.addonId)
      expect(runtime.name).not.toBe('')
      await screenshot(page, `firefox-${name}`)
      await settle(300)
      await page.close()
    })
  }

  it('has logged no error in any page', async () => {
    await settle(300)
    const errors = unexpected(ext.consoleErrors())
    expect(errors, formatConsoleErrors(errors)).toEqual([])
  })

  it('sees errors from pages and the background page (the collector is not blind)', async () => {
    const page = await ext.openPage(PAGES.options)
    await page.evaluate(async () => {
      console.error('e2e-ff-console')
      setTimeout(() => {
        throw new Error('e2e-ff-uncaught')
      }, 0)
      const background = await browser.runtime.getBackgroundPage()
      background.console.error('e2e-ff-background')
    })
    await settle(800)
    const texts = ext.consoleErrors().map((e) => `${e.kind}|${e.url}|${e.text}`)
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^console\.error\|\|"e2e-ff-console"/),
        expect.stringMatching(/^console\.error\|\|"e2e-ff-background"/),
        `uncaught|${ext.url(PAGES.options)}|Error: e2e-ff-uncaught`,
      ]),
    )
  })
})

describe('the harness', () => {
  it('collects Chromium errors from the service worker and pages, and keeps data across a restart', async () => {
    const userDataDir = mkdtempSync(path.join(tmpdir(), 'e2e-relaunch-'))
    const ext = await launchChromium({ userDataDir })
    try {
      await ext.serviceWorker.evaluate(() => {
        console.error('e2e-sw-console')
        setTimeout(() => {
          throw new Error('e2e-sw-uncaught')
        }, 0)
        void Promise.reject(new Error('e2e-sw-rejection'))
      })
      const page = await ext.openPage(PAGES.popup)
      await page.evaluate(() => {
        console.error('e2e-page-console')
        setTimeout(() => {
          throw new Error('e2e-page-uncaught')
        }, 0)
      })
      await settle(500)
      const texts = ext.consoleErrors().map((e) => `${e.source}|${e.kind}|${e.text}`)
      expect(texts).toEqual(
        expect.arrayContaining([
          'service-worker|console.error|e2e-sw-console',
          expect.stringMatching(/^service-worker\|uncaught\|.*e2e-sw-uncaught/),
          expect.stringMatching(/^service-worker\|uncaught\|.*e2e-sw-rejection/),
          'page|console.error|e2e-page-console',
          expect.stringMatching(/^page\|uncaught\|.*e2e-page-uncaught/),
        ]),
      )

      // Stopped as when idle, then started again: a fresh global scope, still observed.
      await ext.serviceWorker.evaluate(() => chrome.storage.local.set({ e2eMark: 42 }))
      await ext.stopServiceWorker()
      const worker = await ext.getServiceWorker()
      expect(await worker.evaluate(() => chrome.runtime.id)).toBe(ext.extensionId)
      ext.clearConsoleErrors()
      await worker.evaluate(() => console.error('e2e-sw-after-restart'))
      await settle(200)
      expect(ext.consoleErrors().map((e) => e.text)).toContain('e2e-sw-after-restart')
    } finally {
      await ext.close()
    }

    // Browser restart: same profile, same extension id, data still there.
    const again = await launchChromium({ userDataDir })
    try {
      expect(again.extensionId).toBe(ext.extensionId)
      const worker = await again.getServiceWorker()
      expect(await worker.evaluate(() => chrome.storage.local.get('e2eMark'))).toEqual({ e2eMark: 42 })
    } finally {
      await again.close()
      rmSync(userDataDir, { recursive: true, force: true })
    }
  })
})
