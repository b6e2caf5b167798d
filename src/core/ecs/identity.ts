// Deterministic identity of an audit record, used for de-duplication (archive primary key,
// sync overlap re-scans) and idempotent pushes (Elasticsearch `_id`).
//
// event.hash = 128-bit hash of `site + "\n" + canonicalJson(record)`: same record from the same site
// → same hash, whatever key order the server used. Where Atlassian gives a record id (Jira Cloud `id`,
// organization events `id`) the document key is built from that id instead, so that a record whose
// mutable metadata changes (e.g. an org event's processedAt) is still one document.

import type { EcsDocument } from '../model'

/** JSON with object keys sorted at every level; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value)
    return s === undefined ? 'null' : s
  }
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ','
      out += canonicalJson(value[i])
    }
    return `${out}]`
  }
  const keys = Object.keys(value as Record<string, unknown>).sort()
  let out = '{'
  let first = true
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k]
    if (v === undefined || typeof v === 'function') continue
    if (!first) out += ','
    first = false
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`
  }
  return `${out}}`
}

/**
 * MurmurHash3 x86 128-bit over the UTF-16 code units of `text`, as 32 lowercase hex digits.
 * Not cryptographic: it identifies records, it does not authenticate them. Synchronous and fast,
 * so it fits in the normalizer's hot path (crypto.subtle is async). The text is copied into the module's
 * code-unit buffer and hashed there by `hash128Units`, the one implementation of the hash.
 */
export function hash128(text: string): string {
  const len = text.length
  reserve(0, len + 8)
  const u = units
  for (let i = 0; i < len; i++) u[i] = text.charCodeAt(i)
  return hash128Units(units, words, len)
}

function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h
}

const BYTE_HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

function hex8(n: number): string {
  return BYTE_HEX[(n >>> 24) & 255] + BYTE_HEX[(n >>> 16) & 255] + BYTE_HEX[(n >>> 8) & 255] + BYTE_HEX[n & 255]
}

/**
 * event.hash of a raw record fetched from `site` ('' when unknown).
 * Equals `hash128(site + "\n" + canonicalJson(record))`, computed without building that string: the
 * canonical JSON is written as UTF-16 code units into a reusable buffer and hashed there (this is the
 * normalizer's hottest step; test/unit/ecs-identity.test.ts pins the equality).
 */
export function recordFingerprint(site: string, record: unknown): string {
  let p = reserve(0, site.length + 1 + HEADROOM)
  const u = units
  for (let i = 0; i < site.length; i++) u[p++] = site.charCodeAt(i)
  u[p++] = 10 // \n
  p = putCanonical(record, p)
  reserve(p, 8)
  return hash128Units(units, words, p)
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const HEX = '0123456789abcdef'

/** Insertion sort by UTF-16 code units (what Array#sort does for strings), fast for the few keys of a record. */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 24) return keys.sort()
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]
    let j = i - 1
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j]
      j--
    }
    keys[j + 1] = k
  }
  return keys
}

// The canonical JSON (same text as canonicalJson) is written as UTF-16 code units into one module-level
// buffer, by plain functions that take and return the write position: a position in a local variable and
// one capacity check per string or container (instead of one per unit) keep the per-character loop down
// to a load, a table test and a store.

/** Units reserved beyond a string or literal, so that the punctuation after it needs no check. */
const HEADROOM = 32

let units = new Uint16Array(1 << 15)
let words = new Uint32Array(units.buffer)

/** Makes room for `extra` units after `p`; returns `p`. */
function reserve(p: number, extra: number): number {
  if (p + extra <= units.length) return p
  let size = units.length * 2
  while (size < p + extra) size *= 2
  const next = new Uint16Array(size)
  next.set(units.subarray(0, p))
  units = next
  words = new Uint32Array(next.buffer)
  return p
}

// 1 for the code units JSON.stringify does not copy as they are: control characters, `"`, `\` and
// surrogates (a lone one is escaped). One table load replaces four comparisons in the per-unit loop.
const SPECIAL = new Uint8Array(0x10000)
SPECIAL.fill(1, 0, 0x20)
SPECIAL[0x22] = 1
SPECIAL[0x5c] = 1
SPECIAL.fill(1, 0xd800, 0xe000)

