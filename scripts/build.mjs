#!/usr/bin/env node
// npm run build: dist/chrome, dist/chrome-test, dist/firefox (+ .zip beside the store builds) and dist/cli.
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'

const only = process.argv.slice(2)
const targets = only.length ? only : ['chrome', 'chrome-test', 'firefox', 'cli']
const run = (cmd, args, env = {}) => execFileSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } })

for (const target of targets) {
  console.log(`\n▶ build ${target}`)
  run('npx', ['vite', 'build', '--logLevel', 'warn'], { TARGET: target })
  if (target === 'chrome' || target === 'firefox') {
    rmSync(`dist/${target}.zip`, { force: true })
    run('npx', [
      'web-ext',
      'build',
      '--source-dir',
      `dist/${target}`,
      '--artifacts-dir',
      'dist',
      '--filename',
      `${target}.zip`,
      '--overwrite-dest',
      '--no-config-discovery',
    ])
  }
}
