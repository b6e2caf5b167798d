// `atlassian-audit push` argument handling, in-process (no collector needed: each case stops before
// sending anything). The runs against a real collector are in test/collectors/push-cli.test.ts.

import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { run } from '../../src/cli/commands/push'

async function push(args: string[], env: Record<string, string> = {}, input = '') {
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
  stdin.end(input)
  const code = await run(args, { stdin, stdout, stderr, env })
  return { code, stdout: out, stderr: err, first: err.split('\n')[0] }
}

describe('atlassian-audit push arguments', () => {
  it('usage errors exit 2 with the reason and the usage', async () => {
    const cases: [string[], RegExp][] = [
      [[], /--collector must be elasticsearch, splunk-hec or http-ndjson/],
      [['--collector', 'kafka', '--url', 'https://x'], /--collector must be/],
      [['--collector', 'elasticsearch'], /--url is required/],
      [['--collector', 'elasticsearch', '--url', 'https://x', '--bogus', '1'], /unknown option --bogus/],
      [['--collector', 'elasticsearch', '--url', 'https://x', '--batch-size', '0'], /--batch-size must be a number/],
      [['--collector', 'elasticsearch', '--url', 'https://x', '--auth', 'kerberos'], /--auth must be none, basic/],
      [['--collector', 'elasticsearch', '--url', 'https://x', '--auth', 'basic'], /--auth basic needs --username/],
      [
        ['--collector', 'splunk-hec', '--url', 'https://x'],
        /--auth splunk needs the secret in the environment variable COLLECTOR_TOKEN/,
      ],
      [['--collector', 'elasticsearch', '--url'], /--url needs a value/],
      [['--collector', 'http-ndjson', '--url', 'https://x', '--header', 'no colon'], /--header must be "Name: value"/],
    ]
    for (const [args, message] of cases) {
      const r = await push(args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.first).toMatch(message)
      expect(r.stderr).toContain('Usage: atlassian-audit push')
    }
  })

  it('configuration errors exit 2 with one line: the https rule, credentials in the URL, a bad namespace or header', async () => {
    const env = { COLLECTOR_TOKEN: 'tok-secret' }
    const cases: [string[], RegExp][] = [
      [
        ['--collector', 'http-ndjson', '--url', 'http://10.1.2.3/ingest'],
        /plain http:\/\/ is only allowed for loopback/,
      ],
      [['--collector', 'http-ndjson', '--url', 'https://u:p@logs.example.com/'], /must not contain credentials/],
      [
        ['--collector', 'elasticsearch', '--url', 'https://es.example.com', '--data-stream-namespace', 'Prod-1'],
        /namespace "Prod-1" is invalid/,
      ],
      [
        ['--collector', 'http-ndjson', '--url', 'https://x.example.com', '--auth', 'header:Bad Name'],
        /is not a valid HTTP header name/,
      ],
    ]
    for (const [args, message] of cases) {
      const r = await push(args, env)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.first).toMatch(message)
      expect(r.stderr).not.toContain('tok-secret')
    }
  })

  it('empty input: nothing to send, exit 0; blank lines are not errors', async () => {
    const r = await push(['--collector', 'http-ndjson', '--url', 'https://logs.example.com/in'], {}, '\n\n  \n')
    expect(r.code).toBe(0)
    expect(r.first).toBe('atlassian-audit push: 0 of 0 documents accepted by http-ndjson at https://logs.example.com')
    expect(r.stdout).toBe('')
  })

  it('input that is only invalid lines: each reported with its line number, exit 1, nothing sent', async () => {
    const r = await push(
      ['--collector', 'http-ndjson', '--url', 'https://logs.example.com/in'],
      {},
      '[1,2]\nnope\n42\n',
    )
    expect(r.code).toBe(1)
    const lines = r.stderr.trim().split('\n')
    expect(lines.slice(0, 3)).toEqual([
      'atlassian-audit push: invalid input line 1: not a JSON object; skipped and counted',
      expect.stringMatching(/^atlassian-audit push: invalid input line 2: not JSON \(/),
      'atlassian-audit push: invalid input line 3: not a JSON object; skipped and counted',
    ])
    expect(lines[3]).toMatch(
      /0 of 0 documents accepted .*; 3 invalid input lines not pushed \(first: line 1: not a JSON object\)$/,
    )
  })
})
