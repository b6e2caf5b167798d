// The one HTTP path to Atlassian: timeout per attempt, retries with exponential backoff and jitter for
// network errors, 5xx and cut-off/malformed JSON, 429 handling that honours Retry-After (seconds or an
// HTTP date) and X-RateLimit-Reset (ISO-8601) [docs/atlassian-apis.md §h], a cap on the total time spent
// waiting, and typed failures (errors.ts). The fetch function is injected: the extension passes the
// browser's, the CLI Node's, tests a stub.

import type { AuthMode } from '../model'
import { anySignal, parseRetryAfter } from '../net'
import type { Authenticator, PreparedRequest } from './auth'
import { displayBase } from './auth'
import {
  AtlassianError,
  EndpointNotFoundError,
  HttpError,
  InvalidCredentialsError,
  isAbortError,
  MalformedResponseError,
  NoAuditLogPlanError,
  NotAdminError,
  RateLimitedError,
  ScopeMismatchError,
  ServerError,
  SessionExpiredError,
  SiteUnreachableError,
} from './errors'

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>

export interface ClientOptions {
  fetch: FetchLike
  /** Per attempt, headers and body included. Default 30 s. */
  timeoutMs?: number
  /** Attempts for network errors, timeouts, 5xx and malformed bodies. Default 6. */
  maxAttempts?: number
  /** Extra attempts allowed for 429 answers (bounded by maxTotalWaitMs too). Default 12. */
  maxRateLimitRetries?: number
  /** First backoff delay; doubles per attempt. Default 500 ms. */
  backoffBaseMs?: number
  /** Largest single backoff delay (a Retry-After may ask for more and is honoured). Default 30 s. */
  backoffMaxMs?: number
  /** Total waiting (sleeps) allowed for one request before giving up. Default 5 min. */
  maxTotalWaitMs?: number
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  random?: () => number
  now?: () => number
  /** Log lines (already redacted). */
  log?: (line: string) => void
  /** Strings to redact from every message and log line (the client adds the authenticator's). */
  secrets?: readonly string[]
}

/** What the client needs to turn an HTTP status into the right typed error for this API. */
export interface RequestPurpose {
  /** API path for messages, e.g. `/rest/auditing/1.0/events`. */
  path: string
  /** e.g. "Confluence Administrator". */
  requiredRole?: string
  /** Scopes a scoped token needs, for the scope-mismatch message. */
  scopes?: string
  /** What to try on a 404 (older version → legacy endpoint ...). */
  notFoundHint?: string
}

export interface JsonResponse {
  status: number
  body: unknown
  headers: Headers
  /** Characters of the body text. */
  size: number
  attempts: number
}

/**
 * Lets a caller overlap its own work with the network (the sync engine's read-ahead, docs/collection.md) without
 * ever having two requests of one stream at the server.
 */
export interface RequestHooks {
  /**
   * Called synchronously once a 2xx JSON body has been read completely, before it is parsed: from here on this
   * request is no longer at the server, so the caller may send its next one while this body is parsed.
   */
  bodyReceived?: () => void
  /**
   * Called (and awaited) before a retry is sent, after the backoff: the caller withdraws whatever it sent since
   * `bodyReceived` (a body that turned out truncated), so the retry is again the only request in flight.
   */
  beforeRetry?: () => Promise<void>
  /** The server answered 429: the caller should not add requests of its own until this one succeeds. */
  rateLimited?: () => void
}

interface AuthInfo {
  mode: AuthMode | 'none'
  credentialLabel: string
  base: string
}

