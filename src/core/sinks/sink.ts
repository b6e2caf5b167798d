// One interface for every collector (Elasticsearch/OpenSearch _bulk, Splunk HEC, HTTP NDJSON).

import type { EcsDocument, Product } from '../model'

export type SinkKind = 'elasticsearch' | 'splunk-hec' | 'http-ndjson'

/** Result of sending one batch. Every input document is in exactly one of the three lists (by key). */
export interface SendResult {
  /** Accepted by the collector (or already there: `_bulk` 409 on create). */
  delivered: string[]
  /** Not accepted for a transient reason (429, 5xx, network): send again later. */
  retry: string[]
  /** Refused for good (mapping error, 400 on the item): report, do not retry. */
  rejected: { key: string; reason: string }[]
}

// ---- Additions for issue 5 (sinks, outbox, push). Everything above is the original contract. ----

/** Extra, optional details of a SendResult (the three lists above stay the contract). */
export interface SendResultDetails {
  /** Why the `retry` documents were not accepted (e.g. "HTTP 429", "cannot reach …"); no secrets. */
  transientError?: string
  /** The collector asked us to wait this long (Retry-After) before sending again. */
  retryAfterMs?: number
}

/** A collector: sends documents, says which ones were accepted. */
export interface Sink {
  readonly kind: SinkKind
  /**
   * Send `docs` (split into batches by count and bytes as configured). Returns every document's key
   * (see `sinkKey`) in exactly one list. Throws a `CollectorError` when the collector refuses the
   * request itself (wrong credentials, missing privileges, wrong URL): nothing was accepted, and sending
   * the same documents again will not help until the configuration changes. Throws the abort reason
   * when `signal` aborts.
   */
  send(docs: EcsDocument[], signal?: AbortSignal): Promise<SendResult & SendResultDetails>
}

/** How the collector authenticates us. The secret itself is kept apart (see `createSink`). */
export type CollectorAuthScheme = 'none' | 'basic' | 'bearer' | 'apikey' | 'splunk' | 'header'

export interface CollectorAuth {
  scheme: CollectorAuthScheme
  /** User name for `basic`. */
  username?: string
  /** Header name for `header` (e.g. `X-Api-Key`, `DD-API-KEY`). */
  headerName?: string
}

/** Which documents a collector receives. Empty or absent lists mean "all". */
export interface CollectorFilter {
  /** Site base URLs (as in `atlassian.site`). */
  sites?: string[]
  products?: Product[]
}

/** One configured collector (no secret in here: it is stored and passed separately). */
export interface CollectorConfig {
  /** Stable local id, also the outbox partition. */
  id: string
  kind: SinkKind
  /** elasticsearch: cluster base URL; splunk-hec: HEC base URL; http-ndjson: the full endpoint. */
  url: string
  auth: CollectorAuth
  name?: string
  /** Elasticsearch data stream namespace (`logs-<dataset>-<namespace>`). Default `default`. */
  namespace?: string
  /** Splunk: index to write to (default: the token's default index). */
  splunkIndex?: string
  /** Splunk: sourcetype. Default `atlassian:audit:ecs`. */
  splunkSourcetype?: string
  /** Extra request headers (http-ndjson mostly). Must not carry the secret: use auth `header` for that. */
  headers?: Record<string, string>
  /** Documents per request. Default 500. */
  batchSize?: number
  /** Uncompressed bytes per request. Default 5 MiB (Splunk: 1 MB). */
  batchBytes?: number
  gzip?: boolean
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number
  filter?: CollectorFilter
  enabled?: boolean
}
