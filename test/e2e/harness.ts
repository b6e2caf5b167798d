// Real-browser harness for end-to-end tests and benchmarks: Debian Chromium through playwright-core and
// Firefox ESR through puppeteer-core over WebDriver BiDi. How to use it: test/e2e/README.md.
// The launch flags and the Firefox workarounds come from ../shared/docs/extension-engineering.md §3 and §4,
// where each was tried on this machine.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BrowserContext, type CDPSession, chromium, type Page, type Worker } from 'playwright-core'
import puppeteer, { type Browser as FirefoxBrowser, type Page as FirefoxPage } from 'puppeteer-core'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export type BuildTarget = 'chrome' | 'chrome-test' | 'firefox' | 'cli'

export interface ConsoleError {
  /**
   * 'service-worker': Chromium's background; 'page': a Chromium tab (extension or web page); 'extension': any
   * Firefox content or extension context (background page or tab), which Firefox's output does not tell apart.
   */
  source: 'service-worker' | 'page' | 'extension'
  /** 'console.error', 'console.assert', 'uncaught' (exception or unhandled rejection), 'browser' (a browser log entry) */
  kind: 'console.error' | 'console.assert' | 'uncaught' | 'browser'
  url: string
  text: string
}

export function formatConsoleErrors(errors: readonly ConsoleError[]): string {
  return errors.map((e) => `[${e.source} ${e.kind}] ${e.url}: ${e.text}`).join('\n')
}

// ---------------------------------------------------------------------------------------------------------
// Build

const BUILD_OUTPUT: Record<BuildTarget, string> = {
  chrome: 'dist/chrome/manifest.json',
  'chrome-test': 'dist/chrome-test/manifest.json',
  firefox: 'dist/firefox/manifest.json',
  cli: 'dist/cli/atlassian-audit.mjs',
}
const BUILD_INPUTS = ['src', 'public', 'manifest.json', 'vite.config.ts', 'package.json', 'scripts/build.mjs']

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0
  const st = statSync(p)
  if (!st.isDirectory()) return st.mtimeMs
  let newest = st.mtimeMs
  for (const entry of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)))
  return newest
}

/** Targets whose output is missing or older than any build input (src/, public/, manifest.json, configs). */
export function staleTargets(targets: readonly BuildTarget[]): BuildTarget[] {
  const inputs = Math.max(...BUILD_INPUTS.map((p) => newestMtime(path.join(REPO_ROOT, p))))
  return targets.filter((t) => {
    const out = path.join(REPO_ROOT, BUILD_OUTPUT[t])
    const zip = t === 'chrome' || t === 'firefox' ? path.join(REPO_ROOT, `dist/${t}.zip`) : out
    return !existsSync(out) || !existsSync(zip) || statSync(out).mtimeMs < inputs
  })
}

/**
 * Builds the targets that are missing or stale, so that `npx vitest run test/e2e/x.test.ts` works on its own.
 * dist/ is shared by everyone working in the tree, so the build runs under /tmp/build.lock (see notes/COMMON.md).
 */
export function ensureBuilt(targets: readonly BuildTarget[]): void {
  const stale = staleTargets(targets)
  if (stale.length === 0) return
  try {
    execFileSync('flock', ['/tmp/build.lock', 'node', 'scripts/build.mjs', ...stale], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
      encoding: 'utf8',
    })
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string }
    throw new Error(`build of ${stale.join(', ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`)
  }
}

/**
 * Copies a built extension to `dest` while holding the build lock shared, so that a rebuild by someone else
 * (which empties dist/<target>) cannot change the files under a running browser.
 */
function snapshotExtension(srcDir: string, dest: string): void {
  if (!existsSync(path.join(srcDir, 'manifest.json'))) {
    throw new Error(`no built extension in ${srcDir}: run \`node scripts/build.mjs\` or call ensureBuilt() first`)
  }
  execFileSync('flock', ['-s', '/tmp/build.lock', 'sh', '-c', 'rm -rf "$2" && cp -R "$1" "$2"', 'sh', srcDir, dest], {
    stdio: 'pipe',
  })
}

// ---------------------------------------------------------------------------------------------------------
// Screenshots

export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results/screenshots')

