// Guess the site configuration from the URL of the tab the admin is on ("Add this site").
// Cloud sites live on <name>.atlassian.net with Confluence under /wiki and Jira elsewhere; the
// organization audit log is read from api.atlassian.com for the org in admin.atlassian.com/o/<orgId>.
// Data Center sites live on their own host, often under a context path (/jira, /confluence, /bitbucket),
// and are recognized by the first path segment each product's UI uses.
import type { AuthMode, Deployment, Product } from '../../core/model'

export interface DetectedSite {
  url: string
  product?: Product
  deployment: Deployment
  auth: AuthMode
  orgId?: string
}

const JIRA_CLOUD_SEGMENTS = new Set(['jira', 'browse', 'secure', 'projects', 'issues', 'plugins', 'servicedesk'])

/** First path segment → product, for Data Center UIs. */
const DC_MARKERS: ReadonlyArray<[RegExp, Product]> = [
  // Bitbucket before Jira: both have /projects/<KEY>, only Bitbucket has /projects/<KEY>/repos.
  [/^\/projects\/[^/]+\/repos(\/|$)/, 'bitbucket'],
  [/^\/(repos|scm|users\/[^/]+\/repos)(\/|$)/, 'bitbucket'],
  [/^\/(browse|secure|issues)(\/|$)/, 'jira'],
  [/^\/projects\/[^/]+\/?$/, 'jira'],
  [/^\/[^/]+\.jspa$/, 'jira'],
  [/^\/(display|pages|spaces|wiki)(\/|$)/, 'confluence'],
  [/^\/[^/]+\.action$/, 'confluence'],
]

export function detectSite(tabUrl: string | undefined): DetectedSite | undefined {
  if (!tabUrl) return undefined
  let u: URL
  try {
    u = new URL(tabUrl)
  } catch {
    return undefined
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined
  const host = u.hostname.toLowerCase()

  if (host === 'admin.atlassian.com') {
    const org = /^\/o\/([^/]+)/.exec(u.pathname)
    return {
      url: 'https://api.atlassian.com',
      product: 'org',
      deployment: 'cloud',
      auth: 'org-key',
      orgId: org ? decodeURIComponent(org[1]) : undefined,
    }
  }

  if (host.endsWith('.atlassian.net')) {
    const segment = u.pathname.split('/')[1] ?? ''
    const product: Product | undefined =
      segment === 'wiki' ? 'confluence' : JIRA_CLOUD_SEGMENTS.has(segment) ? 'jira' : undefined
    return { url: u.origin, product, deployment: 'cloud', auth: 'session' }
  }

  // Data Center: try each prefix of the path as a context path, shortest first.
  const segments = u.pathname.split('/').filter(Boolean)
  for (let i = 0; i <= segments.length; i++) {
    const rest = `/${segments.slice(i).join('/')}`
    for (const [marker, product] of DC_MARKERS) {
      if (marker.test(rest)) {
        const contextPath = segments.slice(0, i).join('/')
        return {
          url: contextPath ? `${u.origin}/${contextPath}` : u.origin,
          product,
          deployment: 'dc',
          auth: 'session',
        }
      }
    }
  }
  return undefined
}

/** Normalizes what an admin types: adds https://, drops query, hash and a trailing slash. */
export function normalizeSiteUrl(input: string): string | undefined {
  const trimmed = input.trim()
  if (!trimmed) return undefined
  try {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`)
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined
    const path = u.pathname.replace(/\/+$/, '')
    return `${u.origin}${path}`
  } catch {
    return undefined
  }
}
