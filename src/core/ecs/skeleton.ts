// The shared skeleton every product mapper fills: a flat draft of the ECS fields, then the steps the
// reference runs for all products in the same order (ecs-mapping.md §2): categorization table,
// user/group extraction, related.*, and assembly of the nested document.

import type { Deployment, Product } from '../model'
import { isIp } from './ip'
import type { AffectedObjectRule, ChangedValueRule, ObjectFill, ProductRules } from './tables/types'
import { addUnique, isObject, type JsonObject, keyword, usernameFromUri } from './values'

export interface UserFields {
  id?: string
  name?: string
  full_name?: string
  email?: string
}

/** Where the product's own fields go: `confluence.audit.*`, …, or `atlassian.audit.*` when unknown. */
export type Namespace = 'confluence' | 'jira' | 'bitbucket' | 'atlassian'

export interface Draft {
  /** undefined: a DC record whose product could not be told (generic mapping). */
  product: Product | undefined
  deployment: Deployment
  /** DC audit log file line (the log-file input's tags differ from the API input's). */
  fromFile: boolean
  timestamp?: string
  eventId?: string
  action?: string
  message?: string
  user: UserFields
  target: UserFields
  targetGroup: { id?: string; name?: string }
  changes: { name?: string; email?: string; full_name?: string }
  group: { id?: string; name?: string }
  sourceAddress?: string
  sourceIp?: string
  additionalIps: string[]
  sourceGeo?: JsonObject
  serviceAddress?: string
  hosts: string[]
  userAgent?: string
  organizationId?: string
  /** Extra identifiers for related.user beyond the reference's names (org events have no names). */
  relatedUsers: string[]
  /** What went wrong; non-empty makes the document a pipeline_error. */
  problems: string[]
  /** Inputs of the user/group extraction, already normalized to DC form ({type, name, id, uri}, {i18nKey, from, to}). */
  categoryKey?: string
  categoryLabel?: string
  objects: JsonObject[]
  changedValues: unknown[]
  /** Confluence Cloud group names carry `:<uuid>`. */
  splitGroupUuid: boolean
}

export function newDraft(product: Product | undefined, deployment: Deployment, fromFile: boolean): Draft {
  // Every field is present from the start (optional ones as undefined), so all drafts share one hidden
  // class and the mappers' property accesses stay monomorphic.
  return {
    product,
    deployment,
    fromFile,
    timestamp: undefined,
    eventId: undefined,
    action: undefined,
    message: undefined,
    user: { id: undefined, name: undefined, full_name: undefined, email: undefined },
    target: { id: undefined, name: undefined, full_name: undefined, email: undefined },
    targetGroup: { id: undefined, name: undefined },
    changes: { name: undefined, email: undefined, full_name: undefined },
    group: { id: undefined, name: undefined },
    sourceAddress: undefined,
    sourceIp: undefined,
    additionalIps: [],
    sourceGeo: undefined,
    serviceAddress: undefined,
    hosts: [],
    userAgent: undefined,
    organizationId: undefined,
    relatedUsers: [],
    problems: [],
    categoryKey: undefined,
    categoryLabel: undefined,
    objects: [],
    changedValues: [],
    splitGroupUuid: false,
  }
}

const MAX_QUOTED = 120

/** A value quoted for an error message (bounded, so a huge field does not blow up the document). */
export function quote(value: unknown): string {
  let text: string
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value))
  } catch {
    text = String(value)
  }
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text
}

/**
 * `source` / `remoteAddress` / `location.ip` → source.address, source.ip, related.ip. A comma-separated
 * proxy chain (`1.2.3.4, 192.168.22.33`) is split for every product: the first entry is the client
 * (X-Forwarded-For convention), the others to d.additionalIps (Jira upstream does this since
 * PR #13073; we extend it to Confluence and Bitbucket). A value that is not an IP is a problem.
 */
