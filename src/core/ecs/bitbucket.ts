// Bitbucket Data Center → ECS: unified auditing entities and audit log file lines (ecs-mapping.md §4.5).
// Bitbucket Cloud has no audit API.

import { type DcProductSpec, mapDcRecord } from './dc'
import type { Draft } from './skeleton'
import { BITBUCKET_RULES } from './tables/bitbucket'
import type { JsonObject } from './values'

export const bitbucketRules = BITBUCKET_RULES

const DC_SPEC: DcProductSpec = { authorNameField: 'name', userNameFromUri: false }

/** Fills `d` from a Bitbucket record; returns the content of `bitbucket.*`. */
export function mapBitbucket(rec: JsonObject, d: Draft): JsonObject {
  return { audit: mapDcRecord(rec, d, DC_SPEC) }
}