/** Saves a PNG of the page (Playwright or puppeteer) to test-results/screenshots/<name>.png and returns its path. */
export async function screenshot(
  page: { screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown> },
  name: string,
): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`)
  await page.screenshot({ path: file, fullPage: true })
  return file
}

// ---------------------------------------------------------------------------------------------------------
// Chromium

const CHROMIUM_CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium']

export function chromiumExecutable(): string {
  const found = CHROMIUM_CANDIDATES.find((p) => existsSync(p))
  if (!found) {
    throw new Error(
      `Chromium not found (looked for ${CHROMIUM_CANDIDATES.join(', ')}). Install it: apt-get update && apt-get install -y chromium`,
    )
  }
  return found
}

/** Chromium's id for an unpacked extension: sha256 of its absolute path, first 32 hex digits mapped 0-f → a-p. */
export function unpackedExtensionId(absoluteDir: string): string {
  const hex = createHash('sha256').update(absoluteDir).digest('hex').slice(0, 32)
  return [...hex].map((c) => String.fromCharCode(97 + Number.parseInt(c, 16))).join('')
}

export interface LaunchChromiumOptions {
  /** Built extension to load, relative to the repo root or absolute. Default dist/chrome-test. */
  extDir?: string
  /**
   * Profile directory. Pass the same one to a later launch to simulate a browser restart: the extension keeps
   * its id and its data (IndexedDB, storage.local). When omitted a temporary profile is made and deleted on close().
   */
  userDataDir?: string
  headless?: boolean
  /** Extra Chromium flags. */
  args?: string[]
  /** How long to wait for the service worker at launch. Default 15 s. */
  serviceWorkerTimeoutMs?: number
}

export interface ChromiumExtension {
  context: BrowserContext
  extensionId: string
  /** The copy of the extension that the browser loaded (inside the profile directory). */
  extensionDir: string
  userDataDir: string
  /** The service worker found at launch (stays usable after the worker is stopped and started again). */
  serviceWorker: Worker
  /** chrome-extension://<id>/<path> */
  url(extensionPath: string): string
  /** Opens an extension page (e.g. 'src/extension/popup/index.html') in a new tab and waits for its load event. */
  openPage(extensionPath: string): Promise<Page>
  /** The running service worker; starts it first when it is stopped. */
  getServiceWorker(): Promise<Worker>
  /** Stops the service worker as Chromium does when it is idle (the next event or getServiceWorker() starts it). */
  stopServiceWorker(): Promise<void>
  /** Errors seen so far in the service worker and in every page of the context. */
  consoleErrors(): ConsoleError[]
  clearConsoleErrors(): void
  close(): Promise<void>
}

interface CdpRemoteObject {
  type?: string
  value?: unknown
  description?: string
}
interface CdpExceptionDetails {
  text?: string
  url?: string
  exception?: CdpRemoteObject
}

function describeRemoteObject(o: CdpRemoteObject): string {
  if (o.type === 'string') return String(o.value)
  if (o.description !== undefined) return o.description
  return JSON.stringify(o.value)
}

/**
 * Playwright reports a service worker's console calls but not its uncaught exceptions or unhandled rejections.
 * So a second DevTools session is attached to the worker target (the old non-flat protocol, because Playwright's
 * CDPSession cannot address a child session). Runtime.enable replays what happened before attaching, so errors
 * from the worker's start-up are caught too; the attachment survives the worker being stopped and restarted.
 */
async function watchServiceWorkerErrors(
  context: BrowserContext,
  extensionId: string,
  sink: (e: ConsoleError) => void,
): Promise<CDPSession> {
  const browser = context.browser()
  if (!browser) throw new Error('playwright did not expose the browser of the persistent context')
  const cdp = await browser.newBrowserCDPSession()
  const attached = new Set<string>()
  const prefix = `chrome-extension://${extensionId}/`
  const attach = async (targetId: string) => {
    if (attached.has(targetId)) return
    attached.add(targetId)
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: false })
    let nextId = 1
    for (const method of ['Runtime.enable', 'Log.enable']) {
      await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: nextId++, method }) })
    }
  }
  cdp.on('Target.receivedMessageFromTarget', (event) => {
    const msg = JSON.parse(event.message) as { method?: string; params?: Record<string, unknown> }
    const params = msg.params ?? {}
    if (msg.method === 'Runtime.exceptionThrown') {
      const details = params.exceptionDetails as CdpExceptionDetails
      const what = details.exception ? describeRemoteObject(details.exception) : ''
      sink({
        source: 'service-worker',
        kind: 'uncaught',
        url: details.url ?? prefix,
        text: `${details.text ?? 'Uncaught'} ${what}`.trim(),
      })
    } else if (msg.method === 'Runtime.consoleAPICalled' && (params.type === 'error' || params.type === 'assert')) {
      const args = (params.args as CdpRemoteObject[] | undefined) ?? []
      sink({
        source: 'service-worker',
        kind: params.type === 'error' ? 'console.error' : 'console.assert',
        url: prefix,
        text: args.map(describeRemoteObject).join(' '),
      })
    } else if (msg.method === 'Log.entryAdded') {
      const entry = params.entry as { level?: string; text?: string; url?: string }
      if (entry.level === 'error')
        sink({ source: 'service-worker', kind: 'browser', url: entry.url ?? prefix, text: entry.text ?? '' })
    }
  })
  cdp.on('Target.targetCreated', (event) => {
    const info = event.targetInfo
    if (info.type === 'service_worker' && info.url.startsWith(prefix)) void attach(info.targetId).catch(() => {})
  })
  await cdp.send('Target.setDiscoverTargets', { discover: true })
  const { targetInfos } = await cdp.send('Target.getTargets')
  for (const info of targetInfos) {
    if (info.type === 'service_worker' && info.url.startsWith(prefix)) await attach(info.targetId)
  }
  return cdp
}

