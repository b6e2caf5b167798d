// Helpers for the two Cloud product formats (Confluence `/wiki/rest/api/audit`, Jira
// `/rest/api/3/auditing/record`): they name the same things differently from DC, and the reference first
// rewrites them into the DC form so that one set of user rules serves both (ecs-mapping.md §13.6).

import { isObject, type JsonObject, jsonEqual, scrub, scrubObjectList } from './values'

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
      else if (k !== 'type') renamed[k] = obj[k]
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
    else if (!(k in out)) out[k] = cv[k]
  }
  return out
}
