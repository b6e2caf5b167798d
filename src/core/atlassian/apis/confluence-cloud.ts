// Confluence Cloud `GET /wiki/rest/api/audit` [docs/atlassian-apis.md §a.1]: startDate/endDate in epoch ms,
// both inclusive; start/limit offset paging; records in `results`, newest-first; `creationDate` is epoch ms.
// `size` is not a total (Elastic's mock puts 37 there with 2 results), and `_links.next` is not documented
// for this resource, so the stop rule is an empty page or fewer records than the echoed `limit`.

import type { AuditApi } from './api'
import { DAY_MS, EnvelopeError, isObject, numberOrUndefined } from './api'

export const confluenceCloud: AuditApi = {
  id: 'confluence-cloud',
  label: 'Confluence Cloud audit log',
  product: 'confluence',
  deployment: 'cloud',
  paging: 'newest-first-offset',
  maxLimit: 1000,
  // Retention is a site setting (GET /wiki/rest/api/audit/retention); this only caps a first-run lookback.
  retentionMs: 5 * 365 * DAY_MS,
  requiredRole: 'Confluence Administrator',
  scopes: 'read:audit-log:confluence',
  path: '/wiki/rest/api/audit',
  notFoundHint:
    'Is this a Confluence Cloud site (https://SITE.atlassian.net)? For Confluence Data Center use --deployment dc.',
  request(window, limit, position) {
    return {
      path: '/wiki/rest/api/audit',
      query: {
        startDate: String(window.from),
        endDate: String(window.to),
        start: String(position.offset ?? 0),
        limit: String(limit),
      },
    }
  },
  parse(body) {
    if (!isObject(body) || !Array.isArray(body.results)) throw new EnvelopeError('no "results" array')
    return { records: body.results, limit: numberOrUndefined(body.limit) }
  },
  recordTime(record) {
    return isObject(record) ? numberOrUndefined(record.creationDate) : undefined
  },
}