export function applySource(d: Draft, raw: unknown, rawName: string): void {
  if (raw === undefined || raw === null || raw === '') return
  if (typeof raw !== 'string') {
    d.problems.push(`${rawName} is not a string: ${quote(raw)}`)
    return
  }
  const parts = raw.includes(',') ? raw.split(',') : [raw]
  const extra: string[] = []
  let first = true
  for (const part of parts) {
    const ip = part.trim()
    if (ip === '') continue
    const valid = isIp(ip)
    if (!valid) d.problems.push(`${rawName} ${quote(ip)} is not an IP address`)
    if (first) {
      d.sourceAddress = ip
      if (valid) d.sourceIp = ip
      first = false
    } else if (valid) {
      extra.push(ip)
    }
  }
  if (extra.length > 0) d.additionalIps = extra
}

/** service.address = the instance base URL; its host → related.hosts. */
export function applySystem(d: Draft, raw: unknown, host: (uri: string) => string | undefined): void {
  const address = keyword(raw)
  if (address === undefined) return
  d.serviceAddress = address
  addUnique(d.hosts, host(address))
}

// Lookups by two keys are nested maps (first key, then action) rather than one map keyed by a joined
// string: joining would build and hash a new string for every affected object of every record.
interface CompiledRules {
  readonly rules: ProductRules
  /** object type → action → fill */
  readonly objectFill: ReadonlyMap<string, ReadonlyMap<string, ObjectFill>>
  /** changed value i18nKey → action → rule */
  readonly changedValue: ReadonlyMap<string, ReadonlyMap<string, ChangedValueRule>>
  readonly gateKeys: ReadonlySet<string>
  readonly gateLabels: ReadonlySet<string>
  readonly alwaysRun: boolean
}

const compiled = new WeakMap<ProductRules, CompiledRules>()

function compile(rules: ProductRules): CompiledRules {
  const cached = compiled.get(rules)
  if (cached) return cached
  const objectFill = new Map<string, Map<string, ObjectFill>>()
  const add = (r: AffectedObjectRule) => {
    let byAction = objectFill.get(r.objectType)
    if (byAction === undefined) {
      byAction = new Map()
      objectFill.set(r.objectType, byAction)
    }
    for (const action of r.actions) byAction.set(action, r.fill)
  }
  rules.objectRules.forEach(add)
  const changedValue = new Map<string, Map<string, ChangedValueRule>>()
  for (const r of rules.changedValueRules) {
    let byAction = changedValue.get(r.i18nKey)
    if (byAction === undefined) {
      byAction = new Map()
      changedValue.set(r.i18nKey, byAction)
    }
    for (const a of r.actions) byAction.set(a, r)
  }
  const result: CompiledRules = {
    rules,
    objectFill,
    changedValue,
    gateKeys: new Set(rules.gate.categoryI18nKeys),
    gateLabels: new Set(rules.gate.categories),
    alwaysRun: rules.gate.categoryI18nKeys.length === 0 && rules.gate.categories.length === 0,
  }
  compiled.set(rules, result)
  return result
}

/** event.category / event.type / event.outcome from the product table (exact, case-sensitive match). */
export function categorize(rules: ProductRules, action: string | undefined) {
  return action === undefined ? undefined : rules.categorization.get(action)
}

// `(.+)`: a name that is only `:<uuid>` is not split (an empty group name is no name)
const CLOUD_GROUP = /^(.+):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/

function groupNameAndId(d: Draft, obj: JsonObject): { name?: string; id?: string } {
  const name = keyword(obj.name)
  if (d.splitGroupUuid && name !== undefined) {
    const m = CLOUD_GROUP.exec(name)
    if (m) return { name: m[1], id: m[2] }
  }
  return { name, id: keyword(obj.id) }
}

/**
 * user.target.*, user.changes.*, group.* (ecs-mapping.md §6): only for user-management / auth records;
 * affected objects in order (the last match wins), then changed values (which override).
 */
