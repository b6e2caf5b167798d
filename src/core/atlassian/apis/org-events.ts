// Organization audit log through the gateway's admin API [docs/atlassian-apis.md §f]:
// - `GET /admin/v1/orgs` lists the organizations the API key sees (to find the orgId when none is given);
// - `GET /admin/v1/orgs/{orgId}/events-stream` is the polling API Atlassian asks collectors to use: ordered by
//   `attributes.processedAt` ascending "to ensure no events that are processed out of order are missed", with a
//   cursor that keeps the sort order and is returned even on the last page [S31]. So `meta.next` present does
//   not mean more data: stop on an empty or short page, persist the cursor, resume from it next time, and
//   de-duplicate on the event `id`. `/events` (the search API) is not used for collection: it is limited to
//   10 requests per minute since May 2025 and its order is not documented.

import type { AuditApi, PageRequest, ParsedPage } from './api'
import { DAY_MS, EnvelopeError, isObject, linkParam, numberOrUndefined, parseIsoTime } from './api'

export const ORG_SCOPES = 'an organization API key without scopes (or with read:events:admin)'

export function orgEventsStream(orgId: string): AuditApi {
  const path = `/admin/v1/orgs/${encodeURIComponent(orgId)}/events-stream`
  return {
    id: 'org-events-stream',
    label: 'Organization audit log',
    product: 'org',
    deployment: 'cloud',
    paging: 'ascending-cursor',
    // The documented default. go-atlassian says 500 is the maximum, but Atlassian does not: a server that refused
    // 500 would stop the organization audit log altogether, and 200 costs only more requests.
    maxLimit: 200,
    // Organization audit log retention (UNCONFIRMED per plan); caps a first-run lookback only.
    retentionMs: 180 * DAY_MS,
    requiredRole: 'Organization admin (the API key must belong to this organization)',
    scopes: ORG_SCOPES,
    path: '/admin/v1/orgs/{orgId}/events-stream',
    notFoundHint: 'Check the organization id (admin.atlassian.com/o/{orgId}/…) and that the key belongs to it.',
    request(window, limit, position): PageRequest {
      // The cursor carries the query (and its sort order); from/to go only on the first request. No `to`: a
      // persisted cursor would carry it forever and the stream would stop growing.
      if (position.cursor) return { path, query: { cursor: position.cursor, limit: String(limit) } }
      return { path, query: { from: String(window.from), limit: String(limit), sortOrder: 'asc' } }
    },
    parse(body): ParsedPage {
      if (!isObject(body) || !Array.isArray(body.data)) throw new EnvelopeError('no "data" array')
      const meta = isObject(body.meta) ? body.meta : {}
      const links = isObject(body.links) ? body.links : {}
      // "pass meta.next as cursor (or follow links.next, which is a full URL)" [docs/atlassian-apis.md §f.2]
      const next = typeof meta.next === 'string' && meta.next ? meta.next : linkParam(links.next, 'cursor')
      return { records: body.data, nextCursor: next, limit: numberOrUndefined(meta.page_size) }
    },
    recordTime(record) {
      if (!isObject(record) || !isObject(record.attributes)) return undefined
      return parseIsoTime(record.attributes.processedAt) ?? parseIsoTime(record.attributes.time)
    },
  }
}

/** Organization ids from a `GET /admin/v1/orgs` page, and the next-page cursor. */
export function parseOrgList(body: unknown): { ids: string[]; next?: string } {
  if (!isObject(body) || !Array.isArray(body.data)) throw new EnvelopeError('no "data" array in /admin/v1/orgs')
  const ids = body.data.flatMap((o) => (isObject(o) && typeof o.id === 'string' ? [o.id] : []))
  const links = isObject(body.links) ? body.links : {}
  const meta = isObject(body.meta) ? body.meta : {}
  const nextLink = typeof links.next === 'string' ? links.next : undefined
  let next = typeof meta.next === 'string' && meta.next ? meta.next : linkParam(nextLink, 'cursor')
  // links.next may also be just the cursor value
  if (!next && nextLink && !nextLink.includes('/') && !nextLink.includes('?')) next = nextLink
  return { ids, next }
}
