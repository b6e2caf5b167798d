#!/usr/bin/env node
// npm test: format + lint (Biome), type check (tsc), build, then every test (vitest: Node tests, then
// real Chromium / Firefox / nginx tests). Ends with one line "N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'

const step = (name, cmd, args) => {
  console.log(`\n▶ ${name}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit' })
  if (r.status !== 0) {
    console.error(`✖ ${name} failed (exit ${r.status})`)
    process.exit(r.status || 1)
  }
}

const extra = process.argv.slice(2)
if (!process.env.SKIP_STATIC) {
  step('lint and format (biome)', 'npx', ['biome', 'check', '.'])
  step('type check (tsc)', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'])
}
if (!process.env.SKIP_BUILD) step('build', 'node', ['scripts/build.mjs'])

mkdirSync('test-results', { recursive: true })
console.log('\n▶ tests (vitest)')
const r = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json', ...extra],
  {
    stdio: 'inherit',
  },
)
let summary = ''
try {
  const j = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'))
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0)
  summary = `${j.numPassedTests} passed, ${j.numFailedTests} failed, ${skipped} skipped`
  if (j.numTotalTests === 0) {
    console.error('✖ no test ran')
    process.exitCode = 1
  }
} catch {
  summary = '0 passed, 1 failed'
}
console.log(`\ntests: ${summary}`)
if (r.status !== 0) process.exitCode = r.status || 1
