// Splunk HTTP Event Collector, JSON event endpoint (`/services/collector/event`). A batch is event
// objects concatenated (HEC accepts them with or without newlines between; we put one per line).
// Response codes (`{"text":…,"code":N}`): 0 success, 1/4 token disabled/invalid (403), 2/3 token
// missing/invalid authorization (401), 5 no data, 6 invalid data format (with `invalid-event-number`),
// 7 incorrect index, 9 server busy (503), 10/11 data channel missing/invalid, 12/13 event field
// missing/blank. Source: Splunk docs "Troubleshoot HTTP Event Collector" (HEC status codes).

import type { EcsDocument } from '../model'
import { CollectorEndpointError } from './errors'
import {
  type BatchOutcome,
  checkCollectorUrl,
  createHttpSink,
  excerpt,
  type ProtocolAdapter,
  rejectAll,
  retryAll,
  type SinkRuntime,
  withPathSuffix,
} from './http'
import type { CollectorConfig, Sink } from './sink'

export const DEFAULT_SOURCETYPE = 'atlassian:audit:ecs'
/** Splunk Cloud's HEC limit is around 1 MB per request; Splunk Enterprise allows more. */
export const DEFAULT_SPLUNK_BATCH_BYTES = 1_000_000

function productOf(doc: EcsDocument): string | undefined {
  const product = (doc.atlassian as { product?: unknown } | undefined)?.product
  if (typeof product === 'string' && /^[a-z0-9_]+$/.test(product)) return product
  const dataset = doc.event?.dataset
  const m = typeof dataset === 'string' ? /^atlassian_([a-z0-9_]+)\.audit$/.exec(dataset) : null
  return m ? m[1] : undefined
}

/** `host`: the Atlassian site the event came from (its host name), when known. */
function hostOf(doc: EcsDocument): string | undefined {
  const site = (doc.atlassian as { site?: unknown } | undefined)?.site
  if (typeof site !== 'string' || site === '') return undefined
  try {
    return new URL(site).host || undefined
  } catch {
    return undefined
  }
}

/** The HEC envelope of one ECS document. */
export function hecEnvelope(doc: EcsDocument, sourcetype: string, index?: string): Record<string, unknown> {
  const envelope: Record<string, unknown> = {}
  const ts = doc['@timestamp']
  const ms = typeof ts === 'string' ? Date.parse(ts) : Number.NaN
  // epoch seconds with millisecond decimals, as HEC expects; absent → Splunk uses the receive time
  if (!Number.isNaN(ms)) envelope.time = Math.round(ms) / 1000
  const host = hostOf(doc)
  if (host) envelope.host = host
  const product = productOf(doc)
  envelope.source = product ? `atlassian:${product}:audit` : 'atlassian:audit'
  envelope.sourcetype = sourcetype
  if (index) envelope.index = index
  envelope.event = doc
  return envelope
}

interface HecReply {
  text?: unknown
  code?: unknown
  'invalid-event-number'?: unknown
}

function readReply(body: string): HecReply {
  try {
    const parsed = JSON.parse(body) as unknown
    return parsed !== null && typeof parsed === 'object' ? (parsed as HecReply) : {}
  } catch {
    return {}
  }
}

export function splunkAdapter(config: CollectorConfig): ProtocolAdapter {
  // The base URL, or an endpoint as Splunk documents it (`…/services/collector`, `…/services/collector/event`).
  const base = checkCollectorUrl(config.url)
  const endpoint = /\/services\/collector\/*$/.test(base.pathname)
    ? withPathSuffix(base, '/event')
    : withPathSuffix(base, '/services/collector/event')
  const sourcetype = config.splunkSourcetype ?? DEFAULT_SOURCETYPE
  const index = config.splunkIndex
  return {
    kind: 'splunk-hec',
    label: 'Splunk HEC',
    endpoint,
    contentType: 'application/json',
    defaultBatchBytes: DEFAULT_SPLUNK_BATCH_BYTES,
    serialize(doc) {
      return `${JSON.stringify(hecEnvelope(doc, sourcetype, index))}\n`
    },
    interpret(status, body, batch, retryAfterMs): BatchOutcome {
      const reply = readReply(body)
      const code = typeof reply.code === 'number' ? reply.code : undefined
      const text = typeof reply.text === 'string' ? reply.text : excerpt(body, undefined, 120)
      if (status >= 200 && status < 300 && code === 0) {
        return { delivered: batch.map((d) => d.key), retry: [], rejected: [] }
      }
      if (status >= 200 && status < 300 && code === undefined) {
        // HEC answers {"text":"Success","code":0}: anything else (a proxy's or a login page) is not HEC, and
        // counting it as delivered could lose every event
        throw new CollectorEndpointError(
          `the answer from ${endpoint.origin}${endpoint.pathname} (HTTP ${status}) is not a Splunk HEC reply: ${text}; check the URL`,
          status,
        )
      }
      if (status === 429 || status === 408 || status >= 500 || code === 9) {
        return retryAll(
          batch,
          `Splunk HEC answered HTTP ${status}${code !== undefined ? ` code ${code}` : ''}: ${text}`,
          retryAfterMs,
        )
      }
      if (status === 404 || status === 405 || code === 7 || code === 10 || code === 11 || code === 14 || code === 16) {
        throw new CollectorEndpointError(
          `Splunk HEC at ${endpoint.origin}${endpoint.pathname} refused the request (HTTP ${status}${code !== undefined ? ` code ${code}` : ''}: ${text}); check the URL, index and token settings`,
          status,
        )
      }
      const bad = reply['invalid-event-number']
      if (typeof bad === 'number' && bad >= 0 && bad < batch.length) {
        // Only the named event is bad. Whether HEC kept the ones before it is not documented clearly, so
        // they are sent again (at least once; Splunk may show them twice).
        const reason = `Splunk HEC rejected the event (code ${code ?? '?'}: ${text})`
        return {
          delivered: [],
          retry: batch.filter((_, i) => i !== bad).map((d) => d.key),
          rejected: [{ key: batch[bad].key, reason }],
          transientError: reason,
        }
      }
      return rejectAll(
        batch,
        `Splunk HEC refused the batch (HTTP ${status}${code !== undefined ? ` code ${code}` : ''}: ${text})`,
      )
    },
    authHint(_status, body) {
      const reply = readReply(body)
      return typeof reply.text === 'string' ? `Splunk says "${reply.text}"` : ''
    },
  }
}

export function createSplunkHecSink(config: CollectorConfig, secret: string | undefined, runtime?: SinkRuntime): Sink {
  return createHttpSink(config, secret, splunkAdapter(config), runtime)
}
