// `atlassian-audit fetch`: collect one site's audit log as ECS NDJSON on stdout (each record exactly once),
// progress on stderr. The secret comes from ATLASSIAN_TOKEN only (API token, PAT, org API key, or with
// --auth session the Cookie header value a browser sends). With --state FILE a later run emits only records
// not emitted before.

import process from 'node:process'
import { parseArgs } from 'node:util'
import type { ApiId } from '../../core/atlassian/apis'
import { API_IDS } from '../../core/atlassian/apis'
import { DEFAULT_GATEWAY, defaultAuthMode } from '../../core/atlassian/auth'
import { connect } from '../../core/atlassian/connect'
import { AtlassianError } from '../../core/atlassian/errors'
import type { AuthMode, Deployment, EcsDocument, Product, Site } from '../../core/model'
import { AUTH_MODES, DEPLOYMENTS, PRODUCTS } from '../../core/model'
import { syncStream } from '../../core/sync/engine'
import type { CliIO } from '../io'
import { StateFileStore } from '../state-file-store'

const USAGE = `Usage: atlassian-audit fetch --site URL --product confluence|jira|bitbucket|org --deployment cloud|dc
         [--auth session|basic|scoped|pat|org-key] [--email ADDRESS] [--org ORG_ID]
         [--since ISO] [--until ISO] [--state FILE] [--gateway URL]
         [--api ${API_IDS.join('|')}] [--limit N] [--lookback-days N] [--overlap-minutes N] [--quiet]
Secret: ATLASSIAN_TOKEN (API token, PAT, org API key, or with --auth session the Cookie header value).
Default --auth: org-key for --product org, basic when --email is given, pat on dc, otherwise session.`

class UsageError extends Error {}

function fail(io: CliIO, line: string): number {
  io.stderr.write(`atlassian-audit fetch: ${line}\n`)
  return 1
}

function parseTime(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const t = Date.parse(value)
  if (Number.isNaN(t)) throw new UsageError(`--${name} must be an ISO-8601 date-time (got "${value}")`)
  return t
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`)
  return value as T
}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer`)
  return n
}

function writeOut(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()))
  })
}