export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<ChromiumExtension> {
  const executablePath = chromiumExecutable()
  const sourceDir = path.resolve(REPO_ROOT, options.extDir ?? 'dist/chrome-test')
  const ownsProfile = options.userDataDir === undefined
  const userDataDir = path.resolve(options.userDataDir ?? mkdtempSync(path.join(tmpdir(), 'e2e-chromium-')))
  mkdirSync(userDataDir, { recursive: true })
  // A fixed path inside the profile keeps the extension id (derived from the path) across relaunches.
  const extensionDir = path.join(userDataDir, 'e2e-extension')
  snapshotExtension(sourceDir, extensionDir)
  const extensionId = unpackedExtensionId(extensionDir)

  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: options.headless ?? true,
    args: [
      // Playwright always passes --disable-extensions; --disable-extensions-except overrides it (§3.1).
      `--disable-extensions-except=${extensionDir}`,
      `--load-extension=${extensionDir}`,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(options.args ?? []),
    ],
  })

  const errors: ConsoleError[] = []
  const closeOnFailure = async (err: unknown): Promise<never> => {
    await context.close().catch(() => {})
    if (ownsProfile) rmSync(userDataDir, { recursive: true, force: true })
    throw err
  }

  const isOurWorker = (w: Worker) => w.url().startsWith(`chrome-extension://${extensionId}/`)
  let serviceWorker: Worker
  let cdp: CDPSession
  try {
    serviceWorker =
      context.serviceWorkers().find(isOurWorker) ??
      (await context.waitForEvent('serviceworker', {
        predicate: isOurWorker,
        timeout: options.serviceWorkerTimeoutMs ?? 15_000,
      }))
    cdp = await watchServiceWorkerErrors(context, extensionId, (e) => errors.push(e))
  } catch (err) {
    return closeOnFailure(
      new Error(`the extension's service worker did not start (${String(err)}); is ${sourceDir} a valid build?`),
    )
  }

  // Page console messages and page errors; the worker's own are collected over CDP above.
  context.on('console', (msg) => {
    if (msg.worker() !== null) return
    const type = msg.type()
    if (type !== 'error' && type !== 'assert') return
    errors.push({
      source: 'page',
      kind: type === 'error' ? 'console.error' : 'console.assert',
      url: msg.location().url || msg.page()?.url() || '',
      text: msg.text(),
    })
  })
  context.on('weberror', (webError) => {
    const error = webError.error()
    errors.push({
      source: 'page',
      kind: 'uncaught',
      url: webError.page()?.url() ?? '',
      text: `${error.name}: ${error.message}`,
    })
  })

  const url = (extensionPath: string) => `chrome-extension://${extensionId}/${extensionPath.replace(/^\/+/, '')}`

  // The ServiceWorker DevTools domain of an extension page (it sees the workers of the page's storage partition,
  // which is the extension's). Chromium reports each change of the worker's running status as an event.
  let swControl: { page: Page; session: CDPSession } | undefined
  let workerStatus: string | undefined
  const serviceWorkerControl = async () => {
    if (swControl && !swControl.page.isClosed()) return swControl.session
    const page = await context.newPage()
    await page.goto(url('manifest.json'))
    const session = await context.newCDPSession(page)
    session.on('ServiceWorker.workerVersionUpdated', (e) => {
      for (const v of e.versions) if (v.scriptURL.startsWith(url(''))) workerStatus = v.runningStatus
    })
    await session.send('ServiceWorker.enable')
    swControl = { page, session }
    return session
  }
  const waitForWorkerStatus = async (wanted: string, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs
    while (workerStatus !== wanted) {
      if (Date.now() > deadline) throw new Error(`service worker is ${workerStatus ?? 'unknown'}, wanted ${wanted}`)
      await sleep(50)
    }
  }

  return {
    context,
    extensionId,
    extensionDir,
    userDataDir,
    serviceWorker,
    url,
    async openPage(extensionPath) {
      const page = await context.newPage()
      await page.goto(url(extensionPath), { waitUntil: 'load' })
      return page
    },
    async getServiceWorker() {
      const session = await serviceWorkerControl()
      await waitForWorkerStatus('running', 500).catch(async () => {
        await session.send('ServiceWorker.startWorker', { scopeURL: url('') })
        await waitForWorkerStatus('running')
      })
      // Playwright keeps one Worker per target and the target outlives a stop/start while DevTools is attached.
      return (
        context.serviceWorkers().find(isOurWorker) ??
        (await context.waitForEvent('serviceworker', { predicate: isOurWorker, timeout: 15_000 }))
      )
    },
    async stopServiceWorker() {
      const session = await serviceWorkerControl()
      await session.send('ServiceWorker.stopAllWorkers')
      await waitForWorkerStatus('stopped')
    },
    consoleErrors: () => [...errors],
    clearConsoleErrors: () => {
      errors.length = 0
    },
    async close() {
      try {
        await cdp.detach().catch(() => {})
        await context.close()
      } finally {
        if (ownsProfile) rmSync(userDataDir, { recursive: true, force: true })
      }
    },
  }
}

