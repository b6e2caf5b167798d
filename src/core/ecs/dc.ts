// Data Center records (unified auditing REST entity and audit log file line): one shared mapping, since
// Confluence, Jira and Bitbucket DC all write the same "Atlassian Audit" format (ecs-mapping.md §4.1, 4.3, 4.5).
// The products differ only in the parameters below.

import { applySource, applySystem, type Draft, quote } from './skeleton'
import { parseDcTimestamp } from './timestamp'
import { isObject, type JsonObject, keyword, scrub, scrubObjectList, uriHost, usernameFromUri } from './values'

export interface DcProductSpec {
  /** Confluence DC `author.name` is the display name; Jira and Bitbucket put the login name there. */
  readonly authorNameField: 'full_name' | 'name'
  /** Confluence: user.name only from the `?username=` suffix of `author.uri`. */
  readonly userNameFromUri: boolean
}

/** Fills the draft's common fields and returns `<namespace>.audit` (type, method, lists). */
export function mapDcRecord(rec: JsonObject, d: Draft, spec: DcProductSpec): JsonObject {
  const audit: JsonObject = {}

  if (rec.timestamp === undefined || rec.timestamp === null || rec.timestamp === '') {
    d.problems.push('record has no timestamp')
  } else {
    d.timestamp = parseDcTimestamp(rec.timestamp)
    if (d.timestamp === undefined) d.problems.push(`cannot parse timestamp ${quote(rec.timestamp)}`)
  }

  applySource(d, rec.source, 'source', (ips) => {
    audit.additional_source_ips = ips
  })

  const author = rec.author
  if (isObject(author)) {
    d.user.id = keyword(author.id)
    d.user[spec.authorNameField] = keyword(author.name)
    if (spec.userNameFromUri) d.user.name = usernameFromUri(author.uri)
  }

  // The REST API calls it `type`, the log file `auditType` (ecs-mapping.md §13.5).
  const rawType = isObject(rec.type) ? rec.type : rec.auditType
  const type = scrub(rawType)
  if (isObject(type)) {
    audit.type = type
    d.action = keyword(type.actionI18nKey)
    d.categoryKey = keyword(type.categoryI18nKey)
    d.categoryLabel = keyword(type.category)
  }

  const method = keyword(rec.method)
  if (method !== undefined) audit.method = method

  applySystem(d, rec.system, uriHost)

  const extra = scrubObjectList(rec.extraAttributes)
  if (extra.length > 0) audit.extra_attributes = extra
  const changed = scrubObjectList(rec.changedValues)
  if (changed.length > 0) audit.changed_values = changed
  // the user rules read the values before scrubbing ("" is a present, empty old value; see cloud.ts)
  d.changedValues = Array.isArray(rec.changedValues) ? rec.changedValues.filter(isObject) : []
  d.objects = scrubObjectList(rec.affectedObjects)
  if (d.objects.length > 0) audit.affected_objects = d.objects
  return audit
}
