#!/usr/bin/env node
// npm run demo: see the collector working against the Atlassian simulator in about a minute.
//   1. builds the extension (chrome-test: may reach 127.0.0.1 without a prompt) and the CLI;
//   2. starts the simulator (realistic data for Confluence, Jira, Bitbucket and an organization);
//   3. `atlassian-audit fetch` of the Jira Data Center site into an NDJSON file;
//   4. Chromium with the extension and two sites already added (a Confluence Cloud site signed in with the
//      browser session, a Jira Data Center site with a personal access token), synced.
// With a display it leaves the browser open on the popup and the dashboard until Ctrl+C. Without one
// ($DISPLAY unset) it runs headless, exports an NDJSON file from the popup, saves a screenshot of the popup
// and the dashboard, prints where they are, and exits 0.
// Outputs go to demo-output/ (or $DEMO_OUT).
import { spawn, spawnSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const OUT = path.resolve(process.env.DEMO_OUT ?? path.join(ROOT, 'demo-output'))
const HEADLESS = !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY
const POPUP = 'src/extension/popup/index.html'
const DASHBOARD = 'src/extension/dashboard/index.html'
const OPTIONS = 'src/extension/options/index.html'

const say = (line) => process.stdout.write(`${line}\n`)
const step = (line) => say(`\n▶ ${line}`)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const cleanups = []
async function cleanup() {
  while (cleanups.length)
    await cleanups
      .pop()()
      .catch(() => {})
}

function build() {
  step('Building the extension (chrome-test) and the CLI')
  // dist/ may be shared with other builds on this machine: take the same lock they take, when there is one.
  const hasFlock = spawnSync('sh', ['-c', 'command -v flock'], { stdio: 'ignore' }).status === 0
  const [cmd, args] = hasFlock
    ? ['flock', ['/tmp/build.lock', 'node', 'scripts/build.mjs', 'chrome-test', 'cli']]
    : ['node', ['scripts/build.mjs', 'chrome-test', 'cli']]
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' })
  if (r.status !== 0) throw new Error('the build failed (see above)')
}

async function startSimulator() {
  step('Starting the Atlassian simulator')
  const child = spawn('npx', ['--no-install', 'tsx', 'scripts/demo-simulator.ts'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  cleanups.push(async () => {
    child.stdin.end()
    const exited = new Promise((r) => child.once('exit', r))
    const timer = setTimeout(() => child.kill('SIGTERM'), 3000)
    await exited
    clearTimeout(timer)
  })
  const line = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout })
    rl.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`the simulator exited (code ${code}) before it was ready`)))
    setTimeout(() => reject(new Error('the simulator did not start within 60 s')), 60_000)
  })
  const sim = JSON.parse(line)
  say(`  simulator at ${sim.url}  (Cloud ${sim.sites.cloud.baseUrl}, Jira DC ${sim.sites['jira-dc'].baseUrl})`)
  return sim
}

async function cliFetch(sim) {
  step('atlassian-audit fetch (Jira Data Center, personal access token) → NDJSON file')
  const file = path.join(OUT, 'cli-fetch-jira-dc.ndjson')
  const out = createWriteStream(file)
  const child = spawn(
    process.execPath,
    [
      'bin/atlassian-audit.mjs',
      'fetch',
      '--site',
      sim.sites['jira-dc'].baseUrl,
      '--product',
      'jira',
      '--deployment',
      'dc',
      '--auth',
      'pat',
    ],
    { cwd: ROOT, env: { ...process.env, ATLASSIAN_TOKEN: sim.credentials.pat }, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  child.stdout.pipe(out)
  const code = await new Promise((r) => child.once('exit', r))
  await new Promise((r) => out.end(r))
  if (code !== 0) throw new Error(`atlassian-audit fetch exited with ${code}`)
  const lines = spawnSync('wc', ['-l', file], { encoding: 'utf8' }).stdout.trim().split(/\s+/)[0]
  say(`  ${lines} ECS documents → ${file}`)
  return file
}

function chromiumPath() {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/lib/chromium/chromium',
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
  ]
  const found = candidates.find((p) => p && existsSync(p))
  if (!found) throw new Error('Chromium not found: apt-get install -y chromium (or set CHROMIUM_PATH)')
  return found
}

async function launchBrowser() {
  step(`Opening Chromium with the extension${HEADLESS ? ' (headless: no $DISPLAY)' : ''}`)
  const { chromium } = await import('playwright-core')
  const profile = mkdtempSync(path.join(tmpdir(), 'atlassian-audit-demo-'))
  cleanups.push(async () => rmSync(profile, { recursive: true, force: true }))
  const extension = path.join(ROOT, 'dist/chrome-test')
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: HEADLESS,
    viewport: HEADLESS ? { width: 1200, height: 900 } : null,
    args: [
      // Playwright passes --disable-extensions; this overrides it for ours (docs/extension-engineering.md §3.1).
      `--disable-extensions-except=${extension}`,
      `--load-extension=${extension}`,
      '--no-first-run',
      '--disable-sync',
      '--disable-component-update',
    ],
  })
  cleanups.push(() => context.close())
  const isOurs = (w) => w.url().startsWith('chrome-extension://')
  const worker =
    context.serviceWorkers().find(isOurs) ??
    (await context.waitForEvent('serviceworker', { predicate: isOurs, timeout: 30_000 }))
  const id = new URL(worker.url()).host
  return { context, worker, url: (p) => `chrome-extension://${id}/${p}` }
}

