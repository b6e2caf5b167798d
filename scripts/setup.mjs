#!/usr/bin/env node
// Makes a fresh Debian machine ready for `npm run demo` or `npm test`: npm packages, and the Debian
// packages the real-browser and collector tests use. Idempotent and quick when all is there.
// Only Node built-ins here: it runs before node_modules exists.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const purpose = process.argv[2] ?? 'test' // 'demo' | 'test' | 'bench'
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' })
  if (r.status !== 0) {
    console.error(`setup: \`${cmd} ${args.join(' ')}\` failed (exit ${r.status})`)
    process.exit(r.status || 1)
  }
}
const has = (file) => existsSync(file)

// npm packages: install when missing or when package.json / package-lock.json changed since the last install.
// `npm ci` first; npm 11 on Linux writes lock files without the other platforms' optional packages (e.g.
// @biomejs/cli-darwin-x64) and then its own `npm ci` refuses them as "not in sync", so fall back to
// `npm install`, which installs the versions the lock file pins.
const fingerprint = () =>
  createHash('sha256')
    .update(readFileSync('package.json'))
    .update(existsSync('package-lock.json') ? readFileSync('package-lock.json') : '')
    .digest('hex')
const stamp = 'node_modules/.setup-stamp'
if (!has(stamp) || readFileSync(stamp, 'utf8') !== fingerprint()) {
  console.log('setup: installing npm packages')
  const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' })
  if (ci.status !== 0) {
    console.log('setup: `npm ci` refused the lock file; installing the locked versions with `npm install`')
    run('npm', ['install', '--no-audit', '--no-fund'])
  }
  writeFileSync(stamp, fingerprint())
}

// Debian packages: what each purpose needs, as [binary or file that proves it, package].
const want = {
  demo: [['/usr/bin/chromium', 'chromium']],
  bench: [
    ['/usr/bin/chromium', 'chromium'],
    ['/usr/sbin/nginx', 'nginx'],
    ['/usr/lib/nginx/modules/ngx_http_echo_module.so', 'libnginx-mod-http-echo'],
  ],
  test: [
    ['/usr/bin/chromium', 'chromium'],
    ['/usr/bin/firefox-esr', 'firefox-esr'],
    ['/usr/sbin/nginx', 'nginx'],
    ['/usr/lib/nginx/modules/ngx_http_echo_module.so', 'libnginx-mod-http-echo'],
  ],
}[purpose]
if (!want) {
  console.error(`setup: unknown purpose "${purpose}" (demo, test, bench)`)
  process.exit(2)
}
const missing = want.filter(([file]) => !has(file)).map(([, pkg]) => pkg)
if (missing.length) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')} fonts-dejavu-core`
  if (!isRoot) {
    console.error(`setup: missing Debian packages: ${missing.join(', ')}. Install them as root:\n  sudo sh -c '${cmd}'`)
    process.exit(1)
  }
  console.log(`setup: installing Debian packages: ${missing.join(', ')}`)
  run('sh', ['-c', `DEBIAN_FRONTEND=noninteractive ${cmd}`])
}
