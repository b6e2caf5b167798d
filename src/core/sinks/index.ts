// The one entry point the extension and the CLI use: a Sink from a collector configuration.

import { createElasticsearchSink } from './elasticsearch'
import { CollectorConfigError } from './errors'
import type { SinkRuntime } from './http'
import { createHttpNdjsonSink } from './http-ndjson'
import type { CollectorConfig, Sink } from './sink'
import { createSplunkHecSink } from './splunk-hec'

export type { FetchFunction, SinkRuntime } from './http'
export { checkCollectorUrl, isLoopbackHost } from './http'

/**
 * Build the sink for `config`. `secret` (password, token or API key) is passed apart from the
 * configuration so that configurations can be stored, shown and exported without it.
 * Throws `CollectorConfigError` for an invalid configuration (e.g. http:// to a non-loopback host).
 */
export function createSink(config: CollectorConfig, secret: string | undefined, runtime: SinkRuntime = {}): Sink {
  switch (config.kind) {
    case 'elasticsearch':
      return createElasticsearchSink(config, secret, runtime)
    case 'splunk-hec':
      return createSplunkHecSink(config, secret, runtime)
    case 'http-ndjson':
      return createHttpNdjsonSink(config, secret, runtime)
    default:
      throw new CollectorConfigError(`unknown collector kind "${String((config as { kind?: unknown }).kind)}"`)
  }
}
