// Timestamp parsing for every Atlassian shape → ECS `@timestamp` (UTC, millisecond precision).
// Returns undefined when the value cannot be read; the caller turns that into a pipeline_error.

// ISO-8601 / RFC 3339 as Elasticsearch's strict_date_optional_time reads it, plus the Jira Cloud
// offset without a colon (`+0000`), which JavaScript's Date.parse is not guaranteed to accept.
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'))
const THREE_DIGITS: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))
const DAY_MS = 86_400_000

/**
 * Millisecond epoch → ISO string, or undefined outside years 0000–9999 (what ECS dates can hold).
 * Same text as `new Date(ms).toISOString()` (a unit test compares them over the whole range), computed
 * with integer arithmetic (H. Hinnant's civil_from_days) because a Date object and its runtime call per
 * record cost more than the rest of the timestamp handling.
 */
export function isoFromEpochMs(ms: number): string | undefined {
  if (!Number.isFinite(ms) || ms < -62167219200000 || ms > 253402300799999) return undefined
  const t = Math.floor(ms)
  const days = Math.floor(t / DAY_MS)
  let rest = t - days * DAY_MS
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const dayOfEra = z - era * 146097
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365,
  )
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const mp = Math.floor((5 * dayOfYear + 2) / 153)
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
  const hour = Math.floor(rest / 3_600_000)
  rest -= hour * 3_600_000
  const minute = Math.floor(rest / 60_000)
  rest -= minute * 60_000
  const second = Math.floor(rest / 1000)
  rest -= second * 1000
  return `${TWO_DIGITS[Math.floor(year / 100)]}${TWO_DIGITS[year % 100]}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}.${THREE_DIGITS[rest]}Z`
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146097 + dayOfEra - 719468
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

function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]) return false
  return !(month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)))
}

/**
 * Jira Cloud's `YYYY-MM-DDTHH:MM:SS.mmm+HHMM` (or `+HH:MM`) read at fixed positions; undefined for any
 * other text (the general parser then decides). Same result as the general parser for this format.
 */
function parseIsoWithOffset(text: string): string | undefined {
  const n = text.length
  if (n !== 28 && n !== 29) return undefined
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':') return undefined
  if (text[19] !== '.') return undefined
  const sign = text.charCodeAt(23)
  if (sign !== 43 /* + */ && sign !== 45 /* - */) return undefined
  if (n === 29 && text[26] !== ':') return undefined
  const year = digits(text, 0, 4)
  const month = digits(text, 5, 2)
  const day = digits(text, 8, 2)
  const hour = digits(text, 11, 2)
  const minute = digits(text, 14, 2)
  const second = digits(text, 17, 2)
  const millis = digits(text, 20, 3)
  const offsetHours = digits(text, 24, 2)
  const offsetMinutes = digits(text, n === 29 ? 27 : 26, 2)
  if (year < 0 || millis < 0 || !validDate(year, month, day)) return undefined
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined
  if (offsetHours < 0 || offsetHours > 23 || offsetMinutes < 0 || offsetMinutes > 59) return undefined
  const offset = (sign === 45 ? -1 : 1) * (offsetHours * 60 + offsetMinutes)
  const local = daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + millis
  return isoFromEpochMs(local - offset * 60_000)
}

export function parseIsoTimestamp(text: string): string | undefined {
  if (isCanonicalIso(text)) return text
  const withOffset = parseIsoWithOffset(text)
  if (withOffset !== undefined) return withOffset
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