const DEFAULTS = {
  timeoutMs: 30_000,
  maxAttempts: 6,
  maxRateLimitRetries: 12,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  maxTotalWaitMs: 300_000,
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Where a redirect that is not to a login page points (origin and path only), or undefined: no readable Location
 * (a browser's opaque redirect), or a login page (`/login`, `login.jsp`, `id.atlassian.com`, `os_destination`).
 */
export function movedTo(location: string | null, requestUrl: string): string | undefined {
  if (!location) return undefined
  let url: URL
  try {
    url = new URL(location, requestUrl)
  } catch {
    return undefined
  }
  if (/login|signin|sign-in|os_destination|id\.atlassian\.com|\/auth\b/i.test(url.href)) return undefined
  return `${url.origin}${url.pathname}`
}

/** Milliseconds to wait according to Retry-After (seconds or HTTP date) or X-RateLimit-Reset (ISO-8601). */
export function serverRequestedDelay(headers: Headers, now: number): number | undefined {
  const retryAfter = parseRetryAfter(headers.get('retry-after'), now)
  if (retryAfter !== undefined) return retryAfter
  const reset = headers.get('x-ratelimit-reset')?.trim()
  if (reset) {
    const at = Date.parse(reset)
    if (!Number.isNaN(at)) return Math.max(0, at - now)
  }
  return undefined
}

type Attempt =
  | { kind: 'ok'; response: JsonResponse }
  | {
      kind: 'retry'
      reason: 'network' | 'timeout' | 'server' | 'rate-limit' | 'malformed'
      detail: string
      status?: number
      delay?: number
      retryAt?: number
    }

export class AtlassianClient {
  private readonly opts: Omit<ClientOptions, keyof typeof DEFAULTS> & typeof DEFAULTS
  private readonly secrets: string[]
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  private readonly random: () => number
  private readonly now: () => number

  constructor(options: ClientOptions, auth?: Authenticator) {
    this.opts = { ...DEFAULTS, ...stripUndefined(options), fetch: options.fetch }
    this.secrets = [...(options.secrets ?? []), ...(auth?.secrets ?? [])].filter((s) => s.length >= 4)
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets.sort((a, b) => b.length - a.length)
    this.sleep = options.sleep ?? abortableSleep
    this.random = options.random ?? Math.random
    this.now = options.now ?? Date.now
  }

  /** Remove every known secret from a text that may leave the process (message, log line). */
  redact(text: string): string {
    let out = text
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('[redacted]')
    return out
  }

  log(line: string): void {
    this.opts.log?.(this.redact(line))
  }

  /**
   * GET a JSON document. Retries what is transient; throws an AtlassianError for what is not, or the
   * caller's abort reason when `signal` fires.
   */
  async getJson(
    request: PreparedRequest,
    auth: AuthInfo | Authenticator,
    purpose: RequestPurpose,
    signal?: AbortSignal,
    hooks?: RequestHooks,
  ): Promise<JsonResponse> {
    const origin = displayBase(auth.base)
    let failures = 0
    let rateLimited = 0
    let waited = 0
    for (;;) {
      signal?.throwIfAborted()
      let attempt: Attempt
      try {
        attempt = await this.once(request, auth, purpose, origin, signal, hooks)
      } catch (e) {
        if (e instanceof AtlassianError) {
          e.message = this.redact(e.message)
          throw e
        }
        throw e
      }
      if (attempt.kind === 'ok') {
        attempt.response.attempts = failures + rateLimited + 1
        return attempt.response
      }
      const isRateLimit = attempt.reason === 'rate-limit'
      if (isRateLimit) {
        rateLimited++
        hooks?.rateLimited?.()
      } else failures++
      const backoff = Math.min(
        this.opts.backoffMaxMs,
        this.opts.backoffBaseMs * 2 ** ((isRateLimit ? rateLimited : failures) - 1),
      )
      // Our own backoff has jitter. A server-requested delay is a minimum: jitter only adds to it, and one that
      // is already due (`Retry-After: 0`, an `X-RateLimit-Reset` of this minute) does not cut our backoff, or
      // a site still limiting us would see a burst of retries and the run would give up within seconds.
      const ours = Math.floor(backoff / 2 + (this.random() * backoff) / 2)
      const delay =
        attempt.delay !== undefined
          ? Math.max(attempt.delay, ours) + Math.floor(this.random() * Math.min(1000, this.opts.backoffBaseMs))
          : ours
      const exhausted =
        (isRateLimit ? rateLimited > this.opts.maxRateLimitRetries : failures >= this.opts.maxAttempts) ||
        waited + delay > this.opts.maxTotalWaitMs
      if (exhausted) throw this.exhaustedError(attempt, origin, failures + rateLimited, waited)
      this.log(
        `${origin}${purpose.path}: ${attempt.detail}; retrying in ${delay} ms (attempt ${failures + rateLimited + 1})`,
      )
      await this.sleep(delay, signal)
      waited += delay
      await hooks?.beforeRetry?.()
    }
  }

  private exhaustedError(attempt: Attempt & { kind: 'retry' }, origin: string, attempts: number, waited: number) {
    let err: AtlassianError
    switch (attempt.reason) {
      case 'rate-limit':
        // a reset time already past says nothing about when to come back
        err = new RateLimitedError(origin, waited, {
          status: 429,
          retryAt: attempt.retryAt !== undefined && attempt.retryAt > this.now() ? attempt.retryAt : undefined,
        })
        break
      case 'server':
        err = new ServerError(origin, attempts, { status: attempt.status })
        break
      case 'malformed':
        err = new MalformedResponseError(origin, `${attempt.detail}, ${attempts} attempts`, { status: attempt.status })
        break
      default:
        err = new SiteUnreachableError(origin, `${attempt.detail}, ${attempts} attempts`)
    }
    err.message = this.redact(err.message)
    return err
  }

  private async once(
    request: PreparedRequest,
    auth: AuthInfo,
    purpose: RequestPurpose,
    origin: string,
    signal?: AbortSignal,
    hooks?: RequestHooks,
  ): Promise<Attempt> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs)
    const combined = signal ? anySignal(signal, timeout) : timeout
    let res: Response
    let text: string
    try {
      res = await this.opts.fetch(request.url, {
        method: 'GET',
        headers: request.headers,
        credentials: request.credentials,
        // A login redirect must be seen, not followed: with 'follow' an expired session looks like a
        // 200 HTML page or a CORS TypeError [docs/atlassian-apis.md §g.4].
        redirect: 'manual',
        signal: combined,
      })
      if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) {
        discard(res)
        const moved = auth.mode === 'session' ? undefined : movedTo(res.headers.get('location'), request.url)
        if (moved) {
          // a token is not rejected by a redirect elsewhere (http → https, a renamed site): say where it went
          const err = new HttpError(origin, res.status, purpose.path)
          err.message = `${origin} redirected ${purpose.path} to ${moved} (HTTP ${res.status}). Use that address as the site URL: redirects are not followed, so that no credential goes anywhere else.`
          throw err
        }
        throw this.authFailure(auth, origin, 'the site redirected to a login page', res.status || 302, '')
      }
      if (res.status === 429) {
        discard(res)
        const delay = serverRequestedDelay(res.headers, this.now())
        return {
          kind: 'retry',
          reason: 'rate-limit',
          detail: 'HTTP 429 too many requests',
          status: 429,
          delay,
          retryAt: delay !== undefined ? this.now() + delay : undefined,
        }
      }
      text = await res.text()
    } catch (e) {
      if (e instanceof AtlassianError) throw e
      if (signal?.aborted) throw signal.reason
      if (timeout.aborted || isAbortError(e)) {
        return { kind: 'retry', reason: 'timeout', detail: `no complete answer within ${this.opts.timeoutMs} ms` }
      }
      return { kind: 'retry', reason: 'network', detail: networkDetail(e) }
    }
    const status = res.status
    if (status >= 500) {
      return {
        kind: 'retry',
        reason: 'server',
        detail: `HTTP ${status}`,
        status,
        // only Retry-After: an X-RateLimit-Reset on a 5xx tells when the rate window ends, not when to retry
        delay: parseRetryAfter(res.headers.get('retry-after'), this.now()),
      }
    }
    if (status >= 400) throw this.statusError(status, text, auth, purpose, origin)
    if (status < 200 || status >= 300) throw new HttpError(origin, status, purpose.path)

    const contentType = res.headers.get('content-type') ?? ''
    const looksHtml = /html/i.test(contentType) || /^\s*<(!doctype|html|head|body)/i.test(text)
    if (looksHtml) {
      if (auth.mode === 'session') {
        throw new SessionExpiredError(origin, 'the site answered with an HTML page (a login page) instead of JSON', {
          status,
        })
      }
      throw new MalformedResponseError(origin, 'an HTML page instead of JSON', { status })
    }
    hooks?.bodyReceived?.()
    try {
      return {
        kind: 'ok',
        response: { status, body: JSON.parse(text), headers: res.headers, size: text.length, attempts: 1 },
      }
    } catch {
      // A cut connection often shows up as a body that ends early; that is transient.
      return {
        kind: 'retry',
        reason: 'malformed',
        detail: `truncated or invalid JSON (${text.length} characters)`,
        status,
      }
    }
  }

  private authFailure(auth: AuthInfo, origin: string, why: string, status: number, body: string): AtlassianError {
    if (auth.mode === 'session') return new SessionExpiredError(origin, why, { status })
    if (auth.mode === 'scoped' && /scope/i.test(body)) {
      return new ScopeMismatchError(origin, 'the required scope', 'scope does not match', { status })
    }
    const hint =
      auth.mode === 'basic' && /atlassian\.net|atlassian\.com/i.test(origin)
        ? 'If this is a scoped API token ("API token with scopes"), use --auth scoped: scoped tokens only work through the api.atlassian.com gateway.'
        : ''
    return new InvalidCredentialsError(origin, auth.credentialLabel, hint, { status })
  }

  private statusError(status: number, text: string, auth: AuthInfo, purpose: RequestPurpose, origin: string) {
    const body = text.slice(0, 4000)
    if (status === 401) {
      if (auth.mode === 'scoped' && /scope does not match|scope/i.test(body)) {
        return new ScopeMismatchError(origin, purpose.scopes ?? 'the scope this API needs', 'scope does not match', {
          status,
        })
      }
      return this.authFailure(auth, origin, 'HTTP 401', status, body)
    }
    if (
      (status === 403 || status === 404) &&
      /free (plan|edition)|free plans?\b|not entitled to|upgrade to|subscribe to atlassian (guard|access)/i.test(body)
    ) {
      return new NoAuditLogPlanError(origin, { status, organization: /atlassian (guard|access)/i.test(body) })
    }
    if (status === 403) {
      if (auth.mode === 'scoped' && /scope/i.test(body)) {
        return new ScopeMismatchError(origin, purpose.scopes ?? 'the scope this API needs', 'scope does not match', {
          status,
        })
      }
      return new NotAdminError(origin, purpose.requiredRole ?? 'administrator', { status })
    }
    if (status === 404) {
      return new EndpointNotFoundError(
        origin,
        purpose.path,
        purpose.notFoundHint ?? 'Check the site URL and product.',
        {
          status,
        },
      )
    }
    return new HttpError(origin, status, purpose.path)
  }
}

