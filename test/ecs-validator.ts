// Validates an ECS document against the ECS 9.4 definitions shipped in `@elastic/ecs` (EcsFlat):
// field names, value types, allowed values of event.kind/category/type/outcome and the allowed
// category → type pairs. Our own fields live under `atlassian.` and the products' under `confluence.`,
// `jira.`, `bitbucket.` (as Elastic's packages declare them, ecs-mapping.md §11).
//
// Used by the normalizer's tests and by the collector tests (what a sink delivers must still validate).
import { isIP } from 'node:net'
import { EcsFlat, EcsVersion } from '@elastic/ecs'

interface FieldDef {
  type: string
  normalize?: string[]
  allowed_values?: Array<{ name: string; expected_event_types?: string[] }>
  object_type?: string
}

const FLAT = EcsFlat as unknown as Record<string, FieldDef>

/** Product fields that Elastic's packages declare (fields/fields.yml), with their types. */
const PRODUCT_FIELDS: Record<string, FieldDef> = {
  'audit.type.categoryI18nKey': { type: 'keyword' },
  'audit.type.actionI18nKey': { type: 'keyword' },
  'audit.type.category': { type: 'keyword' },
  'audit.type.action': { type: 'keyword' },
  'audit.type.area': { type: 'keyword' },
  'audit.type.level': { type: 'keyword' },
  'audit.method': { type: 'keyword' },
  'audit.system': { type: 'keyword' },
  'audit.extra_attributes': { type: 'flattened' },
  'audit.changed_values': { type: 'flattened' },
  'audit.affected_objects': { type: 'flattened' },
  'audit.external_collaborator': { type: 'boolean' },
  'audit.additional_source_ips': { type: 'ip', normalize: ['array'] },
}
const PRODUCT_NAMESPACES = ['confluence', 'jira', 'bitbucket']

