// Elasticsearch / OpenSearch `_bulk` with `create` actions into the data streams Elastic's own
// Atlassian integrations write (`logs-atlassian_<product>.audit-<namespace>`), so their dashboards
// work. `_id` is the document's key: a retried batch can only meet itself (409 on create = already there).
// Bulk API: https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html
// (request body = action line + source line, each ending in "\n"; per-item `status` and `error`).

import type { EcsDocument, Product } from '../model'
import { PRODUCTS } from '../model'
import { CollectorAuthError, CollectorConfigError, CollectorEndpointError } from './errors'
import {
  type BatchOutcome,
  checkCollectorUrl,
  createHttpSink,
  DEFAULT_BATCH_BYTES,
  excerpt,
  type PreparedDoc,
  type ProtocolAdapter,
  rejectAll,
  retryAll,
  type SinkRuntime,
  withPathSuffix,
} from './http'
import type { CollectorConfig, Sink } from './sink'

export const DEFAULT_NAMESPACE = 'default'

// Elastic's data stream naming scheme: lower case, no "-" (it separates type, dataset and namespace),
// none of \ / * ? " < > | , # : or space; at most 100 bytes. We accept the safe subset.
const NAMESPACE = /^[a-z0-9_][a-z0-9_.]{0,99}$/
const DATASET = /^[a-z0-9_]+\.[a-z0-9_]+$/

export function checkNamespace(namespace: string): string {
  if (!NAMESPACE.test(namespace)) {
    throw new CollectorConfigError(
      `data stream namespace "${namespace}" is invalid: use lower-case letters, digits, "_" or "." (no "-"), at most 100 characters`,
    )
  }
  return namespace
}

/**
 * The dataset a document belongs to: its `event.dataset` when that is a valid dataset name (the
 * normalizer sets `atlassian_<product>.audit`; keeping them equal matters because `event.dataset` is a
 * constant_keyword in Elastic's templates), else `atlassian_<product>.audit` from `atlassian.product`
 * (organization events: `atlassian_org.audit`), else `atlassian_unknown.audit`.
 */
export function datasetOf(doc: EcsDocument): string {
  const dataset = doc.event?.dataset
  if (typeof dataset === 'string' && DATASET.test(dataset)) return dataset
  const product = (doc.atlassian as { product?: unknown } | undefined)?.product
  if (typeof product === 'string' && (PRODUCTS as readonly string[]).includes(product)) {
    return `atlassian_${product as Product}.audit`
  }
  return 'atlassian_unknown.audit'
}

export function dataStreamOf(doc: EcsDocument, namespace = DEFAULT_NAMESPACE): string {
  return `logs-${datasetOf(doc)}-${namespace}`
}

interface BulkItemResult {
  status?: unknown
  error?: unknown
}

function itemReason(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const e = error as { type?: unknown; reason?: unknown; caused_by?: { type?: unknown; reason?: unknown } }
    const parts = [e.type, e.reason].filter((x) => typeof x === 'string')
    if (e.caused_by && typeof e.caused_by.reason === 'string') parts.push(`(caused by: ${e.caused_by.reason})`)
    if (parts.length > 0) return parts.join(': ')
  }
  return typeof error === 'string' ? error : 'rejected'
}

