// Typed failures of a collector. Messages say what to do and never contain a secret: they are shown in
// the options page, the popup and on the CLI's stderr.

export type CollectorErrorKind = 'config' | 'auth' | 'endpoint'

/**
 * The collector (or its configuration) refuses the request itself, whatever the documents: retrying the
 * same request will not help until someone changes the configuration. An outbox keeps the documents.
 */
export class CollectorError extends Error {
  readonly kind: CollectorErrorKind
  /** HTTP status, when the collector answered. */
  readonly status?: number
  constructor(kind: CollectorErrorKind, message: string, status?: number) {
    super(message)
    this.name = 'CollectorError'
    this.kind = kind
    this.status = status
  }
}

/** Invalid collector configuration (URL, https rule, auth settings, namespace). */
export class CollectorConfigError extends CollectorError {
  constructor(message: string) {
    super('config', message)
    this.name = 'CollectorConfigError'
  }
}

/** 401 / 403 / 407: wrong credentials or missing privileges. */
export class CollectorAuthError extends CollectorError {
  constructor(message: string, status: number) {
    super('auth', message, status)
    this.name = 'CollectorAuthError'
  }
}

/** The URL does not lead to the expected API (404, 405, a Splunk index the token may not write to …). */
export class CollectorEndpointError extends CollectorError {
  constructor(message: string, status?: number) {
    super('endpoint', message, status)
    this.name = 'CollectorEndpointError'
  }
}

export function isCollectorError(e: unknown): e is CollectorError {
  return e instanceof CollectorError
}
