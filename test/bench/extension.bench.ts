// Archive benchmark in real Chromium (dist/chrome-test, bench page src/extension/bench/index.html).
//
//   npx tsx test/bench/extension.bench.ts                 full run: 100k ingest comparison, 1,000,000 stored events
//   npx tsx test/bench/extension.bench.ts --events 50000  quick run (the verdicts then say they are not from 1M)
//   options: --ingest N (default 100000), --fresh (refill the 1M archive), --profile DIR, --skip-export,
//            --export-only (fill if needed, then only the export), --skip-blob-export (only the streamed export)
//
// The 1M archive is kept in a profile under .bench/ between runs (filling it takes minutes); --fresh refills.
// Memory: PSS summed over every Chromium process of the profile (/proc/<pid>/smaps_rollup), sampled every
// 250 ms, plus the bench page's JS heap (performance.memory.usedJSHeapSize).
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import type { Worker } from 'playwright-core'
import { ensureBuilt, launchChromium, REPO_ROOT } from '../e2e/harness'

const args = process.argv.slice(2)
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const FULL = 1_000_000
const EVENTS = opt('--events', FULL)
const INGEST = opt('--ingest', 100_000)
const fresh = args.includes('--fresh')
const skipExport = args.includes('--skip-export')
const exportOnly = args.includes('--export-only')
const skipBlobExport = args.includes('--skip-blob-export')
const profileArg = args.indexOf('--profile')
const profile = path.resolve(profileArg >= 0 ? args[profileArg + 1]! : path.join(REPO_ROOT, '.bench/extension-profile'))

const MB = 1024 * 1024
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** PSS (bytes) summed over the processes whose command line mentions the profile directory. */
function profilePss(): number {
  let total = 0
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (!cmd.includes(profile) || !cmd.includes('chrom')) continue
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))
      if (m) total += Number(m[1]) * 1024
    } catch {
      // the process ended while reading
    }
  }
  return total
}

function sampler() {
  let peak = 0
  let last = 0
  const timer = setInterval(() => {
    last = profilePss()
    peak = Math.max(peak, last)
  }, 250)
  return {
    stop: () => {
      clearInterval(timer)
      return { peak, last }
    },
  }
}

function verdict(name: string, ok: boolean, detail: string) {
  console.log(`VERDICT ${name}: ${ok ? 'PASS' : 'FAIL'} (${detail})`)
}

