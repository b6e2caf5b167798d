// Where a configured site's requests go, and the host permissions that takes. The options page asks for
// these patterns when a site is saved or tested (inside the click), the background checks them before every
// run; both call siteOrigins, so what is asked is what is checked.

import { DEFAULT_GATEWAY } from '../core/atlassian/auth'
import type { AuthMode, Product, Site } from '../core/model'

/** The host-permission match pattern for a URL (match patterns carry no port: any port of the host matches). */
export function originPattern(url: string): string {
  const u = new URL(url)
  return `${u.protocol}//${u.hostname}/*`
}

/**
 * The Atlassian API gateway a site's requests go through, or undefined when they go to the site itself.
 * The organization audit log is read from the gateway, and its site URL is that gateway (the admin enters
 * https://api.atlassian.com, or another gateway such as a proxy); a scoped token goes through `site.gateway`,
 * https://api.atlassian.com unless the admin set another.
 */
export function gatewayOf(site: Pick<Site, 'url' | 'auth' | 'product' | 'gateway'>): string | undefined {
  if (site.product === 'org') return isAdminConsole(site.url) ? DEFAULT_GATEWAY : site.url
  if (site.auth === 'scoped') return site.gateway ?? DEFAULT_GATEWAY
  return undefined
}

/** admin.atlassian.com, where admins see their organization: its audit log is read from the gateway. */
function isAdminConsole(url: string): boolean {
  try {
    return new URL(url).hostname === 'admin.atlassian.com'
  } catch {
    return false
  }
}

/**
 * Host permission patterns for a site: its own origin (the organization log: its gateway only), and the
 * gateway's for scoped tokens. [] for a bad URL.
 */
export function siteOrigins(site: { url: string; product: Product; auth: AuthMode; gateway?: string }): string[] {
  try {
    const out = site.product === 'org' ? [] : [originPattern(site.url)]
    const gateway = gatewayOf(site)
    if (gateway !== undefined) {
      const pattern = originPattern(gateway)
      if (!out.includes(pattern)) out.push(pattern)
    }
    return out
  } catch {
    return []
  }
}
