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

/** UTF-8 length of a string without encoding it (lone surrogates count as U+FFFD, 3 bytes, as TextEncoder does). */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
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
