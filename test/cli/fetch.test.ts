// `atlassian-audit fetch` spawned against the Atlassian simulator: NDJSON on stdout with each record exactly
// once, progress on stderr, --state for incremental runs (also across an interrupted run), transient faults
// retried, one clear stderr line per failure class, and no secret anywhere in stdout or stderr.

import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path, { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/core/ecs/identity'
import { login } from '../fake-atlassian/helpers'
import type { FakeAtlassian } from '../fake-atlassian/server'
import { startFakeAtlassian } from '../fake-atlassian/server'

const root = join(import.meta.dirname, '..', '..')
const entry = join(root, 'src', 'cli', 'atlassian-audit.ts')
const built = join(root, 'dist', 'cli', 'atlassian-audit.mjs')
const tmp = mkdtempSync(path.join(tmpdir(), 'fetch-cli-'))

interface Run {
  code: number | null
  stdout: string
  stderr: string
  docs: Record<string, any>[]
}

/** Fast retries for tests; the production defaults are seconds. */
const FAST = { ATLASSIAN_AUDIT_BACKOFF_BASE_MS: '5', ATLASSIAN_AUDIT_TIMEOUT_MS: '5000' }

function cli(
  args: string[],
  token: string | undefined,
  opts: {
    env?: Record<string, string>
    bin?: 'tsx' | 'dist'
    onStderr?: (chunk: string, kill: () => void) => void
  } = {},
): Promise<Run> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...FAST,
    ...opts.env,
  }
  if (token !== undefined) env.ATLASSIAN_TOKEN = token
  // tsx runs the TypeScript entry; __APP_VERSION__ is a build-time constant, defined here for the unbundled run.
  const argv =
    opts.bin === 'dist'
      ? [built]
      : ['--import', 'tsx', '--import', 'data:text/javascript,globalThis.__APP_VERSION__="test"', entry]
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...argv, 'fetch', ...args], { env, cwd: root })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString()
    })
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString()
      opts.onStderr?.(c.toString(), () => child.kill('SIGTERM'))
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const docs = stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, any>)
      resolve({ code, stdout, stderr, docs })
    })
  })
}

const identity = (doc: Record<string, any>) => canonicalJson(JSON.parse(String(doc.event.original)))

let sim: FakeAtlassian
let secrets: string[] = []

beforeAll(async () => {
  sim = await startFakeAtlassian({
    seed: 7,
    volume: { 'confluence-cloud': 1200, 'jira-cloud': 400, 'confluence-dc': 400 },
  })
  const c = sim.credentials
  secrets = [c.apiToken, c.scopedToken, c.wrongScopeToken, c.pat, c.orgKey, c.dcPassword, c.viewerToken, c.viewerPat]
})
afterAll(async () => {
  await sim?.close()
  rmSync(tmp, { recursive: true, force: true })
})

function expectNoSecrets(r: Run, extra: string[] = []) {
  for (const s of [...secrets, ...extra]) {
    expect(r.stdout.includes(s)).toBe(false)
    expect(r.stderr.includes(s)).toBe(false)
  }
}

function expectExactlyServed(
  docs: Record<string, any>[],
  api: Parameters<FakeAtlassian['served']> extends [] ? string : never,
) {
  const ids = docs.map(identity)
  expect(new Set(ids).size).toBe(ids.length)
  expect(new Set(ids)).toEqual(sim.served().identities(api as never))
}

