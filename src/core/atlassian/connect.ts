// From a configured site and its credential to a ready-to-page stream target: picks the audit API, checks the
// auth combination, discovers the cloudId (scoped tokens) or the orgId (org API key), and binds one client.

import type { Credential, Site } from '../model'
import type { ApiId, AuditApi } from './apis'
import { apiFor } from './apis'
import { EnvelopeError } from './apis/api'
import { parseOrgList } from './apis/org-events'
import type { Authenticator } from './auth'
import { createAuthenticator, displayBase } from './auth'
import type { ClientOptions } from './client'
import { AtlassianClient, discoverCloudId } from './client'
import { AuthConfigError, MalformedResponseError } from './errors'

export interface StreamTarget {
  /** Site id + API: the key of the stream's state. */
  streamId: string
  site: Site
  api: AuditApi
  auth: Authenticator
  client: AtlassianClient
}

export interface ConnectOptions extends ClientOptions {
  gatewayUrl?: string
  /** Use another API than the default for the product (e.g. `confluence-dc-legacy`). */
  api?: ApiId
  signal?: AbortSignal
}

export function streamIdOf(site: Pick<Site, 'id'>, api: Pick<AuditApi, 'id'>): string {
  return `${site.id}|${api.id}`
}

export async function connect(site: Site, credential: Credential, opts: ConnectOptions): Promise<StreamTarget> {
  const target = { url: site.url, product: site.product, deployment: site.deployment }
  // Validate the combination before any request (throws AuthConfigError), then discover what is needed.
  const probe = createAuthenticator({ target, credential, gatewayUrl: opts.gatewayUrl, cloudId: 'probe' })
  let auth: Authenticator = probe
  if (credential.mode === 'scoped') {
    const bare = new AtlassianClient(opts, probe)
    const cloudId = await discoverCloudId(bare, site.url, opts.signal)
    auth = createAuthenticator({ target, credential, gatewayUrl: opts.gatewayUrl, cloudId })
  }
  const client = new AtlassianClient(opts, auth)
  let orgId = site.orgId
  if (site.product === 'org' && !orgId) orgId = await discoverOrgId(client, auth, opts.signal)
  const api = apiFor({ product: site.product, deployment: site.deployment, orgId }, opts.api)
  return { streamId: streamIdOf(site, api), site: { ...site, orgId }, api, auth, client }
}

/** The only organization the key sees, or a clear error listing the choices. */
export async function discoverOrgId(
  client: AtlassianClient,
  auth: Authenticator,
  signal?: AbortSignal,
): Promise<string> {
  const ids: string[] = []
  let cursor: string | undefined
  for (let page = 0; page < 20; page++) {
    const res = await client.getJson(
      auth.prepare('/admin/v1/orgs', cursor ? { cursor } : undefined),
      auth,
      { path: '/admin/v1/orgs', requiredRole: 'Organization admin' },
      signal,
    )
    let parsed: { ids: string[]; next?: string }
    try {
      parsed = parseOrgList(res.body)
    } catch (e) {
      if (e instanceof EnvelopeError) throw new MalformedResponseError(displayBase(auth.base), e.message)
      throw e
    }
    ids.push(...parsed.ids)
    if (!parsed.next || parsed.ids.length === 0) break
    cursor = parsed.next
  }
  if (ids.length === 1) return ids[0]
  if (ids.length === 0) throw new AuthConfigError('The organization API key sees no organization.')
  throw new AuthConfigError(`The API key sees ${ids.length} organizations (${ids.join(', ')}); choose one with --org.`)
}
