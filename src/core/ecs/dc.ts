// Data Center records (unified auditing REST entity and audit log file line): one shared mapping, since
// Confluence, Jira and Bitbucket DC all write the same "Atlassian Audit" format (ecs-mapping.md §4.1, 4.3, 4.5).
// The products differ only in the parameters below.

import { applySource, applySystem, type Draft, quote } from './skeleton'
import { parseDcTimestamp } from './timestamp'
import { isObject, type JsonObject, keyword, scrubObjectList, uriHost, usernameFromUri } from './values'

export interface DcProductSpec {
  /** Confluence DC `author.name` is the display name; Jira and Bitbucket put the login name there. */
  readonly authorNameField: 'full_name' | 'name'
  /** Confluence: user.name only from the `?username=` suffix of `author.uri`. */
  readonly userNameFromUri: boolean
}

const TYPE_FIELDS = ['action', 'actionI18nKey', 'area', 'category', 'categoryI18nKey', 'level'] as const

/** Fills the draft's common fields and returns `<namespace>.audit` (type, method, lists). */
export function mapDcRecord(rec: JsonObject, d: Draft, spec: DcProductSpec): JsonObject {
  const audit: JsonObject = {}

  if (rec.timestamp === undefined || rec.timestamp === null || rec.timestamp === '') {
    d.problems.push('record has no timestamp')
  } else {
    d.timestamp = parseDcTimestamp(rec.timestamp)
    if (d.timestamp === undefined) d.problems.push(`cannot parse timestamp ${quote(rec.timestamp)}`)
  }

  applySource(d, rec.source, 'source')
  if (d.additionalIps.length > 0) audit.additional_source_ips = d.additionalIps

  const author = rec.author
  if (isObject(author)) {
    d.user.id = keyword(author.id)
    d.user[spec.authorNameField] = keyword(author.name)
    if (spec.userNameFromUri) d.user.name = usernameFromUri(author.uri)
  }

  // The REST API calls it `type`, the log file `auditType` (ecs-mapping.md §13.5).
  const rawType = isObject(rec.type) ? rec.type : rec.auditType
  if (isObject(rawType)) {
    // Only the declared keyword sub-fields (ecs-mapping.md §11): anything else would be rejected by the
    // index mapping (an object or number where a keyword is declared).
    let type: JsonObject | undefined
    for (const key of TYPE_FIELDS) {
      const v = keyword(rawType[key])
      if (v === undefined) continue
      type ??= {}
      type[key] = v
    }
    if (type) audit.type = type
    d.action = type?.actionI18nKey as string | undefined
    d.categoryKey = type?.categoryI18nKey as string | undefined
    d.categoryLabel = type?.category as string | undefined
  }

  const method = keyword(rec.method)
  if (method !== undefined) audit.method = method

  applySystem(d, rec.system, uriHost)

  const extra = scrubObjectList(rec.extraAttributes)
  if (extra.length > 0) audit.extra_attributes = extra
  const changed = scrubObjectList(rec.changedValues)
  if (changed.length > 0) audit.changed_values = changed
  // the user rules read the values before scrubbing ("" is a present, empty old value; see cloud.ts)
  if (Array.isArray(rec.changedValues)) d.changedValues = rec.changedValues
  d.objects = scrubObjectList(rec.affectedObjects)
  if (d.objects.length > 0) audit.affected_objects = d.objects
  return audit
}