describe('atlassian-audit fetch: every API and sign-in mode', () => {
  const cloud = () => sim.sites.cloud.baseUrl
  const cases: { name: string; args: () => string[]; token: () => Promise<string> | string; api: string }[] = [
    {
      name: 'Confluence Cloud, basic (default with --email), with faults retried',
      args: () => [
        '--site',
        cloud(),
        '--product',
        'confluence',
        '--deployment',
        'cloud',
        '--email',
        sim.credentials.email,
      ],
      token: () => sim.credentials.apiToken,
      api: 'confluence-cloud',
    },
    {
      name: 'Jira Cloud, scoped token through --gateway',
      args: () => [
        '--site',
        cloud(),
        '--product',
        'jira',
        '--deployment',
        'cloud',
        '--auth',
        'scoped',
        '--email',
        sim.credentials.email,
        '--gateway',
        sim.gatewayUrl,
      ],
      token: () => sim.credentials.scopedToken,
      api: 'jira-cloud',
    },
    {
      name: 'Jira Cloud, session cookie (default without --email)',
      args: () => ['--site', cloud(), '--product', 'jira', '--deployment', 'cloud'],
      token: () => login(`${cloud()}/login`),
      api: 'jira-cloud',
    },
    {
      name: 'Confluence DC, PAT (default on dc)',
      args: () => ['--site', sim.sites['confluence-dc'].baseUrl, '--product', 'confluence', '--deployment', 'dc'],
      token: () => sim.credentials.pat,
      api: 'confluence-dc',
    },
    {
      name: 'Confluence DC legacy API, session JSESSIONID',
      args: () => [
        '--site',
        sim.sites['confluence-dc'].baseUrl,
        '--product',
        'confluence',
        '--deployment',
        'dc',
        '--auth',
        'session',
        '--api',
        'confluence-dc-legacy',
      ],
      token: () => login(`${sim.sites['confluence-dc'].baseUrl}/login`),
      api: 'confluence-dc-legacy',
    },
    {
      name: 'Jira DC, basic user name + password',
      args: () => [
        '--site',
        sim.sites['jira-dc'].baseUrl,
        '--product',
        'jira',
        '--deployment',
        'dc',
        '--email',
        sim.credentials.dcUsername,
      ],
      token: () => sim.credentials.dcPassword,
      api: 'jira-dc',
    },
    {
      name: 'Bitbucket DC, PAT',
      args: () => [
        '--site',
        sim.sites['bitbucket-dc'].baseUrl,
        '--product',
        'bitbucket',
        '--deployment',
        'dc',
        '--auth',
        'pat',
      ],
      token: () => sim.credentials.pat,
      api: 'bitbucket-dc',
    },
    {
      name: 'Organization audit log, org API key (orgId discovered)',
      args: () => ['--product', 'org', '--gateway', sim.gatewayUrl],
      token: () => sim.credentials.orgKey,
      api: 'org-events-stream',
    },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      sim.resetServed()
      sim.faults.clear()
      sim.faults.serverError({ probability: 0.15 })
      sim.faults.truncate({ probability: 0.1 })
      sim.faults.rateLimit({ probability: 0.1, retryAfterSeconds: 1 })
      const token = await c.token()
      const r = await cli(c.args(), token)
      sim.faults.clear()
      expect(r.stderr).toMatch(/page \d+, \d+ records/)
      expect(r.code).toBe(0)
      expect(r.docs.length).toBeGreaterThan(0)
      expectExactlyServed(r.docs, c.api as never)
      expectNoSecrets(r, [token, ...token.split(/;\s*/).map((kv) => kv.slice(kv.indexOf('=') + 1))])
    })
  }
})