// ---------------------------------------------------------------------------------------------------------
// Firefox

const FIREFOX_CANDIDATES = ['/usr/bin/firefox-esr', '/usr/lib/firefox-esr/firefox-esr']

export function firefoxExecutable(): string {
  const found = FIREFOX_CANDIDATES.find((p) => existsSync(p))
  if (!found) {
    throw new Error(
      `Firefox ESR not found (looked for ${FIREFOX_CANDIDATES.join(', ')}). Install it: apt-get update && apt-get install -y firefox-esr`,
    )
  }
  return found
}

/** Fixed moz-extension host, so tests know the extension's URLs (Firefox picks a random one per install). */
export const FIREFOX_EXTENSION_UUID = '6f1c3c1e-0000-4000-8000-00000000a0d1'

export interface LaunchFirefoxOptions {
  /** Built extension, relative to the repo root or absolute. Default dist/firefox. */
  extDir?: string
  headless?: boolean
  /** Extra Firefox preferences. */
  prefs?: Record<string, unknown>
}

export interface FirefoxExtension {
  browser: FirefoxBrowser
  /** browser_specific_settings.gecko.id of the built manifest */
  addonId: string
  /** moz-extension://<uuid>/<path> */
  url(extensionPath: string): string
  /** Opens an extension page in a new tab and waits until it has loaded (fire and poll, see extGoto). */
  openPage(extensionPath: string): Promise<FirefoxPage>
  /** Navigates a tab to a moz-extension:// URL. */
  extGoto(page: FirefoxPage, url: string, timeoutMs?: number): Promise<void>
  /**
   * Polls `fn` in the page until it returns a truthy value. Use instead of waitForSelector/waitForFunction, which
   * build their poller with Function() and the extension CSP blocks that on ESR 140 (§4.3).
   */
  waitFor<T>(page: FirefoxPage, fn: () => T, timeoutMs?: number): Promise<T>
  /** console.error/assert calls and uncaught errors so far, in the background page and every tab. */
  consoleErrors(): ConsoleError[]
  clearConsoleErrors(): void
  close(): Promise<void>
}

/**
 * BiDi delivers no console or error events for moz-extension:// contexts (puppeteer's page 'console' and
 * 'pageerror' stay silent there, checked on ESR 153), so errors are read from Firefox's own output instead:
 * with devtools.console.stdout.content, console calls of content and extension processes (extension pages and
 * the background page alike) go to stdout as `console.error: "text" …`, and every uncaught exception or
 * unhandled rejection goes to stderr as `JavaScript error: <url>, line <n>: <message>`. Only errors whose URL
 * is a web or extension page count; Firefox's own chrome:// and resource:// code reports its offline noise
 * the same way. Console lines carry no URL, so their url is ''.
 */
