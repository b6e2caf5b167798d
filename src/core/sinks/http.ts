// What every HTTP collector shares: URL and credential checks, request headers, gzip, timeouts,
// batching, and the reading of whole-request failures. Each protocol module (elasticsearch.ts,
// splunk-hec.ts, http-ndjson.ts) adds its body format and how it reads a response.
// Platform-free: only fetch, URL, TextEncoder, Blob, CompressionStream and AbortSignal (Node 20 and browsers).

import type { EcsDocument } from '../model'
import { anySignal, parseRetryAfter } from '../net'
import { sinkKey, splitBatches, utf8Length } from './batch'
import { CollectorAuthError, CollectorConfigError, CollectorEndpointError, isCollectorError } from './errors'
import type { CollectorConfig, SendResult, SendResultDetails, Sink, SinkKind } from './sink'

export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>

export interface SinkRuntime {
  /** Injected fetch (tests, a proxy-aware fetch). Default: the global fetch. */
  fetch?: FetchFunction
}

export const DEFAULT_BATCH_SIZE = 500
export const DEFAULT_BATCH_BYTES = 5 * 1024 * 1024
export const DEFAULT_TIMEOUT_MS = 30_000

/** 127.0.0.0/8, ::1 and localhost: the only hosts that may be reached over plain http. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  if (h === '[::1]' || h === '::1') return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

/**
 * Parse and check a collector URL: http(s) only, https unless the host is a loopback address, no
 * user:password@ (a secret in a URL ends up in logs and histories), no #fragment.
 */
export function checkCollectorUrl(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new CollectorConfigError('the collector URL is not a valid absolute URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CollectorConfigError(`the collector URL must start with https:// (got ${url.protocol}//)`)
  }
  if (url.username !== '' || url.password !== '') {
    throw new CollectorConfigError(
      'the collector URL must not contain credentials (user:password@): configure them as authentication',
    )
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new CollectorConfigError(
      `plain http:// is only allowed for loopback addresses (127.0.0.0/8, ::1, localhost); use https://${url.host}`,
    )
  }
  url.hash = ''
  return url
}

/** The URL with `suffix` appended to its path, unless the path already ends with it. */
export function withPathSuffix(url: URL, suffix: string): URL {
  const out = new URL(url.href)
  const path = out.pathname.replace(/\/+$/, '')
  if (!path.endsWith(suffix)) out.pathname = `${path}${suffix}`
  return out
}

// Header values must be visible ASCII / Latin-1 without CR/LF; checking first means fetch never gets
// a chance to quote a bad value (that is, the secret) in its own error message.
const HEADER_VALUE = /^[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?$/
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text)
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

/** The authentication header for a collector, or none. Throws a config error without quoting the secret. */
export function authHeader(config: CollectorConfig, secret: string | undefined): [string, string] | undefined {
  const { scheme } = config.auth
  if (scheme === 'none') return undefined
  if (secret === undefined || secret === '') {
    throw new CollectorConfigError(
      `authentication "${scheme}" needs a secret (password, token or key), and none was given`,
    )
  }
  if (scheme !== 'basic' && !HEADER_VALUE.test(secret)) {
    throw new CollectorConfigError(
      'the secret contains characters that cannot be sent in an HTTP header (spaces at the ends, line breaks, or non-Latin-1 characters)',
    )
  }
  switch (scheme) {
    case 'basic': {
      const user = config.auth.username ?? ''
      if (user === '' || user.includes(':')) {
        throw new CollectorConfigError('basic authentication needs a user name without ":"')
      }
      return ['Authorization', `Basic ${base64Utf8(`${user}:${secret}`)}`]
    }
    case 'bearer':
      return ['Authorization', `Bearer ${secret}`]
    case 'apikey':
      return ['Authorization', `ApiKey ${secret}`]
    case 'splunk':
      return ['Authorization', `Splunk ${secret}`]
    case 'header': {
      const name = config.auth.headerName ?? ''
      if (!HEADER_NAME.test(name)) throw new CollectorConfigError(`"${name}" is not a valid HTTP header name`)
      return [name, secret]
    }
  }
}