describe('--state', () => {
  it('a later run emits only records not emitted before, also after an interrupted run', async () => {
    sim.faults.clear()
    const state = join(tmp, 'state.json')
    const args = [
      '--site',
      sim.sites.cloud.baseUrl,
      '--product',
      'confluence',
      '--deployment',
      'cloud',
      '--email',
      sim.credentials.email,
      '--state',
      state,
      '--limit',
      '100',
    ]
    const token = sim.credentials.apiToken
    sim.faults.slow({ probability: 1, delayMs: 40 })
    // Interrupt the first run after its third page (SIGTERM: the CLI stops between two commits).
    const first = await cli(args, token, {
      onStderr: (chunk, kill) => {
        if (/page 3,/.test(chunk)) kill()
      },
    })
    sim.faults.clear()
    expect(first.code).toBe(1)
    expect(first.stderr).toMatch(/interrupted; the next run with the same --state resumes/)
    const second = await cli(args, token)
    expect(second.code).toBe(0)
    const all = [...first.docs, ...second.docs].map(identity)
    expect(new Set(all).size).toBe(all.length)
    const window = (sim.records('confluence-cloud') as { creationDate: number }[]).filter(
      (r) => r.creationDate >= Date.now() - 7 * 86_400_000 - 60_000 && r.creationDate <= Date.now() - 60_000,
    )
    for (const r of window) expect(all).toContain(canonicalJson(r))

    const third = await cli(args, token)
    expect(third.code).toBe(0)
    expect(third.docs).toHaveLength(0)
    const added = sim.generate('cloud', 3, { at: Date.now() - 2000 })
    sim.insert('confluence-cloud', added)
    const fourth = await cli(args, token)
    expect(fourth.docs.map(identity).sort()).toEqual(added.map((r) => canonicalJson(r)).sort())
    const saved = readFileSync(state, 'utf8')
    for (const s of secrets) expect(saved.includes(s)).toBe(false)
  })
})

describe('first-run window', () => {
  // `npm run demo` once showed 385 documents from this CLI and 398 in the extension for the same Jira DC site: the
  // CLI's first run looks back 7 days (the default), the extension's setting defaults to 30 days, and the
  // simulator's default data spans 10 days. Nothing was lost; this pins both windows to the simulator's records.
  it('emits exactly the records of the last 7 days by default, and the older ones with --lookback-days 30', async () => {
    sim.faults.clear()
    const args = ['--site', sim.sites['jira-dc'].baseUrl, '--product', 'jira', '--deployment', 'dc', '--auth', 'pat']
    const stored = (sim.records('jira-dc') as { timestamp: string }[]).map((r) => ({
      t: Date.parse(r.timestamp),
      id: canonicalJson(r),
    }))
    const byDefault = await cli(args, sim.credentials.pat)
    expect(byDefault.code).toBe(0)
    const until = Date.parse(/collected up to (\S+)/.exec(byDefault.stderr)?.[1] ?? '')
    expect(Number.isFinite(until)).toBe(true)
    const from = until - 7 * 86_400_000
    // The DC API's `to` is exclusive in the simulator; `from` is inclusive.
    const inWindow = stored.filter((r) => r.t >= from && r.t < until).map((r) => r.id)
    const older = stored.filter((r) => r.t < from)
    expect(older.length).toBeGreaterThan(0)
    expect(byDefault.docs.map(identity).sort()).toEqual(inWindow.sort())

    const month = await cli([...args, '--lookback-days', '30'], sim.credentials.pat)
    expect(month.code).toBe(0)
    const all = month.docs.map(identity)
    expect(new Set(all).size).toBe(all.length)
    expect(new Set(all)).toEqual(new Set(stored.map((r) => r.id)))
  })
})