async function ask(browser, message) {
  const env = await browser.worker.evaluate((m) => globalThis.__handle(m), message)
  if (!env?.ok) throw new Error(`the extension refused ${message.type}: ${env?.error?.message ?? 'no answer'}`)
  return env.value
}

async function addSitesAndSync(browser, sim) {
  step('Adding two simulator sites and syncing')
  // The browser-session site needs the admin logged in on the site, in a normal tab, first.
  const tab = await browser.context.newPage()
  await tab.goto(`${sim.sites.cloud.baseUrl}/login?user=admin`)
  const since = new Date().toISOString()
  await ask(browser, {
    type: 'saveSite',
    site: {
      url: sim.sites.cloud.baseUrl,
      product: 'confluence',
      deployment: 'cloud',
      auth: 'session',
      name: 'Demo Confluence Cloud',
    },
  })
  await ask(browser, {
    type: 'saveSite',
    site: {
      url: sim.sites['jira-dc'].baseUrl,
      product: 'jira',
      deployment: 'dc',
      auth: 'pat',
      name: 'Demo Jira Data Center',
    },
    secret: sim.credentials.pat,
  })
  if (HEADLESS) await tab.close()
  const deadline = Date.now() + 120_000
  for (;;) {
    const status = await ask(browser, { type: 'getStatus' })
    const done =
      status.sites.length > 0 && status.sites.every((s) => !s.running && s.lastResult && s.lastResult.at >= since)
    if (done) {
      for (const s of status.sites)
        say(
          `  ${s.lastResult.code === 'ok' ? '✓' : '✗'} ${s.lastResult.message || s.lastResult.code} (${s.events} events)`,
        )
      say(`  ${status.totalEvents} events in the extension's archive`)
      return status
    }
    if (Date.now() > deadline) throw new Error('the first sync did not finish within 2 minutes')
    await sleep(500)
  }
}

async function headlessTour(browser) {
  step('Exporting from the popup and taking screenshots')
  const popup = await browser.context.newPage()
  await popup.setViewportSize({ width: 580, height: 640 })
  await popup.goto(browser.url(POPUP))
  await popup.getByRole('row').first().waitFor({ timeout: 30_000 })
  const exportFile = path.join(OUT, 'extension-export.ndjson')
  const downloading = popup.waitForEvent('download', { timeout: 120_000 })
  await popup.getByRole('button', { name: 'Export NDJSON' }).click()
  await (await downloading).saveAs(exportFile)
  const popupShot = path.join(OUT, 'popup.png')
  await popup.screenshot({ path: popupShot })
  const dashboard = await browser.context.newPage()
  await dashboard.goto(browser.url(DASHBOARD))
  await dashboard.locator('canvas').first().waitFor({ timeout: 30_000 })
  const dashboardShot = path.join(OUT, 'dashboard.png')
  await dashboard.screenshot({ path: dashboardShot, fullPage: true })
  return { exportFile, popupShot, dashboardShot }
}

async function main() {
  mkdirSync(OUT, { recursive: true })
  const started = Date.now()
  build()
  const sim = await startSimulator()
  const cliFile = await cliFetch(sim)
  const browser = await launchBrowser()
  await addSitesAndSync(browser, sim)

  if (HEADLESS) {
    const { exportFile, popupShot, dashboardShot } = await headlessTour(browser)
    step(`Done in ${Math.round((Date.now() - started) / 1000)} s`)
    say(`  CLI fetch (NDJSON):          ${cliFile}`)
    say(`  Extension export (NDJSON):   ${exportFile}`)
    say(`  Popup screenshot:            ${popupShot}`)
    say(`  Dashboard screenshot:        ${dashboardShot}`)
    return
  }

  for (const page of [OPTIONS, DASHBOARD, POPUP]) {
    const tab = await browser.context.newPage()
    await tab.goto(browser.url(page))
  }
  step(`Ready in ${Math.round((Date.now() - started) / 1000)} s`)
  say('  The popup, dashboard and settings are open in tabs (the toolbar button opens the popup too).')
  say(`  CLI fetch output: ${cliFile}`)
  say('  Press Ctrl+C to stop the browser and the simulator.')
  await new Promise((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
    browser.context.once('close', resolve)
  })
}

main()
  .then(async () => {
    await cleanup()
    process.exit(0)
  })
  .catch(async (err) => {
    process.stderr.write(`\nnpm run demo failed: ${err instanceof Error ? err.message : String(err)}\n`)
    await cleanup()
    process.exit(1)
  })
