// Helpers for the two Cloud product formats (Confluence `/wiki/rest/api/audit`, Jira
// `/rest/api/3/auditing/record`): they name the same things differently from DC, and the reference first
// rewrites them into the DC form so that one set of user rules serves both (ecs-mapping.md §13.6).

import type { Draft } from './skeleton'
import { isObject, type JsonObject, jsonEqual, keyword, scrub, scrubObjectList, setKey } from './values'

/**
 * The associated objects plus the single affected object (appended unless an identical one is already
 * listed), each with its type key renamed to `type`.
 */
export function cloudObjects(associated: unknown, single: unknown, typeKey: string): JsonObject[] {
  const list = scrubObjectList(associated)
  const one = scrub(single)
  if (isObject(one) && !list.some((o) => jsonEqual(o, one))) list.push(one)
  for (let i = 0; i < list.length; i++) {
    const obj = list[i]
    if (!(typeKey in obj)) continue
    const renamed: JsonObject = {}
    for (const k in obj) {
      if (k === typeKey) renamed.type = obj[k]
      else if (k !== 'type') setKey(renamed, k, obj[k])
    }
    list[i] = renamed
  }
  return list
}

/**
 * Changed values: the label goes to both `i18nKey` and `key`; new/old values become `to`/`from`.
 * Returns the scrubbed list for the output and, for the user rules, the same entries before scrubbing:
 * an old value of "" still counts as present there, so Confluence's "target = from, else to" does not
 * fall back to the new value (that is what the golden files show: Cloud `User created` records have
 * `oldValue: ""` and no user.target.full_name / email).
 */
export function cloudChangedValues(
  raw: unknown,
  labelKey: string,
  toKey: string,
  fromKey: string,
): { output: JsonObject[]; forRules: JsonObject[] } {
  const output = scrubObjectList(raw)
  for (let i = 0; i < output.length; i++) output[i] = renameChange(output[i], labelKey, toKey, fromKey)
  const forRules: JsonObject[] = []
  if (Array.isArray(raw))
    for (const cv of raw) if (isObject(cv)) forRules.push(renameChange(cv, labelKey, toKey, fromKey))
  return { output, forRules }
}

function renameChange(cv: JsonObject, labelKey: string, toKey: string, fromKey: string): JsonObject {
  const out: JsonObject = {}
  for (const k in cv) {
    if (k === labelKey) {
      out.i18nKey = cv[k]
      out.key = cv[k]
    } else if (k === toKey) out.to = cv[k]
    else if (k === fromKey) out.from = cv[k]
    else if (!Object.hasOwn(out, k)) setKey(out, k, cv[k])
  }
  return out
}

/** Where a Cloud product keeps what the shared Cloud steps read (Confluence and Jira name them differently). */
export interface CloudFieldNames {
  objects: string
  object: string
  objectType: string
  changeLabel: string
  changeTo: string
  changeFrom: string
}

/**
 * The steps Confluence Cloud and Jira Cloud share: `summary`/`category` → `<product>.audit.type` and
 * `event.action`, affected objects (list + single object, de-duplicated) and changed values renamed to the
 * DC shape that the user rules read.
 */
export function mapCloudTypeObjectsChanges(d: Draft, audit: JsonObject, rec: JsonObject, names: CloudFieldNames): void {
  const category = keyword(rec.category)
  const summary = keyword(rec.summary)
  if (category !== undefined || summary !== undefined) {
    const type: JsonObject = {}
    if (summary !== undefined) type.action = summary
    if (category !== undefined) type.category = category
    audit.type = type
  }
  d.action = summary
  d.categoryLabel = category
  d.objects = cloudObjects(rec[names.objects], rec[names.object], names.objectType)
  if (d.objects.length > 0) audit.affected_objects = d.objects
  const changes = cloudChangedValues(rec.changedValues, names.changeLabel, names.changeTo, names.changeFrom)
  d.changedValues = changes.forRules
  if (changes.output.length > 0) audit.changed_values = changes.output
}
