// The sync engine: turns an audit API (core/atlassian/apis) into an exactly-once stream of ECS documents in a
// Store, whatever the Store is. See docs/collection.md for the argument; in short:
// - A run pins its window [from, until] before the first request; `until` is "now", so records written during
//   the run wait for the next run instead of shifting offsets.
// - Offset APIs are paged by offset inside the pinned window. Audit records are never deleted inside a window,
//   so a record inserted while paging (a late arrival) can only push records down: they are read again and
//   dropped by identity, never skipped; offsets do not care how many records share one millisecond. The late
//   record itself lies above the offset and is collected by the next run's overlap re-scan.
//   Cursor APIs (DC "<ms>,<id>") page by their cursor, which is positional: inserts do not move it.
// - Every page is committed with the state that says how far the run got ("everything in (low, until] is
//   stored"), in one atomic Store.commit. A run killed anywhere resumes from the last commit: same window,
//   same position; anything fetched but not committed is fetched again.
// - The next run starts `overlapMs` (default 10 min) behind the previous `until`, to collect records that
//   reach the audit log late; what it finds again is dropped by document identity (documentKey), never by
//   moving the bound "+1 ms" (which loses records sharing the boundary millisecond).
// - The organization events-stream is ascending by processedAt with a resumable cursor: it is polled from the
//   persisted cursor until a short page, de-duplicated by event id.
// - The next page is requested while the current one is parsed, normalized and committed (read-ahead.ts: one page
//   ahead, one request at the server, none ahead after a 429); pages are still consumed and committed in order,
//   and a page read ahead is dropped, never committed, when anything before it fails.

import type { ApiId, AuditApi, PageRequest, ParsedPage, TimeWindow } from '../atlassian/apis/api'
import { DAY_MS, EnvelopeError } from '../atlassian/apis/api'
import type { Authenticator } from '../atlassian/auth'
import { displayBase } from '../atlassian/auth'
import type { AtlassianClient, RequestHooks } from '../atlassian/client'
import type { StreamTarget } from '../atlassian/connect'
import {
  HttpError,
  InvalidCredentialsError,
  MalformedResponseError,
  NotAdminError,
  SessionExpiredError,
} from '../atlassian/errors'
import { documentKey } from '../ecs/identity'
import { normalizeRecord } from '../ecs/normalize'
import type { EcsDocument, NormalizeContext, Progress, Site } from '../model'
import type { Guess } from './read-ahead'
import { ReadAhead } from './read-ahead'
import type { CommitInfo, Store, StreamState } from './store'

export const DEFAULT_LOOKBACK_MS = 7 * DAY_MS
export const DEFAULT_OVERLAP_MS = 10 * 60_000
const FOREVER = Number.MAX_SAFE_INTEGER
/** Most full re-reads of one millisecond whose records do not fit in one page (see readMillisecond). */
const TIE_PASSES = 8
/** Most pages one pass of readMillisecond reads. */
const TIE_PAGES = 100

export interface SyncOptions {
  signal?: AbortSignal
  now?: () => number
  /** First run: how far back to start (capped at the API's retention). Default 7 days. */
  lookbackMs?: number
  /** First run: explicit start (epoch ms); wins over lookbackMs. Ignored once a checkpoint exists. */
  since?: number
  /** Pin the upper bound instead of "now" (epoch ms). */
  until?: number
  /** How far behind the previous run's upper bound the next run starts again. Default 10 minutes. */
  overlapMs?: number
  /** Records per request; default min(1000, the API's maximum). */
  limit?: number
  onProgress?: (progress: SyncProgress) => void
  log?: (line: string) => void
  /** Replaces the normalizer (benchmarks measure the engine without it). */
  normalize?: (record: unknown, ctx: NormalizeContext) => EcsDocument
  /**
   * Request the next page while the current one is parsed, normalized and committed (one page ahead, never two
   * requests at the server; off for the rest of the run after a 429). Default true.
   */
  readAhead?: boolean
}

export interface SyncProgress extends Progress {
  streamId: string
  phase: 'backfill' | 'incremental' | 'resume' | 'done'
  /** Documents newly stored by this call. */
  stored: number
  window: TimeWindow
}

