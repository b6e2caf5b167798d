// `atlassian-audit normalize`: in-process runs with fake streams for the cases, and spawned runs of the
// TypeScript entry point and of the bundled CLI (dist/cli, rebuilt here under the build lock).
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { beforeAll, describe, expect, it } from 'vitest'
import { JsonValueSplitter, run } from '../../src/cli/commands/normalize'
import { normalizeText } from '../../src/core/ecs/normalize'

const root = join(import.meta.dirname, '..', '..')
const atlassian = join(root, 'test', 'golden', 'atlassian-fixtures')
const elastic = join(root, 'test', 'golden', 'fixtures')
const fixture = (name: string) => readFileSync(join(atlassian, name), 'utf8')

type Doc = Record<string, any>

async function normalize(args: string[], input: string | string[]) {
  const stdin = new PassThrough()
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (c: Buffer) => {
    out += c.toString()
  })
  stderr.on('data', (c: Buffer) => {
    err += c.toString()
  })
  const done = run(args, { stdin, stdout, stderr, env: {} })
  // feed in chunks, as a pipe would
  for (const chunk of Array.isArray(input) ? input : [input]) stdin.write(chunk)
  stdin.end()
  const code = await done
  const docs = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Doc)
  return { code, docs, stdout: out, stderr: err }
}

