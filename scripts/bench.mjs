#!/usr/bin/env node
// npm run bench: builds, then runs every test/bench/*.bench.ts one after the other (they measure, so they
// must not share the 2 cores), and ends with the verdict lines each benchmark printed.
// Set BENCH=name[,name] to run only some (e.g. BENCH=normalize,push).
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'

const only = process.env.BENCH?.split(',').map((s) => s.trim())
const files = readdirSync('test/bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !only || only.includes(f.replace('.bench.ts', '')))
  .sort()

if (!process.env.SKIP_BUILD) {
  const b = spawnSync('node', ['scripts/build.mjs', 'chrome-test', 'cli'], { stdio: 'inherit' })
  if (b.status !== 0) process.exit(b.status || 1)
}

const verdicts = []
let failed = 0
for (const f of files) {
  console.log(`\n━━━ ${f} ━━━`)
  const r = spawnSync('npx', ['tsx', `test/bench/${f}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  process.stdout.write(r.stdout ?? '')
  for (const line of (r.stdout ?? '').split('\n'))
    if (/\b(PASS|FAIL|MISS)\b/.test(line)) verdicts.push(`${f}: ${line.trim()}`)
  if (r.status !== 0) {
    failed++
    verdicts.push(`${f}: exited with ${r.status}`)
  }
}
console.log('\n━━━ summary ━━━')
for (const v of verdicts) console.log(v)
process.exitCode = failed ? 1 : 0
