// The normalizer's entry points: raw Atlassian audit records (any product, any shape) → ECS documents.
//
// normalizeRecord: one raw record → exactly one ECS document (a pipeline_error document for bad input).
// normalizeText:   one input line / one response page / one pretty-printed page (JSON text) → 0..n documents
//                  (an empty page gives none; text that is not JSON gives one pipeline_error document).
// normalizePage:   an already parsed value (page or record) → 0..n documents, for streaming callers.
//
// Every document carries ecs.version, event.hash (recordFingerprint of site + raw record: the identity the
// sync engine and the sinks rely on), atlassian.product/deployment(/site) and, unless keepOriginal is
// false, event.original. Bad input never throws and is never dropped: it becomes a pipeline_error document
// that keeps every field that could still be mapped, plus error.message and event.original.

import type { Deployment, EcsDocument, EcsEvent, NormalizeContext, Product } from '../model'
import { mapBitbucket } from './bitbucket'
import { mapConfluence } from './confluence'
import { type DcProductSpec, mapDcRecord } from './dc'
import { recordFingerprint, textFingerprint } from './identity'
import { mapJira } from './jira'
import { mapOrgEvent } from './org'
import {
  categorize,
  type Draft,
  extractUsers,
  groupObject,
  type Namespace,
  newDraft,
  relatedObject,
  userObject,
} from './skeleton'
import { BITBUCKET_RULES } from './tables/bitbucket'
import { CONFLUENCE_RULES } from './tables/confluence'
import { GENERIC_DC_RULES } from './tables/generic'
import { JIRA_RULES } from './tables/jira'
import { ORG_RULES } from './tables/org'
import type { Categorization, ProductRules } from './tables/types'
import { field, hasKeys, isObject, type JsonObject } from './values'

export const ECS_VERSION = '9.4.0'

/** The normalizer's options: the shared context plus a clock for documents that carry no time. */
export interface NormalizeOptions extends NormalizeContext {
  /** Time given to a pipeline_error document whose record has no readable timestamp. Default: now. */
  now?: () => Date
}

/** The record formats we know; `unknown` becomes a pipeline_error document. */
export type RecordShape = 'confluence-cloud' | 'jira-cloud' | 'dc-api' | 'dc-file' | 'org-event' | 'unknown'

/**
 * Tells the record format from its keys (ecs-mapping.md §1, atlassian-apis.md): the formats share no
 * distinguishing key, so each test looks for what only that format has.
 */
export function detectShape(record: unknown): RecordShape {
  if (!isObject(record)) return 'unknown'
  if (
    isObject(record.attributes) &&
    (record.type === 'events' || 'action' in record.attributes || 'time' in record.attributes)
  ) {
    return 'org-event'
  }
  if (isObject(record.auditType) || (isObject(record.timestamp) && 'epochSecond' in record.timestamp)) return 'dc-file'
  if (
    isObject(record.type) ||
    (typeof record.timestamp === 'string' && ('author' in record || 'affectedObjects' in record))
  ) {
    return 'dc-api'
  }
  if (
    'creationDate' in record ||
    'affectedObject' in record ||
    'associatedObjects' in record ||
    ('remoteAddress' in record && 'author' in record)
  ) {
    return 'confluence-cloud'
  }
  if ('created' in record || 'objectItem' in record || 'associatedItems' in record || 'authorAccountId' in record) {
    return 'jira-cloud'
  }
  return 'unknown'
}

type DcProduct = 'confluence' | 'jira' | 'bitbucket'

// i18n key prefixes are the strongest hint: each product names its own keys (`audit.logging.` is
// Confluence's historical prefix). Shared keys (`atlassian.audit.…`, `personal.access.tokens.…`) say nothing.
const KEY_PREFIXES: ReadonlyArray<readonly [string, DcProduct]> = [
  ['audit.logging.', 'confluence'],
  ['confluence.', 'confluence'],
  ['com.atlassian.confluence.', 'confluence'],
  ['jira.', 'jira'],
  ['com.atlassian.jira.', 'jira'],
  ['bitbucket.', 'bitbucket'],
  ['stash.', 'bitbucket'],
  ['com.atlassian.bitbucket.', 'bitbucket'],
]