function collectFirefoxErrors(browser: FirefoxBrowser): ConsoleError[] {
  const errors: ConsoleError[] = []
  const proc = browser.process()
  if (!proc?.stdout || !proc.stderr) throw new Error('puppeteer did not expose the Firefox process output')
  const eachLine = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
    let pending = ''
    stream.on('data', (chunk: Buffer | string) => {
      pending += chunk.toString()
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) onLine(line)
    })
  }
  eachLine(proc.stdout, (line) => {
    const m = /^console\.(error|assert): (.*)$/.exec(line)
    if (m)
      errors.push({
        source: 'extension',
        kind: m[1] === 'error' ? 'console.error' : 'console.assert',
        url: '',
        text: m[2],
      })
  })
  eachLine(proc.stderr, (line) => {
    const m = /^JavaScript error: ((?:moz-extension|https?):\/\/[^,]*), line \d+: (.*)$/.exec(line)
    if (m) errors.push({ source: 'extension', kind: 'uncaught', url: m[1], text: m[2] })
  })
  return errors
}

export async function launchFirefox(options: LaunchFirefoxOptions = {}): Promise<FirefoxExtension> {
  const executablePath = firefoxExecutable()
  const sourceDir = path.resolve(REPO_ROOT, options.extDir ?? 'dist/firefox')
  const workDir = mkdtempSync(path.join(tmpdir(), 'e2e-firefox-'))
  const profileDir = path.join(workDir, 'profile')
  const extensionDir = path.join(workDir, 'extension')
  mkdirSync(profileDir)
  let browser: FirefoxBrowser | undefined
  try {
    // Firefox reads a temporary add-on's files from disk while it runs, so it gets a private copy.
    snapshotExtension(sourceDir, extensionDir)
    const manifest = JSON.parse(readFileSync(path.join(extensionDir, 'manifest.json'), 'utf8')) as {
      browser_specific_settings?: { gecko?: { id?: string } }
    }
    const addonId = manifest.browser_specific_settings?.gecko?.id
    if (!addonId) throw new Error(`${sourceDir}/manifest.json has no browser_specific_settings.gecko.id`)

    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath,
      headless: options.headless ?? true,
      userDataDir: profileDir,
      // BiDi refuses to navigate to moz-extension:// without it (§4.3 (1)).
      args: ['--remote-allow-system-access'],
      extraPrefsFirefox: {
        // Content and extension processes print their console calls to stdout (see collectFirefoxErrors).
        'devtools.console.stdout.content': true,
        'extensions.webextensions.uuids': JSON.stringify({ [addonId]: FIREFOX_EXTENSION_UUID }),
        ...options.prefs,
      },
    })
    const errors = collectFirefoxErrors(browser)
    await browser.installExtension(extensionDir)

    const url = (extensionPath: string) =>
      `moz-extension://${FIREFOX_EXTENSION_UUID}/${extensionPath.replace(/^\/+/, '')}`
    // BiDi sends no navigation events for moz-extension pages, so goto() never resolves and page.url() stays
    // about:blank; evaluate() works, so fire the navigation and poll location and readyState (§4.3 (3)).
    const extGoto = async (page: FirefoxPage, target: string, timeoutMs = 15_000) => {
      await page.goto(target, { timeout: 1500 }).catch(() => {})
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        const state = await page
          .evaluate(() => [location.href, document.readyState] as const)
          .catch(() => ['', ''] as const)
        if (state[0] === target && state[1] === 'complete') return
        await sleep(100)
      }
      throw new Error(`extension page did not load: ${target}`)
    }
    const waitFor = async <T>(page: FirefoxPage, fn: () => T, timeoutMs = 15_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const value = (await page.evaluate(fn).catch(() => undefined)) as T | undefined
        if (value) return value
        if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${fn.toString()}`)
        await sleep(100)
      }
    }
    const launched = browser
    return {
      browser: launched,
      addonId,
      url,
      extGoto,
      waitFor,
      async openPage(extensionPath) {
        const page = await launched.newPage()
        // ESR 140 lacks the BiDi command behind setViewport; the default viewport is fine then (§4.3).
        await page.setViewport({ width: 800, height: 600 }).catch(() => {})
        await extGoto(page, url(extensionPath))
        return page
      },
      consoleErrors: () => [...errors],
      clearConsoleErrors: () => {
        errors.length = 0
      },
      async close() {
        try {
          await launched.close()
        } finally {
          rmSync(workDir, { recursive: true, force: true })
        }
      },
    }
  } catch (err) {
    await browser?.close().catch(() => {})
    rmSync(workDir, { recursive: true, force: true })
    throw err
  }
}
