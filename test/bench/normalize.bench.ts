// Normalizer throughput against a plain JSON.parse + JSON.stringify of the same records (issue 2: the
// normalizer may take at most 2.0× that baseline). Run: npx tsx test/bench/normalize.bench.ts
//
// Fair comparison: both sides start from the same one-JSON-text-per-record input and end with one JSON
// output text per record; both are warmed up; each is timed several times, interleaved, and the median
// is used. The input repeats the fixtures (every shape: Confluence/Jira Cloud, DC API entities of the
// three products, DC log-file lines, org events), so nothing may be cached by input: the normalizer
// keeps no per-input state (see test/unit/ecs-normalize.test.ts, "nothing is memoized").
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { normalizeText } from '../../src/core/ecs/normalize'

const TARGET_RATIO = 2.0
const MIN_RECORDS = 100_000
const RUNS = 7

const golden = join(import.meta.dirname, '..', 'golden')

function fixtureRecords(): string[] {
  const lines: string[] = []
  const elastic = join(golden, 'fixtures')
  for (const entry of readdirSync(elastic, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.log') || entry.name.includes('empty')) continue
    for (const line of readFileSync(join(entry.parentPath, entry.name), 'utf8').split('\n')) {
      if (line.trim() !== '') lines.push(line)
    }
  }
  const atlassian = join(golden, 'atlassian-fixtures')
  for (const name of readdirSync(atlassian)) {
    const text = readFileSync(join(atlassian, name), 'utf8')
    if (name.endsWith('.ndjson')) lines.push(...text.split('\n').filter((l) => l.trim() !== ''))
    if (!name.endsWith('.page.json')) continue
    const page = JSON.parse(text)
    for (const r of page.entities ?? page.records ?? page.results ?? page.data) lines.push(JSON.stringify(r))
  }
  return lines
}

function buildInput(): string[] {
  const base = fixtureRecords()
  const input: string[] = []
  while (input.length < MIN_RECORDS) input.push(...base)
  // Copies of the strings, so that no two records share one string object (V8 could otherwise keep
  // per-string caches, e.g. of a parsed array index, that favour either side).
  return input.map((s) => Buffer.from(s, 'utf8').toString('utf8'))
}

function baseline(input: string[]): number {
  let bytes = 0
  for (let i = 0; i < input.length; i++) bytes += JSON.stringify(JSON.parse(input[i])).length
  return bytes
}

function normalizer(input: string[]): number {
  let bytes = 0
  for (let i = 0; i < input.length; i++) {
    const docs = normalizeText(input[i])
    for (let j = 0; j < docs.length; j++) bytes += JSON.stringify(docs[j]).length
  }
  return bytes
}

function normalizerNoOriginal(input: string[]): number {
  let bytes = 0
  for (let i = 0; i < input.length; i++) {
    const docs = normalizeText(input[i], { keepOriginal: false })
    for (let j = 0; j < docs.length; j++) bytes += JSON.stringify(docs[j]).length
  }
  return bytes
}

// (info) The least any normalizer emitting these documents through JSON.stringify can cost: JSON.parse of
// the input plus JSON.stringify of the finished documents, with the normalization itself left out. The
// documents are made (untimed) a chunk at a time, so that they are as young in the heap as the
// normalizer's own.
const FLOOR_CHUNK = 1000
function floor(input: string[]): number {
  let ms = 0
  for (let from = 0; from < input.length; from += FLOOR_CHUNK) {
    const chunk = input.slice(from, from + FLOOR_CHUNK)
    const docs = chunk.map((text) => normalizeText(text))
    const start = performance.now()
    let bytes = 0
    for (let i = 0; i < chunk.length; i++) {
      if (JSON.parse(chunk[i]) === undefined) bytes--
      const ds = docs[i]
      for (let j = 0; j < ds.length; j++) bytes += JSON.stringify(ds[j]).length
    }
    ms += performance.now() - start
    if (bytes < 0) throw new Error('unreachable')
  }
  return ms
}

const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

function time(fn: (input: string[]) => number, input: string[]): { ms: number; cpu: number; out: number } {
  const cpu = cpuMs()
  const start = performance.now()
  const out = fn(input)
  return { ms: performance.now() - start, cpu: cpuMs() - cpu, out }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

const input = buildInput()
const inputBytes = input.reduce((n, s) => n + Buffer.byteLength(s), 0)
const shapes = new Set(fixtureRecords()).size
console.log(
  `normalize bench: ${input.length} records (${shapes} distinct fixture records repeated), ${(inputBytes / 1e6).toFixed(1)} MB`,
)

// warm-up: let both code paths get optimized
const warm = input.slice(0, 20_000)
for (let i = 0; i < 3; i++) {
  baseline(warm)
  normalizer(warm)
}

const base: number[] = []
const norm: number[] = []
const noOrig: number[] = []
const floors: number[] = []
const baseCpu: number[] = []
const normCpu: number[] = []
let outBytes = 0
for (let run = 0; run < RUNS; run++) {
  const b = time(baseline, input)
  base.push(b.ms)
  baseCpu.push(b.cpu)
  const n = time(normalizer, input)
  norm.push(n.ms)
  normCpu.push(n.cpu)
  outBytes = n.out
  noOrig.push(time(normalizerNoOriginal, input).ms)
  floors.push(floor(input))
}

const baseMs = median(base)
const normMs = median(norm)
const ratio = normMs / baseMs
const rate = (ms: number) => `${Math.round(input.length / (ms / 1000)).toLocaleString('en-US')} records/s`
const mbps = (ms: number) => `${(inputBytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`
console.log(
  `baseline   JSON.parse + JSON.stringify: median ${baseMs.toFixed(0)} ms of ${RUNS}, ${rate(baseMs)}, ${mbps(baseMs)}`,
)
console.log(
  `normalizer normalizeText + JSON.stringify: median ${normMs.toFixed(0)} ms of ${RUNS}, ${rate(normMs)}, ${mbps(normMs)} (output ${(outBytes / 1e6).toFixed(1)} MB)`,
)
const noOrigMs = median(noOrig)
console.log(
  `(info) same without event.original (--no-original): median ${noOrigMs.toFixed(0)} ms, ${rate(noOrigMs)}, ratio ${(noOrigMs / baseMs).toFixed(2)}×`,
)
const floorMs = median(floors)
console.log(
  `(info) floor, JSON.parse + JSON.stringify of the finished documents (no normalization work): median ${floorMs.toFixed(0)} ms, ratio ${(floorMs / baseMs).toFixed(2)}×`,
)
const ratios = norm.map((ms, i) => ms / base[i]).sort((a, b) => a - b)
console.log(
  `(info) per-run ratios ${ratios.map((r) => r.toFixed(2)).join(' ')}; CPU-time ratio (less sensitive to other load on the machine) ${(median(normCpu) / median(baseCpu)).toFixed(2)}×`,
)
console.log(`ratio normalizer / baseline: ${ratio.toFixed(2)}× (target ≤ ${TARGET_RATIO.toFixed(1)}×)`)
console.log(
  `VERDICT normalize throughput: ${ratio <= TARGET_RATIO ? 'PASS' : 'FAIL'} (${ratio.toFixed(2)}×, target ≤ ${TARGET_RATIO.toFixed(1)}×)`,
)
if (ratio > TARGET_RATIO) process.exitCode = 1
