// Batching by document count and by bytes, and the key every sink reports documents under.

import { canonicalJson, documentKey, hash128 } from '../ecs/identity'
import type { EcsDocument } from '../model'

/**
 * The key a document is pushed under (Elasticsearch `_id`, outbox key): `documentKey` for documents
 * from our normalizer; for ECS documents from elsewhere (no `event.hash`, no `event.id`) a hash of the
 * whole document, so that re-sending the same document still never duplicates it in Elasticsearch.
 */
export function sinkKey(doc: EcsDocument): string {
  const ev = (doc as { event?: unknown }).event
  if (ev !== null && typeof ev === 'object') {
    const e = ev as { id?: unknown; hash?: unknown }
    if ((typeof e.id === 'string' && e.id !== '') || (typeof e.hash === 'string' && e.hash !== '')) {
      return documentKey(doc)
    }
  }
  return hash128(`doc\n${canonicalJson(doc)}`)
}

// Pure-ASCII text (most documents after JSON.stringify) is answered by a native regex test; the rest is
// measured with encodeInto into a reused buffer (a JS charCodeAt loop was several times slower, measured
// on 40 MB of documents: as slow as JSON.stringify itself).
const NON_ASCII = /[\u0080-\uffff]/
const encoder = new TextEncoder()
let scratch = new Uint8Array(64 * 1024)

/** UTF-8 length of a string (lone surrogates count as U+FFFD, 3 bytes, as TextEncoder does). */
export function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3)
  return encoder.encodeInto(text, scratch).written
}

export interface BatchLimits {
  maxDocs: number
  maxBytes: number
}

/**
 * Group consecutive items so that no group has more than `maxDocs` items or (unless it is a single
 * item) more than `maxBytes` bytes. Order is kept. `sizeOf` is called once per item.
 */
export function splitBatches<T>(items: readonly T[], limits: BatchLimits, sizeOf: (item: T) => number): T[][] {
  const maxDocs = Math.max(1, Math.floor(limits.maxDocs))
  const maxBytes = Math.max(1, limits.maxBytes)
  const out: T[][] = []
  let current: T[] = []
  let bytes = 0
  for (const item of items) {
    const size = sizeOf(item)
    if (current.length > 0 && (current.length >= maxDocs || bytes + size > maxBytes)) {
      out.push(current)
      current = []
      bytes = 0
    }
    current.push(item)
    bytes += size
  }
  if (current.length > 0) out.push(current)
  return out
}
