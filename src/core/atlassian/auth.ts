// How a request to Atlassian is signed and where it goes. Five modes (docs/atlassian-apis.md §g):
// - session: the admin's browser cookies (credentials:'include'), never an Authorization header. In Node
//   the CLI passes the Cookie header value a browser would send (a browser drops a scripted Cookie header).
// - basic:   e-mail + classic API token, Basic, against the site itself.
// - scoped:  e-mail + scoped API token, Basic, ALWAYS through the gateway {gateway}/ex/{jira|confluence}/{cloudId}:
//            against the site URL such a token only gets a puzzling 401 [S40][S63], so no code path builds one.
// - pat:     Data Center personal access token (Bearer). Preferred over basic when both are stored.
// - org-key: organization API key (Bearer), only for the gateway's /admin API.
// Token modes never send cookies (credentials:'omit'): a stale JSESSIONID beside a PAT gives
// 401 "os_authType was 'any' and an invalid cookie was sent" [S47].

import type { AuthMode, Credential, Deployment, Product, Site } from '../model'
import { AuthConfigError } from './errors'

export const DEFAULT_GATEWAY = 'https://api.atlassian.com'

/** A fully built request: the client sends exactly this and nothing else. */
export interface PreparedRequest {
  url: string
  headers: Record<string, string>
  credentials: 'include' | 'omit'
}

export interface Authenticator {
  readonly mode: AuthMode
  /** Where requests go (site, gateway prefix, or gateway), for messages. Never carries user info. */
  readonly base: string
  /** What the admin configured, in words ("API token", "personal access token" ...), for messages. */
  readonly credentialLabel: string
  /** Every string that must never appear in output (the secret and its encodings). */
  readonly secrets: readonly string[]
  /** `path` is the API path as on the site (e.g. `/wiki/rest/api/audit`, `/admin/v1/orgs`). */
  prepare(path: string, query?: Record<string, string>): PreparedRequest
}

export interface AuthTarget {
  url: string
  product: Product
  deployment: Deployment
}

/**
 * The CLI's default: org-key for the organization audit log; basic when an e-mail is given;
 * pat on Data Center; otherwise the browser session.
 */
export function defaultAuthMode(target: { product: Product; deployment: Deployment; email?: string }): AuthMode {
  if (target.product === 'org') return 'org-key'
  if (target.email) return 'basic'
  if (target.deployment === 'dc') return 'pat'
  return 'session'
}

/**
 * Choose among several stored credentials for one site: on Data Center a PAT wins over e-mail + token
 * (Elastic's integrations do the same, and a PAT avoids sending a password); otherwise the site's
 * configured mode decides.
 */
export function selectCredential(site: Pick<Site, 'deployment' | 'auth'>, stored: readonly Credential[]): Credential {
  if (site.deployment === 'dc') {
    const pat = stored.find((c) => c.mode === 'pat' && c.secret)
    if (pat) return pat
  }
  const chosen = stored.find((c) => c.mode === site.auth) ?? stored[0]
  if (!chosen) throw new AuthConfigError('No credential is stored for this site. Add one in the options page.')
  return chosen
}

/** Origin + path prefix without user info, query or trailing slash. */
export function displayBase(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`.replace(/\/+$/, '')
  } catch {
    return '(invalid URL)'
  }
}

export function trimBase(url: string): string {
  const u = new URL(url)
  if (u.username || u.password) {
    throw new AuthConfigError('Do not put a user name or password in the site URL; configure the credential instead.')
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new AuthConfigError(`The site URL must start with https:// (got ${u.protocol}).`)
  }
  return `${u.protocol}//${u.host}${u.pathname}`.replace(/\/+$/, '')
}

function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text)
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

function withQuery(url: string, query?: Record<string, string>): string {
  if (!query) return url
  const qs = new URLSearchParams(query).toString()
  return qs ? `${url}?${qs}` : url
}

/** Secret fragments worth redacting: the whole value, and each cookie value of a Cookie header. */
function secretFragments(secret: string | undefined, mode: AuthMode): string[] {
  if (!secret) return []
  const out = [secret]
  if (mode === 'session') {
    for (const part of secret.split(';')) {
      const eq = part.indexOf('=')
      const value = eq >= 0 ? part.slice(eq + 1).trim() : part.trim()
      if (value.length >= 6) out.push(value)
    }
  }
  return out
}

