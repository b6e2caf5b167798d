// Backfill benchmark: ≥ 100,000 Jira Cloud audit records from the simulator, 1000 per page, through the real
// client and sync engine. Target: client overhead ≤ 20 % of the simulator's own time to serve those pages.
//
// Definitions (measured in the same run):
// - serve time = the simulator's handler time for the audit pages it served (served().byApi[api].serveMs:
//   from the request reaching the handler to the response handed to Node, i.e. window lookup, page slice,
//   JSON.stringify, write). The simulator runs in a child process so its CPU is not counted as the client's.
// - client overhead = CPU time (user + system) of the client process during the backfill: the HTTP client
//   (undici, socket reads, body text), JSON.parse, paging and window logic, engine bookkeeping, and a Store
//   that keeps the document keys (the dedupe set). Reported three ways:
//     A. minimal documents keyed by the record id (no fingerprint, no normalization);
//     B. A + the content fingerprint (event.hash = hash of the canonical record, what dedupe needs for APIs
//        without ids);
//     C. the full ECS normalizer (core/ecs/normalize.ts).
//   A "bare" pass (the same requests with fetch + text + JSON.parse only) measures the floor any client pays.
//   Verdicts: the engine's overhead beyond that floor (A − bare), and the total of A; B and C are reported.
// Run: npx tsx test/bench/backfill.bench.ts   (BACKFILL_RECORDS=… to change the volume)

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { connect } from '../../src/core/atlassian/connect'
import { documentKey, recordFingerprint } from '../../src/core/ecs/identity'
import { normalizeRecord } from '../../src/core/ecs/normalize'
import type { EcsDocument, NormalizeContext, Site } from '../../src/core/model'
import { syncStream } from '../../src/core/sync/engine'
import type { Store, StreamState } from '../../src/core/sync/store'

const RECORDS = Number(process.env.BACKFILL_RECORDS ?? 110_000)
const TARGET = 0.2
const DAY = 86_400_000

if (process.argv.includes('--serve')) {
  // Child: the simulator, driven over stdin/stdout with one JSON line per command.
  const { startFakeAtlassian } = await import('../fake-atlassian/server')
  const sim = await startFakeAtlassian({ seed: 5, volume: { 'jira-cloud': RECORDS, 'confluence-cloud': 0 } })
  process.stdout.write(
    `${JSON.stringify({ url: sim.sites.cloud.baseUrl, email: sim.credentials.email, token: sim.credentials.apiToken, total: sim.records('jira-cloud').length })}\n`,
  )
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'reset') sim.resetServed()
    const s = sim.served().byApi['jira-cloud']
    process.stdout.write(
      `${JSON.stringify({ serveMs: s?.serveMs ?? 0, pages: s?.pages ?? 0, records: s?.records ?? 0 })}\n`,
    )
    if (line === 'close') break
  }
  await sim.close()
  process.exit(0)
}

class KeyStore implements Store {
  keys = new Set<string>()
  state = new Map<string, StreamState>()
  async loadState(id: string) {
    return this.state.get(id)
  }
  async commit(id: string, docs: EcsDocument[], state: StreamState) {
    const added: EcsDocument[] = []
    for (const d of docs) {
      const k = documentKey(d)
      if (this.keys.has(k)) continue
      this.keys.add(k)
      added.push(d)
    }
    this.state.set(id, state)
    return added
  }
}

const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve'], {
  stdio: ['pipe', 'pipe', 'inherit'],
  env: { ...process.env, BACKFILL_RECORDS: String(RECORDS) },
})
const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
const readLine = async () => JSON.parse(String((await lines.next()).value))
const ask = async (cmd: string) => {
  child.stdin!.write(`${cmd}\n`)
  return readLine() as Promise<{ serveMs: number; pages: number; records: number }>
}
const info = (await readLine()) as { url: string; email: string; token: string; total: number }

const site: Site = { id: 'bench', url: info.url, product: 'jira', deployment: 'cloud', auth: 'basic' }
type Normalize = (record: unknown, ctx: NormalizeContext) => EcsDocument
const modes: { name: string; normalize: Normalize }[] = [
  {
    name: 'A. keys from record ids',
    normalize: (r) =>
      ({ ecs: { version: '' }, event: { kind: 'event', hash: String((r as { id: number }).id) } }) as EcsDocument,
  },
  {
    name: 'B. + content fingerprint',
    normalize: (r, ctx) => ({
      ecs: { version: '' },
      event: { kind: 'event', hash: recordFingerprint(ctx.site ?? '', r) },
    }),
  },
  { name: 'C. + full ECS normalization', normalize: normalizeRecord },
]