/** A string as JSON.stringify writes it (well-formed: lone surrogates escaped, lower-case hex). */
function putString(text: string, p: number): number {
  const n = text.length
  reserve(p, n * 6 + HEADROOM)
  const u = units
  u[p++] = 34
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (SPECIAL[c] === 0) {
      u[p++] = c
      continue
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        u[p++] = c
        u[p++] = d
        i++
        continue
      }
    }
    u[p++] = 0x5c
    switch (c) {
      case 0x22:
        u[p++] = 0x22
        break
      case 0x5c:
        u[p++] = 0x5c
        break
      case 0x08:
        u[p++] = 0x62 // b
        break
      case 0x0c:
        u[p++] = 0x66 // f
        break
      case 0x0a:
        u[p++] = 0x6e // n
        break
      case 0x0d:
        u[p++] = 0x72 // r
        break
      case 0x09:
        u[p++] = 0x74 // t
        break
      default:
        u[p++] = 0x75 // u
        u[p++] = HEX.charCodeAt((c >> 12) & 15)
        u[p++] = HEX.charCodeAt((c >> 8) & 15)
        u[p++] = HEX.charCodeAt((c >> 4) & 15)
        u[p++] = HEX.charCodeAt(c & 15)
    }
  }
  u[p++] = 34
  return p
}

/** Short ASCII text (a number's digits, a literal) after a capacity check. */
function putAscii(text: string, p: number): number {
  reserve(p, text.length + HEADROOM)
  const u = units
  for (let i = 0; i < text.length; i++) u[p++] = text.charCodeAt(i)
  return p
}

function putCanonical(value: unknown, p: number): number {
  switch (typeof value) {
    case 'string':
      return putString(value, p)
    case 'number':
      return putAscii(Number.isFinite(value) ? String(value) : 'null', p)
    case 'boolean':
      return putAscii(value ? 'true' : 'false', p)
    case 'object':
      break
    case 'bigint':
      // as canonicalJson (JSON.stringify) does
      throw new TypeError('Do not know how to serialize a BigInt')
    default:
      // undefined, functions, symbols: JSON.stringify gives undefined, canonicalJson writes null
      return putAscii('null', p)
  }
  if (value === null) return putAscii('null', p)
  if (Array.isArray(value)) {
    reserve(p, HEADROOM)
    units[p++] = 91 // [
    for (let i = 0; i < value.length; i++) {
      if (i > 0) units[p++] = 44 // , (every put leaves room for one more unit)
      p = putCanonical(value[i], p)
    }
    // closing brackets of deeply nested containers follow each other without a put in between
    reserve(p, 2)
    units[p++] = 93
    return p
  }
  const obj = value as Record<string, unknown>
  const keys = sortKeys(Object.keys(obj))
  reserve(p, HEADROOM)
  units[p++] = 123 // {
  let first = true
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]
    const v = obj[k]
    if (v === undefined || typeof v === 'function') continue
    if (!first) units[p++] = 44
    first = false
    p = putString(k, p)
    units[p++] = 58 // :
    p = putCanonical(v, p)
  }
  reserve(p, 2)
  units[p++] = 125
  return p
}

