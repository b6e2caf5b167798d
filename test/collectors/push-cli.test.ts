// `atlassian-audit push` spawned from source (through tsx) against the real nginx recording collector.

import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sinkKey } from '../../src/core/sinks/batch'
import { validateEcsDocument } from '../ecs-validator'
import { fixtureDocs } from './docs'
import { CREDS, NginxCollector } from './nginx'

const root = join(import.meta.dirname, '../..')
let nginx: NginxCollector
const docs = fixtureDocs()
const ndjson = `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`
const keys = docs.map(sinkKey)

beforeAll(async () => {
  nginx = new NginxCollector()
  await nginx.start()
})
afterAll(async () => {
  await nginx?.dispose()
})
beforeEach(async () => {
  nginx.clearFailures()
  await nginx.clear()
})

interface CliRun {
  code: number | null
  stderr: string
  stdout: string
  /** The last stderr line: the verdict. */
  verdict: string
}

function push(args: string[], input: string, env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // `node --import tsx` = `npx tsx` without npx's own start-up (seconds on a loaded machine)
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './test/collectors/app-version.mjs',
        'src/cli/atlassian-audit.ts',
        'push',
        ...args,
      ],
      { cwd: root, env: { ...process.env, ATLASSIAN_AUDIT_RETRY_BASE_MS: '100', ...env }, stdio: 'pipe' },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString()
    })
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => {
      // npm may warn about the environment's npmrc; that is not our output
      const ours = stderr
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('npm warn'))
        .join('\n')
      resolve({ code, stdout, stderr: ours, verdict: ours.split('\n').at(-1) ?? '' })
    })
    // a command that stops early (usage error) closes stdin before reading it
    child.stdin.on('error', () => {})
    child.stdin.end(input)
  })
}

async function bulkIds(): Promise<string[]> {
  return (await nginx.acceptedSettled())
    .flatMap((r) => r.body.split('\n').filter(Boolean))
    .map((l) => JSON.parse(l))
    .filter((o) => o.create)
    .map((o) => o.create._id as string)
}

