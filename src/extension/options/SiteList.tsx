// The configured sites with their last sync result, and Edit / Remove.
import { useState } from 'preact/hooks'
import type { SiteStatus, SiteView } from '../messages'
import { send } from '../messages'
import { siteLabel } from '../ui/FilterBar'
import { AUTH_LABELS, DEPLOYMENT_LABELS, formatCount, formatRelative, productLabel } from '../ui/format'
import { errorText, wordsFor } from '../ui/words'

export function SiteList(props: {
  sites: SiteView[]
  statuses: SiteStatus[]
  onEdit: (site: SiteView) => void
  onRemoved: (siteId: string) => void
}) {
  const [confirming, setConfirming] = useState<string>()
  const [deleteEvents, setDeleteEvents] = useState(false)
  const [message, setMessage] = useState('')
  const byId = new Map(props.statuses.map((s) => [s.siteId, s]))

  const remove = async (site: SiteView) => {
    try {
      await send({ type: 'removeSite', siteId: site.id, deleteEvents })
      setMessage(`Removed ${siteLabel(site)}${site.hasSecret ? ' and its stored token' : ''}.`)
      props.onRemoved(site.id)
    } catch (e) {
      setMessage(`Not removed: ${errorText(e)}`)
    } finally {
      setConfirming(undefined)
      setDeleteEvents(false)
    }
  }

  return (
    <>
      {props.sites.length === 0 ? (
        <p class="muted">No site yet.</p>
      ) : (
        <ul class="site-list">
          {props.sites.map((site) => {
            const status = byId.get(site.id)
            const result = status?.lastResult
            const words = result ? wordsFor(result.code) : undefined
            return (
              <li key={site.id} class="card" data-site-id={site.id}>
                <div class="row">
                  <strong>{siteLabel(site)}</strong>
                  <span class="muted">
                    {productLabel(site.product)} · {DEPLOYMENT_LABELS[site.deployment]} · {AUTH_LABELS[site.auth]}
                  </span>
                  <span class="spacer" />
                  <button type="button" onClick={() => props.onEdit(site)} aria-label={`Edit ${siteLabel(site)}`}>
                    Edit
                  </button>
                  <button
                    type="button"
                    class="danger"
                    onClick={() => setConfirming(site.id)}
                    aria-label={`Remove ${siteLabel(site)}`}
                  >
                    Remove
                  </button>
                </div>
                <div class="muted url">{site.url}</div>
                <div class={words?.tone ?? 'muted'}>
                  {status?.running
                    ? 'Syncing…'
                    : result
                      ? `${words?.headline} · ${formatRelative(result.at)}${result.code === 'ok' ? ` · ${formatCount(result.added)} new` : `: ${result.message}`}`
                      : 'Not synced yet'}
                  {status && ` · ${formatCount(status.events)} events stored`}
                </div>
                {confirming === site.id && (
                  <fieldset class="notice warn">
                    <legend>Remove {siteLabel(site)}?</legend>
                    <p>Its stored token and sync checkpoints are deleted.</p>
                    <label class="check">
                      <input
                        type="checkbox"
                        checked={deleteEvents}
                        onChange={(e) => setDeleteEvents((e.currentTarget as HTMLInputElement).checked)}
                      />{' '}
                      Also delete its {formatCount(status?.events ?? 0)} stored events
                    </label>
                    <div class="row">
                      <button type="button" class="danger" onClick={() => remove(site)}>
                        Remove site
                      </button>
                      <button type="button" onClick={() => setConfirming(undefined)}>
                        Keep
                      </button>
                    </div>
                  </fieldset>
                )}
              </li>
            )
          })}
        </ul>
      )}
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
    </>
  )
}
