// One interface for every audit API. A module says how to build a page request for a time window and
// a position, where the records are in the envelope, how to read a record's time (for checkpoints) and
// when paging is over. The sync engine (core/sync/engine.ts) owns the algorithm around it.

import type { Deployment, Product } from '../../model'

export type ApiId = 'confluence-cloud' | 'jira-cloud' | 'dc-auditing' | 'confluence-dc-legacy' | 'org-events-stream'

/** Inclusive bounds, epoch milliseconds. */
export interface TimeWindow {
  from: number
  to: number
}

export interface PageRequest {
  /** Path as on the site (the authenticator adds the site, gateway prefix or gateway). */
  path: string
  query: Record<string, string>
}

export interface PagePosition {
  /** Offset APIs: records to skip inside the window. */
  offset?: number
  /** Cursor APIs: the cursor the previous page returned. */
  cursor?: string
}

export interface ParsedPage {
  records: unknown[]
  /** Page size the server says it applied (echoed `limit`), when it says. */
  limit?: number
  /** Cursor APIs: where the next page starts; absent when the server gave none. */
  nextCursor?: string
  /** The server said this is the last page. */
  lastPage?: boolean
  /**
   * At most this many records exist for the request (Jira's `total`, which may count the whole site rather than
   * the window). Only decides whether the engine reads ahead; never a reason to stop paging.
   */
  totalHint?: number
}

export interface AuditApi {
  id: ApiId
  /** Human name for messages and progress. */
  label: string
  /**
   * - `newest-first-offset`: newest-first within a pinned window, `offset`/`start` paging. The engine pages by
   *   narrowing the window's upper bound to the oldest time it has seen and skipping the records it already has
   *   at that exact millisecond (immune to inserts above the window's new top).
   * - `newest-first-cursor`: newest-first within a pinned window, server cursor (DC `pageCursor` = "<ms>,<id>").
   * - `ascending-cursor`: oldest-first stream with a resumable cursor (org events-stream, by processedAt).
   */
  paging: 'newest-first-offset' | 'newest-first-cursor' | 'ascending-cursor'
  /** Largest page the API accepts. */
  maxLimit: number
  /**
   * How far back the API can return records; caps the first-run lookback. The product docs do not state
   * a fixed number for every API (retention is a site setting on some), so these are upper bounds.
   */
  retentionMs: number
  /** For messages: who may read this audit log, and with which scopes (scoped tokens). */
  requiredRole: string
  scopes?: string
  /** Suggestion on 404 (missing API on an old version, wrong product ...). */
  notFoundHint: string
  /** Path for messages. */
  path: string
  request(window: TimeWindow, limit: number, position: PagePosition): PageRequest
  /**
   * Another form of the same request, for a parameter format the docs do not confirm: tried once when the first
   * form is answered with HTTP 400, and used for the rest of the run when it works.
   */
  alternative?(request: PageRequest): PageRequest | undefined
  /** Reads one response body; throws MalformedResponseError when the envelope is not what this API returns. */
  parse(body: unknown): ParsedPage
  /** The record's time in epoch ms used for windows and checkpoints (undefined when unreadable). */
  recordTime(record: unknown): number | undefined
  /** Normalizer context for the records of this API. */
  product: Product
  deployment: Deployment
}

export const DAY_MS = 86_400_000

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A 200 whose JSON is not this API's envelope; the engine turns it into a MalformedResponseError with the origin. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError'
}

/** `2021-12-10T11:57:29.971+0000` (Jira's offset without a colon) as well as plain ISO-8601. */
export function parseIsoTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !value) return undefined
  // Fast path for the shapes the audit APIs send (`2021-12-10T11:57:29.971Z` / `…971+0000`): this runs once per
  // record, and the regex + Date.parse path costs about ten times more.
  if (value.length >= 24 && value.charCodeAt(10) === 84 /* T */ && value.charCodeAt(19) === 46 /* . */) {
    const t = Date.UTC(
      digits(value, 0, 4),
      digits(value, 5, 7) - 1,
      digits(value, 8, 10),
      digits(value, 11, 13),
      digits(value, 14, 16),
      digits(value, 17, 19),
      digits(value, 20, 23),
    )
    const zone = value.slice(23)
    if (!Number.isNaN(t)) {
      if (zone === 'Z' || zone === '+0000' || zone === '+00:00') return t
      const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)
      if (m) return t - (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000
    }
  }
  const fixed = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')
  const t = Date.parse(fixed)
  return Number.isNaN(t) ? undefined : t
}

function digits(s: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48
    if (c < 0 || c > 9) return Number.NaN
    n = n * 10 + c
  }
  return n
}

/**
 * The value of query parameter `name` in a next-page link: a full URL (`links.next`, `nextPageLink`), a path, or
 * undefined. The link itself is never requested: its host may be the server's own idea of its address.
 */
export function linkParam(link: unknown, name: string): string | undefined {
  if (typeof link !== 'string' || !link.includes('?')) return undefined
  try {
    return new URL(link, 'https://link.invalid').searchParams.get(name) || undefined
  } catch {
    return undefined
  }
}

export function isoUtc(ms: number): string {
  return new Date(ms).toISOString()
}

export function numberOrUndefined(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}
