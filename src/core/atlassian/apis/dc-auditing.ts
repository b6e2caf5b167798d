// Data Center unified auditing `GET /rest/auditing/1.0/events` (Confluence ≥ 7.5, Jira ≥ 8.8, Bitbucket ≥ 7.0)
// [docs/atlassian-apis.md §b.2, §d, §e]: from/to ISO-8601, newest-first, records in `entities`, cursor paging with
// `pagingInfo.nextPageCursor` = "<epochMs>,<id>" — a plain string in real output (Elastic's mocks) but
// `{cursor}` in the documented schema, so both are accepted, and a page with only `nextPageLink` gives its
// `pageCursor`. `nextPageLink` itself is not followed: it leaves out
// from/to and is built from the server's own base URL (scheme/host may differ), so the next request is
// rebuilt from the original parameters plus `pageCursor`. Stop on `lastPage`, a missing cursor, or entities
// older than `from` (the engine checks the last one).

import type { Product } from '../../model'
import type { AuditApi } from './api'
import { DAY_MS, EnvelopeError, isObject, isoUtc, linkParam, numberOrUndefined, parseIsoTime } from './api'

const ROLE: Record<string, string> = {
  confluence: 'Confluence Administrator (or System Administrator)',
  jira: 'Jira System Administrator / Jira Administrator',
  bitbucket: 'Bitbucket System Administrator / Admin',
}

const VERSION_HINT: Record<string, string> = {
  confluence:
    'The auditing API needs Confluence 7.5 or later; for older Confluence use the legacy API (--api confluence-dc-legacy).',
  jira: 'The auditing API needs Jira 8.8 or later (older versions only have the deprecated /rest/api/2/auditing/record).',
  bitbucket: 'The auditing API needs Bitbucket 7.0 or later.',
}

function readCursor(paging: Record<string, unknown>): string | undefined {
  const c = paging.nextPageCursor
  if (typeof c === 'string' && c) return c
  if (isObject(c) && typeof c.cursor === 'string' && c.cursor) return c.cursor
  // only a link: its pageCursor is the cursor (the link itself is not followed, see above)
  return linkParam(paging.nextPageLink, 'pageCursor')
}

export function dcAuditing(product: Exclude<Product, 'org'>): AuditApi {
  return {
    id: 'dc-auditing',
    label: `${product[0].toUpperCase()}${product.slice(1)} Data Center audit log`,
    product,
    deployment: 'dc',
    paging: 'newest-first-cursor',
    // Docs say 100000, the Bitbucket KB 10000; 1000 keeps responses small and is what we ask for.
    maxLimit: 10_000,
    // Retention is a site setting (default 3 years in the admin UI); this only caps a first-run lookback.
    retentionMs: 10 * 365 * DAY_MS,
    requiredRole: ROLE[product],
    path: '/rest/auditing/1.0/events',
    notFoundHint: VERSION_HINT[product],
    request(window, limit, position) {
      const query: Record<string, string> = { from: isoUtc(window.from), to: isoUtc(window.to), limit: String(limit) }
      if (position.cursor) query.pageCursor = position.cursor
      return { path: '/rest/auditing/1.0/events', query }
    },
    parse(body) {
      if (!isObject(body) || !Array.isArray(body.entities)) throw new EnvelopeError('no "entities" array')
      const paging = isObject(body.pagingInfo) ? body.pagingInfo : {}
      return {
        records: body.entities,
        nextCursor: readCursor(paging),
        lastPage: paging.lastPage === true,
        limit: undefined,
      }
    },
    recordTime(record) {
      if (!isObject(record)) return undefined
      const ts = record.timestamp
      if (isObject(ts)) {
        // The on-disk format's {epochSecond, nano}; accepted in case a proxy serves file records.
        const s = numberOrUndefined(ts.epochSecond)
        return s === undefined ? undefined : s * 1000 + Math.floor((numberOrUndefined(ts.nano) ?? 0) / 1e6)
      }
      return parseIsoTime(ts)
    },
  }
}
