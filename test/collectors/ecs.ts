// ECS validation for documents the collectors recorded. Uses the project's validator
// (test/ecs-validator.ts, `validateEcsDocument(doc): string[]`) when it exists; until then a minimal
// validator written from the @elastic/ecs field definitions (collectors-and-ecs.md §6).

import { isIP } from 'node:net'
import { EcsFlat, EcsVersion } from '@elastic/ecs'

type Validate = (doc: unknown) => string[]

interface FieldDef {
  type: string
  normalize?: string[]
  allowed_values?: { name: string; expected_event_types?: string[] }[]
}

const flat = EcsFlat as unknown as Record<string, FieldDef>
const CUSTOM_ROOTS = new Set(['atlassian', 'jira', 'confluence', 'bitbucket'])

function typeError(name: string, def: FieldDef, v: unknown): string | undefined {
  switch (def.type) {
    case 'keyword':
    case 'wildcard':
    case 'match_only_text':
    case 'constant_keyword':
    case 'text':
      return typeof v === 'string' ? undefined : `${name}: expected string`
    case 'long':
    case 'integer':
      return Number.isInteger(v) ? undefined : `${name}: expected integer`
    case 'float':
    case 'double':
    case 'scaled_float':
      return typeof v === 'number' ? undefined : `${name}: expected number`
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `${name}: expected boolean`
    case 'date':
      return (typeof v === 'string' && !Number.isNaN(Date.parse(v))) || typeof v === 'number'
        ? undefined
        : `${name}: expected date`
    case 'ip':
      return typeof v === 'string' && isIP(v) !== 0 ? undefined : `${name}: expected IP`
    case 'geo_point':
      return v !== null && typeof v === 'object' && 'lat' in v && 'lon' in v ? undefined : `${name}: expected geo_point`
    default:
      return v !== null && typeof v === 'object' ? undefined : `${name}: expected object`
  }
}

export const minimalValidateEcsDocument: Validate = (doc) => {
  const errors: string[] = []
  if (doc === null || typeof doc !== 'object') return ['not an object']
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const name = prefix ? `${prefix}.${k}` : k
      const def = flat[name]
      if (def) {
        const mustBeArray = def.normalize?.includes('array') === true
        if (mustBeArray && !Array.isArray(v)) errors.push(`${name}: expected array`)
        const values: unknown[] = mustBeArray ? (Array.isArray(v) ? v : []) : [v]
        for (const item of values) {
          const err = typeError(name, def, item)
          if (err) errors.push(err)
          const allowed = def.allowed_values?.map((a) => a.name)
          if (allowed && !allowed.includes(item as string))
            errors.push(`${name}: "${String(item)}" is not an allowed value`)
        }
        continue
      }
      if (!prefix && CUSTOM_ROOTS.has(k)) continue
      const objectParent = Object.keys(flat).some(
        (f) => name.startsWith(`${f}.`) && ['object', 'flattened', 'nested'].includes(flat[f].type),
      )
      if (objectParent) continue
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, name)
      else errors.push(`${name}: unknown field`)
    }
  }
  walk(doc as Record<string, unknown>, '')
  const d = doc as {
    '@timestamp'?: unknown
    ecs?: { version?: unknown }
    event?: { category?: unknown; type?: unknown }
  }
  if (d['@timestamp'] === undefined) errors.push('@timestamp: missing')
  if (d.ecs?.version !== EcsVersion) errors.push(`ecs.version: expected ${EcsVersion}`)
  const categories = Array.isArray(d.event?.category) ? (d.event.category as string[]) : []
  const types = Array.isArray(d.event?.type) ? (d.event.type as string[]) : []
  if (categories.length > 0) {
    const expected = new Set(
      flat['event.category'].allowed_values
        ?.filter((a) => categories.includes(a.name))
        .flatMap((a) => a.expected_event_types ?? []),
    )
    for (const t of types)
      if (!expected.has(t)) errors.push(`event.type: "${t}" does not fit event.category ${categories.join(',')}`)
  }
  return errors
}

let chosen: { validate: Validate; source: string } | undefined

/** The project's validator if present, else the minimal one. Says which, once. */
export async function ecsValidator(): Promise<{ validate: Validate; source: string }> {
  if (chosen) return chosen
  try {
    const mod = (await import(/* @vite-ignore */ new URL('../ecs-validator.ts', import.meta.url).href)) as {
      validateEcsDocument?: Validate
    }
    if (typeof mod.validateEcsDocument === 'function') {
      chosen = { validate: mod.validateEcsDocument, source: 'test/ecs-validator.ts' }
    }
  } catch {
    // not there (yet)
  }
  chosen ??= { validate: minimalValidateEcsDocument, source: 'test/collectors/ecs.ts (minimal fallback)' }
  console.info(`ECS validation with ${chosen.source}`)
  return chosen
}