async function main() {
  ensureBuilt(['chrome-test'])
  mkdirSync(profile, { recursive: true })
  // Chromium keeps an unpacked extension's service worker registered with the script (and chunks) of its first
  // load: a profile reused across builds would run the old background. Without its registration, the
  // extension's worker is registered afresh from dist/ (the archive, under IndexedDB/, stays).
  rmSync(path.join(profile, 'Default', 'Service Worker'), { recursive: true, force: true })
  console.log(
    `Chromium: ${execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()}`,
  )
  const ext = await launchChromium({ userDataDir: profile })
  const ours = (w: { url(): string }) => w.url().startsWith(ext.url(''))
  try {
    const hasExportHook = (w: Worker) =>
      w.evaluate(() => typeof (globalThis as { __useExportArchive?: unknown }).__useExportArchive === 'function')
    if (!(await hasExportHook(await ext.getServiceWorker()))) throw new Error('the service worker has no export hook')
    const page = await ext.openPage('src/extension/bench/index.html')
    page.on('console', (m) => {
      if (m.text().startsWith('bench-progress:')) console.log(`  ${m.text().slice(16)}`)
    })
    await page.waitForFunction(() => 'bench' in globalThis, null, { timeout: 30_000 })
    type Bench = Record<string, (...a: unknown[]) => Promise<unknown>>
    const call = <T>(fn: string, ...a: unknown[]): Promise<T> =>
      page.evaluate(
        ([f, xs]) => (globalThis as unknown as { bench: Bench }).bench[f as string]!(...(xs as unknown[])),
        [fn, a] as const,
      ) as Promise<T>

    // 4. export everything, as the popup does in Chromium (streamed by the service worker), then the Blob path
    // it used before (still Firefox's) for comparison
    async function exportBoth(total: number) {
      console.log(`\n# Export NDJSON (ECS) of all ${total.toLocaleString()} events, streamed by the service worker`)
      let worker: Worker | undefined
      for (const w of ext.context.serviceWorkers().filter(ours))
        if (await hasExportHook(w).catch(() => false)) worker = w
      if (!worker) throw new Error('no service worker with the export hook')
      const fillDb = 'bench-archive-1m'
      await worker.evaluate(
        (name) => (globalThis as unknown as { __useExportArchive: (n?: string) => void }).__useExportArchive(name),
        fillDb,
      )
      const streamBefore = profilePss()
      const streamMem = sampler()
      const downloading = page.waitForEvent('download', { timeout: 0 })
      const streaming = call<{ events: number; bytes: number; ms: number; jsHeapPeak: number; fillDb: string }>(
        'exportStream',
      )
      const download = await downloading
      const file = await download.path()
      const st = await streaming
      const sm = streamMem.stop()
      const size = statSync(file).size
      const tail = Buffer.alloc(Math.min(65_536, size))
      const fd = openSync(file, 'r')
      readSync(fd, tail, 0, tail.length, size - tail.length)
      closeSync(fd)
      const lastLine = tail.toString('utf8').trimEnd().split('\n').at(-1) ?? ''
      await download.delete()
      console.log(
        `${st.events.toLocaleString()} events, ${fmt(size / MB, 0)} MB on disk in ${fmt(st.ms / 1000, 1)} s = ${fmt(size / MB / (st.ms / 1000), 1)} MB/s (${fmt(st.events / (st.ms / 1000), 0)} events/s)`,
      )
      console.log(
        `memory: PSS before ${fmt(streamBefore / MB, 0)} MB, peak ${fmt(sm.peak / MB, 0)} MB (all Chromium processes); page JS heap peak ${fmt(st.jsHeapPeak / MB, 0)} MB`,
      )
      const streamGrowth = sm.peak - streamBefore
      verdict(
        'export streamed to disk',
        st.fillDb === fillDb &&
          st.events === total &&
          size === st.bytes &&
          lastLine.startsWith('{') &&
          streamGrowth <= 512 * MB,
        `${fmt(size / MB, 0)} MB written, PSS growth ${fmt(streamGrowth / MB, 0)} MB (limit 512 MB), page JS heap peak ${fmt(st.jsHeapPeak / MB, 0)} MB`,
      )
      if (skipBlobExport) return

      console.log(`\n# Export NDJSON (ECS) of all ${total.toLocaleString()} events as a Blob (Firefox's path; before)`)
      const before = profilePss()
      const expMem = sampler()
      const exp = await call<{
        events: number
        bytes: number
        ms: number
        jsHeapPeak: number
        lastLineIsJson: boolean
      }>('exportAll')
      const em = expMem.stop()
      console.log(
        `${exp.events.toLocaleString()} events, ${fmt(exp.bytes / MB, 0)} MB in ${fmt(exp.ms / 1000, 1)} s = ${fmt(exp.bytes / MB / (exp.ms / 1000), 1)} MB/s (${fmt(exp.events / (exp.ms / 1000), 0)} events/s)`,
      )
      console.log(
        `memory: PSS before ${fmt(before / MB, 0)} MB, peak ${fmt(em.peak / MB, 0)} MB (all Chromium processes); page JS heap peak ${fmt(exp.jsHeapPeak / MB, 0)} MB`,
      )
      console.log(
        `peak PSS growth streamed / Blob: ${fmt(streamGrowth / MB, 0)} MB / ${fmt((em.peak - before) / MB, 0)} MB`,
      )
      verdict(
        'Blob export (Firefox path) keeps the page heap flat',
        exp.events === total && exp.lastLineIsJson && exp.jsHeapPeak <= 256 * MB,
        `${fmt(exp.bytes / MB / (exp.ms / 1000), 1)} MB/s, JS heap peak ${fmt(exp.jsHeapPeak / MB, 0)} MB (limit 256 MB) for ${fmt(exp.bytes / MB, 0)} MB written`,
      )
    }

    if (exportOnly) {
      const filled = await call<{ total: number; added: number; ms: number }>('fill', EVENTS, 5000)
      console.log(`archive: ${filled.total.toLocaleString()} events (${filled.added.toLocaleString()} added now)`)
      await exportBoth(filled.total)
      return
    }

    // 1. ingest: archive (indexes + counters + dedupe + state, one transaction per chunk) vs plain bulkPut
    console.log(`\n# Ingest ${INGEST.toLocaleString()} normalized ECS events, chunks of 1,000`)
    const ing = await call<{
      n: number
      stored: number
      compact: number
      archiveMs: number
      plainMs: number
      outOfLineMs: number
      avgDocBytes: number
    }>('ingestCompare', INGEST, 1000)
    const ratio = ing.archiveMs / ing.plainMs
    const rate = (ms: number) => `${fmt(ms / 1000, 2)} s = ${fmt(ing.n / (ms / 1000), 0)} events/s`
    console.log(
      `average document: ${fmt(ing.avgDocBytes / 1024, 2)} KiB of JSON; stored ${ing.stored.toLocaleString()}, ${ing.compact.toLocaleString()} of them compact (original record + recipe; the document is rebuilt when read)`,
    )
    console.log(`archive (4 secondary indexes, counters, state): ${rate(ing.archiveMs)}`)
    console.log(`plain bulkPut of the same ECS documents, no index, key event.hash: ${rate(ing.plainMs)}`)
    console.log(`  the same with out-of-line keys (passed beside the objects): ${rate(ing.outOfLineMs)}`)
    console.log(
      `ratio archive / plain: ${fmt(ratio, 2)}x (target <= 1.5x); against out-of-line keys ${fmt(ing.archiveMs / ing.outOfLineMs, 2)}x`,
    )

    // 2. fill to EVENTS
    if (fresh) await call('reset')
    console.log(`\n# Archive with ${EVENTS.toLocaleString()} events`)
    const fillMem = sampler()
    const filled = await call<{ total: number; added: number; ms: number }>('fill', EVENTS, 5000)
    const fm = fillMem.stop()
    if (filled.added > 0) {
      console.log(
        `filled ${filled.added.toLocaleString()} in ${fmt(filled.ms / 1000, 1)} s (${fmt(filled.added / (filled.ms / 1000), 0)} events/s incl. generating and normalizing), peak PSS ${fmt(fm.peak / MB, 0)} MB`,
      )
    } else console.log(`reusing ${filled.total.toLocaleString()} events stored by an earlier run (--fresh to refill)`)

    // 3. queries
    const q = await call<{
      total: number
      rows: number
      firstRowsMs: number[]
      popupOpenMs: number[]
      filtered: Record<string, { medianMs: number; rows: number; truncated: boolean }>
      countMs: number
      count: { count: number; exact: boolean }
      count24Ms: number
      count24: { count: number; exact: boolean }
      aggregateAllMs: number
    }>('queries', 9)
    console.log(`stored: ${q.total.toLocaleString()}`)
    console.log(
      `popup first ${q.rows} rows (fresh connection): median ${fmt(median(q.firstRowsMs))} ms, all ${q.firstRowsMs.map((x) => fmt(x, 0)).join(', ')}`,
    )
    console.log(`popup open (rows + count + facets):          median ${fmt(median(q.popupOpenMs))} ms`)
    for (const [label, r] of Object.entries(q.filtered)) {
      console.log(
        `filtered "${label}": median ${fmt(r.medianMs)} ms, ${r.rows} rows${r.truncated ? ' (scan limit reached)' : ''}`,
      )
    }
    console.log(`count site+action (cap 1,000): ${fmt(q.countMs)} ms -> ${q.count.count}${q.count.exact ? '' : '+'}`)
    console.log(
      `count site, last 24 h (index count): ${fmt(q.count24Ms)} ms -> ${q.count24.count}${q.count24.exact ? '' : '+'}`,
    )
    console.log(`dashboard aggregate, no filter: ${fmt(q.aggregateAllMs)} ms`)

    // 4. export everything
    if (skipExport) {
      console.log('\n(export skipped)')
      verdicts(ing, q)
      return
    }
    verdicts(ing, q)
    await exportBoth(q.total)
  } finally {
    await ext.close()
  }
}

function verdicts(
  ing: { n: number; archiveMs: number; plainMs: number; outOfLineMs: number },
  q: { total: number; firstRowsMs: number[]; filtered: Record<string, { medianMs: number }> },
) {
  console.log('')
  const from1M = q.total >= FULL
  const note = from1M ? '' : `; NOT from 1,000,000 events (${q.total.toLocaleString()})`
  const ratio = ing.archiveMs / ing.plainMs
  verdict(
    'ingest ratio <= 1.5x',
    ratio <= 1.5,
    `${fmt(ratio, 2)}x the plain bulkPut keyed by event.hash over ${ing.n.toLocaleString()} events (${fmt(ing.archiveMs / ing.outOfLineMs, 2)}x the out-of-line-key variant)`,
  )
  verdict(
    'popup first rows <= 200 ms median',
    from1M && median(q.firstRowsMs) <= 200,
    `${fmt(median(q.firstRowsMs))} ms${note}`,
  )
  const f = q.filtered['site+action+7 days']!
  verdict(
    'filtered query <= 100 ms median',
    from1M && f.medianMs <= 100,
    `site+action+7 days ${fmt(f.medianMs)} ms${note}`,
  )
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