console.log(`backfill: ${info.total} Jira Cloud records in the simulator, limit 1000 per page`)

/** The same requests with nothing but fetch + text + JSON.parse: the floor any client pays. */
async function barePass(): Promise<{ clientMs: number; serveMs: number; records: number }> {
  await ask('reset')
  const authz = `Basic ${Buffer.from(`${info.email}:${info.token}`).toString('base64')}`
  const to = new Date().toISOString()
  const from = new Date(Date.now() - 30 * DAY).toISOString()
  const cpu0 = process.cpuUsage()
  let records = 0
  for (let offset = 0; ; offset += 1000) {
    const res = await fetch(
      `${info.url}/rest/api/3/auditing/record?from=${from}&to=${to}&offset=${offset}&limit=1000`,
      {
        headers: { authorization: authz, accept: 'application/json' },
      },
    )
    const page = JSON.parse(await res.text()) as { records: unknown[] }
    records += page.records.length
    if (page.records.length < 1000) break
  }
  const cpu = process.cpuUsage(cpu0)
  return { clientMs: (cpu.user + cpu.system) / 1000, serveMs: (await ask('stats')).serveMs, records }
}

const results: Record<string, number> = {}
// A warm-up pass (JIT, sockets), then the measured passes.
const only = process.env.BACKFILL_MODES // e.g. "A" for profiling
let bare = { clientMs: 0, serveMs: 0, records: 0 }
for (const mode of [modes[0], ...modes.filter((m) => !only || only.includes(m.name[0]))]) {
  const warm = results[mode.name] === undefined && mode === modes[0] && !('warm' in results)
  await ask('reset')
  const target = await connect(site, { mode: 'basic', email: info.email, secret: info.token }, { fetch })
  const store = new KeyStore()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const r = await syncStream(target, store, { limit: 1000, lookbackMs: 30 * DAY, normalize: mode.normalize })
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const clientMs = (cpu.user + cpu.system) / 1000
  const served = await ask('stats')
  if (warm) {
    results.warm = 1
    console.log(`warm-up: ${r.stored} records, ${r.pages} pages in ${wall.toFixed(0)} ms`)
    bare = await barePass()
    console.log(
      `bare fetch + JSON.parse: ${bare.records} records; simulator serve ${bare.serveMs.toFixed(0)} ms; client CPU ` +
        `${bare.clientMs.toFixed(0)} ms = ${((100 * bare.clientMs) / bare.serveMs).toFixed(1)} % of serve time (the floor)`,
    )
    continue
  }
  if (r.stored < 100_000 || r.stored !== info.total) throw new Error(`stored ${r.stored} of ${info.total}`)
  const ratio = clientMs / served.serveMs
  results[mode.name] = ratio
  console.log(
    `${mode.name}: ${r.stored} records, ${r.pages} pages; simulator serve ${served.serveMs.toFixed(0)} ms; ` +
      `client CPU ${clientMs.toFixed(0)} ms (wall ${wall.toFixed(0)} ms); client overhead ${(ratio * 100).toFixed(1)} % of serve time`,
  )
}
await ask('close')
await once(child, 'exit')

const total = results[modes[0].name] ?? Number.NaN
const engine = total - bare.clientMs / bare.serveMs
console.log(
  `VERDICT backfill engine overhead beyond fetch + JSON.parse (client.ts, paging, bookkeeping, store; A − bare): ` +
    `${engine <= TARGET ? 'PASS' : 'FAIL'} (${(engine * 100).toFixed(1)} % ≤ ${TARGET * 100} % of serve time)`,
)
console.log(
  `VERDICT backfill total client CPU without normalization (A, incl. HTTP + JSON.parse): ` +
    `${total <= TARGET ? 'PASS' : 'FAIL'} (${(total * 100).toFixed(1)} % ≤ ${TARGET * 100} % of serve time; ` +
    `fetch + JSON.parse alone take ${((100 * bare.clientMs) / bare.serveMs).toFixed(1)} %)`,
)
console.log(
  `info: with full ECS normalization the client uses ${(results[modes[2].name] * 100).toFixed(1)} % of the serve time ` +
    '(normalization is benchmarked on its own in normalize.bench.ts)',
)
