// Small, allocation-light value helpers shared by the product mappers. Atlassian sends "" and null
// instead of leaving fields out (elastic/integrations PR #12977), so "empty" means absent everywhere.

export type JsonObject = Record<string, unknown>

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A keyword value: non-empty strings as they are, numbers and booleans as text, anything else absent. */
export function keyword(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  return undefined
}

/** True when the object has an own enumerable key (Object.keys(obj).length > 0 without the array). */
export function hasKeys(obj: JsonObject): boolean {
  for (const key in obj) if (Object.hasOwn(obj, key)) return true
  return false
}

/** Reads `obj[key]` only when `obj` is an object (wrong types in the input never throw). */
export function field(obj: unknown, key: string): unknown {
  return isObject(obj) ? obj[key] : undefined
}

/**
 * obj[key] = value, also for a key named `__proto__`: JSON.parse makes that an own field of the record, and a
 * plain assignment would set the object's prototype instead and lose the field.
 */
export function setKey(obj: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
  else obj[key] = value
}

/**
 * Deletes null, "", {} and [] recursively (also list elements, and containers that become empty), the
 * reference's "drop empty fields" rule. Returns a new value; undefined when nothing is left.
 */
export function scrub(value: unknown): unknown {
  if (value === null || value === undefined || value === '') return undefined
  if (typeof value !== 'object') return value
  if (Array.isArray(value)) {
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const v = scrub(value[i])
      if (v !== undefined) {
        if (out === undefined) out = []
        out.push(v)
      }
    }
    return out
  }
  let out: JsonObject | undefined
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue
    const v = scrub((value as JsonObject)[key])
    if (v !== undefined) {
      if (out === undefined) out = {}
      setKey(out, key, v)
    }
  }
  return out
}

/** True when `value` holds nothing that scrub would remove (so it can be used as it is). */
function isClean(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return false
  if (typeof value !== 'object') return true
  if (Array.isArray(value)) {
    if (value.length === 0) return false
    for (let i = 0; i < value.length; i++) if (!isClean(value[i])) return false
    return true
  }
  let any = false
  for (const key in value) {
    if (!Object.hasOwn(value, key) || !isClean((value as JsonObject)[key])) return false
    any = true
  }
  return any
}

/**
 * Scrubbed list of the objects in `value` (non-objects are dropped). Elements that need no scrubbing
 * are used as they are, not copied: documents may share these objects with the input record, so
 * treat both as read-only.
 */
export function scrubObjectList(value: unknown): JsonObject[] {
  const out: JsonObject[] = []
  if (!Array.isArray(value)) return out
  for (let i = 0; i < value.length; i++) {
    const item = value[i]
    if (!isObject(item)) continue
    if (isClean(item)) {
      out.push(item)
      continue
    }
    const v = scrub(item)
    if (isObject(v)) out.push(v)
  }
  return out
}

/** Appends `value` to `list` unless it is already there (related.* are de-duplicated sets in order). */
export function addUnique(list: string[], value: string | undefined): void {
  if (value !== undefined && value !== '' && !list.includes(value)) list.push(value)
}

/** Structural equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const bb = b as unknown[]
    if (a.length !== bb.length) return false
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], bb[i])) return false
    return true
  }
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !jsonEqual((a as JsonObject)[k], (b as JsonObject)[k])) return false
  }
  return true
}

const URI_HOST = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]/?#]*\]|[^:/?#]+)/i

/** Host part of an absolute URI (`http://confluence.internal:8090` → `confluence.internal`). */
export function uriHost(uri: string): string | undefined {
  const m = URI_HOST.exec(uri)
  if (!m) return undefined
  const host = m[1]
  return host.startsWith('[') ? host.slice(1, -1) : host
}

// Grok %{USERNAME} after `?username=`, anchored at the end (ecs-mapping.md §4.1).
const USERNAME_IN_URI = /\?username=([a-zA-Z0-9._-]+)$/

/** Confluence DC user URIs end in `?username=<name>`; that is the only place the login name appears. */
export function usernameFromUri(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || uri === '') return undefined
  const m = USERNAME_IN_URI.exec(uri)
  return m ? m[1] : undefined
}
