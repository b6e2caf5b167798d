// Backfill benchmark: ≥ 100,000 Jira Cloud audit records from the simulator, 1000 per page, through the real
// client and sync engine (with its one-page read-ahead). Target: client overhead ≤ 20 % of the simulator's own
// time to serve those pages, measured in the same run.
//
// Definitions (printed at the start of every run):
// - S, serve time: the simulator's handler time for the audit pages of one pass (served().byApi[api].serveMs):
//   from the request reaching the handler to the response handed to Node (window lookup, page slice,
//   JSON.stringify, Buffer, write). The simulator runs in a child process and is not changed or slowed down
//   for this benchmark (its serialization is about 7.6 µs per record).
// - W, wall time: the client's wall-clock time for the backfill, from the call to syncStream to its return:
//   what an admin waits for.
// - Wall-clock client overhead (the verdict) = (W − S) / S: the time the client adds on top of the server's.
//   Everything outside the server's handler counts against the client: HTTP on both sides, the loopback
//   transfer, the simulator's event loop and GC outside the handler, and the OS scheduling both processes.
// - Client CPU ratio (information) = CPU time (user + system) of the client process during the pass / S.
//   Its floor is a bare client doing the same requests with fetch + text + JSON.parse and nothing else.
// Passes (each round runs every pass once; the verdict uses the median over the rounds, every round is printed):
//   bare     fetch + text + JSON.parse, one request after the other (the CPU floor);
//   bare+RA  the same, with the engine's read-ahead policy (the wall floor of a client that never has two
//            requests at the server);
//   A        the engine, documents keyed by the record id (no normalization), a Store keeping the key set;
//   A seq    A without read-ahead (what the read-ahead buys);
//   C        the engine with the full ECS normalizer (core/ecs/normalize.ts).
// (What read-ahead does against a server slower than the client is shown with timers in
// test/unit/sync-read-ahead.test.ts: on a busy machine the simulator's `slow` fault's timers fire late, which
// would be counted against the client here.)
// Run: npx tsx test/bench/backfill.bench.ts   (BACKFILL_RECORDS=…, BACKFILL_ROUNDS=… to change volume/rounds)

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { availableParallelism, loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { connect } from '../../src/core/atlassian/connect'
import { documentKey } from '../../src/core/ecs/identity'
import { normalizeRecord } from '../../src/core/ecs/normalize'
import type { EcsDocument, NormalizeContext, Site } from '../../src/core/model'
import { syncStream } from '../../src/core/sync/engine'
import type { Store, StreamState } from '../../src/core/sync/store'

const RECORDS = Number(process.env.BACKFILL_RECORDS ?? 110_000)
const ROUNDS = Math.max(1, Number(process.env.BACKFILL_ROUNDS ?? 3))
const LIMIT = 1000
const TARGET = 0.2
const DAY = 86_400_000

interface ServedStats {
  serveMs: number
  pages: number
  records: number
  requests: number
  /** CPU of the simulator process since the last reset (information). */
  serverCpuMs: number
}

if (process.argv.includes('--serve')) {
  // Child: the simulator, driven over stdin/stdout with one JSON line per command.
  const { startFakeAtlassian } = await import('../fake-atlassian/server')
  const sim = await startFakeAtlassian({ seed: 5, volume: { 'jira-cloud': RECORDS, 'confluence-cloud': 0 } })
  process.stdout.write(
    `${JSON.stringify({ url: sim.sites.cloud.baseUrl, email: sim.credentials.email, token: sim.credentials.apiToken, total: sim.records('jira-cloud').length })}\n`,
  )
  let cpu0 = process.cpuUsage()
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'reset') {
      sim.resetServed()
      sim.clearRequests()
      cpu0 = process.cpuUsage()
    }
    const s = sim.served().byApi['jira-cloud']
    const cpu = process.cpuUsage(cpu0)
    const stats: ServedStats = {
      serveMs: s?.serveMs ?? 0,
      pages: s?.pages ?? 0,
      records: s?.records ?? 0,
      requests: s?.requests ?? 0,
      serverCpuMs: (cpu.user + cpu.system) / 1000,
    }
    process.stdout.write(`${JSON.stringify(stats)}\n`)
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
const ask = async (cmd: 'reset' | 'stats' | 'close') => {
  child.stdin!.write(`${cmd}\n`)
  return readLine() as Promise<ServedStats>
}
const info = (await readLine()) as { url: string; email: string; token: string; total: number }
const site: Site = { id: 'bench', url: info.url, product: 'jira', deployment: 'cloud', auth: 'basic' }

const definitions = [
  'S = simulator handler time for the pages of a pass (window lookup, slice, JSON.stringify, write; child process)',
  'W = client wall time of the backfill (syncStream call to return)',
  'wall-clock client overhead (verdict) = (W − S) / S; target ≤ 20 %',
  'client CPU ratio (information) = client process CPU / S; floor = bare fetch + text + JSON.parse',
]
console.log(
  `backfill: ${info.total} Jira Cloud records in the simulator, limit ${LIMIT} per page, ${ROUNDS} rounds ` +
    `(${availableParallelism()} CPUs, load average ${loadavg()[0].toFixed(1)})`,
)
for (const d of definitions) console.log(`  ${d}`)

interface Measure {
  wallMs: number
  cpuMs: number
  served: ServedStats
  records: number
}

async function measure(run: () => Promise<number>): Promise<Measure> {
  await ask('reset')
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const records = await run()
  const wallMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const served = await ask('stats')
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, served, records }
}