describe('atlassian-audit push against nginx', () => {
  it('elasticsearch: every document accepted → exit 0, _id = key, documents valid ECS', async () => {
    const run = await push(
      ['--collector', 'elasticsearch', '--url', nginx.baseUrl, '--username', CREDS.esUser, '--batch-size', '100'],
      ndjson,
      { COLLECTOR_TOKEN: CREDS.esPassword },
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.verdict).toMatch(
      new RegExp(
        `^atlassian-audit push: ${docs.length} of ${docs.length} documents accepted by elasticsearch at http://127\\.0\\.0\\.1:\\d+$`,
      ),
    )
    expect(run.stdout).toBe('')
    expect(await nginx.acceptedSettled()).toHaveLength(3)
    expect((await bulkIds()).sort()).toEqual([...keys].sort())
    for (const r of await nginx.accepted()) {
      const lines = r.body.split('\n').filter(Boolean)
      for (let i = 1; i < lines.length; i += 2) expect(validateEcsDocument(JSON.parse(lines[i]))).toEqual([])
    }
  })

  it('elasticsearch with an API key, a namespace and gzip', async () => {
    const run = await push(
      [
        '--collector',
        'elasticsearch',
        '--url',
        `${nginx.baseUrl}/gz/apikey`,
        '--auth',
        'apikey',
        '--data-stream-namespace',
        'prod',
        '--gzip',
      ],
      ndjson,
      { COLLECTOR_TOKEN: CREDS.esApiKey },
    )
    expect(run.code, run.stderr).toBe(0)
    const requests = await nginx.accepted()
    expect(requests.every((r) => r.cenc === 'gzip' && r.uri === '/gz/apikey/_bulk')).toBe(true)
    const actions = requests.flatMap((r) => r.body.split('\n').filter(Boolean)).filter((l) => l.startsWith('{"create"'))
    expect(actions).toHaveLength(docs.length)
    expect(actions.every((a) => JSON.parse(a).create._index.endsWith('-prod'))).toBe(true)
  })

  it('splunk-hec through a 503 burst: retries, then exit 0 with every event delivered', async () => {
    nginx.setFailure('hec', 503, true)
    // the collector recovers after it refused three requests
    void nginx
      .waitFor((r) => r.filter((x) => x.status === 503).length >= 3, 60_000)
      .then(() => nginx.setFailure('hec', 503, false))
    const run = await push(
      [
        '--collector',
        'splunk-hec',
        '--url',
        nginx.baseUrl,
        '--batch-size',
        '50',
        '--splunk-index',
        'atlassian',
        '--splunk-sourcetype',
        'atlassian:audit:test',
        '--header',
        'X-Source: atlassian-audit',
      ],
      ndjson,
      { COLLECTOR_TOKEN: CREDS.hecToken },
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/Splunk HEC answered HTTP 503 code 9: Server is busy; retrying 50 documents in/)
    expect(run.verdict).toMatch(/267 of 267 documents accepted by splunk-hec at .*; \d+ retries$/)
    const envelopes = (await nginx.acceptedSettled())
      .flatMap((r) => r.body.split('\n').filter(Boolean))
      .map((l) => JSON.parse(l))
    const events = envelopes.map((e) => e.event)
    expect(new Set(events.map(sinkKey))).toEqual(new Set(keys))
    for (const e of envelopes) expect(e).toMatchObject({ index: 'atlassian', sourcetype: 'atlassian:audit:test' })
  })

  it('wrong credentials: exit 1 with one clear line, no secret', async () => {
    const run = await push(['--collector', 'elasticsearch', '--url', nginx.baseUrl, '--username', 'elastic'], ndjson, {
      COLLECTOR_TOKEN: 'wrong-password-123',
    })
    expect(run.code).toBe(1)
    expect(run.stderr.split('\n')).toHaveLength(1)
    expect(run.verdict).toMatch(
      /^atlassian-audit push: Elasticsearch rejected the credentials \(HTTP 401\): wrong user name, password, token or API key \(check --username, --auth and COLLECTOR_TOKEN\) \(0 of \d+ documents read were accepted/,
    )
    expect(run.stderr).not.toContain('wrong-password-123')
  })

  it('http-ndjson: an invalid input line is reported with its number and counted; the rest is delivered; exit 1', async () => {
    const lines = ndjson.split('\n')
    lines.splice(2, 0, '{"truncated": ')
    const run = await push(['--collector', 'http-ndjson', '--url', `${nginx.baseUrl}/ingest`], lines.join('\n'), {
      COLLECTOR_TOKEN: CREDS.bearer,
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/invalid input line 3: not JSON/)
    expect(run.verdict).toMatch(
      /267 of 267 documents accepted by http-ndjson .*; 1 invalid input line not pushed \(first: line 3: not JSON/,
    )
    const received = (await nginx.acceptedSettled()).flatMap((r) => r.body.split('\n').filter(Boolean))
    expect(received).toHaveLength(docs.length)
  })

  it('rejected documents: exit 1 with their count and the reason', async () => {
    const run = await push(
      ['--collector', 'http-ndjson', '--url', `${nginx.baseUrl}/reject/ingest`],
      `${ndjson.split('\n').slice(0, 3).join('\n')}\n`,
      {
        COLLECTOR_TOKEN: CREDS.bearer,
      },
    )
    expect(run.code).toBe(1)
    expect(run.verdict).toBe(
      `atlassian-audit push: 0 of 3 documents accepted by http-ndjson at ${nginx.baseUrl}; 3 documents rejected by the collector (first: the collector refused the batch (HTTP 400: {"error":"mapping"}))`,
    )
  })

  it('unreachable collector: bounded retries, then exit 1 naming the cause', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port
        s.close(() => resolve(p))
      })
    })
    const started = Date.now()
    const run = await push(
      ['--collector', 'http-ndjson', '--url', `http://127.0.0.1:${port}/ingest`, '--max-retry-time', '1'],
      ndjson,
      { COLLECTOR_TOKEN: CREDS.bearer },
    )
    expect(run.code).toBe(1)
    expect(run.verdict).toMatch(
      new RegExp(
        `gave up after \\d+ s of retries: cannot reach the collector at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`,
      ),
    )
    expect(Date.now() - started).toBeLessThan(20_000)
  })

  it('plain http to a non-loopback host is refused before anything is sent (exit 2)', async () => {
    const run = await push(['--collector', 'splunk-hec', '--url', 'http://splunk.example.com:8088'], ndjson, {
      COLLECTOR_TOKEN: CREDS.hecToken,
    })
    expect(run.code).toBe(2)
    expect(run.verdict).toMatch(
      /plain http:\/\/ is only allowed for loopback addresses .* use https:\/\/splunk\.example\.com:8088/,
    )
  })
})