describe('failure classes: exit 1 and one clear line', () => {
  const confluence = () => ['--site', sim.sites.cloud.baseUrl, '--product', 'confluence', '--deployment', 'cloud']
  const cases: {
    code: string
    args: () => string[]
    token: () => string
    setup?: () => void
    env?: Record<string, string>
    message: RegExp
  }[] = [
    {
      code: 'session-expired',
      args: () => [...confluence(), '--auth', 'session'],
      token: () => 'tenant.session.token=expired-cookie-value-123',
      message: /Sign in to .* again/,
    },
    {
      code: 'invalid-credentials',
      args: () => [...confluence(), '--email', sim.credentials.email],
      token: () => 'wrong-token-value-xyz',
      message: /rejected the e-mail address and API token/,
    },
    {
      code: 'not-admin',
      args: () => [...confluence(), '--email', sim.credentials.viewerEmail],
      token: () => sim.credentials.viewerToken,
      message: /Confluence Administrator/,
    },
    {
      code: 'no-audit-log-plan',
      args: () => [...confluence(), '--email', sim.credentials.email],
      token: () => sim.credentials.apiToken,
      setup: () => sim.faults.setAuditPlan('cloud', false),
      message: /Standard or Premium/,
    },
    {
      code: 'scope-mismatch',
      args: () => [...confluence(), '--auth', 'scoped', '--email', sim.credentials.email, '--gateway', sim.gatewayUrl],
      token: () => sim.credentials.wrongScopeToken,
      message: /read:audit-log:confluence/,
    },
    {
      code: 'rate-limited',
      args: () => [...confluence(), '--email', sim.credentials.email],
      token: () => sim.credentials.apiToken,
      setup: () => sim.faults.rateLimit({ retryAfterSeconds: 1 }),
      env: { ATLASSIAN_AUDIT_MAX_WAIT_MS: '2500' },
      message: /too many requests/,
    },
    {
      code: 'server-error',
      args: () => [...confluence(), '--email', sim.credentials.email],
      token: () => sim.credentials.apiToken,
      setup: () => sim.faults.serverError({ status: 503 }),
      message: /HTTP 503/,
    },
    {
      code: 'malformed-response',
      args: () => [...confluence(), '--email', sim.credentials.email],
      token: () => sim.credentials.apiToken,
      setup: () => sim.faults.truncate({ mode: 'malformed' }),
      message: /not the expected audit JSON/,
    },
    {
      code: 'site-unreachable',
      args: () => ['--site', 'http://127.0.0.1:9', '--product', 'jira', '--deployment', 'cloud', '--email', 'a@b.c'],
      token: () => sim.credentials.apiToken,
      message: /Could not reach http:\/\/127\.0\.0\.1:9/,
    },
    {
      code: 'endpoint-not-found',
      args: () => ['--site', sim.sites['confluence-dc'].baseUrl, '--product', 'confluence', '--deployment', 'dc'],
      token: () => sim.credentials.pat,
      setup: () => sim.faults.setAuditPlan('confluence-dc', false),
      message: /7\.5 or later.*--api confluence-dc-legacy/,
    },
    {
      code: 'auth-config',
      args: () => [...confluence(), '--auth', 'pat'],
      token: () => sim.credentials.pat,
      message: /Data Center feature/,
    },
  ]
  for (const c of cases) {
    it(c.code, async () => {
      sim.faults.clear()
      c.setup?.()
      const token = c.token()
      const r = await cli(c.args(), token, { env: { ...c.env, ATLASSIAN_AUDIT_BACKOFF_BASE_MS: '1' } })
      sim.faults.clear()
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('')
      const failures = r.stderr.split('\n').filter((l) => l.startsWith(`atlassian-audit fetch: ${c.code}: `))
      expect(failures).toHaveLength(1)
      expect(failures[0]).toMatch(c.message)
      expect(r.stderr.trim().split('\n').at(-1)).toBe(failures[0])
      expectNoSecrets(r, [token])
    })
  }

  it('usage errors exit 2; the secret never comes from arguments', async () => {
    const r = await cli(['--product', 'confluence'], 'x')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--deployment is required/)
    const none = await cli(['--site', sim.sites.cloud.baseUrl, '--product', 'jira', '--deployment', 'cloud'], undefined)
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/ATLASSIAN_TOKEN/)
  })
})

describe('bundled CLI', () => {
  beforeAll(() => {
    // dist/ is shared: build under the lock, fresh, so that this tree's code is what runs.
    execFileSync('flock', ['/tmp/build.lock', process.execPath, 'scripts/build.mjs', 'cli'], {
      cwd: root,
      stdio: 'ignore',
    })
  }, 180_000)

  it('dist/cli fetches the same way', async () => {
    sim.faults.clear()
    sim.resetServed()
    const r = await cli(
      ['--site', sim.sites['bitbucket-dc'].baseUrl, '--product', 'bitbucket', '--deployment', 'dc'],
      sim.credentials.pat,
      { bin: 'dist' },
    )
    expect(r.code).toBe(0)
    expectExactlyServed(r.docs, 'bitbucket-dc' as never)
    expectNoSecrets(r)
  })
})