/** fetch + text + JSON.parse only; with `readAhead`, the engine's policy (next request once a full page's body is in). */
async function bare(readAhead: boolean): Promise<number> {
  const authz = `Basic ${Buffer.from(`${info.email}:${info.token}`).toString('base64')}`
  const to = new Date().toISOString()
  const from = new Date(Date.now() - 30 * DAY).toISOString()
  const get = async (offset: number) => {
    const res = await fetch(
      `${info.url}/rest/api/3/auditing/record?from=${from}&to=${to}&offset=${offset}&limit=${LIMIT}`,
      { headers: { authorization: authz, accept: 'application/json' } },
    )
    return res.text()
  }
  let records = 0
  let total = Number.POSITIVE_INFINITY
  let previousFull = false
  let ahead: Promise<string> | undefined
  for (let offset = 0; ; offset += LIMIT) {
    const text = await (ahead ?? get(offset))
    // After a full page the next request leaves as soon as this body is in, before it is parsed (unless the
    // total rules it out); after the first page, once it is parsed.
    ahead = readAhead && previousFull && offset + LIMIT < total ? get(offset + LIMIT) : undefined
    const page = JSON.parse(text) as { records: unknown[]; total: number }
    records += page.records.length
    total = page.total
    previousFull = page.records.length === LIMIT
    if (!previousFull) break
    if (readAhead && !ahead) ahead = get(offset + LIMIT)
  }
  await ahead
  return records
}

type Normalize = (record: unknown, ctx: NormalizeContext) => EcsDocument
const byId: Normalize = (r) =>
  ({ ecs: { version: '' }, event: { kind: 'event', hash: String((r as { id: number }).id) } }) as EcsDocument

async function engine(normalize: Normalize, readAhead: boolean): Promise<number> {
  const target = await connect(site, { mode: 'basic', email: info.email, secret: info.token }, { fetch })
  const r = await syncStream(target, new KeyStore(), { limit: LIMIT, lookbackMs: 30 * DAY, normalize, readAhead })
  if (r.stored !== info.total) throw new Error(`stored ${r.stored} of ${info.total}`)
  return r.stored
}

const passes: { name: string; run: () => Promise<number> }[] = [
  { name: 'bare', run: () => bare(false) },
  { name: 'bare+RA', run: () => bare(true) },
  { name: 'A', run: () => engine(byId, true) },
  { name: 'A seq', run: () => engine(byId, false) },
  { name: 'C', run: () => engine(normalizeRecord, true) },
]

const pct = (x: number) => `${(x * 100).toFixed(1)} %`
const wallOverhead = (m: Measure) => (m.wallMs - m.served.serveMs) / m.served.serveMs
const cpuRatio = (m: Measure) => m.cpuMs / m.served.serveMs
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

// Warm-up (JIT, sockets): one engine pass and one bare pass, not reported.
await measure(() => engine(byId, true))
await measure(() => bare(true))

