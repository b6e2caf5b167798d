#!/usr/bin/env node
// Thin launcher: the CLI is bundled by `npm run build` into dist/cli/atlassian-audit.mjs.
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const built = fileURLToPath(new URL('../dist/cli/atlassian-audit.mjs', import.meta.url))
if (!existsSync(built)) {
  process.stderr.write('atlassian-audit: not built yet; run `npm run build` first\n')
  process.exit(2)
}
await import(pathToFileURL(built).href)
