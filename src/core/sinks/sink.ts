// One interface for every collector (Elasticsearch/OpenSearch _bulk, Splunk HEC, HTTP NDJSON).

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