export function extractUsers(d: Draft, rules: ProductRules): void {
  const action = d.action
  if (action === undefined) return
  const c = compile(rules)
  if (
    !c.alwaysRun &&
    !(d.categoryKey !== undefined && c.gateKeys.has(d.categoryKey)) &&
    !(d.categoryLabel !== undefined && c.gateLabels.has(d.categoryLabel))
  ) {
    return
  }
  for (const obj of d.objects) {
    const type = keyword(obj.type)
    if (type === undefined) continue
    const fill = c.objectFill.get(type)?.get(action)
    if (fill === undefined) continue
    switch (fill) {
      case 'group': {
        const g = groupNameAndId(d, obj)
        d.group.name = g.name
        d.group.id = g.id
        break
      }
      case 'group-name':
        d.group.name = keyword(obj.name)
        break
      case 'target-group': {
        const g = groupNameAndId(d, obj)
        d.targetGroup.name = g.name
        d.targetGroup.id = g.id
        break
      }
      case 'target-user':
        d.target.name = keyword(obj.name)
        d.target.id = keyword(obj.id)
        break
      // the `?username=` of the object's uri is written only when there is one (`uri` is optional): an object
      // without it leaves the name found before (the author's, or an earlier object's), as the reference does
      case 'target-user-by-uri': {
        d.target.full_name = keyword(obj.name)
        d.target.id = keyword(obj.id)
        const name = usernameFromUri(obj.uri)
        if (name !== undefined) d.target.name = name
        break
      }
      case 'actor-by-uri': {
        d.user.full_name = keyword(obj.name)
        d.user.id = keyword(obj.id)
        const name = usernameFromUri(obj.uri)
        if (name !== undefined) d.user.name = name
        break
      }
    }
  }
  if (c.changedValue.size === 0) return
  for (const cv of d.changedValues) {
    if (!isObject(cv)) continue
    const key = keyword(cv.i18nKey)
    if (key === undefined) continue
    const rule = c.changedValue.get(key)?.get(action)
    if (rule === undefined) continue
    // `from` counts as present when the key is there and not null, even if empty (see cloud.ts)
    const hasFrom = cv.from !== undefined && cv.from !== null
    const from = keyword(cv.from)
    const to = keyword(cv.to)
    d.changes[rule.field] = to
    if (rule.target === 'from') d.target[rule.field] = from
    else if (rule.target === 'from-else-to') d.target[rule.field] = hasFrom ? from : to
    else if (hasFrom) d.target[rule.field] = from
  }
}

function person(u: UserFields): JsonObject | undefined {
  if (u.id === undefined && u.name === undefined && u.full_name === undefined && u.email === undefined) return undefined
  const out: JsonObject = {}
  if (u.id !== undefined) out.id = u.id
  if (u.name !== undefined) out.name = u.name
  if (u.full_name !== undefined) out.full_name = u.full_name
  if (u.email !== undefined) out.email = u.email
  return out
}

function groupFields(g: { id?: string; name?: string }): JsonObject | undefined {
  if (g.id === undefined && g.name === undefined) return undefined
  const out: JsonObject = {}
  if (g.id !== undefined) out.id = g.id
  if (g.name !== undefined) out.name = g.name
  return out
}

/** The nested user.* object, or undefined when empty. */
export function userObject(d: Draft): JsonObject | undefined {
  let user = person(d.user)
  let target = person(d.target)
  const group = groupFields(d.targetGroup)
  if (group) {
    target ??= {}
    target.group = group
  }
  if (target) {
    user ??= {}
    user.target = target
  }
  const changes = person(d.changes)
  if (changes) {
    user ??= {}
    user.changes = changes
  }
  return user
}

export function groupObject(d: Draft): JsonObject | undefined {
  return groupFields(d.group)
}

/** related.user (names: actor, target, new name; then our extra identifiers), related.ip, related.hosts. */
export function relatedObject(d: Draft): JsonObject | undefined {
  const users: string[] = []
  addUnique(users, d.user.name)
  addUnique(users, d.target.name)
  addUnique(users, d.changes.name)
  for (const u of d.relatedUsers) addUnique(users, u)
  // org events name nobody: the target's account id is the only handle a reader can search for
  if (d.product === 'org') addUnique(users, d.target.id)
  const ips: string[] = []
  addUnique(ips, d.sourceIp)
  for (const ip of d.additionalIps) addUnique(ips, ip)
  const related: JsonObject = {}
  if (d.hosts.length > 0) related.hosts = d.hosts
  if (ips.length > 0) related.ip = ips
  if (users.length > 0) related.user = users
  return users.length > 0 || ips.length > 0 || d.hosts.length > 0 ? related : undefined
}