/** MurmurHash3 x86 128-bit over the first `len` code units of a buffer (see hash128). */
function hash128Units(units: Uint16Array, words: Uint32Array, len: number): string {
  let h1 = 0
  let h2 = 0
  let h3 = 0
  let h4 = 0
  const c1 = 0x239b961b
  const c2 = 0xab0e9789
  const c3 = 0x38b34ae5
  const c4 = 0xa1e38b93
  const blocks = len >> 3
  for (let b = 0; b < blocks; b++) {
    let k1: number
    let k2: number
    let k3: number
    let k4: number
    if (LITTLE_ENDIAN) {
      const w = b << 2
      k1 = words[w]
      k2 = words[w + 1]
      k3 = words[w + 2]
      k4 = words[w + 3]
    } else {
      const i = b << 3
      k1 = units[i] | (units[i + 1] << 16)
      k2 = units[i + 2] | (units[i + 3] << 16)
      k3 = units[i + 4] | (units[i + 5] << 16)
      k4 = units[i + 6] | (units[i + 7] << 16)
    }

    k1 = Math.imul(k1, c1)
    k1 = (k1 << 15) | (k1 >>> 17)
    k1 = Math.imul(k1, c2)
    h1 ^= k1
    h1 = (h1 << 19) | (h1 >>> 13)
    h1 = (h1 + h2) | 0
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0

    k2 = Math.imul(k2, c2)
    k2 = (k2 << 16) | (k2 >>> 16)
    k2 = Math.imul(k2, c3)
    h2 ^= k2
    h2 = (h2 << 17) | (h2 >>> 15)
    h2 = (h2 + h3) | 0
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0

    k3 = Math.imul(k3, c3)
    k3 = (k3 << 17) | (k3 >>> 15)
    k3 = Math.imul(k3, c4)
    h3 ^= k3
    h3 = (h3 << 15) | (h3 >>> 17)
    h3 = (h3 + h4) | 0
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0

    k4 = Math.imul(k4, c4)
    k4 = (k4 << 18) | (k4 >>> 14)
    k4 = Math.imul(k4, c1)
    h4 ^= k4
    h4 = (h4 << 13) | (h4 >>> 19)
    h4 = (h4 + h1) | 0
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0
  }
  const tail = blocks << 3
  const rest = len - tail
  if (rest > 0) {
    // the buffer past `len` may hold stale units: zero them so the tail reads as the string version's
    units.fill(0, len, tail + 8)
    let k1 = units[tail] | (units[tail + 1] << 16)
    let k2 = units[tail + 2] | (units[tail + 3] << 16)
    let k3 = units[tail + 4] | (units[tail + 5] << 16)
    let k4 = units[tail + 6] | (units[tail + 7] << 16)
    if (rest > 6) {
      k4 = Math.imul(k4, c4)
      k4 = (k4 << 18) | (k4 >>> 14)
      k4 = Math.imul(k4, c1)
      h4 ^= k4
    }
    if (rest > 4) {
      k3 = Math.imul(k3, c3)
      k3 = (k3 << 17) | (k3 >>> 15)
      k3 = Math.imul(k3, c4)
      h3 ^= k3
    }
    if (rest > 2) {
      k2 = Math.imul(k2, c2)
      k2 = (k2 << 16) | (k2 >>> 16)
      k2 = Math.imul(k2, c3)
      h2 ^= k2
    }
    k1 = Math.imul(k1, c1)
    k1 = (k1 << 15) | (k1 >>> 17)
    k1 = Math.imul(k1, c2)
    h1 ^= k1
  }
  const bytes = len * 2
  h1 ^= bytes
  h2 ^= bytes
  h3 ^= bytes
  h4 ^= bytes
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  h1 = fmix32(h1)
  h2 = fmix32(h2)
  h3 = fmix32(h3)
  h4 = fmix32(h4)
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  return hex8(h1) + hex8(h2) + hex8(h3) + hex8(h4)
}

/** Same, for input that is not JSON (kept as text so that a malformed line still has an identity). */
export function textFingerprint(site: string, text: string): string {
  return hash128(`${site}\n#text\n${text}`)
}

/**
 * The key a document is stored and pushed under: Atlassian's id where it gives one (scoped by site and
 * dataset so two sites never collide), else the content fingerprint.
 */
export function documentKey(doc: Pick<EcsDocument, 'event'> & { atlassian?: unknown }): string {
  const ev = doc.event
  if (ev.id !== undefined && ev.id !== '') {
    const a = (doc.atlassian ?? {}) as { site?: string; product?: string }
    return hash128(`${a.site ?? ''}\n${a.product ?? ev.dataset ?? ''}\nid:${ev.id}`)
  }
  return ev.hash
}