function productOfKey(key: unknown): DcProduct | undefined {
  if (typeof key !== 'string' || key === '') return undefined
  // Most keys are the shared `atlassian.audit.…` ones: the first character rules out every prefix but one
  // or two before any startsWith (this runs for several keys of every DC record).
  const first = key.charCodeAt(0)
  if (
    first !== 0x61 /* a */ &&
    first !== 0x62 /* b */ &&
    first !== 0x63 /* c */ &&
    first !== 0x6a /* j */ &&
    first !== 0x73 /* s */
  )
    return undefined
  for (let i = 0; i < KEY_PREFIXES.length; i++) {
    const [prefix, product] = KEY_PREFIXES[i]
    if (prefix.charCodeAt(0) === first && key.startsWith(prefix)) return product
  }
  return undefined
}

function productOfKeys(list: unknown, keyName: string): DcProduct | undefined {
  if (!Array.isArray(list)) return undefined
  for (const item of list) {
    const p = productOfKey(field(item, keyName))
    if (p) return p
  }
  return undefined
}

/**
 * Which DC product wrote an entity, from its content (the REST and file formats are identical across
 * products). In order: i18n key prefixes of the action, category, changed values and extra attributes;
 * author type (`ApplicationUser` Jira, `NORMAL` Bitbucket: observed in Elastic's fixtures); the user URI
 * path (`/admin/users/viewuser.action` Confluence, `/secure/ViewProfile.jspa` Jira, `/users/<slug>`
 * Bitbucket); Jira user keys `JIRAUSER…`; the product name in the base URL; last, a cluster `node` (Bitbucket).
 * Undefined when nothing tells: the caller uses the generic mapping.
 */
export function detectDcProduct(record: unknown): DcProduct | undefined {
  return contentDcProduct(record) ?? nodeDcProduct(record)
}

/**
 * A cluster `node` is the weakest sign: Bitbucket's entities carry one, but Jira's and Confluence's can too
 * (clustered Data Center, §b.2). It counts only when neither the entity's content nor its page tells.
 */
function nodeDcProduct(record: unknown): DcProduct | undefined {
  return isObject(record) && typeof record.node === 'string' && record.node !== '' ? 'bitbucket' : undefined
}