export interface SyncResult {
  streamId: string
  api: ApiId
  pages: number
  /** Records received in the window (before de-duplication). */
  fetched: number
  /** Documents newly stored. */
  stored: number
  /** Upper bound of the last completed run (everything up to it is collected). */
  checkpoint?: number
  /** True when an interrupted run was finished first. */
  resumed: boolean
  /** Requests sent ahead of the engine, and how many of them were not used (read-ahead). */
  readAhead?: { sent: number; dropped: number }
}

/** Persisted per stream (JSON). `v` lets a later version migrate it. */
interface WindowState {
  v: 1
  api: ApiId
  checkpoint?: number
  run?: RunState
}

interface RunState {
  kind: 'backfill' | 'incremental'
  from: number
  until: number
  /** Offset APIs: records of the pinned window already read (newest-first). */
  offset?: number
  /** Cursor APIs: where the next page starts. */
  cursor?: string
  /** Oldest record time read so far (progress, and which keys to keep). */
  low?: number
  /** Newest record time of the previous page (its keys are kept: an insert above the offset re-serves them). */
  prevTop?: number
  pages: number
  fetched: number
}

interface StreamCursorState {
  v: 1
  api: ApiId
  cursor?: string
  /** Largest record time (processedAt) stored. */
  highWater?: number
  /** Event time the first poll started at (used until a cursor exists, and for progress). */
  startedAt?: number
  /** Oldest processedAt read beyond the persisted cursor in the current run (their keys are kept). */
  holdFrom?: number
  checkpoint?: number
}

function asWindowState(raw: StreamState | undefined, api: AuditApi): WindowState {
  if (raw && raw.v === 1 && raw.api === api.id) return raw as unknown as WindowState
  return { v: 1, api: api.id }
}

function asCursorState(raw: StreamState | undefined, api: AuditApi): StreamCursorState {
  if (raw && raw.v === 1 && raw.api === api.id) return raw as unknown as StreamCursorState
  return { v: 1, api: api.id }
}

interface Context {
  target: StreamTarget
  store: Store
  opts: SyncOptions
  limit: number
  overlap: number
  now: () => number
  normalize: (record: unknown, ctx: NormalizeContext) => EcsDocument
  normalizeCtx: NormalizeContext
  log: (line: string) => void
  result: SyncResult
}

/** One stream (one site + one API): finish an interrupted run, then run once up to now. */
export async function syncStream(target: StreamTarget, store: Store, opts: SyncOptions = {}): Promise<SyncResult> {
  const { api } = target
  const ctx: Context = {
    target,
    store,
    opts,
    limit: Math.max(1, Math.min(opts.limit ?? 1000, api.maxLimit)),
    overlap: opts.overlapMs ?? DEFAULT_OVERLAP_MS,
    now: opts.now ?? Date.now,
    normalize: opts.normalize ?? normalizeRecord,
    normalizeCtx: { product: api.product, deployment: api.deployment, site: target.site.url },
    log: (line) => opts.log?.(target.client.redact(`${target.streamId}: ${line}`)),
    result: { streamId: target.streamId, api: api.id, pages: 0, fetched: 0, stored: 0, resumed: false },
  }
  if (api.paging === 'ascending-cursor') await pollStream(ctx)
  else await syncWindows(ctx)
  return ctx.result
}

async function syncWindows(ctx: Context): Promise<void> {
  const { target, opts } = ctx
  let state = asWindowState(await ctx.store.loadState(target.streamId), target.api)
  if (state.run) {
    ctx.result.resumed = true
    ctx.log(`resuming the interrupted ${state.run.kind} of ${describeWindow(state.run)}`)
    state = await runWindow(ctx, state, state.run, 'resume')
    // The resumed window ended in the past: continue to now, unless the caller pinned the upper bound.
    if (opts.until !== undefined) return
  }
  const until = pinnedUntil(ctx)
  let run: RunState
  if (state.checkpoint !== undefined) {
    if (until <= state.checkpoint - ctx.overlap) return
    run = { kind: 'incremental', from: Math.max(0, state.checkpoint - ctx.overlap), until, pages: 0, fetched: 0 }
  } else {
    const lookback = opts.lookbackMs ?? DEFAULT_LOOKBACK_MS
    let from = opts.since ?? until - lookback
    const oldest = until - target.api.retentionMs
    if (from < oldest) {
      ctx.log(`the first run starts at the API's retention limit (${new Date(oldest).toISOString()})`)
      from = oldest
    }
    run = { kind: 'backfill', from, until, pages: 0, fetched: 0 }
  }
  if (run.from > run.until) return
  await runWindow(ctx, state, run, run.kind)
}

