// Atlassian organization audit log events (`/admin/v1/orgs/{orgId}/events` and `/events-stream`) → ECS.
// Elastic's product packages have no mapping for these; ours follows the same spirit and is documented in
// docs/ecs-org-mapping.md.

import { applySource, type Draft, quote } from './skeleton'
import { ORG_RULES } from './tables/org'
import { parseIsoValue } from './timestamp'
import { addUnique, field, isObject, type JsonObject, keyword, scrub, scrubObjectList, setKey, uriHost } from './values'

export const orgRules = ORG_RULES

// Keys of `attributes` that have an ECS home (or a named place under atlassian.org); the rest is kept
// under atlassian.org.attributes so that nothing Atlassian adds later is lost.
const MAPPED_ATTRIBUTES = new Set([
  'time',
  'action',
  'actor',
  'context',
  'container',
  'location',
  'message',
  'userAgent',
])
const ORG_IN_LINK = /\/orgs\/([^/?#]+)\//

/** Fills `d` from an org event; returns the content of `atlassian.org`. */
export function mapOrgEvent(rec: JsonObject, d: Draft): JsonObject {
  const org: JsonObject = {}
  const attributes = isObject(rec.attributes) ? rec.attributes : {}
  d.eventId = keyword(rec.id)

  if (attributes.time === undefined || attributes.time === null || attributes.time === '') {
    d.problems.push('event has no attributes.time')
  } else {
    d.timestamp = parseIsoValue(attributes.time)
    if (d.timestamp === undefined) d.problems.push(`cannot parse attributes.time ${quote(attributes.time)}`)
  }
  d.action = keyword(attributes.action)

  const actor = attributes.actor
  if (isObject(actor)) {
    // Org actors have an account id, a display name and an e-mail, never a login name.
    d.user.id = keyword(actor.id)
    d.user.full_name = keyword(actor.name)
    d.user.email = keyword(actor.email)
    addUnique(d.relatedUsers, d.user.email)
    addUnique(d.relatedUsers, d.user.id)
    const actorExtra: JsonObject = {}
    const auth = actor.auth
    if (isObject(auth)) {
      const a: JsonObject = {}
      const type = keyword(auth.authType)
      if (type !== undefined) a.type = type
      const tokenId = keyword(auth.tokenId)
      if (tokenId !== undefined) a.token_id = tokenId
      const tokenLabel = keyword(auth.tokenLabel)
      if (tokenLabel !== undefined) a.token_label = tokenLabel
      if (Object.keys(a).length > 0) actorExtra.auth = a
    }
    const onBehalfOf = scrub(actor.onBehalfOf)
    if (isObject(onBehalfOf)) actorExtra.on_behalf_of = onBehalfOf
    const app = scrub(actor.app)
    if (isObject(app)) actorExtra.app = app
    if (Object.keys(actorExtra).length > 0) org.actor = actorExtra
    d.userAgent = keyword(actor.userAgent)
  }

  // context[] = the objects the action was about (users, groups, …): the org's "affected objects".
  const context = scrubObjectList(attributes.context)
  if (context.length > 0) {
    org.context = context
    d.objects = context.map((c) => {
      const attrs = c.attributes
      const name =
        keyword(field(attrs, 'groupName')) ?? keyword(field(attrs, 'name')) ?? keyword(field(attrs, 'displayName'))
      return { type: c.type, id: c.id, name }
    })
  }
  const container = scrubObjectList(attributes.container)
  if (container.length > 0) {
    org.container = container
    for (const c of container) addUnique(d.hosts, keyword(field(c.attributes, 'siteHostName')))
  }

  const location = attributes.location
  if (isObject(location)) {
    applySource(d, location.ip, 'location.ip')
    if (d.additionalIps.length > 0) org.additional_source_ips = d.additionalIps
    const geo: JsonObject = {}
    const city = keyword(location.city)
    if (city !== undefined) geo.city_name = city
    const country = keyword(location.countryName)
    if (country !== undefined) geo.country_name = country
    const region = keyword(location.regionName)
    if (region !== undefined) geo.region_name = region
    if (Object.keys(geo).length > 0) d.sourceGeo = geo
    // `geo` is documented as a string of unknown format: kept verbatim rather than guessed into geo.location.
    const rawGeo = keyword(location.geo)
    if (rawGeo !== undefined) org.location = { geo: rawGeo }
    d.userAgent ??= keyword(location.userAgent)
  }
  d.userAgent ??= keyword(attributes.userAgent)

  // events-stream's high-water mark. An unreadable value does not date the event: it stays, verbatim,
  // under atlassian.org.attributes with the other unmapped attributes.
  const processedAt = parseIsoValue(attributes.processedAt)
  if (processedAt !== undefined) org.processed_at = processedAt

  const message = isObject(rec.message) ? rec.message : field(attributes, 'message')
  d.message = keyword(field(message, 'content'))
  const format = keyword(field(message, 'format'))
  if (format !== undefined) org.message_format = format

  const self = keyword(field(rec.links, 'self'))
  if (self !== undefined) {
    org.event_url = self
    const m = ORG_IN_LINK.exec(self)
    if (m) d.organizationId = m[1]
    addUnique(d.hosts, uriHost(self) === 'api.atlassian.com' ? undefined : uriHost(self))
  }

  let rest: JsonObject | undefined
  for (const k in attributes) {
    if (MAPPED_ATTRIBUTES.has(k) || !Object.hasOwn(attributes, k)) continue
    if (k === 'processedAt' && processedAt !== undefined) continue
    const v = scrub(attributes[k])
    if (v === undefined) continue
    rest ??= {}
    setKey(rest, k, v)
  }
  if (rest) org.attributes = rest
  return org
}
