// Confluence → ECS: Cloud `/wiki/rest/api/audit` results (also Confluence DC's legacy `/rest/api/audit`,
// same shape), DC unified auditing entities and DC audit log file lines (ecs-mapping.md §4.1, §4.2).

import { cloudChangedValues, cloudObjects } from './cloud'
import { type DcProductSpec, mapDcRecord } from './dc'
import { applySource, type Draft, quote } from './skeleton'
import { CONFLUENCE_RULES } from './tables/confluence'
import { parseEpochMs } from './timestamp'
import { isObject, type JsonObject, keyword } from './values'

export const confluenceRules = CONFLUENCE_RULES

const DC_SPEC: DcProductSpec = { authorNameField: 'full_name', userNameFromUri: true }

/** Fills `d` from a Confluence record; returns the content of `confluence.*`. */
export function mapConfluence(rec: JsonObject, d: Draft, format: 'cloud' | 'dc'): JsonObject {
  if (format === 'dc') {
    return { audit: mapDcRecord(rec, d, DC_SPEC) }
  }
  const audit: JsonObject = {}
  if (rec.creationDate === undefined || rec.creationDate === null || rec.creationDate === '') {
    d.problems.push('record has no creationDate')
  } else {
    d.timestamp = parseEpochMs(rec.creationDate)
    if (d.timestamp === undefined) d.problems.push(`cannot parse creationDate ${quote(rec.creationDate)}`)
  }
  applySource(d, rec.remoteAddress, 'remoteAddress')
  if (d.additionalIps.length > 0) audit.additional_source_ips = d.additionalIps
  const author = rec.author
  if (isObject(author)) {
    // Cloud authors have no login name: accountId and display name only.
    d.user.id = keyword(author.accountId)
    d.user.full_name = keyword(author.displayName)
    const external = author.externalCollaborator
    if (typeof external === 'boolean') audit.external_collaborator = external
  }
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
  d.objects = cloudObjects(rec.associatedObjects, rec.affectedObject, 'objectType')
  if (d.objects.length > 0) audit.affected_objects = d.objects
  const changes = cloudChangedValues(rec.changedValues, 'name', 'newValue', 'oldValue')
  d.changedValues = changes.forRules
  if (changes.output.length > 0) audit.changed_values = changes.output
  d.splitGroupUuid = d.deployment === 'cloud'
  return { audit }
}
