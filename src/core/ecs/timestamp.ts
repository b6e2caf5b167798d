// Timestamp parsing for every Atlassian shape → ECS `@timestamp` (UTC, millisecond precision).
// Returns undefined when the value cannot be read; the caller turns that into a pipeline_error.

// ISO-8601 / RFC 3339 as Elasticsearch's strict_date_optional_time reads it, plus the Jira Cloud
// offset without a colon (`+0000`), which JavaScript's Date.parse is not guaranteed to accept.
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Millisecond epoch → ISO string, or undefined outside years 0000–9999 (what ECS dates can hold). */
export function isoFromEpochMs(ms: number): string | undefined {
  if (!Number.isFinite(ms) || ms < -62167219200000 || ms > 253402300799999) return undefined
  return new Date(Math.floor(ms)).toISOString()
}

function digits(text: string, from: number, count: number): number {
  let n = 0
  for (let i = from; i < from + count; i++) {
    const c = text.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` that is a real instant: what we emit, so it is returned as it is. */
function isCanonicalIso(text: string): boolean {
  if (text.length !== 24 || text.charCodeAt(23) !== 90 /* Z */) return false
  if (
    text[4] !== '-' ||
    text[7] !== '-' ||
    text[10] !== 'T' ||
    text[13] !== ':' ||
    text[16] !== ':' ||
    text[19] !== '.'
  )
    return false
  const year = digits(text, 0, 4)
  const month = digits(text, 5, 2)
  const day = digits(text, 8, 2)
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]) return false
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return false
  const hour = digits(text, 11, 2)
  const minute = digits(text, 14, 2)
  const second = digits(text, 17, 2)
  return (
    hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && digits(text, 20, 3) >= 0
  )
}

export function parseIsoTimestamp(text: string): string | undefined {
  if (isCanonicalIso(text)) return text
  const m = ISO.exec(text)
  if (!m) return undefined
  const year = +m[1]
  const month = +m[2]
  const day = +m[3]
  const hour = m[4] === undefined ? 0 : +m[4]
  const minute = m[5] === undefined ? 0 : +m[5]
  const second = m[6] === undefined ? 0 : +m[6]
  const millis = m[7] === undefined ? 0 : +m[7].slice(0, 3).padEnd(3, '0')
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]) return undefined
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return undefined
  if (hour > 23 || minute > 59 || second > 59) return undefined
  let offsetMinutes = 0
  if (m[9] !== undefined) {
    const oh = +m[10]
    const om = m[11] === undefined ? 0 : +m[11]
    if (oh > 23 || om > 59) return undefined
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om)
  }
  const utc = new Date(0)
  utc.setUTCFullYear(year, month - 1, day)
  utc.setUTCHours(hour, minute, second, millis)
  return isoFromEpochMs(utc.getTime() - offsetMinutes * 60_000)
}

const UNIX = /^-?\d+(?:\.\d+)?$/

/** `"1637624653.873"` → 1637624653873 without floating-point drift in the fraction. */
function unixSecondsToMs(text: string): number {
  const dot = text.indexOf('.')
  if (dot === -1) return Number(text) * 1000
  const whole = Number(text.slice(0, dot))
  const fraction = Number(text.slice(dot + 1, dot + 4).padEnd(3, '0'))
  return text.startsWith('-') ? whole * 1000 - fraction : whole * 1000 + fraction
}

/** DC `timestamp`: the reference tries UNIX (seconds) first, then ISO-8601 (ecs-mapping.md §3). */
export function parseDcTimestamp(value: unknown): string | undefined {
  if (typeof value === 'string') {
    if (UNIX.test(value)) return isoFromEpochMs(unixSecondsToMs(value))
    return parseIsoTimestamp(value)
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return parseFileTimestamp(value)
  return undefined
}

/**
 * DC log-file `timestamp: {epochSecond, nano}`. We compute epochSecond·1000 + nano/10⁶: the reference
 * concatenates `<epochSecond>.<nano>` as text, which is the same for the 9-digit nano values Atlassian writes.
 */
export function parseFileTimestamp(value: object): string | undefined {
  const { epochSecond, nano } = value as { epochSecond?: unknown; nano?: unknown }
  const seconds = typeof epochSecond === 'string' && UNIX.test(epochSecond) ? Number(epochSecond) : epochSecond
  const nanos =
    nano === undefined || nano === null ? 0 : typeof nano === 'string' && UNIX.test(nano) ? Number(nano) : nano
  if (typeof seconds !== 'number' || !Number.isInteger(seconds)) return undefined
  if (typeof nanos !== 'number' || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) return undefined
  return isoFromEpochMs(seconds * 1000 + Math.floor(nanos / 1_000_000))
}

/** Confluence Cloud `creationDate`: epoch milliseconds (a number; digits as text are accepted too). */
export function parseEpochMs(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? isoFromEpochMs(value) : undefined
  if (typeof value === 'string' && UNIX.test(value)) return isoFromEpochMs(Number(value))
  return undefined
}

/** Jira Cloud `created` and org `time`: ISO-8601 text, offsets with or without a colon. */
export function parseIsoValue(value: unknown): string | undefined {
  return typeof value === 'string' ? parseIsoTimestamp(value) : undefined
}