function discard(res: Response): void {
  res.body?.cancel().catch(() => {})
}

function networkDetail(e: unknown): string {
  if (!(e instanceof Error)) return 'network error'
  // Node's fetch hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET ...).
  const cause = (e as Error & { cause?: unknown }).cause
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause ? String((cause as { code: unknown }).code) : ''
  return code ? `network error ${code}` : `network error: ${e.message}`
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  return out
}

/**
 * The cloudId a scoped token needs for the gateway path. `/_edge/tenant_info` is public: it is asked
 * without any credential.
 */
export async function discoverCloudId(client: AtlassianClient, siteUrl: string, signal?: AbortSignal): Promise<string> {
  const base = displayBase(siteUrl)
  const res = await client.getJson(
    { url: `${base}/_edge/tenant_info`, headers: { Accept: 'application/json' }, credentials: 'omit' },
    { mode: 'none', credentialLabel: 'no credential', base },
    {
      path: '/_edge/tenant_info',
      notFoundHint: 'Scoped API tokens need an Atlassian Cloud site (https://SITE.atlassian.net).',
    },
    signal,
  )
  const cloudId = (res.body as { cloudId?: unknown } | null)?.cloudId
  if (typeof cloudId !== 'string' || !cloudId) {
    throw new MalformedResponseError(base, '/_edge/tenant_info has no cloudId')
  }
  return cloudId
}

// Re-exported for callers that take it from the client (core/sync/read-ahead.ts).
export type { anySignal }
