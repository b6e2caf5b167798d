// Labels and number/time formatting shared by the popup, options page and dashboard.
import type { AuthMode, Deployment, Product } from '../../core/model'

export const PRODUCT_LABELS: Record<Product, string> = {
  confluence: 'Confluence',
  jira: 'Jira',
  bitbucket: 'Bitbucket',
  org: 'Atlassian organization',
}

export const DEPLOYMENT_LABELS: Record<Deployment, string> = {
  cloud: 'Cloud',
  dc: 'Data Center',
}

export const AUTH_LABELS: Record<AuthMode, string> = {
  session: 'Browser session',
  basic: 'Email and API token',
  scoped: 'Scoped API token',
  pat: 'Personal access token',
  'org-key': 'Organization API key',
}

export function productLabel(product: string): string {
  return product in PRODUCT_LABELS ? PRODUCT_LABELS[product as Product] : product || 'Unknown product'
}

const numberFormat = new Intl.NumberFormat('en')

export function formatCount(n: number): string {
  return numberFormat.format(n)
}

/** Local date and time, to the second, in a fixed-width form that sorts and scans well in a list. */
export function formatTime(epochMs: number): string {
  if (!epochMs) return 'no time'
  const d = new Date(epochMs)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** "3 minutes ago", "in 12 minutes": for status lines. */
export function formatRelative(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'never'
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return 'unknown'
  const seconds = Math.round((t - now) / 1000)
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' })
  const abs = Math.abs(seconds)
  if (abs < 60) return rtf.format(seconds, 'second')
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute')
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour')
  return rtf.format(Math.round(seconds / 86400), 'day')
}

/** Pretty JSON for the detail view; event.original is itself JSON text, so it is parsed when it can be. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? String(value)
}

export function prettyOriginal(original: unknown): string {
  if (typeof original !== 'string') return original === undefined ? '' : prettyJson(original)
  try {
    return prettyJson(JSON.parse(original))
  } catch {
    return original
  }
}
