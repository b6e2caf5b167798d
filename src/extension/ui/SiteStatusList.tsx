// Per-site sync status: last result in admin words, when, how many events, and the progress of a run.
import type { SiteStatus, SiteView } from '../messages'
import { siteLabel } from './FilterBar'
import { formatCount, formatRelative } from './format'
import { wordsFor } from './words'

export function progressText(status: SiteStatus): string {
  const p = status.progress
  if (!p) return 'Starting…'
  const records = `${formatCount(p.records)} records`
  return p.phase ? `${p.phase}: ${records}` : records
}

export function SyncProgress({ statuses }: { statuses: SiteStatus[] }) {
  const running = statuses.filter((s) => s.running)
  if (running.length === 0) return null
  const fractions = running.map((s) => s.progress?.fraction)
  const known = fractions.every((f) => typeof f === 'number')
  const value = known ? fractions.reduce<number>((a, f) => a + (f ?? 0), 0) / running.length : undefined
  const records = running.reduce((a, s) => a + (s.progress?.records ?? 0), 0)
  return (
    <div class="sync-progress">
      <progress aria-label="Sync progress" max={1} value={value} />
      <span>
        Syncing {running.length} {running.length === 1 ? 'site' : 'sites'} · {formatCount(records)} records read
      </span>
    </div>
  )
}

export function SiteStatusList({ sites, statuses }: { sites: SiteView[]; statuses: SiteStatus[] }) {
  if (sites.length === 0) return null
  const byId = new Map(statuses.map((s) => [s.siteId, s]))
  return (
    <ul class="site-status" aria-label="Sites">
      {sites.map((site) => {
        const status = byId.get(site.id)
        const result = status?.lastResult
        const words = result ? wordsFor(result.code) : undefined
        return (
          <li key={site.id} data-site-id={site.id}>
            <span class={`dot ${words?.tone ?? 'idle'}`} aria-hidden="true" />
            <span class="site-name">{siteLabel(site)}</span>
            <span class="site-state">
              {status?.running
                ? progressText(status)
                : result
                  ? `${words?.headline}${result.code === 'ok' ? '' : `: ${result.message}`} · ${formatRelative(result.at)}`
                  : 'Not synced yet'}
            </span>
            <span class="site-count">{formatCount(status?.events ?? 0)} events</span>
          </li>
        )
      })}
    </ul>
  )
}
