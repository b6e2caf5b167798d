// `atlassian-audit push`: ECS NDJSON on stdin → a collector (Elasticsearch/OpenSearch _bulk, Splunk HEC,
// HTTP NDJSON). Streams stdin in batches (memory bounded by the batch size), retries 429/5xx/network
// failures with backoff for a bounded time, and exits 0 only when every document was accepted.
// A line that is not a JSON object is reported (line number) and counted, never silently dropped; the
// rest of the input is still pushed, and the exit code is 1.

import type { EcsDocument } from '../../core/model'
import { sinkKey } from '../../core/sinks/batch'
import { isCollectorError } from '../../core/sinks/errors'
import { checkCollectorUrl, createSink } from '../../core/sinks/index'
import { type BackoffPolicy, backoffDelay } from '../../core/sinks/outbox'
import type { CollectorAuth, CollectorConfig, Sink, SinkKind } from '../../core/sinks/sink'
import type { CliIO } from '../io'

const KINDS: readonly SinkKind[] = ['elasticsearch', 'splunk-hec', 'http-ndjson']

export const PUSH_USAGE = `Usage: atlassian-audit push --collector elasticsearch|splunk-hec|http-ndjson --url URL [--username NAME]
         [--auth none|basic|bearer|apikey|splunk|header:NAME] [--data-stream-namespace NS] [--batch-size N] [--gzip]
         [--max-retry-time SECONDS] [--timeout SECONDS] [--header 'Name: value']... [--splunk-index INDEX]
         [--splunk-sourcetype SOURCETYPE]
Reads ECS NDJSON on stdin. The password, token or API key comes from the environment variable COLLECTOR_TOKEN.
  elasticsearch  --url is the cluster base URL (requests go to /_bulk; data streams logs-atlassian_<product>.audit-<NS>)
  splunk-hec     --url is the HEC base URL (requests go to /services/collector/event); --splunk-index and
                 --splunk-sourcetype set the envelope's index and sourcetype (default atlassian:audit:ecs)
  http-ndjson    --url is the full endpoint
Plain http:// is accepted only for loopback addresses.
Default --auth: elasticsearch basic with --username, else apikey; splunk-hec splunk; http-ndjson bearer when
COLLECTOR_TOKEN is set, else none.
`

class UsageError extends Error {}

interface PushOptions {
  config: CollectorConfig
  secret?: string
  maxRetryMs: number
}

function parseArgs(args: string[], env: CliIO['env']): PushOptions {
  const values = new Map<string, string>()
  const headers: Record<string, string> = {}
  let gzip = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--gzip') {
      gzip = true
      continue
    }
    if (arg === '--help' || arg === '-h') throw new UsageError('')
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg)
    if (!m) throw new UsageError(`unexpected argument "${arg}"`)
    const name = m[1]
    if (
      ![
        'collector',
        'url',
        'username',
        'auth',
        'data-stream-namespace',
        'batch-size',
        'max-retry-time',
        'timeout',
        'header',
        'splunk-index',
        'splunk-sourcetype',
      ].includes(name)
    ) {
      throw new UsageError(`unknown option --${name}`)
    }
    const value = m[2] ?? args[++i]
    if (value === undefined) throw new UsageError(`--${name} needs a value`)
    if (name === 'header') {
      // repeatable; not for secrets (they would be in the shell history): use --auth header:NAME
      const colon = value.indexOf(':')
      if (colon <= 0) throw new UsageError(`--header must be "Name: value" (got "${value}")`)
      headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim()
      continue
    }
    values.set(name, value)
  }
  const kind = values.get('collector')
  if (!kind || !(KINDS as readonly string[]).includes(kind)) {
    throw new UsageError('--collector must be elasticsearch, splunk-hec or http-ndjson')
  }
  const url = values.get('url')
  if (!url) throw new UsageError('--url is required')
  const positiveNumber = (name: string, fallback: number, max: number): number => {
    const raw = values.get(name)
    if (raw === undefined) return fallback
    const n = Number(raw)
    if (!Number.isFinite(n) || n <= 0 || n > max)
      throw new UsageError(`--${name} must be a number between 1 and ${max}`)
    return n
  }
  const batchSize = Math.floor(positiveNumber('batch-size', 500, 100_000))
  const timeoutMs = positiveNumber('timeout', 30, 3600) * 1000
  const maxRetryMs = positiveNumber('max-retry-time', 300, 7 * 24 * 3600) * 1000
  const secret = env.COLLECTOR_TOKEN === '' ? undefined : env.COLLECTOR_TOKEN
  const username = values.get('username')
  const authArg =
    values.get('auth') ??
    (kind === 'elasticsearch'
      ? username
        ? 'basic'
        : 'apikey'
      : kind === 'splunk-hec'
        ? 'splunk'
        : secret
          ? 'bearer'
          : 'none')
  let auth: CollectorAuth
  if (authArg.startsWith('header:')) auth = { scheme: 'header', headerName: authArg.slice('header:'.length) }
  else if (['none', 'basic', 'bearer', 'apikey', 'splunk'].includes(authArg)) {
    auth = { scheme: authArg as CollectorAuth['scheme'], username }
  } else throw new UsageError(`--auth must be none, basic, bearer, apikey, splunk or header:NAME (got "${authArg}")`)
  if (auth.scheme === 'basic' && !username) throw new UsageError('--auth basic needs --username')
  if (auth.scheme !== 'none' && !secret) {
    throw new UsageError(`--auth ${authArg} needs the secret in the environment variable COLLECTOR_TOKEN`)
  }
  const config: CollectorConfig = {
    id: 'cli',
    kind: kind as SinkKind,
    url,
    auth,
    namespace: values.get('data-stream-namespace'),
    batchSize,
    gzip,
    timeoutMs,
  }
  if (Object.keys(headers).length) config.headers = headers
  if (values.has('splunk-index')) config.splunkIndex = values.get('splunk-index')
  if (values.has('splunk-sourcetype')) config.splunkSourcetype = values.get('splunk-sourcetype')
  return { config, secret, maxRetryMs }
}

