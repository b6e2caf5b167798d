#!/usr/bin/env node
// Starts the Atlassian simulator (test/fake-atlassian) until killed. Arguments are passed through:
//   node scripts/fake-atlassian.mjs --port 8990 [--seed 1] [--volume 1000] [--json]
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const tsx = join(root, 'node_modules', '.bin', 'tsx')
const child = spawn(tsx, [join(root, 'test', 'fake-atlassian', 'cli.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
})
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)))