export async function gzipText(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'))
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

/** A short, single-line excerpt of a response body for error messages, with the secret blanked out. */
export function excerpt(text: string, secret: string | undefined, max = 200): string {
  let t = text.replace(/\s+/g, ' ').trim()
  if (secret && secret.length >= 4) t = t.split(secret).join('[redacted]')
  return t.length > max ? `${t.slice(0, max)}…` : t
}

/** One document, serialized once for its protocol. */
export interface PreparedDoc {
  key: string
  text: string
}

export interface BatchOutcome extends SendResult, SendResultDetails {}

/** What a protocol module tells the shared HTTP sink. */
export interface ProtocolAdapter {
  kind: SinkKind
  label: string
  endpoint: URL
  contentType: string
  defaultBatchBytes: number
  /** The request-body lines for one document (ending with a newline where the protocol wants one). */
  serialize(doc: EcsDocument, key: string): string
  /**
   * Read a response that is not 401/403/407/413 (those the shared code handles). May throw a
   * CollectorError for a request-level refusal that retrying will not fix.
   */
  interpret(status: number, body: string, batch: PreparedDoc[], retryAfterMs: number | undefined): BatchOutcome
  /** Extra words for 401/403, e.g. which privilege Elasticsearch needs. */
  authHint?(status: number, body: string): string
}

function emptyOutcome(): BatchOutcome {
  return { delivered: [], retry: [], rejected: [] }
}

function merge(into: BatchOutcome, from: BatchOutcome): void {
  into.delivered.push(...from.delivered)
  into.retry.push(...from.retry)
  into.rejected.push(...from.rejected)
  if (from.transientError !== undefined) into.transientError = from.transientError
  if (from.retryAfterMs !== undefined) into.retryAfterMs = Math.max(into.retryAfterMs ?? 0, from.retryAfterMs)
}

export function retryAll(batch: PreparedDoc[], transientError: string, retryAfterMs?: number): BatchOutcome {
  return { delivered: [], retry: batch.map((d) => d.key), rejected: [], transientError, retryAfterMs }
}

export function rejectAll(batch: PreparedDoc[], reason: string): BatchOutcome {
  return { delivered: [], retry: [], rejected: batch.map((d) => ({ key: d.key, reason })) }
}

function networkReason(e: unknown, origin: string): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  const code = typeof cause?.code === 'string' ? cause.code : undefined
  const detail = code ?? (typeof cause?.message === 'string' ? cause.message : e instanceof Error ? e.message : '')
  return `cannot reach the collector at ${origin}${detail ? ` (${detail})` : ''}`
}