/** Lines of a byte stream, pulled chunk by chunk (the stream's own backpressure bounds memory). */
async function* lines(stream: NodeJS.ReadableStream): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let rest = ''
  for await (const chunk of stream as AsyncIterable<Uint8Array | string>) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
    let from = 0
    let nl = rest.indexOf('\n')
    while (nl >= 0) {
      yield rest.slice(from, nl)
      from = nl + 1
      nl = rest.indexOf('\n', from)
    }
    rest = rest.slice(from)
  }
  rest += decoder.decode()
  if (rest !== '') yield rest
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

class PushFailure extends Error {}

export async function run(args: string[], io: CliIO): Promise<number> {
  const say = (line: string) => io.stderr.write(`atlassian-audit push: ${line}\n`)
  let options: PushOptions
  let sink: Sink
  let target: string
  try {
    options = parseArgs(args, io.env)
    sink = createSink(options.config, options.secret)
    const url = checkCollectorUrl(options.config.url)
    target = `${options.config.kind} at ${url.origin}`
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message) say(e.message)
      io.stderr.write(PUSH_USAGE)
      return 2
    }
    if (isCollectorError(e)) {
      say(e.message)
      return 2
    }
    throw e
  }

  const baseMs = Number(io.env.ATLASSIAN_AUDIT_RETRY_BASE_MS) > 0 ? Number(io.env.ATLASSIAN_AUDIT_RETRY_BASE_MS) : 1000
  const policy: BackoffPolicy = { baseMs, maxMs: Math.max(baseMs, 60_000), configErrorMs: 0 }
  let read = 0
  let accepted = 0
  let retriedRequests = 0
  const rejected: string[] = []
  const invalid: string[] = []
  let nextProgress = 50_000

  const pushBatch = async (batch: EcsDocument[]): Promise<void> => {
    let pending = batch
    let failures = 0
    let firstFailureAt = 0
    while (pending.length > 0) {
      let result: Awaited<ReturnType<Sink['send']>>
      try {
        result = await sink.send(pending)
      } catch (e) {
        if (!isCollectorError(e)) throw e
        const hint = e.kind === 'auth' ? ' (check --username, --auth and COLLECTOR_TOKEN)' : ''
        throw new PushFailure(`${e.message}${hint}`)
      }
      accepted += result.delivered.length
      for (const r of result.rejected) rejected.push(r.reason)
      if (result.retry.length === 0) break
      const retry = new Set(result.retry)
      pending = pending.filter((d) => retry.has(sinkKey(d)))
      failures++
      retriedRequests++
      if (failures === 1) firstFailureAt = Date.now()
      const delay = Math.max(backoffDelay(failures, policy), result.retryAfterMs ?? 0)
      const reason = result.transientError ?? 'the collector did not accept every document'
      if (Date.now() + delay - firstFailureAt > options.maxRetryMs) {
        throw new PushFailure(
          `gave up after ${Math.round((Date.now() - firstFailureAt) / 1000)} s of retries: ${reason}; ${plural(pending.length, 'document')} of this batch not delivered`,
        )
      }
      say(`${reason}; retrying ${plural(pending.length, 'document')} in ${(delay / 1000).toFixed(1)} s`)
      await sleep(delay)
    }
    if (accepted >= nextProgress) {
      say(`${accepted} documents accepted so far`)
      nextProgress += 50_000
    }
  }

  let lineNo = 0
  let batch: EcsDocument[] = []
  try {
    for await (const line of lines(io.stdin)) {
      lineNo++
      if (line.trim() === '') continue
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (e) {
        invalid.push(`line ${lineNo}: not JSON (${(e as Error).message})`)
        if (invalid.length <= 10) say(`invalid input ${invalid[invalid.length - 1]}; skipped and counted`)
        continue
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        invalid.push(`line ${lineNo}: not a JSON object`)
        if (invalid.length <= 10) say(`invalid input ${invalid[invalid.length - 1]}; skipped and counted`)
        continue
      }
      read++
      batch.push(value as EcsDocument)
      if (batch.length >= options.config.batchSize!) {
        await pushBatch(batch)
        batch = []
      }
    }
    if (batch.length > 0) await pushBatch(batch)
  } catch (e) {
    if (!(e instanceof PushFailure)) throw e
    // one verdict line: the cause first, then what did get through
    const invalidNote = invalid.length > 0 ? `, ${plural(invalid.length, 'invalid input line')}` : ''
    say(
      `${e.message} (${accepted} of ${read} documents read were accepted${invalidNote}; the rest of stdin was not read)`,
    )
    return 1
  }

  const parts = [`${accepted} of ${plural(read, 'document')} accepted by ${target}`]
  if (rejected.length > 0)
    parts.push(`${plural(rejected.length, 'document')} rejected by the collector (first: ${rejected[0]})`)
  if (invalid.length > 0)
    parts.push(`${plural(invalid.length, 'invalid input line')} not pushed (first: ${invalid[0]})`)
  if (retriedRequests > 0) parts.push(`${retriedRequests} ${retriedRequests === 1 ? 'retry' : 'retries'}`)
  say(parts.join('; '))
  return rejected.length === 0 && invalid.length === 0 ? 0 : 1
}
