// Jira Cloud `GET /rest/api/3/auditing/record` [docs/atlassian-apis.md §c.1]: from/to inclusive, sent as
// ISO-8601 UTC with an explicit `Z` (through the gateway a zone-less value returns nothing, elastic/integrations
// #18138); offset/limit paging, limit ≤ 1000; records in `records`, newest-first; `created` carries `+0000`.
// `total` is not trusted (it can be the unfiltered site total, jira.js live tests and elastic #7898).

import type { AuditApi } from './api'
import { DAY_MS, EnvelopeError, isObject, isoUtc, numberOrUndefined, parseIsoTime } from './api'

export const jiraCloud: AuditApi = {
  id: 'jira-cloud',
  label: 'Jira Cloud audit log',
  product: 'jira',
  deployment: 'cloud',
  paging: 'newest-first-offset',
  maxLimit: 1000,
  retentionMs: 5 * 365 * DAY_MS,
  requiredRole: 'Administer Jira (global)',
  scopes: 'manage:jira-configuration (or read:audit-log:jira + read:user:jira)',
  path: '/rest/api/3/auditing/record',
  notFoundHint: 'Is this a Jira Cloud site (https://SITE.atlassian.net)? For Jira Data Center use --deployment dc.',
  request(window, limit, position) {
    return {
      path: '/rest/api/3/auditing/record',
      query: {
        from: isoUtc(window.from),
        to: isoUtc(window.to),
        offset: String(position.offset ?? 0),
        limit: String(limit),
      },
    }
  },
  parse(body) {
    if (!isObject(body) || !Array.isArray(body.records)) throw new EnvelopeError('no "records" array')
    return { records: body.records, limit: numberOrUndefined(body.limit), totalHint: numberOrUndefined(body.total) }
  },
  recordTime(record) {
    return isObject(record) ? parseIsoTime(record.created) : undefined
  },
}