const results = new Map<string, Measure[]>(passes.map((p) => [p.name, []]))
// BACKFILL_PASSES="A,C" runs only those passes (profiling); the verdicts then print NaN for what did not run.
const selected = process.env.BACKFILL_PASSES?.split(',').map((s) => s.trim())
for (let round = 1; round <= ROUNDS; round++) {
  // The order rotates per round, so no pass always runs right after the expensive normalizer pass.
  const order = passes.map((_, i) => passes[(i + round - 1) % passes.length])
  for (const pass of order) {
    if (selected && !selected.includes(pass.name)) continue
    const m = await measure(pass.run)
    if (m.records < 100_000 || m.records !== info.total) throw new Error(`${pass.name}: ${m.records} records`)
    results.get(pass.name)?.push(m)
    console.log(
      `round ${round} ${pass.name.padEnd(7)} ${m.records} records, ${m.served.pages} pages (${m.served.requests} requests): ` +
        `S ${m.served.serveMs.toFixed(0)} ms, W ${m.wallMs.toFixed(0)} ms → wall overhead ${pct(wallOverhead(m))}; ` +
        `client CPU ${m.cpuMs.toFixed(0)} ms = ${pct(cpuRatio(m))} of S; simulator process CPU ${m.served.serverCpuMs.toFixed(0)} ms`,
    )
  }
}
await ask('close')
await once(child, 'exit')

const summary = (name: string) => {
  const ms = results.get(name) ?? []
  return {
    wall: median(ms.map(wallOverhead)),
    cpu: median(ms.map(cpuRatio)),
    serve: median(ms.map((m) => m.served.serveMs)),
    wallMs: median(ms.map((m) => m.wallMs)),
    cpuMs: median(ms.map((m) => m.cpuMs)),
    serverCpuMs: median(ms.map((m) => m.served.serverCpuMs)),
    pages: ms[0]?.served.pages ?? 0,
  }
}
console.log(`medians over ${ROUNDS} rounds:`)
for (const p of passes) {
  const s = summary(p.name)
  console.log(
    `  ${p.name.padEnd(7)} wall overhead ${pct(s.wall).padStart(8)}   client CPU ${pct(s.cpu).padStart(8)} of S   ` +
      `(S ${s.serve.toFixed(0)} ms, W ${s.wallMs.toFixed(0)} ms, CPU ${s.cpuMs.toFixed(0)} ms)`,
  )
}

const a = summary('A')
const aSeq = summary('A seq')
const c = summary('C')
const floor = summary('bare')
const floorRa = summary('bare+RA')
console.log(
  `info: client CPU / S: bare fetch + text + JSON.parse ${pct(floor.cpu)} (the floor), A ${pct(a.cpu)}, C ${pct(c.cpu)}`,
)
console.log(
  `info: wall overhead of a bare one-request-at-a-time client with read-ahead (the floor for W): ${pct(floorRa.wall)}; ` +
    `the engine adds ${pct(a.wall - floorRa.wall)} on top of it; without read-ahead (A seq) the engine's overhead ` +
    `is ${pct(aSeq.wall)}`,
)
// The client works on one thread: with read-ahead W is still at least about its CPU time, so against a server k
// times faster than the simulator (S / k) the overhead is at least k × CPU / S − 1, whatever the overlap.
const bound = (s: typeof a, k: number) => pct(Math.max(0, (k * s.cpuMs) / s.serve - 1))
console.log(
  `info: lower bounds from the client's own CPU time (overhead ≥ k × CPU / S − 1): against the simulator ` +
    `bare ${bound(floor, 1)}, A ${bound(a, 1)}, C ${bound(c, 1)}; against a server twice as fast ` +
    `bare ${bound(floor, 2)}, A ${bound(a, 2)}, C ${bound(c, 2)}`,
)
// The handler is synchronous: its wall time can only exceed the simulator's whole CPU time when the process waits
// for a CPU. Then both S and W stretch with the machine's load and the ratios are noisy.
const stretch = Math.max(...passes.map((p) => summary(p.name)).map((s) => s.serve / s.serverCpuMs))
if (stretch > 1.2)
  console.log(
    `warning: the machine is busy (load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs): the ` +
      `simulator's handler wall time S was up to ${stretch.toFixed(1)}× its whole process CPU time; expect noisy ratios`,
  )
console.log(
  `VERDICT backfill wall-clock client overhead, engine without normalization (A, read-ahead): ` +
    `${a.wall <= TARGET ? 'PASS' : 'FAIL'} (${pct(a.wall)}; target ≤ ${TARGET * 100} % of serve time)`,
)
console.log(
  `VERDICT backfill wall-clock client overhead, engine with the full ECS normalizer (C, read-ahead; information): ` +
    `${c.wall <= TARGET ? 'PASS' : 'FAIL'} (${pct(c.wall)}; target ≤ ${TARGET * 100} % of serve time; ` +
    `normalization costs ${pct(c.cpu - a.cpu)} of S in CPU, see normalize.bench.ts)`,
)