export interface AuthOptions {
  target: AuthTarget
  credential: Credential
  /** Replaces https://api.atlassian.com (tests, proxies). */
  gatewayUrl?: string
  /** Scoped mode: the site's cloudId, from `/_edge/tenant_info` (see discoverCloudId in client.ts). */
  cloudId?: string
}

/** Checks the combination before anything is sent, then returns the request builder. */
export function createAuthenticator(opts: AuthOptions): Authenticator {
  const { target, credential } = opts
  const mode = credential.mode
  const gateway = trimBase(opts.gatewayUrl ?? DEFAULT_GATEWAY)
  const secret = credential.secret
  const requireSecret = (what: string) => {
    if (!secret) throw new AuthConfigError(`The ${what} is missing (set ATLASSIAN_TOKEN or store it in the options).`)
    return secret
  }
  const requireEmail = () => {
    if (!credential.email) throw new AuthConfigError(`--auth ${mode} needs the Atlassian account e-mail (--email).`)
    return credential.email
  }
  if (target.product === 'org' && mode !== 'org-key') {
    throw new AuthConfigError(
      'The organization audit log is only reachable with an organization API key (--auth org-key; ' +
        'create one in admin.atlassian.com → Settings → API keys).',
    )
  }
  const secrets = secretFragments(secret, mode)

  switch (mode) {
    case 'session': {
      const site = trimBase(target.url)
      return {
        mode,
        base: site,
        credentialLabel: 'browser session',
        secrets,
        prepare: (path, query) => ({
          url: withQuery(site + path, query),
          headers: { Accept: 'application/json', ...(secret ? { Cookie: secret } : {}) },
          credentials: 'include',
        }),
      }
    }
    case 'basic': {
      const site = trimBase(target.url)
      const header = `Basic ${base64Utf8(`${requireEmail()}:${requireSecret('API token')}`)}`
      return {
        mode,
        base: site,
        credentialLabel: target.deployment === 'dc' ? 'user name and password' : 'e-mail address and API token',
        secrets: [...secrets, header.slice(6)],
        prepare: (path, query) => ({
          url: withQuery(site + path, query),
          headers: { Accept: 'application/json', Authorization: header },
          credentials: 'omit',
        }),
      }
    }
    case 'scoped': {
      if (target.deployment !== 'cloud' || (target.product !== 'jira' && target.product !== 'confluence')) {
        throw new AuthConfigError('Scoped API tokens exist only for Jira Cloud and Confluence Cloud.')
      }
      if (!opts.cloudId)
        throw new AuthConfigError('Scoped mode needs the cloudId of the site (from /_edge/tenant_info).')
      const prefix = `${gateway}/ex/${target.product}/${encodeURIComponent(opts.cloudId)}`
      const header = `Basic ${base64Utf8(`${requireEmail()}:${requireSecret('scoped API token')}`)}`
      return {
        mode,
        base: prefix,
        credentialLabel: 'scoped API token',
        secrets: [...secrets, header.slice(6)],
        prepare: (path, query) => ({
          url: withQuery(prefix + path, query),
          headers: { Accept: 'application/json', Authorization: header },
          credentials: 'omit',
        }),
      }
    }
    case 'pat': {
      if (target.deployment !== 'dc') {
        throw new AuthConfigError(
          'Personal access tokens are a Data Center feature; on Cloud use --auth basic (e-mail + API token) or --auth scoped.',
        )
      }
      const site = trimBase(target.url)
      const header = `Bearer ${requireSecret('personal access token')}`
      return {
        mode,
        base: site,
        credentialLabel: 'personal access token',
        secrets,
        prepare: (path, query) => ({
          url: withQuery(site + path, query),
          headers: { Accept: 'application/json', Authorization: header },
          credentials: 'omit',
        }),
      }
    }
    case 'org-key': {
      if (target.product !== 'org') {
        throw new AuthConfigError('An organization API key only works for the organization audit log (--product org).')
      }
      const header = `Bearer ${requireSecret('organization API key')}`
      return {
        mode,
        base: gateway,
        credentialLabel: 'organization API key',
        secrets,
        prepare: (path, query) => {
          // The key is an org-wide credential: it only ever goes to the gateway's admin API.
          if (!path.startsWith('/admin/'))
            throw new AuthConfigError(`Refusing to send the organization API key to ${path}.`)
          return {
            url: withQuery(gateway + path, query),
            headers: { Accept: 'application/json', Authorization: header },
            credentials: 'omit',
          }
        },
      }
    }
  }
}
