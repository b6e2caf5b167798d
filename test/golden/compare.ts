// Golden comparison: which fields of an expected (Elastic) document differ from ours, under the rules of
// issue 2 (ignored fields, one-element array = its value, our additions allowed only when listed).

export type Json = Record<string, unknown>

/** Fields the reference's agent or Elasticsearch adds, or that differ by ECS release: never compared. */
export const IGNORED_PREFIXES = [
  'ecs.version',
  'source.geo.',
  'source.as.',
  'data_stream.',
  'agent.',
  'input.',
  'event.ingested',
  'event.created',
]

function ignored(path: string): boolean {
  return IGNORED_PREFIXES.some((p) => (p.endsWith('.') ? path.startsWith(p) : path === p))
}

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Flattens to dotted leaf paths; arrays are leaves (compared whole), objects are walked. */
export function flatten(doc: unknown, prefix = '', out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (isPlainObject(doc)) {
    for (const [k, v] of Object.entries(doc)) flatten(v, prefix ? `${prefix}.${k}` : k, out)
  } else {
    out.set(prefix, doc)
  }
  return out
}

function unwrap(v: unknown): unknown {
  return Array.isArray(v) && v.length === 1 ? v[0] : v
}

function equalJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b))
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (isPlainObject(v)) {
    const o: Json = {}
    for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k])
    return o
  }
  return v
}

export interface FieldDiff {
  field: string
  kind: 'missing' | 'different' | 'added'
  expected?: unknown
  actual?: unknown
}

/** Differences between an expected document and ours (tags compared as a list; added tags reported apart). */
export function diffDocuments(expected: Json, actual: Json): { fields: FieldDiff[]; addedTags: string[] } {
  const e = flatten(expected)
  const a = flatten(actual)
  const fields: FieldDiff[] = []
  let addedTags: string[] = []
  for (const [path, ev] of e) {
    if (ignored(path)) continue
    if (path === 'tags') continue
    if (!a.has(path)) {
      fields.push({ field: path, kind: 'missing', expected: ev })
      continue
    }
    const av = a.get(path)
    if (!equalJson(unwrap(ev), unwrap(av))) fields.push({ field: path, kind: 'different', expected: ev, actual: av })
  }
  for (const [path, av] of a) {
    if (ignored(path) || path === 'tags' || e.has(path)) continue
    // a field we add inside an object that the expected document has as a leaf counts as different, not added
    fields.push({ field: path, kind: 'added', actual: av })
  }
  const et = (Array.isArray(expected.tags) ? expected.tags : []) as string[]
  const at = (Array.isArray(actual.tags) ? actual.tags : []) as string[]
  const missingTags = et.filter((t) => !at.includes(t))
  if (missingTags.length > 0) fields.push({ field: 'tags', kind: 'missing', expected: missingTags })
  addedTags = at.filter((t) => !et.includes(t))
  return { fields, addedTags }
}