function contentDcProduct(record: unknown): DcProduct | undefined {
  if (!isObject(record)) return undefined
  const type = isObject(record.type) ? record.type : record.auditType
  const byKey =
    productOfKey(field(type, 'actionI18nKey')) ??
    productOfKey(field(type, 'categoryI18nKey')) ??
    productOfKeys(record.changedValues, 'i18nKey') ??
    productOfKeys(record.extraAttributes, 'nameI18nKey')
  if (byKey) return byKey
  const author = record.author
  const authorType = field(author, 'type')
  if (authorType === 'ApplicationUser') return 'jira'
  if (authorType === 'NORMAL') return 'bitbucket'
  const uri = field(author, 'uri')
  if (typeof uri === 'string') {
    if (uri.includes('/viewuser.action') || uri.includes('/display/~')) return 'confluence'
    if (uri.includes('/secure/ViewProfile.jspa')) return 'jira'
    if (/\/users\/[^/?#]+\/?$/.test(uri)) return 'bitbucket'
  }
  if (Array.isArray(record.affectedObjects)) {
    for (const o of record.affectedObjects) {
      const id = field(o, 'id')
      if (typeof id === 'string' && id.startsWith('JIRAUSER')) return 'jira'
    }
  }
  const system = field(record, 'system')
  if (typeof system === 'string') {
    const s = system.toLowerCase()
    if (s.includes('confluence')) return 'confluence'
    if (s.includes('bitbucket') || s.includes('stash')) return 'bitbucket'
    if (s.includes('jira')) return 'jira'
  }
  return undefined
}

interface PageInfo {
  records: unknown[]
  shape: RecordShape
}

/** The records of an API response page, or undefined when the value is not a page. */
export function pageRecords(value: unknown): PageInfo | undefined {
  if (Array.isArray(value)) return { records: value, shape: 'unknown' }
  if (!isObject(value)) return undefined
  if (Array.isArray(value.entities)) return { records: value.entities, shape: 'dc-api' }
  if (Array.isArray(value.records)) return { records: value.records, shape: 'jira-cloud' }
  if (Array.isArray(value.results)) return { records: value.results, shape: 'confluence-cloud' }
  if (Array.isArray(value.data)) return { records: value.data, shape: 'org-event' }
  // GET /admin/v1/orgs/{orgId}/events/{eventId} answers {data: Event}
  if (isObject(value.data) && detectShape(value) === 'unknown') return { records: [value.data], shape: 'org-event' }
  return undefined
}

interface Hints {
  shape: RecordShape
  dcProduct?: DcProduct
}

function dcProductOf(ctx: NormalizeContext, record: JsonObject, hints: Hints | undefined): DcProduct | undefined {
  const p = ctx.product
  if (p === 'confluence' || p === 'jira' || p === 'bitbucket') return p
  return contentDcProduct(record) ?? hints?.dcProduct ?? nodeDcProduct(record)
}

function safeFingerprint(site: string, record: unknown, originalText: string | undefined): string {
  try {
    return recordFingerprint(site, record)
  } catch {
    // not JSON data (a BigInt, a cycle) or nested too deep to walk: identify it by its text instead, the input's
    // own when there is one (String() of any object is "[object Object]": all of them would be one event)
    return textFingerprint(site, originalText ?? safeStringify(record))
  }
}

function safeStringify(record: unknown): string {
  try {
    return JSON.stringify(record) ?? String(record)
  } catch {
    return String(record)
  }
}

const NAMESPACE_OF: Record<DcProduct, Namespace> = { confluence: 'confluence', jira: 'jira', bitbucket: 'bitbucket' }

// Per-product strings built once: a template literal per document would be a new (concatenated) string
// that JSON.stringify has to flatten for every document. (The template is kept as the fallback for a
// product name that only the type system rules out.)
const DATASET_OF: Record<Product, string> = {
  confluence: 'atlassian_confluence.audit',
  jira: 'atlassian_jira.audit',
  bitbucket: 'atlassian_bitbucket.audit',
  org: 'atlassian_org.audit',
}
const MODULE_OF: Record<Product, string> = {
  confluence: 'atlassian_confluence',
  jira: 'atlassian_jira',
  bitbucket: 'atlassian_bitbucket',
  org: 'atlassian_org',
}
const TAG_OF: Record<Product, string> = {
  confluence: 'confluence-audit',
  jira: 'jira-audit',
  bitbucket: 'bitbucket-audit',
  org: 'org-audit',
}

const GENERIC_DC_SPEC: DcProductSpec = { authorNameField: 'name', userNameFromUri: false }

/** Builds the draft for a recognised shape; returns the namespace content. */
function mapRecord(record: JsonObject, shape: RecordShape, d: Draft, rules: { r?: ProductRules }): JsonObject {
  switch (shape) {
    case 'confluence-cloud':
      rules.r = CONFLUENCE_RULES
      return mapConfluence(record, d, 'cloud')
    case 'jira-cloud':
      rules.r = JIRA_RULES
      return mapJira(record, d, 'cloud')
    case 'org-event':
      rules.r = ORG_RULES
      return mapOrgEvent(record, d)
    default:
      switch (d.product) {
        case 'confluence':
          rules.r = CONFLUENCE_RULES
          return mapConfluence(record, d, 'dc')
        case 'jira':
          rules.r = JIRA_RULES
          return mapJira(record, d, 'dc')
        case 'bitbucket':
          rules.r = BITBUCKET_RULES
          return mapBitbucket(record, d)
        default:
          // Generic DC mapping: author.name → user.name (as Jira and Bitbucket do), product fields under
          // atlassian.audit, only the categorizations all three products agree on.
          rules.r = GENERIC_DC_RULES
          return { audit: mapDcRecord(record, d, GENERIC_DC_SPEC) }
      }
  }
}

function productOfShape(shape: RecordShape): Product | undefined {
  if (shape === 'confluence-cloud') return 'confluence'
  if (shape === 'jira-cloud') return 'jira'
  if (shape === 'org-event') return 'org'
  return undefined
}

function tagsFor(product: Product | undefined, fromFile: boolean, preserve: boolean): string[] {
  const tags: string[] = []
  if (preserve) tags.push('preserve_original_event')
  // The reference's API input adds `forwarded` (the data is about a remote system); its log-file input does not.
  if (!fromFile) tags.push('forwarded')
  if (product !== undefined) tags.push(TAG_OF[product] ?? `${product}-audit`)
  return tags
}

function nowIso(ctx: NormalizeOptions): string {
  return (ctx.now ? ctx.now() : new Date()).toISOString()
}

function atlassianMeta(product: Product | undefined, deployment: Deployment | undefined, site: string): JsonObject {
  const meta: JsonObject = {}
  if (product !== undefined) meta.product = product
  if (deployment !== undefined) meta.deployment = deployment
  if (site !== '') meta.site = site
  return meta
}

/** A pipeline_error document for input that has no mapping at all (not JSON, not an object, unknown shape). */
function failureDocument(
  message: string,
  original: string,
  hash: string,
  ctx: NormalizeOptions,
  fromFile: boolean,
): EcsDocument {
  const product = ctx.product
  const event: EcsEvent = { kind: 'pipeline_error', hash, original }
  if (product !== undefined) {
    event.dataset = DATASET_OF[product] ?? `atlassian_${product}.audit`
    event.module = MODULE_OF[product] ?? `atlassian_${product}`
  }
  const doc: EcsDocument = {
    '@timestamp': nowIso(ctx),
    ecs: { version: ECS_VERSION },
    event,
    error: { message },
  }
  // no empty object: without a product, deployment or site there is nothing to say here
  const meta = atlassianMeta(product, ctx.deployment, ctx.site ?? '')
  if (hasKeys(meta)) doc.atlassian = meta
  doc.tags = tagsFor(product, fromFile, true)
  return doc
}

/**
 * One record to one document, whatever the record holds: what the mapping cannot handle (a value nested deeper
 * than the stack allows, say) becomes a pipeline_error with the input, not an exception that would stop the
 * page, the file or the run around it.
 */
function normalizeOne(
  record: unknown,
  ctx: NormalizeOptions,
  originalText: string | undefined,
  hints: Hints | undefined,
): EcsDocument {
  const hash = safeFingerprint(ctx.site ?? '', record, originalText)
  try {
    return mapOne(record, ctx, originalText, hints, hash)
  } catch (e) {
    const why = e instanceof RangeError ? 'nested too deeply' : e instanceof Error ? e.message : String(e)
    return failureDocument(
      `record could not be mapped: ${why}`,
      originalText ?? safeStringify(record),
      hash,
      ctx,
      false,
    )
  }
}

function mapOne(
  record: unknown,
  ctx: NormalizeOptions,
  originalText: string | undefined,
  hints: Hints | undefined,
  hash: string,
): EcsDocument {
  const site = ctx.site ?? ''
  if (!isObject(record)) {
    const what = Array.isArray(record) ? 'an array' : record === null ? 'null' : `a ${typeof record}`
    return failureDocument(
      `record is ${what}, not a JSON object`,
      originalText ?? safeStringify(record),
      hash,
      ctx,
      false,
    )
  }
  let shape = detectShape(record)
  if (shape === 'unknown' && hints) shape = hints.shape
  if (shape === 'unknown') {
    const keys = Object.keys(record).slice(0, 8).join(', ')
    return failureDocument(
      `unknown record shape (keys: ${keys || 'none'})`,
      originalText ?? safeStringify(record),
      hash,
      ctx,
      false,
    )
  }
  const fromFile = shape === 'dc-file'
  let product = productOfShape(shape)
  if (product === undefined) product = dcProductOf(ctx, record, hints)
  const deployment: Deployment =
    shape === 'org-event' ? 'cloud' : (ctx.deployment ?? (shape === 'dc-api' || shape === 'dc-file' ? 'dc' : 'cloud'))

  const d = newDraft(product, deployment, fromFile)
  const rules: { r?: ProductRules } = {}
  const productFields = mapRecord(record, shape, d, rules)
  const categorization: Categorization | undefined = rules.r ? categorize(rules.r, d.action) : undefined
  if (rules.r) extractUsers(d, rules.r)

  const failed = d.problems.length > 0
  const keepOriginal = failed || ctx.keepOriginal !== false

  // built in reading order: what happened first, identity and raw text last
  const event: EcsEvent = { kind: failed ? 'pipeline_error' : 'event' } as EcsEvent
  if (d.eventId !== undefined) event.id = d.eventId
  if (d.action !== undefined) event.action = d.action
  if (categorization) {
    event.category = categorization.category.slice()
    event.type = categorization.type.slice()
    if (categorization.outcome !== undefined) event.outcome = categorization.outcome
  } else {
    event.type = ['info']
  }
  if (product !== undefined) {
    event.dataset = DATASET_OF[product] ?? `atlassian_${product}.audit`
    event.module = MODULE_OF[product] ?? `atlassian_${product}`
  }
  event.hash = hash
  if (keepOriginal) event.original = originalText ?? safeStringify(record)

  const doc: EcsDocument = {
    '@timestamp': d.timestamp ?? nowIso(ctx),
    ecs: { version: ECS_VERSION },
    event,
  }
  if (d.message !== undefined) doc.message = d.message
  if (failed) doc.error = { message: d.problems.join('; ') }
  const user = userObject(d)
  if (user) doc.user = user
  const group = groupObject(d)
  if (group) doc.group = group
  if (d.sourceAddress !== undefined) {
    const source: JsonObject = { address: d.sourceAddress }
    if (d.sourceIp !== undefined) source.ip = d.sourceIp
    if (d.sourceGeo) source.geo = d.sourceGeo
    doc.source = source
  }
  if (d.serviceAddress !== undefined) doc.service = { address: d.serviceAddress }
  if (d.userAgent !== undefined) doc.user_agent = { original: d.userAgent }
  if (d.organizationId !== undefined) doc.organization = { id: d.organizationId }
  const related = relatedObject(d)
  if (related) doc.related = related

  const meta = atlassianMeta(product, deployment, site)
  if (shape === 'org-event') {
    if (hasKeys(productFields)) meta.org = productFields
  } else if (product !== undefined) {
    const audit = productFields.audit
    if (isObject(audit) && hasKeys(audit)) doc[NAMESPACE_OF[product as DcProduct]] = productFields
  } else {
    const audit = productFields.audit
    if (isObject(audit) && hasKeys(audit)) meta.audit = audit
  }
  doc.atlassian = meta
  doc.tags = tagsFor(product, fromFile, keepOriginal)
  // Rebuildable from event.original: a mapped event with its own time (no clock involved) and its text kept.
  if (!failed && keepOriginal && d.timestamp !== undefined) REBUILDABLE.set(doc, recipeOf(ctx, hints))
  return doc
}

// ---------------------------------------------------------------------------------------------------------
// Compact storage: a document is a pure function of its record, the context and the page hints, so an
// archive may keep event.original plus that "recipe" and rebuild the document when it is read.

/** Documents made here that rebuildDocument(original, recipe) gives back exactly → their recipe. */
const REBUILDABLE = new WeakMap<EcsDocument, string>()
const RECIPE_SEP = '\n'

function recipeOf(ctx: NormalizeContext, hints: Hints | undefined): string {
  const { product, deployment, site } = ctx
  return [product ?? '', deployment ?? '', site ?? '', hints?.shape ?? '', hints?.dcProduct ?? ''].join(RECIPE_SEP)
}

/** What rebuilds a document: its original text and how the normalizer was called. */
export interface CompactDocument {
  original: string
  recipe: string
}

/**
 * The compact form of a document this normalizer made, when it can be rebuilt exactly from that form:
 * a mapped event (not a pipeline_error) that keeps its original and carries its own time, as it left the
 * normalizer (a document changed afterwards must be stored whole). Undefined otherwise.
 */
export function compactDocument(doc: EcsDocument): CompactDocument | undefined {
  const recipe = REBUILDABLE.get(doc)
  const original = doc.event.original
  return recipe !== undefined && typeof original === 'string' ? { original, recipe } : undefined
}

/** The document a compact form stands for (the same normalizer gives the same document, field for field). */
export function rebuildDocument(original: string, recipe: string): EcsDocument {
  const [product, deployment, site, shape, dcProduct] = recipe.split(RECIPE_SEP)
  const ctx: NormalizeOptions = { site: site ?? '' }
  if (product) ctx.product = product as Product
  if (deployment) ctx.deployment = deployment as Deployment
  const hints: Hints | undefined = shape ? { shape: shape as RecordShape } : undefined
  if (hints && dcProduct) hints.dcProduct = dcProduct as DcProduct
  let record: unknown
  try {
    record = JSON.parse(original)
  } catch (e) {
    // only a damaged archive row gets here: say so, keep the text
    const reason = e instanceof Error ? e.message : String(e)
    return failureDocument(
      `stored original is not JSON: ${reason}`,
      original,
      textFingerprint(site ?? '', original),
      ctx,
      false,
    )
  }
  return normalizeOne(record, ctx, original, hints)
}

/** One raw record → exactly one ECS document. */
export function normalizeRecord(record: unknown, ctx: NormalizeOptions = {}): EcsDocument {
  return normalizeOne(record, ctx, undefined, undefined)
}

/**
 * An already parsed JSON value: an API response page (its records, in order; none for an empty page), a
 * JSON array of records, or one record. `originalText` is the exact input text of a single record.
 */
export function normalizePage(value: unknown, ctx: NormalizeOptions = {}, originalText?: string): EcsDocument[] {
  const page = pageRecords(value)
  if (page === undefined) return [normalizeOne(value, ctx, originalText, undefined)]
  const { records, shape } = page
  const out: EcsDocument[] = new Array(records.length)
  const hints: Hints = { shape }
  if (shape === 'dc-api' || shape === 'unknown') {
    // One page comes from one instance: a product told by one entity holds for the entities that tell nothing
    // (told by content first; a cluster node only when no entity's content tells).
    for (const detect of [contentDcProduct, nodeDcProduct]) {
      for (const r of records) {
        const p = detect(r)
        if (p) {
          hints.dcProduct = p
          break
        }
      }
      if (hints.dcProduct) break
    }
  }
  for (let i = 0; i < records.length; i++) out[i] = normalizeOne(records[i], ctx, undefined, hints)
  return out
}

/**
 * One line, one response page or one pretty-printed page/record (JSON text) → 0..n documents. Blank text
 * and empty pages give none; text that is not JSON gives one pipeline_error document holding the text.
 */
export function normalizeText(text: string, ctx: NormalizeOptions = {}): EcsDocument[] {
  const trimmed = text.trim()
  if (trimmed === '') return []
  let parsed: unknown
  try {
    parsed = JSON.parse(trimmed)
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e)
    return [failureDocument(`not JSON: ${reason}`, trimmed, textFingerprint(ctx.site ?? '', trimmed), ctx, false)]
  }
  return normalizePage(parsed, ctx, trimmed)
}
