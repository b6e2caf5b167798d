// One-page read-ahead for the sync engine (docs/collection.md, "Read-ahead"). The engine still consumes and
// commits pages strictly in order; this only decides *when* the request for the next page leaves:
// - as soon as the previous body has been read (before it is parsed) when the next request can be guessed
//   (offset APIs, once the page before was full), or
// - as soon as the engine knows it (cursor APIs: after parsing), so it overlaps normalization and Store.commit.
// Rules that keep the server's view the same as a sequential client's:
// - at most one request of the stream is at the server: the next one is sent only once the previous body is
//   in, and a retry of a body that turned out truncated first withdraws what was sent after it;
// - after a 429 no more requests are sent ahead in this run (the rate limit sets the pace, not the client);
// - a page sent ahead that turns out not to be the next one (a short page, another page size) is aborted and
//   dropped; so is one whose predecessor failed, was aborted, or whose commit failed.

import type { PageRequest, ParsedPage } from '../atlassian/apis/api'
import type { RequestHooks } from '../atlassian/client'
import { anySignal } from '../net'

/** The request that may follow the one being read, asked when its body is in (undefined: do not guess yet). */
export type Guess = () => { request: PageRequest; guess?: Guess } | undefined

export type FetchPage = (
  request: PageRequest,
  signal: AbortSignal | undefined,
  hooks: RequestHooks,
) => Promise<ParsedPage>

interface InFlight {
  key: string
  page: Promise<ParsedPage>
  /** Settles (never rejects) once the request is over; its rejection counts as handled. */
  settled: Promise<void>
  controller: AbortController
}

/** Thrown into a dropped read-ahead request (never surfaces: dropped requests are not awaited by the engine). */
class DroppedReadAhead extends Error {
  override readonly name = 'DroppedReadAhead'
}

export function requestKey(request: PageRequest): string {
  return `${request.path}?${new URLSearchParams(request.query).toString()}`
}

export class ReadAhead {
  /** The one request sent ahead and not yet taken by the engine. */
  private ahead: InFlight | undefined
  private enabled: boolean
  /** Requests sent ahead (for logs and tests). */
  sentAhead = 0
  /** Requests sent ahead and dropped (a guess that was wrong, or a run that stopped). */
  dropped = 0

  constructor(
    private readonly fetchPage: FetchPage,
    private readonly signal: AbortSignal | undefined,
    enabled: boolean,
  ) {
    this.enabled = enabled
  }

  /** The page for `request`: the one sent ahead if it is this request, else fetched now. */
  async take(request: PageRequest, guess?: Guess): Promise<ParsedPage> {
    const key = requestKey(request)
    const ahead = this.ahead
    if (ahead && ahead.key === key) {
      this.ahead = undefined
      return ahead.page
    }
    await this.drop()
    return this.start(key, request, guess).page
  }

  /** Send `request` now unless it is already under way (the engine knows the next request; cursor APIs). */
  async prepare(request: PageRequest, guess?: Guess): Promise<void> {
    if (!this.enabled) return
    const key = requestKey(request)
    if (this.ahead?.key === key) return
    await this.drop()
    this.ahead = this.start(key, request, guess)
    this.sentAhead++
  }

  /** Abort and forget the request sent ahead, if any, once it has stopped. */
  async drop(): Promise<void> {
    const ahead = this.ahead
    if (!ahead) return
    this.ahead = undefined
    this.dropped++
    ahead.controller.abort(new DroppedReadAhead('read-ahead request dropped'))
    await ahead.settled
  }

  private start(key: string, request: PageRequest, guess: Guess | undefined): InFlight {
    const controller = new AbortController()
    const signal = this.signal ? anySignal(this.signal, controller.signal) : controller.signal
    const self: { inFlight?: InFlight } = {}
    const hooks: RequestHooks = {
      bodyReceived: () => {
        // Synchronous, before this body is parsed: the next request overlaps JSON.parse and everything after it.
        if (!this.enabled || this.ahead || !guess || this.signal?.aborted) return
        const next = guess()
        if (!next) return
        this.ahead = this.start(requestKey(next.request), next.request, next.guess)
        this.sentAhead++
      },
      beforeRetry: async () => {
        if (this.ahead && this.ahead !== self.inFlight) await this.drop()
      },
      rateLimited: () => {
        this.enabled = false
      },
    }
    const page = this.fetchPage(request, signal, hooks)
    const inFlight: InFlight = { key, page, settled: page.then(noop, noop), controller }
    self.inFlight = inFlight
    return inFlight
  }
}

function noop(): void {}
