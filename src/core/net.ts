// Small HTTP helpers shared by the Atlassian client and the collector sinks.

/** AbortSignal.any where it exists (Chrome 116, Firefox 124, Node 20.3); a small equivalent elsewhere. */
export function anySignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b])
  const controller = new AbortController()
  for (const s of [a, b]) {
    if (s.aborted) {
      controller.abort(s.reason)
      break
    }
    s.addEventListener('abort', () => controller.abort(s.reason), { once: true })
  }
  return controller.signal
}

const DAY_MS = 24 * 3600_000

/**
 * Retry-After in ms: delta seconds (fractions accepted) or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable. Capped at a day, so that a broken header cannot park a client for ever.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const v = value?.trim()
  if (!v) return undefined
  if (/^\d+(\.\d+)?$/.test(v)) return Math.min(Number(v) * 1000, DAY_MS)
  const at = Date.parse(v)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, Math.min(at - now, DAY_MS))
}