function describeWindow(w: TimeWindow | RunState): string {
  const to = 'until' in w ? w.until : w.to
  return `${new Date(w.from).toISOString()} … ${new Date(to).toISOString()}`
}

/**
 * One audit page of a stream, parsed: the one way the engine and a connection test read the audit log (a 401
 * that only means "not an administrator" is told as such, an envelope that is not the API's is malformed).
 */
export async function fetchAuditPage(
  target: StreamTarget,
  request: PageRequest,
  signal?: AbortSignal,
  hooks?: RequestHooks,
): Promise<ParsedPage> {
  const { api, auth, client } = target
  const purpose = { path: api.path, requiredRole: api.requiredRole, scopes: api.scopes, notFoundHint: api.notFoundHint }
  const get = (r: PageRequest) => client.getJson(auth.prepare(r.path, r.query), auth, purpose, signal, hooks)
  const other = api.alternative?.(request)
  let res: Awaited<ReturnType<AtlassianClient['getJson']>>
  try {
    res = await get(other && alternativeWorked.has(target) ? other : request)
  } catch (e) {
    // a parameter format the docs do not confirm, refused with a 400: the other form, once, then for the run
    if (!(other && !alternativeWorked.has(target) && e instanceof HttpError && e.status === 400))
      throw await notAdminInstead(target, e, signal)
    try {
      res = await get(other)
    } catch {
      throw e
    }
    alternativeWorked.add(target)
    logFor(target, `${api.path} refused its date parameters (HTTP 400); the other form worked and is used from now on`)
  }
  try {
    return api.parse(res.body)
  } catch (e) {
    if (e instanceof EnvelopeError) throw new MalformedResponseError(displayBase(auth.base), e.message)
    throw e
  }
}

/** Streams whose API answered a 400 to its first form of a request and not to `AuditApi.alternative`. */
const alternativeWorked = new WeakSet<StreamTarget>()

function logFor(target: StreamTarget, line: string): void {
  target.client.log(`${target.streamId}: ${line}`)
}

/** Who-am-I resources (§g.1, §g.4): 200 with a known user when the credential or session is good. */
const WHO_AM_I: Record<string, string> = {
  'jira/cloud': '/rest/api/3/myself',
  'confluence/cloud': '/wiki/rest/api/user/current',
  'jira/dc': '/rest/api/2/myself',
  'confluence/dc': '/rest/api/user/current',
}

/**
 * A 401 on the audit log does not always mean a bad credential or an expired session: "Jira Cloud non-admins
 * get 403 (or 401)" (§h). The who-am-I resource tells: when it knows the user, the account is signed in and
 * only lacks the permission, and the admin is told that instead of being sent to fix a good token.
 */
async function notAdminInstead(target: StreamTarget, e: unknown, signal: AbortSignal | undefined): Promise<unknown> {
  if (!(e instanceof InvalidCredentialsError || e instanceof SessionExpiredError) || e.status !== 401) return e
  const { api, auth, client } = target
  const path = WHO_AM_I[`${api.product}/${api.deployment}`]
  if (!path) return e
  try {
    const me = await client.getJson(auth.prepare(path, {}), auth, { path }, signal)
    const body = me.body as Record<string, unknown> | null
    const known =
      typeof body === 'object' &&
      body !== null &&
      body.type !== 'anonymous' &&
      ['accountId', 'key', 'name', 'username', 'userKey'].some((k) => typeof body[k] === 'string' && body[k] !== '')
    if (known) return new NotAdminError(e.origin ?? displayBase(auth.base), api.requiredRole, { status: 401 })
  } catch {
    // the probe failing says nothing more than the 401 did
  }
  return e
}

function readAheadFor(ctx: Context): ReadAhead {
  return new ReadAhead(
    (request, signal, hooks) => fetchAuditPage(ctx.target, request, signal, hooks),
    ctx.opts.signal,
    ctx.opts.readAhead !== false,
  )
}

