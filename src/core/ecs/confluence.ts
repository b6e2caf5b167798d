// Confluence → ECS: Cloud `/wiki/rest/api/audit` results (also Confluence DC's legacy `/rest/api/audit`,
// same shape), DC unified auditing entities and DC audit log file lines (ecs-mapping.md §4.1, §4.2).

import { mapCloudTypeObjectsChanges } from './cloud'
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
  mapCloudTypeObjectsChanges(d, audit, rec, {
    objects: 'associatedObjects',
    object: 'affectedObject',
    objectType: 'objectType',
    changeLabel: 'name',
    changeTo: 'newValue',
    changeFrom: 'oldValue',
  })
  d.splitGroupUuid = d.deployment === 'cloud'
  return { audit }
}
