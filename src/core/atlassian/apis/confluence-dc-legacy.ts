// Confluence Server/DC legacy `GET /rest/api/audit` (5.10 … 7.4; deprecated since 7.5 in favour of the auditing
// plugin) [docs/atlassian-apis.md §b.1]: the same resource family and envelope as Confluence Cloud (`results`,
// `start`, `limit`, newest-first, `creationDate` epoch ms), capped at 1000 records per request. The DC date
// parameters are JodaDate; their accepted text is UNCONFIRMED, and epoch milliseconds are what the shared
// AuditResource takes on Cloud, so that is what is sent first. A server that refuses them with a 400 gets the
// same dates as ISO-8601 (`alternative`), which the engine then keeps for the run.

import type { AuditApi } from './api'
import { isoUtc } from './api'
import { confluenceCloud } from './confluence-cloud'

export const confluenceDcLegacy: AuditApi = {
  ...confluenceCloud,
  id: 'confluence-dc-legacy',
  label: 'Confluence Data Center audit log (legacy API)',
  deployment: 'dc',
  maxLimit: 1000,
  requiredRole: 'Confluence Administrator (or System Administrator)',
  scopes: undefined,
  path: '/rest/api/audit',
  notFoundHint: 'Confluence 7.5 and later serve the audit log at /rest/auditing/1.0/events (the default API).',
  request(window, limit, position) {
    return {
      path: '/rest/api/audit',
      query: {
        startDate: String(window.from),
        endDate: String(window.to),
        start: String(position.offset ?? 0),
        limit: String(limit),
      },
    }
  },
  alternative(request) {
    const { startDate, endDate } = request.query
    if (!/^\d+$/.test(startDate ?? '') || !/^\d+$/.test(endDate ?? '')) return undefined
    return {
      ...request,
      query: { ...request.query, startDate: isoUtc(Number(startDate)), endDate: isoUtc(Number(endDate)) },
    }
  },
}