/** Pages with read-ahead; `drop` runs on every way out so nothing sent ahead outlives the run. */
async function withReadAhead<T>(ctx: Context, body: (pager: ReadAhead) => Promise<T>): Promise<T> {
  const pager = readAheadFor(ctx)
  try {
    return await body(pager)
  } finally {
    await pager.drop()
    const sent = (ctx.result.readAhead?.sent ?? 0) + pager.sentAhead
    const dropped = (ctx.result.readAhead?.dropped ?? 0) + pager.dropped
    ctx.result.readAhead = { sent, dropped }
  }
}

/** Pages one pinned window newest-first, committing after every page. Returns the final state. */
async function runWindow(
  ctx: Context,
  initial: WindowState,
  startRun: RunState,
  phase: SyncProgress['phase'],
): Promise<WindowState> {
  return withReadAhead(ctx, (pager) => pageWindow(ctx, initial, startRun, phase, pager))
}

async function pageWindow(
  ctx: Context,
  initial: WindowState,
  startRun: RunState,
  phase: SyncProgress['phase'],
  pager: ReadAhead,
): Promise<WindowState> {
  const { api } = ctx.target
  const { from, until } = startRun
  let run: RunState = { ...startRun }
  const byCursor = api.paging === 'newest-first-cursor'
  /** Offset APIs: the keys of the records read in this call at the oldest millisecond so far (`run.low`). */
  let seenAtLow = new Set<string>()
  let pagesRead = 0
  const request = (position: { offset?: number; cursor?: string }) =>
    api.request({ from, to: until }, ctx.limit, position)
  // Offset APIs: the request after the one at `offset` is known before its body is parsed, if pages stay full.
  // It is guessed only once the page before was full (a one-page incremental run costs no extra request) and
  // the server's total does not rule it out; a wrong guess costs one dropped request at the end of a window.
  let pageSize = ctx.limit
  let fullUpTo: number | undefined
  let totalHint: number | undefined
  const guessAfter =
    (offset: number): Guess =>
    () => {
      if (fullUpTo !== offset) return undefined
      const next = offset + pageSize
      if (totalHint !== undefined && next >= totalHint) return undefined
      return { request: request({ offset: next }), guess: guessAfter(next) }
    }
  for (;;) {
    ctx.opts.signal?.throwIfAborted()
    const offset = run.offset ?? 0
    const page = byCursor
      ? await pager.take(request({ cursor: run.cursor }))
      : await pager.take(request({ offset }), guessAfter(offset))
    const records = page.records
    const times = records.map((r) => api.recordTime(r))

    // Records outside the pinned window (the server may ignore a bound, or the cursor runs past `from`) are
    // left to the run whose window holds them.
    const keep: number[] = []
    for (let i = 0; i < records.length; i++) {
      const t = times[i]
      if (t === undefined || (t >= from && t <= until)) keep.push(i)
    }
    let minT: number | undefined
    let maxT: number | undefined
    for (const t of times) {
      if (t === undefined) continue
      if (minT === undefined || t < minT) minT = t
      if (maxT === undefined || t > maxT) maxT = t
    }

    const next: RunState = { ...run, pages: run.pages + 1, fetched: run.fetched + keep.length }
    if (byCursor && page.nextCursor !== undefined && page.nextCursor === run.cursor && records.length > 0) {
      // the same page again, forever: stop with a clear error instead
      throw new MalformedResponseError(
        displayBase(ctx.target.auth.base),
        `the server sent a page of records with the same next-page cursor as the page before (${page.nextCursor})`,
      )
    }
    if (byCursor) next.cursor = page.nextCursor
    else next.offset = (run.offset ?? 0) + records.length
    if (minT !== undefined) next.low = Math.max(from, Math.min(run.low ?? until, minT))
    if (maxT !== undefined) next.prevTop = Math.min(until, maxT)

    const pageLimit = page.limit ?? (byCursor ? undefined : ctx.limit)
    const done = byCursor
      ? records.length === 0 || page.lastPage === true || !page.nextCursor || (minT !== undefined && minT < from)
      : records.length === 0 || (pageLimit !== undefined && records.length < pageLimit)
    if (done) await pager.drop()
    else if (byCursor) await pager.prepare(request({ cursor: next.cursor }))
    else {
      pageSize = pageLimit ?? ctx.limit
      fullUpTo = next.offset
      totalHint = page.totalHint
      await pager.prepare(request({ offset: next.offset }), guessAfter(next.offset ?? 0))
    }
    // Normalization and the commit below overlap the request just sent.
    const docs = keep.map((i) => ctx.normalize(records[i], ctx.normalizeCtx))
    const docTimes = keep.map((i) => times[i])
    // Offset APIs, records sharing the millisecond where this page meets the one before: their order among
    // themselves is not documented. Served in one order for the page before and in another for this one, some
    // come twice across the boundary and as many are skipped, for good (the next run's overlap is only the last
    // minutes). A repeat is the sign; then that millisecond is read again whole (readMillisecond). Without a
    // repeat nothing can have been skipped: the records of that millisecond on both sides of the boundary fill
    // exactly the positions they hold, each once. A repeat is either another order or a shift (records inserted
    // above the offset push the last ones read onto this page); the two can look alike (a swap at the boundary
    // looks like a shift by one), so either has the millisecond read again. Only records of that millisecond can
    // repeat (a shift repeats the last record read, which is one of them), so only they are keyed. A resumed run
    // has not seen the page before: a boundary millisecond on its first page is read again anyway.
    if (!byCursor) {
      const boundary = run.low
      const atBoundary: string[] = []
      if (boundary !== undefined)
        for (let i = 0; i < docs.length; i++) if (docTimes[i] === boundary) atBoundary.push(documentKey(docs[i]!))
      const resumed = pagesRead === 0 && (run.offset ?? 0) > 0
      const repeated = atBoundary.some((k) => seenAtLow.has(k))
      if (boundary !== undefined && atBoundary.length > 0 && (resumed || repeated)) {
        if (repeated)
          ctx.log(`${new Date(boundary).toISOString()}: records read before came again; reading that millisecond whole`)
        const onPage = new Set(atBoundary)
        for (const d of await readMillisecond(ctx, pager, boundary)) {
          const key = documentKey(d)
          if (onPage.has(key)) continue
          onPage.add(key)
          atBoundary.push(key)
          docs.push(d)
          docTimes.push(boundary)
        }
      }
      // what the next page is compared with: every record read in this run at the oldest millisecond so far
      const low = next.low
      if (low !== boundary) {
        seenAtLow = new Set()
        for (let i = 0; i < docs.length; i++) if (docTimes[i] === low) seenAtLow.add(documentKey(docs[i]!))
      } else for (const k of atBoundary) seenAtLow.add(k)
      pagesRead++
    }

    // Keys a key-keeping store must not forget: the next run re-reads [until - overlap, until]; an unfinished
    // run still reads [from, low], where the previous run's overlap lies; and a record inserted above the
    // offset while paging shifts the last records read (this page and the one before) onto the next page.
    const retain: CommitInfo['retain'] = [{ from: until - ctx.overlap, to: FOREVER }]
    if (!done) {
      if (initial.checkpoint !== undefined) retain.push({ from, to: initial.checkpoint })
      if (next.low !== undefined) retain.push({ from: next.low, to: Math.max(run.prevTop ?? until, next.low) })
    }
    const state: WindowState = done
      ? { v: 1, api: api.id, checkpoint: Math.max(until, initial.checkpoint ?? 0) }
      : { ...initial, run: next }
    const added = await ctx.store.commit(ctx.target.streamId, docs, state as unknown as StreamState, {
      recordTimes: docTimes,
      retain,
    })
    run = next
    ctx.result.pages++
    ctx.result.fetched += docs.length
    ctx.result.stored += added.length
    const covered = done ? 1 : until > from ? (until - (next.low ?? until)) / (until - from) : 1
    const fraction = Math.min(1, Math.max(0, covered))
    ctx.opts.onProgress?.({
      streamId: ctx.target.streamId,
      phase: done ? 'done' : phase,
      pages: run.pages,
      records: run.fetched,
      stored: ctx.result.stored,
      fraction,
      estimatedRemaining: fraction > 0 ? Math.round((run.fetched * (1 - fraction)) / fraction) : undefined,
      window: { from, to: until },
    })
    if (done) {
      ctx.result.checkpoint = state.checkpoint
      return state
    }
  }
}