/** Our own namespace: the fields with a fixed type; anything else under atlassian.* is free-form. */
const ATLASSIAN_FIELDS: Record<string, FieldDef> = {
  'atlassian.product': {
    type: 'keyword',
    allowed_values: ['confluence', 'jira', 'bitbucket', 'org'].map((name) => ({ name })),
  },
  'atlassian.deployment': { type: 'keyword', allowed_values: [{ name: 'cloud' }, { name: 'dc' }] },
  'atlassian.site': { type: 'keyword' },
  'atlassian.org.processed_at': { type: 'date' },
  'atlassian.org.additional_source_ips': { type: 'ip', normalize: ['array'] },
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function checkScalar(path: string, type: string, v: unknown): string | undefined {
  switch (type) {
    case 'keyword':
    case 'constant_keyword':
    case 'wildcard':
    case 'match_only_text':
    case 'text':
      return typeof v === 'string' ? undefined : `${path}: expected a string (${type}), got ${JSON.stringify(v)}`
    case 'long':
    case 'integer':
      return Number.isInteger(v) ? undefined : `${path}: expected an integer (${type}), got ${JSON.stringify(v)}`
    case 'float':
    case 'double':
    case 'scaled_float':
      return typeof v === 'number' && Number.isFinite(v)
        ? undefined
        : `${path}: expected a number (${type}), got ${JSON.stringify(v)}`
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `${path}: expected a boolean, got ${JSON.stringify(v)}`
    case 'date':
      return (typeof v === 'string' && !Number.isNaN(Date.parse(v))) || Number.isInteger(v)
        ? undefined
        : `${path}: expected a date, got ${JSON.stringify(v)}`
    case 'ip':
      return typeof v === 'string' && isIP(v) !== 0
        ? undefined
        : `${path}: expected an IP address, got ${JSON.stringify(v)}`
    case 'geo_point':
      return isPlainObject(v) && typeof v.lat === 'number' && typeof v.lon === 'number'
        ? undefined
        : `${path}: expected a geo_point {lat, lon}, got ${JSON.stringify(v)}`
    case 'object':
      return isPlainObject(v) ? undefined : `${path}: expected an object, got ${JSON.stringify(v)}`
    case 'flattened':
      // Elastic's product packages store arrays of objects in flattened fields (affected_objects …)
      return isPlainObject(v) || (Array.isArray(v) && v.every(isPlainObject))
        ? undefined
        : `${path}: expected an object (flattened), got ${JSON.stringify(v)}`
    case 'nested':
      return isPlainObject(v) || (Array.isArray(v) && v.every(isPlainObject))
        ? undefined
        : `${path}: expected an object or objects (nested), got ${JSON.stringify(v)}`
    default:
      return `${path}: unsupported ECS type ${type}`
  }
}

function checkField(path: string, def: FieldDef, value: unknown, problems: string[]): void {
  const isArrayField = def.normalize?.includes('array') ?? false
  const multi = def.type === 'nested' || def.type === 'flattened'
  let values: unknown[]
  if (Array.isArray(value) && !multi) {
    if (!isArrayField) {
      problems.push(`${path}: expected a single value, got an array`)
      return
    }
    values = value
    if (values.length === 0) problems.push(`${path}: empty array`)
  } else {
    if (isArrayField) problems.push(`${path}: expected an array (ECS normalize: array)`)
    values = [value]
  }
  for (const v of values) {
    const p = checkScalar(path, def.type, v)
    if (p) problems.push(p)
    if (def.allowed_values && typeof v === 'string' && !def.allowed_values.some((a) => a.name === v)) {
      problems.push(`${path}: "${v}" is not an allowed value`)
    }
  }
}

function definitionOf(path: string): FieldDef | undefined {
  const flat = FLAT[path]
  if (flat) return flat
  const own = ATLASSIAN_FIELDS[path]
  if (own) return own
  const dot = path.indexOf('.')
  if (dot !== -1 && PRODUCT_NAMESPACES.includes(path.slice(0, dot))) return PRODUCT_FIELDS[path.slice(dot + 1)]
  return undefined
}

/** Is `path` inside an object/flattened ECS field (e.g. `labels.team`), or under a free-form namespace? */
function insideOpenField(path: string): boolean {
  if (path.startsWith('atlassian.')) return true
  const parts = path.split('.')
  for (let i = parts.length - 1; i > 0; i--) {
    const prefix = parts.slice(0, i).join('.')
    const def = definitionOf(prefix)
    if (def && (def.type === 'object' || def.type === 'flattened')) return true
  }
  return false
}

function walk(value: unknown, path: string, problems: string[]): void {
  const def = definitionOf(path)
  if (def) {
    checkField(path, def, value, problems)
    return
  }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, problems)
    return
  }
  if (insideOpenField(path)) return
  const ns = path.split('.')[0]
  if (PRODUCT_NAMESPACES.includes(ns)) problems.push(`${path}: not a declared ${ns} field`)
  else problems.push(`${path}: not an ECS field`)
}

/** The problems of one document against ECS 9.4; an empty list means it validates. */
export function validateEcsDocument(doc: unknown): string[] {
  const problems: string[] = []
  if (!isPlainObject(doc)) return ['document is not an object']
  walk(doc, '', problems)
  if (doc['@timestamp'] === undefined) problems.push('@timestamp: required')
  const ecs = doc.ecs
  if (!isPlainObject(ecs) || ecs.version !== EcsVersion) problems.push(`ecs.version: must be "${EcsVersion}"`)
  const event = isPlainObject(doc.event) ? doc.event : {}
  const categories = Array.isArray(event.category) ? (event.category as unknown[]) : []
  const types = Array.isArray(event.type) ? (event.type as unknown[]) : []
  if (categories.length > 0) {
    const allowed = FLAT['event.category'].allowed_values ?? []
    for (const t of types) {
      const ok = categories.some((c) => allowed.find((a) => a.name === c)?.expected_event_types?.includes(String(t)))
      if (!ok)
        problems.push(`event.type: "${String(t)}" is not expected for event.category ${JSON.stringify(categories)}`)
    }
  }
  return problems
}

export { EcsVersion }