/** Read a `_bulk` response (HTTP 200): every item in request order. */
export function readBulkResponse(body: string, batch: PreparedDoc[], retryAfterMs?: number): BatchOutcome {
  let parsed: { errors?: unknown; items?: unknown }
  try {
    parsed = JSON.parse(body) as { errors?: unknown; items?: unknown }
  } catch {
    return retryAll(batch, `unexpected _bulk response (not JSON): ${excerpt(body, undefined, 80)}`)
  }
  const items = Array.isArray(parsed.items) ? (parsed.items as unknown[]) : undefined
  if (parsed.errors === false && (items === undefined || items.length !== batch.length)) {
    // `errors:false` means every action succeeded; some proxies and test sinks answer without items.
    return { delivered: batch.map((d) => d.key), retry: [], rejected: [] }
  }
  if (items === undefined || items.length !== batch.length) {
    return retryAll(batch, `unexpected _bulk response: ${items?.length ?? 'no'} items for ${batch.length} documents`)
  }
  const out: BatchOutcome = { delivered: [], retry: [], rejected: [] }
  let throttled = 0
  // Per-item 401/403 (a security_exception: no privilege on that data stream) and 404 (no such index, with
  // auto-creation off) are the collector's configuration, not the document: the entries stay pending.
  const refused: { status: number; reason: string }[] = []
  for (let i = 0; i < batch.length; i++) {
    const entry = items[i] as Record<string, BulkItemResult> | null
    const result = entry && typeof entry === 'object' ? (entry.create ?? Object.values(entry)[0]) : undefined
    const status = typeof result?.status === 'number' ? result.status : undefined
    const key = batch[i].key
    if (status === undefined) out.retry.push(key)
    else if (status >= 200 && status < 300) out.delivered.push(key)
    else if (status === 409)
      out.delivered.push(key) // version conflict on create: a document with this _id is already there
    else if (status === 429 || status >= 500) {
      out.retry.push(key)
      throttled++
    } else if (status === 401 || status === 403 || status === 404) {
      out.retry.push(key)
      refused.push({ status, reason: itemReason(result?.error) })
    } else out.rejected.push({ key, reason: `HTTP ${status}: ${itemReason(result?.error)}` })
  }
  if (refused.length > 0) {
    const first = refused[0]!
    const what = `Elasticsearch refused ${refused.length} documents (HTTP ${first.status} per item: ${first.reason})`
    if (out.delivered.length === 0 && out.rejected.length === 0 && throttled === 0) {
      // nothing got through: the same answer as a 403/404 for the whole request
      if (first.status === 404) throw new CollectorEndpointError(`${what}; check the data stream settings`, 404)
      throw new CollectorAuthError(
        `${what}; the user or API key needs the create_doc and auto_configure privileges on logs-atlassian_*`,
        first.status,
      )
    }
    out.transientError = `${what}; they stay queued`
    out.retryAfterMs = retryAfterMs
    return out
  }
  if (out.retry.length > 0) {
    out.transientError =
      throttled > 0 ? `${throttled} documents refused for now (HTTP 429/5xx per item)` : 'items without status'
    out.retryAfterMs = retryAfterMs
  }
  return out
}

/** The `error` of an Elasticsearch JSON error body, if it is one. */
function esJsonError(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: unknown }
    if (parsed !== null && typeof parsed === 'object' && parsed.error !== undefined) return itemReason(parsed.error)
  } catch {
    // not JSON (a proxy's HTML page)
  }
  return undefined
}

function esError(body: string): string {
  return esJsonError(body) ?? excerpt(body, undefined, 160)
}

export function elasticsearchAdapter(config: CollectorConfig): ProtocolAdapter {
  const namespace = checkNamespace(config.namespace ?? DEFAULT_NAMESPACE)
  const endpoint = withPathSuffix(checkCollectorUrl(config.url), '/_bulk')
  return {
    kind: 'elasticsearch',
    label: 'Elasticsearch',
    endpoint,
    contentType: 'application/x-ndjson',
    defaultBatchBytes: DEFAULT_BATCH_BYTES,
    serialize(doc, key) {
      const dataset = datasetOf(doc)
      const action = JSON.stringify({ create: { _index: `logs-${dataset}-${namespace}`, _id: key } })
      // data_stream.* as Elastic Agent sets them; they are constant_keyword and must match the target stream.
      const source = JSON.stringify({ ...doc, data_stream: { type: 'logs', dataset, namespace } })
      return `${action}\n${source}\n`
    },
    interpret(status, body, batch, retryAfterMs) {
      if (status === 200) return readBulkResponse(body, batch, retryAfterMs)
      if (status === 429 || status === 408 || status >= 500) {
        return retryAll(batch, `Elasticsearch answered HTTP ${status}`, retryAfterMs)
      }
      if (status === 404 || status === 405) {
        throw new CollectorEndpointError(
          `no Elasticsearch _bulk API at ${endpoint.origin}${endpoint.pathname} (HTTP ${status}): check the cluster URL`,
          status,
        )
      }
      if (status >= 200 && status < 300) return retryAll(batch, `unexpected HTTP ${status} from _bulk`)
      return rejectAll(batch, `Elasticsearch refused the whole request (HTTP ${status}): ${esError(body)}`)
    },
    authHint(status, body) {
      const reason = esJsonError(body)
      if (status === 403) {
        return `${reason ? `${reason}; ` : ''}the user or API key needs the create_doc and auto_configure privileges on logs-atlassian_*`
      }
      return reason ?? ''
    },
  }
}

export function createElasticsearchSink(
  config: CollectorConfig,
  secret: string | undefined,
  runtime?: SinkRuntime,
): Sink {
  return createHttpSink(config, secret, elasticsearchAdapter(config), runtime)
}