describe('atlassian-audit normalize (in process)', () => {
  it('NDJSON: one document per record line, in input order, exit 0', async () => {
    const lines = readFileSync(join(elastic, 'atlassian_bitbucket/test-audit-api.log'), 'utf8')
    const r = await normalize([], lines)
    const expectedLines = lines.split('\n').filter((l) => l.trim() !== '')
    expect(r.code).toBe(0)
    expect(r.docs).toHaveLength(expectedLines.length)
    r.docs.forEach((d, i) => {
      expect(d.event.original).toBe(expectedLines[i])
      expect(d.atlassian.product).toBe('bitbucket')
    })
    expect(r.stderr).toBe('')
  })

  it('lines split across chunks and CRLF line ends are handled', async () => {
    const line = readFileSync(join(elastic, 'atlassian_jira/test-audit-cloud.log'), 'utf8').split('\n')[0]
    const input = `${line}\r\n${line}\r\n`
    const r = await normalize(
      ['--product', 'jira', '--deployment', 'cloud'],
      [input.slice(0, 10), input.slice(10, 500), input.slice(500)],
    )
    expect(r.code).toBe(0)
    expect(r.docs.map((d) => d.event.original)).toEqual([line, line])
  })

  it('one API page per line: its records; empty pages give nothing', async () => {
    const page = JSON.stringify(JSON.parse(fixture('jira-dc-auditing-events.page.json')))
    const r = await normalize([], `${page}\n{"entities":[],"pagingInfo":{"lastPage":true,"size":0}}\n${page}\n`)
    expect(r.code).toBe(0)
    expect(r.docs).toHaveLength(8)
  })

  it('one pretty-printed page spanning many lines', async () => {
    const r = await normalize([], fixture('admin-org-events-stream.page.json'))
    expect(r.code).toBe(0)
    expect(r.docs.map((d) => d.event.action)).toEqual(['user_granted_role', 'api_token_created', 'user_added_to_group'])
    expect(r.docs).toEqual(normalizeText(fixture('admin-org-events-stream.page.json')))
  })

  it('several pretty-printed records one after another (jq .entities[])', async () => {
    const entities = JSON.parse(fixture('confluence-dc-auditing-events.page.json')).entities as unknown[]
    const input = entities.map((e) => JSON.stringify(e, null, 2)).join('\n')
    const r = await normalize(['--deployment', 'dc'], input)
    expect(r.code).toBe(0)
    expect(r.docs).toHaveLength(entities.length)
    r.docs.forEach((d, i) => {
      expect(JSON.parse(d.event.original)).toEqual(entities[i])
      expect(d.atlassian).toMatchObject({ product: 'confluence', deployment: 'dc' })
    })
  })

  it('--no-original drops event.original and the preserve_original_event tag', async () => {
    const r = await normalize(['--no-original'], fixture('confluence-cloud-audit.page.json'))
    expect(r.code).toBe(0)
    for (const d of r.docs) {
      expect(d.event.original).toBeUndefined()
      expect(d.tags).toEqual(['forwarded', 'confluence-audit'])
    }
  })

  it('bad lines become pipeline_error documents in place, exit 1', async () => {
    const good = readFileSync(join(elastic, 'atlassian_jira/test-audit-api.log'), 'utf8').split('\n').slice(2, 4)
    const input = [good[0], 'not json at all', '{"hello":"world"}', good[1], ''].join('\n')
    const r = await normalize(['--no-original'], input)
    expect(r.code).toBe(1)
    expect(r.docs.map((d) => d.event.kind)).toEqual(['event', 'pipeline_error', 'pipeline_error', 'event'])
    expect(r.docs[1].event.original).toBe('not json at all')
    expect(r.docs[1].error.message).toMatch(/^not JSON/)
    expect(r.docs[2].error.message).toMatch(/unknown record shape/)
  })

  it('a truncated pretty-printed page: one pipeline_error document holding the text', async () => {
    const text = fixture('jira-cloud-auditing-record.page.json')
    const cut = text.slice(0, Math.floor(text.length / 2))
    const r = await normalize([], cut)
    expect(r.code).toBe(1)
    expect(r.docs).toHaveLength(1)
    expect(r.docs[0].event.original).toBe(cut.trim())
  })

  it('a broken first NDJSON line is one pipeline_error; the lines after it are still normalized', async () => {
    const good = readFileSync(join(elastic, 'atlassian_bitbucket/test-audit-api.log'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
    // (a first line of brackets only, `[` or `{`, opens a pretty-printed page: that is what it is taken for)
    for (const broken of ['{"entities":[{', '{"timestamp":"2021-11-27T17:02:36.332Z",', '[{"id":']) {
      const r = await normalize([], [broken, '\n', good.join('\n'), '\n'])
      expect(r.code).toBe(1)
      expect(r.docs.map((d) => d.event.kind)).toEqual(['pipeline_error', ...good.map(() => 'event')])
      expect(r.docs[0].event.original).toBe(broken)
      expect(r.docs.slice(1).map((d) => d.event.original)).toEqual(good)
    }
  })

  it('a record nested deeper than the stack is one pipeline_error with its own identity, not a crash', async () => {
    const deep = (leaf: number) =>
      `{"timestamp":"2021-11-27T17:02:36.332Z","type":{"action":"x"},"changedValues":[{"key":"k","from":${'{"a":'.repeat(20_000)}${leaf}${'}'.repeat(20_000)}}]}`
    const line = readFileSync(join(elastic, 'atlassian_jira/test-audit-cloud.log'), 'utf8').split('\n')[0]
    const r = await normalize([], `${deep(1)}\n${deep(2)}\n${line}\n`)
    expect(r.code).toBe(1)
    expect(r.docs.map((d) => d.event.kind)).toEqual(['pipeline_error', 'pipeline_error', 'event'])
    expect(r.docs[0].error.message).toMatch(/nested too deeply/)
    expect(r.docs[0].event.original).toBe(deep(1))
    expect(r.docs[0].event.hash).not.toBe(r.docs[1].event.hash)
  })

  it('empty input: no output, exit 0', async () => {
    const r = await normalize([], '')
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' })
  })

  it('usage errors exit 2 with one line', async () => {
    for (const args of [
      ['--product', 'trello'],
      ['--deployment', 'server'],
      ['--product'],
      ['--bogus'],
      ['--no-original=yes'],
      ['extra'],
    ]) {
      const r = await normalize(args, '')
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toMatch(/^atlassian-audit normalize: [^\n]+ \(try --help\)\n$/)
      expect(r.stdout).toBe('')
    }
    expect((await normalize(['--product=org', '--deployment=cloud'], '')).code).toBe(0)
    expect((await normalize(['--help'], '')).stdout).toMatch(/^usage: atlassian-audit normalize/)
  })

  it('the value splitter keeps brackets and quotes inside strings', () => {
    const s = new JsonValueSplitter()
    expect(s.push('{"a": "}{[",')).toEqual([])
    expect(s.push(' "b": "\\"}"}{"c":1}')).toEqual(['{"a": "}{[",\n "b": "\\"}"}', '{"c":1}'])
    expect(s.push('{"d":')).toEqual([])
    expect(s.end()).toBe('{"d":')
  })
})

function spawnCli(command: string, args: string[], input: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString()
    })
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input)
  })
}