/**
 * Every record of the pinned window's millisecond `t`, read as the window [t, t] (both bounds inclusive on the
 * offset APIs), normalized and de-duplicated by identity. One request when they fit in a page (the usual case).
 * When they do not, and the server orders them differently from one request to the next, a single pass can
 * still miss some: the read is repeated until it has as many as the server's total says (Jira), or until a
 * pass finds nothing new (Confluence gives no total), at most TIE_PASSES times.
 */
async function readMillisecond(ctx: Context, pager: ReadAhead, t: number): Promise<EcsDocument[]> {
  const { api } = ctx.target
  const found = new Map<string, EcsDocument>()
  for (let pass = 0; pass < TIE_PASSES; pass++) {
    const before = found.size
    let offset = 0
    let pages = 0
    let total: number | undefined
    for (;;) {
      ctx.opts.signal?.throwIfAborted()
      const page = await pager.take(api.request({ from: t, to: t }, ctx.limit, { offset }))
      for (const r of page.records) {
        if (api.recordTime(r) !== t) continue
        const doc = ctx.normalize(r, ctx.normalizeCtx)
        const key = documentKey(doc)
        if (!found.has(key)) found.set(key, doc)
      }
      total = page.totalHint
      offset += page.records.length
      pages++
      const limit = page.limit !== undefined ? Math.min(page.limit, ctx.limit) : ctx.limit
      if (page.records.length === 0 || page.records.length < limit) break
      if (pages >= TIE_PAGES) {
        // a server that keeps adding records to one millisecond faster than they are read: not forever
        ctx.log(`${new Date(t).toISOString()}: more than ${pages} pages in one millisecond; reading on`)
        break
      }
    }
    if (pages === 1) break // one page held them all: nothing could move across a boundary
    if (total !== undefined ? found.size >= total : found.size === before) break
    ctx.log(`${new Date(t).toISOString()}: ${offset} records in one millisecond, more than a page; read again`)
  }
  return [...found.values()]
}

