// The filter the popup and the dashboard share: what the controls hold (strings), how it becomes the
// archive's EventFilter, and how it travels in a URL (the popup's "Dashboard" link keeps the filter).
import type { Product } from '../../core/model'
import type { EventFilter } from '../messages'

export const TIME_RANGES = [
  { value: 'all', label: 'All time', ms: 0 },
  { value: '1h', label: 'Last hour', ms: 3_600_000 },
  { value: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { value: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
  { value: 'custom', label: 'Between dates…', ms: 0 },
] as const

export type TimeRange = (typeof TIME_RANGES)[number]['value']

export interface FilterState {
  range: TimeRange
  /** `datetime-local` values (local time), used when range is 'custom'. */
  from: string
  to: string
  site: string
  product: string
  category: string
  action: string
  user: string
  ip: string
  text: string
}

export const EMPTY_FILTER: FilterState = {
  range: 'all',
  from: '',
  to: '',
  site: '',
  product: '',
  category: '',
  action: '',
  user: '',
  ip: '',
  text: '',
}

const KEYS = Object.keys(EMPTY_FILTER) as (keyof FilterState)[]

function isTimeRange(value: string): value is TimeRange {
  return TIME_RANGES.some((r) => r.value === value)
}

export function toEventFilter(state: FilterState, now = Date.now()): EventFilter {
  const filter: EventFilter = {}
  if (state.range === 'custom') {
    const from = state.from ? Date.parse(state.from) : Number.NaN
    const to = state.to ? Date.parse(state.to) : Number.NaN
    if (!Number.isNaN(from)) filter.from = from
    // datetime-local has minute precision: "to 10:05" means up to the end of that minute.
    if (!Number.isNaN(to)) filter.to = to + 59_999
  } else {
    const range = TIME_RANGES.find((r) => r.value === state.range)
    if (range && range.ms > 0) filter.from = now - range.ms
  }
  if (state.site) filter.siteIds = [state.site]
  if (state.product) filter.products = [state.product as Product]
  if (state.category) filter.categories = [state.category]
  if (state.action.trim()) filter.actions = [state.action.trim()]
  if (state.user.trim()) filter.users = [state.user.trim()]
  if (state.ip.trim()) filter.ips = [state.ip.trim()]
  if (state.text.trim()) filter.text = state.text.trim()
  return filter
}

export function isFiltered(state: FilterState): boolean {
  return KEYS.some((k) => state[k] !== EMPTY_FILTER[k])
}

export function filterToSearch(state: FilterState): string {
  const params = new URLSearchParams()
  for (const k of KEYS) if (state[k] !== EMPTY_FILTER[k]) params.set(k, state[k])
  const s = params.toString()
  return s ? `?${s}` : ''
}

export function filterFromSearch(search: string): FilterState {
  const params = new URLSearchParams(search)
  const state: FilterState = { ...EMPTY_FILTER }
  for (const k of KEYS) {
    const v = params.get(k)
    if (v === null) continue
    if (k === 'range') {
      if (isTimeRange(v)) state.range = v
    } else state[k] = v
  }
  return state
}