describe('atlassian-audit normalize (spawned)', () => {
  const input = `${fixture('confluence-dc-audit.file.ndjson').trim()}\nnot json\n`

  it('the TypeScript entry point (tsx)', async () => {
    // __APP_VERSION__ is a build-time constant; define it for the unbundled run
    const r = await spawnCli(
      process.execPath,
      [
        '--import',
        'data:text/javascript,globalThis.__APP_VERSION__="test"',
        '--import',
        'tsx',
        'src/cli/atlassian-audit.ts',
        'normalize',
      ],
      input,
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(1)
    const docs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(docs.map((d) => d.event.kind)).toEqual(['event', 'event', 'event', 'event', 'pipeline_error'])
    const usage = await spawnCli(
      process.execPath,
      [
        '--import',
        'data:text/javascript,globalThis.__APP_VERSION__="test"',
        '--import',
        'tsx',
        'src/cli/atlassian-audit.ts',
        'normalize',
        '--deployment',
        'x',
      ],
      '',
    )
    expect(usage.code).toBe(2)
    expect(usage.stderr.split('\n')[0]).toBe(
      'atlassian-audit normalize: --deployment must be one of cloud, dc (got "x") (try --help)',
    )
  })

  describe('the bundled CLI (bin/atlassian-audit.mjs → dist/cli)', () => {
    beforeAll(() => {
      // dist/ is shared: build under the lock, and build it fresh so that we test this tree's code
      execFileSync('flock', ['/tmp/build.lock', process.execPath, 'scripts/build.mjs', 'cli'], {
        cwd: root,
        stdio: 'ignore',
      })
    }, 120_000)

    it('normalizes stdin to stdout with the same documents as the library', async () => {
      const r = await spawnCli(process.execPath, ['bin/atlassian-audit.mjs', 'normalize', '--deployment', 'dc'], input)
      expect(r.code).toBe(1)
      const docs = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
      const lib = input.split('\n').flatMap((l) => normalizeText(l, { deployment: 'dc' }))
      expect(docs).toHaveLength(5)
      // the error document's @timestamp is the time of the run; everything else is identical
      expect(docs.slice(0, 4)).toEqual(lib.slice(0, 4))
      expect({ ...docs[4], '@timestamp': 0 }).toEqual({ ...lib[4], '@timestamp': 0 })
      const ok = await spawnCli(
        process.execPath,
        ['bin/atlassian-audit.mjs', 'normalize'],
        fixture('bitbucket-dc-auditing-events.page.json'),
      )
      expect(ok.code).toBe(0)
      expect(ok.stdout.trim().split('\n')).toHaveLength(3)
    })

    it('a reader that stops early (| head) ends it quietly', () => {
      const dir = mkdtempSync(join(tmpdir(), 'normalize-epipe-'))
      try {
        const file = join(dir, 'in.ndjson')
        const lines = readFileSync(join(elastic, 'atlassian_bitbucket/test-audit-api.log'), 'utf8').trim()
        writeFileSync(file, `${Array.from({ length: 400 }, () => lines).join('\n')}\n`)
        const out = execFileSync(
          'bash',
          [
            '-c',
            `node bin/atlassian-audit.mjs normalize < '${file}' 2>'${dir}/err' | head -n 1 >/dev/null; echo \${PIPESTATUS[0]}`,
          ],
          { cwd: root, encoding: 'utf8' },
        )
        expect(readFileSync(join(dir, 'err'), 'utf8')).toBe('')
        expect(out.trim()).toBe('0')
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  })
})