/**
 * The run's upper bound: the caller's, but never later than now. A checkpoint in the future would make the
 * next run start after records that are written between now and then, and they would never be collected.
 */
function pinnedUntil(ctx: Context): number {
  const now = ctx.now()
  const asked = ctx.opts.until
  if (asked === undefined) return now
  if (asked > now) ctx.log(`the upper bound ${new Date(asked).toISOString()} is in the future: collecting up to now`)
  return Math.min(asked, now)
}

/** Ascending cursor stream (org events-stream): poll from the persisted cursor until a short page. */
async function pollStream(ctx: Context): Promise<void> {
  const { target, opts } = ctx
  const { api } = target
  const state = asCursorState(await ctx.store.loadState(target.streamId), api)
  const until = pinnedUntil(ctx)
  if (state.cursor) ctx.result.resumed = state.checkpoint === undefined
  // Without a cursor (first poll), the stream starts at an event time; it stays the same until a cursor exists.
  const startedAt =
    state.startedAt ?? Math.max(opts.since ?? until - (opts.lookbackMs ?? DEFAULT_LOOKBACK_MS), until - api.retentionMs)
  await withReadAhead(ctx, (pager) => pollPages(ctx, state, startedAt, until, pager))
}

async function pollPages(
  ctx: Context,
  initial: StreamCursorState,
  startedAt: number,
  until: number,
  pager: ReadAhead,
): Promise<void> {
  const { target } = ctx
  const { api } = target
  let state = initial
  const request = (cursor: string | undefined) => api.request({ from: startedAt, to: until }, ctx.limit, { cursor })
  let readCursor = state.cursor
  let pages = 0
  let fetched = 0
  for (;;) {
    ctx.opts.signal?.throwIfAborted()
    const page = await pager.take(request(readCursor))
    const records = page.records
    const times = records.map((r) => api.recordTime(r))
    let pageMin: number | undefined
    let highWater = state.highWater
    let beyond = false
    for (const t of times) {
      if (t === undefined) continue
      if (pageMin === undefined || t < pageMin) pageMin = t
      if (highWater === undefined || t > highWater) highWater = t
      if (t > until) beyond = true
    }
    const pageLimit = page.limit !== undefined ? Math.min(page.limit, ctx.limit) : ctx.limit
    // "A cursor is now returned on the last page" [S31]: a cursor is no sign of more data; a short page is the end.
    const done = records.length < pageLimit
    if (!done && (page.nextCursor === undefined || page.nextCursor === readCursor)) {
      // a full page and no way on: asking again would get the same page, forever
      throw new MalformedResponseError(
        displayBase(ctx.target.auth.base),
        'the server sent a full page of events without a new cursor (meta.next / links.next)',
      )
    }
    readCursor = page.nextCursor ?? readCursor
    if (done) await pager.drop()
    else await pager.prepare(request(readCursor))
    // Normalization and the commit below overlap the request just sent.
    const docs = records.map((r) => ctx.normalize(r, ctx.normalizeCtx))
    // The persisted cursor never moves past a record processed after this run began: such a record may still
    // get neighbours processed "before" it (clocks, a server that shows records before their processedAt), and
    // the next run re-reads from there; identity drops what repeats.
    const hold = state.holdFrom !== undefined || beyond
    const next: StreamCursorState = {
      v: 1,
      api: api.id,
      cursor: hold ? state.cursor : readCursor,
      holdFrom: hold ? Math.min(state.holdFrom ?? FOREVER, pageMin ?? FOREVER) : undefined,
      highWater,
      startedAt,
      checkpoint: done ? until : state.checkpoint,
    }
    const persisted = { ...next, holdFrom: done ? undefined : next.holdFrom }
    const keepFrom = Math.min(next.holdFrom ?? FOREVER, pageMin ?? FOREVER, (highWater ?? until) - ctx.overlap)
    const added = await ctx.store.commit(target.streamId, docs, persisted as unknown as StreamState, {
      recordTimes: times,
      retain: [{ from: keepFrom, to: FOREVER }],
    })
    state = next
    pages++
    fetched += records.length
    ctx.result.pages++
    ctx.result.fetched += records.length
    ctx.result.stored += added.length
    const fraction = done
      ? 1
      : until > startedAt
        ? Math.min(1, ((highWater ?? startedAt) - startedAt) / (until - startedAt))
        : 1
    ctx.opts.onProgress?.({
      streamId: target.streamId,
      phase: done ? 'done' : state.checkpoint === undefined ? 'backfill' : 'incremental',
      pages,
      records: fetched,
      stored: ctx.result.stored,
      fraction: Math.max(0, fraction),
      estimatedRemaining: fraction > 0 ? Math.round((fetched * (1 - fraction)) / fraction) : undefined,
      window: { from: startedAt, to: until },
    })
    if (done) {
      ctx.result.checkpoint = until
      return
    }
  }
}

