// Jira → ECS: Cloud `/rest/api/3/auditing/record` records (and the DC legacy `/rest/api/2/auditing/record`,
// same shape), DC unified auditing entities and DC audit log file lines (ecs-mapping.md §4.3, §4.4).

import { mapCloudTypeObjectsChanges } from './cloud'
import { type DcProductSpec, mapDcRecord } from './dc'
import { applySource, type Draft, quote } from './skeleton'
import { JIRA_RULES } from './tables/jira'
import { parseIsoValue } from './timestamp'
import { type JsonObject, keyword } from './values'

export const jiraRules = JIRA_RULES

const DC_SPEC: DcProductSpec = { authorNameField: 'name', userNameFromUri: false }

/** Fills `d` from a Jira record; returns the content of `jira.*`. */
export function mapJira(rec: JsonObject, d: Draft, format: 'cloud' | 'dc'): JsonObject {
  if (format === 'dc') return { audit: mapDcRecord(rec, d, DC_SPEC) }
  const audit: JsonObject = {}
  d.eventId = keyword(rec.id)
  if (rec.created === undefined || rec.created === null || rec.created === '') {
    d.problems.push('record has no created time')
  } else {
    d.timestamp = parseIsoValue(rec.created)
    if (d.timestamp === undefined) d.problems.push(`cannot parse created ${quote(rec.created)}`)
  }
  applySource(d, rec.remoteAddress, 'remoteAddress')
  if (d.additionalIps.length > 0) audit.additional_source_ips = d.additionalIps
  // Cloud authors are account ids only; authorKey is dropped as the reference does.
  d.user.id = keyword(rec.authorAccountId)
  mapCloudTypeObjectsChanges(d, audit, rec, {
    objects: 'associatedItems',
    object: 'objectItem',
    objectType: 'typeName',
    changeLabel: 'fieldName',
    changeTo: 'changedTo',
    changeFrom: 'changedFrom',
  })
  return { audit }
}