export async function run(args: string[], io: CliIO): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args,
      options: {
        site: { type: 'string' },
        product: { type: 'string' },
        deployment: { type: 'string' },
        auth: { type: 'string' },
        email: { type: 'string' },
        org: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        state: { type: 'string' },
        gateway: { type: 'string' },
        api: { type: 'string' },
        limit: { type: 'string' },
        'lookback-days': { type: 'string' },
        'overlap-minutes': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (e) {
    io.stderr.write(`atlassian-audit fetch: ${(e as Error).message}\n${USAGE}\n`)
    return 2
  }
  if (values.help) {
    io.stdout.write(`${USAGE}\n`)
    return 0
  }
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined)

  let site: Site
  let mode: AuthMode
  let since: number | undefined
  let until: number | undefined
  let apiOverride: ApiId | undefined
  let limit: number | undefined
  let lookbackDays: number | undefined
  let overlapMinutes: number | undefined
  try {
    const product = oneOf<Product>('product', str('product'), PRODUCTS)
    if (!product) throw new UsageError('--product is required')
    const deployment =
      oneOf<Deployment>('deployment', str('deployment'), DEPLOYMENTS) ?? (product === 'org' ? 'cloud' : undefined)
    if (!deployment) throw new UsageError('--deployment is required')
    const url = str('site') ?? (product === 'org' ? 'https://admin.atlassian.com' : undefined)
    if (!url) throw new UsageError('--site is required')
    try {
      new URL(url)
    } catch {
      throw new UsageError(`--site is not a URL: "${url}"`)
    }
    const email = str('email')
    mode = oneOf<AuthMode>('auth', str('auth'), AUTH_MODES) ?? defaultAuthMode({ product, deployment, email })
    since = parseTime('since', str('since'))
    until = parseTime('until', str('until'))
    if (since !== undefined && until !== undefined && since > until) throw new UsageError('--since is after --until')
    apiOverride = oneOf<ApiId>('api', str('api'), API_IDS)
    limit = positiveInt('limit', str('limit'))
    lookbackDays = positiveInt('lookback-days', str('lookback-days'))
    overlapMinutes = positiveInt('overlap-minutes', str('overlap-minutes'))
    const orgId = str('org')
    const siteUrl = url.replace(/\/+$/, '')
    site = {
      id: `${product}/${deployment}/${siteUrl}${orgId ? `/${orgId}` : ''}`,
      url: siteUrl,
      product,
      deployment,
      auth: mode,
      orgId,
      email,
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`atlassian-audit fetch: ${e.message}\n${USAGE}\n`)
      return 2
    }
    throw e
  }

  const secret = io.env.ATLASSIAN_TOKEN
  if (!secret) {
    return fail(
      io,
      `auth-config: set ATLASSIAN_TOKEN to the ${mode === 'session' ? 'Cookie header value of a signed-in browser' : 'secret'} (it is never taken from the command line).`,
    )
  }
  const quiet = values.quiet === true
  const controller = new AbortController()
  const onSignal = () => controller.abort(new Error('interrupted'))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  // (the client's redaction has the same floor: a one-letter "secret" would mangle every word that holds it)
  let redact = (s: string) => (secret.length >= 4 ? s.split(secret).join('[redacted]') : s)
  const progress = (line: string) => {
    if (!quiet) io.stderr.write(`${redact(line)}\n`)
  }
  try {
    const backoffBase = Number(io.env.ATLASSIAN_AUDIT_BACKOFF_BASE_MS ?? '') || undefined
    const maxWait = Number(io.env.ATLASSIAN_AUDIT_MAX_WAIT_MS ?? '') || undefined
    const timeout = Number(io.env.ATLASSIAN_AUDIT_TIMEOUT_MS ?? '') || undefined
    const target = await connect(
      site,
      { mode, email: site.email, secret },
      {
        fetch: (url, init) => fetch(url, init),
        gatewayUrl: str('gateway') ?? DEFAULT_GATEWAY,
        api: apiOverride,
        signal: controller.signal,
        backoffBaseMs: backoffBase,
        backoffMaxMs: backoffBase !== undefined ? backoffBase * 16 : undefined,
        maxTotalWaitMs: maxWait,
        timeoutMs: timeout,
        log: (line) => progress(`atlassian-audit fetch: ${line}`),
        secrets: [secret],
      },
    )
    redact = (s) => target.client.redact(s)
    const emit = async (docs: EcsDocument[]) => {
      let text = ''
      for (const d of docs) text += `${JSON.stringify(d)}\n`
      await writeOut(io.stdout, text)
    }
    const store = await StateFileStore.open(str('state'), emit)
    const result = await syncStream(target, store, {
      signal: controller.signal,
      since,
      until,
      limit,
      lookbackMs: lookbackDays !== undefined ? lookbackDays * 86_400_000 : undefined,
      overlapMs: overlapMinutes !== undefined ? overlapMinutes * 60_000 : undefined,
      log: (line) => progress(`atlassian-audit fetch: ${line}`),
      onProgress: (p) => {
        const pct = p.fraction !== undefined ? `, ${Math.round(p.fraction * 100)}% of the window` : ''
        const left = p.estimatedRemaining !== undefined && p.phase !== 'done' ? `, ~${p.estimatedRemaining} left` : ''
        progress(
          `atlassian-audit fetch: ${target.api.label}: page ${p.pages}, ${p.records} records (${p.stored} new)${pct}${left}`,
        )
      },
    })
    progress(
      `atlassian-audit fetch: done: ${result.stored} new records emitted (${result.fetched} received, ${result.pages} pages)` +
        (result.checkpoint !== undefined ? `; collected up to ${new Date(result.checkpoint).toISOString()}` : ''),
    )
    return 0
  } catch (e) {
    if (controller.signal.aborted)
      return fail(io, 'interrupted; the next run with the same --state resumes where this one stopped.')
    if (e instanceof AtlassianError) return fail(io, `${e.code}: ${redact(e.message)}`)
    return fail(io, `error: ${redact(e instanceof Error ? e.message : String(e))}`)
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}