export interface SyncOutcome {
  streamId: string
  site: Site
  ok: boolean
  result?: SyncResult
  error?: unknown
}

/**
 * Several streams, independently: each gets its own state, and one failing (expired session, 403, outage)
 * does not stop the others. `prepare` builds the target (auth, cloudId/orgId discovery) inside the same
 * isolation, so a failure there is that site's failure too.
 */
export async function syncAll(
  jobs: readonly { site: Site; prepare: () => Promise<StreamTarget> }[],
  store: Store,
  opts: SyncOptions & { concurrency?: number } = {},
): Promise<SyncOutcome[]> {
  const outcomes: SyncOutcome[] = new Array(jobs.length)
  let nextJob = 0
  const worker = async () => {
    while (nextJob < jobs.length) {
      const i = nextJob++
      const job = jobs[i]
      let streamId = job.site.id
      try {
        const target = await job.prepare()
        streamId = target.streamId
        const result = await syncStream(target, store, opts)
        outcomes[i] = { streamId, site: job.site, ok: true, result }
      } catch (error) {
        if (opts.signal?.aborted) throw error
        outcomes[i] = { streamId, site: job.site, ok: false, error }
      }
    }
  }
  const workers = Math.max(1, Math.min(opts.concurrency ?? 4, jobs.length))
  await Promise.all(Array.from({ length: workers }, worker))
  return outcomes
}

export type { AtlassianClient, Authenticator }
