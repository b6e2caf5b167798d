// Plain HTTP POST of NDJSON (one ECS document per line) to any URL: Logstash `http` input, Vector
// `http_server`, Fluent Bit `http`, Cribl, a webhook. The status code is all we can read:
// 2xx → accepted, 408/429/5xx → try again later, 400/422 and other 4xx → refused (the whole batch).

import { CollectorEndpointError } from './errors'
import {
  checkCollectorUrl,
  createHttpSink,
  DEFAULT_BATCH_BYTES,
  excerpt,
  type ProtocolAdapter,
  rejectAll,
  retryAll,
  type SinkRuntime,
} from './http'
import type { CollectorConfig, Sink } from './sink'

export function ndjsonAdapter(config: CollectorConfig): ProtocolAdapter {
  const endpoint = checkCollectorUrl(config.url)
  return {
    kind: 'http-ndjson',
    label: 'The collector',
    endpoint,
    contentType: 'application/x-ndjson',
    defaultBatchBytes: DEFAULT_BATCH_BYTES,
    serialize(doc) {
      return `${JSON.stringify(doc)}\n`
    },
    interpret(status, body, batch, retryAfterMs) {
      if (status >= 200 && status < 300) return { delivered: batch.map((d) => d.key), retry: [], rejected: [] }
      if (status === 429 || status === 408 || status >= 500) {
        return retryAll(batch, `the collector answered HTTP ${status}`, retryAfterMs)
      }
      if (status === 404 || status === 405) {
        throw new CollectorEndpointError(
          `nothing accepts POST at ${endpoint.origin}${endpoint.pathname} (HTTP ${status}): check the URL`,
          status,
        )
      }
      if (status < 200 || (status >= 300 && status < 400)) {
        throw new CollectorEndpointError(
          `unexpected HTTP ${status} from ${endpoint.origin}${endpoint.pathname}`,
          status,
        )
      }
      const detail = excerpt(body, undefined, 160)
      return rejectAll(batch, `the collector refused the batch (HTTP ${status}${detail ? `: ${detail}` : ''})`)
    },
  }
}

export function createHttpNdjsonSink(config: CollectorConfig, secret: string | undefined, runtime?: SinkRuntime): Sink {
  return createHttpSink(config, secret, ndjsonAdapter(config), runtime)
}
