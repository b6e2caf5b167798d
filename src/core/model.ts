// Shared vocabulary of the core. Plain types: no DOM, no extension APIs, no Node built-ins.

export type Product = 'confluence' | 'jira' | 'bitbucket' | 'org'
export type Deployment = 'cloud' | 'dc'
export const PRODUCTS: readonly Product[] = ['confluence', 'jira', 'bitbucket', 'org']
export const DEPLOYMENTS: readonly Deployment[] = ['cloud', 'dc']

/** How requests to a site are signed. `session` = the admin's browser cookies, no Authorization header. */
export type AuthMode = 'session' | 'basic' | 'scoped' | 'pat' | 'org-key'
export const AUTH_MODES: readonly AuthMode[] = ['session', 'basic', 'scoped', 'pat', 'org-key']

/** A secret is kept apart from the site so that it can be stored, redacted and deleted on its own. */
export interface Credential {
  mode: AuthMode
  /** Atlassian account e-mail (basic, scoped). */
  email?: string
  /** API token, PAT, org API key, or (CLI session mode) the Cookie header value. Never logged. */
  secret?: string
}

/** One configured source of audit records. */
export interface Site {
  /** Stable local id (e.g. a UUID), also used in checkpoints and outbox entries. */
  id: string
  /** Base URL as the admin typed it, normalized: scheme + host (+ context path for DC), no trailing slash. */
  url: string
  product: Product
  deployment: Deployment
  auth: AuthMode
  /** Organization id for product `org`. */
  orgId?: string
  /** Label shown in the UI. */
  name?: string
  email?: string
  /**
   * Scoped tokens: the API gateway their requests go through, when not https://api.atlassian.com (an
   * Atlassian cloud with its own gateway, a proxy, the simulator). The organization audit log's gateway is
   * its site URL.
   */
  gateway?: string
}

/**
 * An ECS document as the normalizer emits it. Dotted ECS names are nested objects
 * (`{event: {action}}`), as Elasticsearch stores them. Only the fields every document carries are typed.
 */
export interface EcsDocument {
  '@timestamp'?: string
  ecs: { version: string }
  event: EcsEvent
  tags?: string[]
  error?: { message: string | string[] }
  [field: string]: unknown
}

export interface EcsEvent {
  kind: 'event' | 'pipeline_error'
  /** Atlassian's own record id where it has one (Jira Cloud `id`, org event `id`), as a string. */
  id?: string
  /** Stable fingerprint of site + canonical record (see core/ecs/identity.ts). Always present. */
  hash: string
  action?: string
  category?: string[]
  type?: string[]
  outcome?: string
  original?: string
  dataset?: string
  module?: string
  [field: string]: unknown
}

/** What the normalizer needs to know about where a record came from. Everything is optional. */
export interface NormalizeContext {
  product?: Product
  deployment?: Deployment
  /** Base URL of the site the record came from; part of the identity. '' when unknown (files, stdin). */
  site?: string
  /** Keep `event.original` (and the `preserve_original_event` tag). Default true. */
  keepOriginal?: boolean
}

/** Progress that long work (sync, export, push) reports; a UI can show it as a bar. */
export interface Progress {
  phase: string
  pages: number
  records: number
  /** Estimated records or fraction remaining, when the API lets us know. */
  estimatedRemaining?: number
  fraction?: number
}
