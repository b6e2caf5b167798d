// Typed failures of the collection path. Each class has a stable `code` (the UI and the CLI branch on it)
// and a message that tells the admin what to do next. Messages are built from the site origin, the
// HTTP status and our own words only: never from request headers, and every message passes through
// the client's redaction of known secrets before it is thrown.

export type AtlassianErrorCode =
  | 'session-expired'
  | 'invalid-credentials'
  | 'not-admin'
  | 'no-audit-log-plan'
  | 'scope-mismatch'
  | 'rate-limited'
  | 'site-unreachable'
  | 'server-error'
  | 'malformed-response'
  | 'endpoint-not-found'
  | 'http-error'
  | 'auth-config'

export interface ErrorDetails {
  /** Scheme + host (+ path prefix) of the site or gateway that answered; never carries user info. */
  origin?: string
  status?: number
  /** Where the waiting ended for rate limits (epoch ms), when the server said. */
  retryAt?: number
}

export abstract class AtlassianError extends Error {
  abstract readonly code: AtlassianErrorCode
  readonly origin?: string
  readonly status?: number

  constructor(message: string, details: ErrorDetails = {}) {
    super(message)
    this.name = new.target.name
    this.origin = details.origin
    this.status = details.status
  }
}

/** 401 / redirect to a login page / HTML instead of JSON while using the browser session. */
export class SessionExpiredError extends AtlassianError {
  readonly code = 'session-expired'
  constructor(origin: string, why: string, details: ErrorDetails = {}) {
    super(
      `Your Atlassian session for ${origin} is not valid any more (${why}). Sign in to ${origin} again in this browser ` +
        '(CLI: copy a fresh Cookie header value into ATLASSIAN_TOKEN), then retry.',
      { ...details, origin },
    )
  }
}

/** 401 with a token (Basic, PAT, org API key): wrong, revoked or expired credential. */
export class InvalidCredentialsError extends AtlassianError {
  readonly code = 'invalid-credentials'
  constructor(origin: string, credentialLabel: string, hint: string, details: ErrorDetails = {}) {
    super(
      `${origin} rejected the ${credentialLabel} (HTTP ${details.status ?? 401}). Check it (and the e-mail address, ` +
        `if one is used); tokens expire after at most one year, so create a new one if needed.${hint ? ` ${hint}` : ''}`,
      { ...details, origin },
    )
  }
}

export class NotAdminError extends AtlassianError {
  readonly code = 'not-admin'
  constructor(origin: string, requiredRole: string, details: ErrorDetails = {}) {
    super(
      `The account is signed in to ${origin} but may not read its audit log (HTTP ${details.status ?? 403}). ` +
        `Use an account with the ${requiredRole} permission.`,
      { ...details, origin },
    )
  }
}

export class NoAuditLogPlanError extends AtlassianError {
  readonly code = 'no-audit-log-plan'
  constructor(origin: string, details: ErrorDetails & { organization?: boolean } = {}) {
    super(
      details.organization
        ? `${origin} has no organization audit log for this organization (HTTP ${details.status ?? 403}). ` +
            'The organization audit log needs an Atlassian Guard (formerly Access) subscription.'
        : `${origin} has no audit log on its current plan (HTTP ${details.status ?? 403}: Free plan). ` +
            'Audit logs need a Standard or Premium plan; ask the site owner to upgrade, or remove this site.',
      { ...details, origin },
    )
  }
}

export class ScopeMismatchError extends AtlassianError {
  readonly code = 'scope-mismatch'
  constructor(origin: string, requiredScopes: string, why = 'the token lacks the scope this API needs', details = {}) {
    super(
      `The scoped API token was refused by ${origin}: ${why}. Create a scoped API token with ${requiredScopes} ` +
        '(scoped tokens always go through the api.atlassian.com gateway), or use a classic API token with --auth basic.',
      { ...details, origin },
    )
  }
}

export class RateLimitedError extends AtlassianError {
  readonly code = 'rate-limited'
  readonly retryAt?: number
  constructor(origin: string, waitedMs: number, details: ErrorDetails = {}) {
    const when = details.retryAt !== undefined ? `after ${new Date(details.retryAt).toISOString()}` : 'in a few minutes'
    super(
      `${origin} kept answering "too many requests" (HTTP 429) after ${Math.round(waitedMs / 1000)} s of waiting. ` +
        `Try again ${when}, or collect less often.`,
      { ...details, origin },
    )
    this.retryAt = details.retryAt
  }
}

export class SiteUnreachableError extends AtlassianError {
  readonly code = 'site-unreachable'
  constructor(origin: string, why: string, details: ErrorDetails = {}) {
    super(`Could not reach ${origin} (${why}). Check the site URL, your network, VPN or proxy, then retry.`, {
      ...details,
      origin,
    })
  }
}

/** 5xx that did not go away after the retries. */
export class ServerError extends AtlassianError {
  readonly code = 'server-error'
  constructor(origin: string, attempts: number, details: ErrorDetails = {}) {
    super(
      `${origin} kept failing with HTTP ${details.status ?? 500} (${attempts} attempts). ` +
        'The site may be having an outage; retry later (nothing collected so far is lost).',
      { ...details, origin },
    )
  }
}

export class MalformedResponseError extends AtlassianError {
  readonly code = 'malformed-response'
  constructor(origin: string, why: string, details: ErrorDetails = {}) {
    super(
      `${origin} answered with a response that is not the expected audit JSON (${why}). ` +
        'Retry later; if it persists, check for a proxy that rewrites or cuts responses, and that the site URL and product are right.',
      { ...details, origin },
    )
  }
}

export class EndpointNotFoundError extends AtlassianError {
  readonly code = 'endpoint-not-found'
  constructor(origin: string, path: string, hint: string, details: ErrorDetails = {}) {
    super(`${origin} has no ${path} (HTTP ${details.status ?? 404}). ${hint}`, { ...details, origin })
  }
}

/** Any other unexpected HTTP status. */
export class HttpError extends AtlassianError {
  readonly code = 'http-error'
  constructor(origin: string, status: number, what: string) {
    super(`${origin} answered HTTP ${status} to ${what}. Check the site URL, product and deployment.`, {
      origin,
      status,
    })
  }
}

/** A configuration that cannot work (e.g. a PAT for a Cloud site); found before any request is sent. */
export class AuthConfigError extends AtlassianError {
  readonly code = 'auth-config'
}

export function isAbortError(e: unknown): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    'name' in e &&
    ((e as { name: unknown }).name === 'AbortError' || (e as { name: unknown }).name === 'TimeoutError')
  )
}
