// Which audit API serves a site.

import type { Deployment, Product } from '../../model'
import { AuthConfigError } from '../errors'
import type { ApiId, AuditApi } from './api'
import { confluenceCloud } from './confluence-cloud'
import { confluenceDcLegacy } from './confluence-dc-legacy'
import { dcAuditing } from './dc-auditing'
import { jiraCloud } from './jira-cloud'
import { orgEventsStream } from './org-events'

export type { ApiId, AuditApi } from './api'

export const API_IDS: readonly ApiId[] = [
  'confluence-cloud',
  'jira-cloud',
  'dc-auditing',
  'confluence-dc-legacy',
  'org-events-stream',
]

/**
 * The API for a product/deployment, or the one asked for (`override`, e.g. the legacy Confluence DC API for
 * versions before 7.5). Bitbucket Cloud has no audit API; the organization log needs the orgId.
 */
export function apiFor(
  target: { product: Product; deployment: Deployment; orgId?: string },
  override?: ApiId,
): AuditApi {
  const { product, deployment } = target
  const id = override ?? defaultApiId(product, deployment)
  switch (id) {
    case 'confluence-cloud':
      return confluenceCloud
    case 'jira-cloud':
      return jiraCloud
    case 'confluence-dc-legacy':
      return confluenceDcLegacy
    case 'dc-auditing':
      if (product === 'org') break
      return dcAuditing(product)
    case 'org-events-stream':
      if (!target.orgId) throw new AuthConfigError('The organization audit log needs the organization id (--org).')
      return orgEventsStream(target.orgId)
  }
  throw new AuthConfigError(`The ${id} API does not serve ${product} ${deployment}.`)
}

function defaultApiId(product: Product, deployment: Deployment): ApiId {
  if (product === 'org') return 'org-events-stream'
  if (deployment === 'dc') return 'dc-auditing'
  if (product === 'confluence') return 'confluence-cloud'
  if (product === 'jira') return 'jira-cloud'
  throw new AuthConfigError('Bitbucket Cloud has no audit log API; only Bitbucket Data Center is supported.')
}