/** The shared HTTP sink: one protocol adapter + batching, gzip, auth, timeouts and status handling. */
export function createHttpSink(
  config: CollectorConfig,
  secret: string | undefined,
  adapter: ProtocolAdapter,
  runtime: SinkRuntime = {},
): Sink {
  const auth = authHeader(config, secret)
  const fetchImpl: FetchFunction = runtime.fetch ?? ((input, init) => fetch(input, init))
  const limits = {
    maxDocs: config.batchSize ?? DEFAULT_BATCH_SIZE,
    maxBytes: config.batchBytes ?? adapter.defaultBatchBytes,
  }
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const endpoint = adapter.endpoint.href
  const origin = adapter.endpoint.origin
  const headers: Record<string, string> = { Accept: 'application/json' }
  for (const [name, value] of Object.entries(config.headers ?? {})) {
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) {
      throw new CollectorConfigError(`extra header "${HEADER_NAME.test(name) ? name : '?'}" is not a valid HTTP header`)
    }
    headers[name] = value
  }
  headers['Content-Type'] = adapter.contentType
  if (config.gzip) headers['Content-Encoding'] = 'gzip'
  if (auth) headers[auth[0]] = auth[1]

  // Everything that could carry a secret, longest first: the secret, the whole auth header value and its
  // credential part (a Basic pair is base64, not the secret itself), and long extra header values. A collector
  // that echoes a request header in its error body must not put it in a message, a log line or the outbox.
  const secrets = [secret, auth?.[1], auth?.[1].replace(/^\S+\s+/, ''), ...Object.values(config.headers ?? {})]
    .filter((v): v is string => typeof v === 'string' && v.length >= 8)
    .sort((a, b) => b.length - a.length)
  if (secret && secret.length >= 4 && !secrets.includes(secret)) secrets.push(secret)
  const redact = (text: string) => {
    let out = text
    for (const v of secrets) if (out.includes(v)) out = out.split(v).join('[redacted]')
    return out
  }
  const redacted = (o: BatchOutcome): BatchOutcome => {
    for (const r of o.rejected) r.reason = redact(r.reason)
    if (o.transientError !== undefined) o.transientError = redact(o.transientError)
    return o
  }

  async function post(batch: PreparedDoc[], signal: AbortSignal | undefined): Promise<BatchOutcome> {
    const text = batch.map((d) => d.text).join('')
    const body = config.gzip ? await gzipText(text) : text
    const timeout = AbortSignal.timeout(timeoutMs)
    const combined = signal ? anySignal(signal, timeout) : timeout
    let response: Response
    let responseText: string
    try {
      // A redirect is not followed: on 301/302/303 fetch would repeat the POST as a GET without its body (and a
      // 2xx from there would count every event as delivered), and on 307/308 it would send the events and the
      // credentials to a URL nobody configured. It is reported instead.
      response = await fetchImpl(endpoint, { method: 'POST', headers, body, signal: combined, redirect: 'manual' })
      // an answer is only ever quoted with the secrets blanked out
      responseText = redact(await response.text())
    } catch (e) {
      if (signal?.aborted) throw signal.reason
      if (timeout.aborted)
        return retryAll(batch, `the collector at ${origin} did not answer within ${timeoutMs / 1000} s`)
      return retryAll(batch, networkReason(e, origin))
    }
    const status = response.status
    if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
      const location = response.headers.get('location')
      let where = ''
      try {
        if (location) {
          const to = new URL(location, endpoint)
          where = ` to ${to.origin}${to.pathname}`
        }
      } catch {
        // an unreadable Location says nothing more
      }
      throw new CollectorEndpointError(
        `${adapter.label} at ${origin} answered with a redirect${status ? ` (HTTP ${status})` : ''}${where}: ` +
          'configure the URL it points to (redirects are not followed, so that no event or credential goes elsewhere)',
        status || undefined,
      )
    }
    if (status === 401 || status === 403 || status === 407) {
      const what =
        status === 403
          ? `${adapter.label} refused the request (HTTP 403): missing privileges, or the token is disabled/invalid`
          : `${adapter.label} rejected the credentials (HTTP ${status}): wrong user name, password, token or API key`
      const hint = adapter.authHint?.(status, responseText)
      throw new CollectorAuthError(`${what}${hint ? `; ${excerpt(hint, secret, 300)}` : ''}`, status)
    }
    if (status === 413) {
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2)
        const first = await post(batch.slice(0, half), signal)
        if (first.retry.length > 0) {
          merge(first, retryAll(batch.slice(half), first.transientError ?? 'HTTP 413'))
          return first
        }
        merge(first, await post(batch.slice(half), signal))
        return first
      }
      return rejectAll(batch, `${adapter.label} refused the document as too large (HTTP 413)`)
    }
    return redacted(
      adapter.interpret(status, responseText, batch, parseRetryAfter(response.headers.get('retry-after'))),
    )
  }

  return {
    kind: adapter.kind,
    async send(docs, signal) {
      const result = emptyOutcome()
      // Serialize one request's worth of documents at a time, so memory stays bounded by the batch size
      // whatever the caller passes in.
      const step = Math.max(1, Math.floor(limits.maxDocs))
      for (let start = 0; start < docs.length; start += step) {
        const prepared: PreparedDoc[] = []
        for (const doc of docs.slice(start, start + step)) {
          const key = sinkKey(doc)
          let text: string
          try {
            text = adapter.serialize(doc, key)
          } catch (e) {
            result.rejected.push({
              key,
              reason: `cannot serialize the document: ${e instanceof Error ? e.message : String(e)}`,
            })
            continue
          }
          prepared.push({ key, text })
        }
        // A UTF-8 byte is at most 3 per UTF-16 unit: when even that bound fits, no need to measure.
        let upperBound = 0
        for (const d of prepared) upperBound += d.text.length * 3
        const batches =
          upperBound <= limits.maxBytes ? [prepared] : splitBatches(prepared, limits, (d) => utf8Length(d.text))
        for (let i = 0; i < batches.length; i++) {
          if (signal?.aborted) throw signal.reason
          let outcome: BatchOutcome
          try {
            outcome = await post(batches[i], signal)
          } catch (e) {
            if (isCollectorError(e)) e.message = redact(e.message)
            // Nothing accepted in this call yet: the caller learns the cause as a typed error. Otherwise keep
            // what was accepted and hand the rest back for later; the next call will meet the error again.
            if (!isCollectorError(e) || result.delivered.length === 0) throw e
            outcome = retryAll(batches[i], e.message)
          }
          merge(result, outcome)
          if (outcome.retry.length > 0 && outcome.retry.length === batches[i].length) {
            // The collector is down or throttling us: hand the rest back instead of pushing on.
            const reason = outcome.transientError ?? 'not sent'
            for (const rest of batches.slice(i + 1)) merge(result, retryAll(rest, reason))
            for (const doc of docs.slice(start + step)) result.retry.push(sinkKey(doc))
            return result
          }
        }
      }
      return result
    },
  }
}

export { parseRetryAfter }
