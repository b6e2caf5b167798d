// The settings page: sites, sync and retention, export format, collectors.
import { useCallback, useEffect, useState } from 'preact/hooks'
import type { CollectorStatusView, CollectorView, Settings, SiteView, StatusReport } from '../messages'
import { send } from '../messages'
import type { DetectedSite } from '../ui/detect-site'
import { useInterval } from '../ui/hooks'
import { errorText } from '../ui/words'
import { Collectors } from './Collectors'
import { SettingsForm } from './SettingsForm'
import { formValuesOf, NEW_SITE, SiteForm, type SiteFormValues } from './SiteForm'
import { SiteList } from './SiteList'

/** The popup's "Add this site…" opens this page with ?add=<detected site as JSON> when it needs more input. */
function prefillFromUrl(): SiteFormValues | undefined {
  const raw = new URLSearchParams(location.search).get('add')
  if (!raw) return undefined
  try {
    const d = JSON.parse(raw) as Partial<DetectedSite>
    return {
      ...NEW_SITE,
      url: typeof d.url === 'string' ? d.url : '',
      product: d.product ?? NEW_SITE.product,
      deployment: d.deployment ?? NEW_SITE.deployment,
      auth: d.auth ?? NEW_SITE.auth,
      orgId: typeof d.orgId === 'string' ? d.orgId : '',
    }
  } catch {
    return undefined
  }
}

export function Options() {
  const [sites, setSites] = useState<SiteView[]>([])
  const [status, setStatus] = useState<StatusReport>()
  const [settings, setSettings] = useState<Settings>()
  const [collectors, setCollectors] = useState<CollectorView[]>([])
  const [collectorStatus, setCollectorStatus] = useState<CollectorStatusView[]>([])
  const [form, setForm] = useState<{ key: number; values: SiteFormValues } | undefined>(() => {
    const prefill = prefillFromUrl()
    return prefill ? { key: 1, values: prefill } : undefined
  })
  const [error, setError] = useState('')
  const busy = Boolean(status?.sites.some((s) => s.running) || collectorStatus.some((c) => c.running || c.backlog > 0))

  const reloadSites = useCallback(() => send({ type: 'listSites' }).then(setSites, (e) => setError(errorText(e))), [])
  const reloadCollectors = useCallback(() => {
    send({ type: 'listCollectors' }).then(setCollectors, () => {})
    send({ type: 'getCollectorStatus' }).then(setCollectorStatus, () => {})
  }, [])

  useEffect(() => {
    reloadSites()
    reloadCollectors()
    send({ type: 'getSettings' }).then(setSettings, (e) => setError(errorText(e)))
  }, [reloadSites, reloadCollectors])

  useInterval(
    () => {
      send({ type: 'getStatus' }).then(setStatus, () => {})
      if (collectors.length) send({ type: 'getCollectorStatus' }).then(setCollectorStatus, () => {})
    },
    busy ? 1000 : 3000,
  )

  return (
    <main class="options">
      <header>
        <h1>Audit Log Collector for Atlassian</h1>
        <p class="muted">Settings</p>
      </header>
      {error && (
        <p class="notice bad" role="alert">
          {error}
        </p>
      )}
      <section aria-labelledby="sites-heading">
        <div class="row">
          <h2 id="sites-heading">Sites</h2>
          <span class="spacer" />
          <button type="button" class="primary" onClick={() => setForm({ key: Date.now(), values: { ...NEW_SITE } })}>
            Add site
          </button>
        </div>
        <p class="muted">
          Tip: on a Confluence, Jira or Bitbucket tab, the toolbar button’s “Add this site” adds it in one click with
          your browser session.
        </p>
        {form && (
          <SiteForm
            key={form.key}
            initial={form.values}
            onSaved={(site) => {
              setSites((list) => [...list.filter((s) => s.id !== site.id), site])
              send({ type: 'getStatus' }).then(setStatus, () => {})
            }}
            onCancel={() => setForm(undefined)}
          />
        )}
        <SiteList
          sites={sites}
          statuses={status?.sites ?? []}
          onEdit={(site) => setForm({ key: Date.now(), values: formValuesOf(site) })}
          onRemoved={(id) => {
            setSites((list) => list.filter((s) => s.id !== id))
            if (form?.values.id === id) setForm(undefined)
          }}
        />
      </section>
      <section aria-labelledby="settings-heading">
        <h2 id="settings-heading">Sync, retention and export</h2>
        {settings ? <SettingsForm settings={settings} onSaved={setSettings} /> : <p class="muted">Loading…</p>}
      </section>
      <section aria-labelledby="collectors-heading">
        <h2 id="collectors-heading">Collectors</h2>
        <p class="muted">
          Send every new event to a SIEM as well. Events wait in a queue in this browser until the collector accepts
          them.
        </p>
        <Collectors collectors={collectors} statuses={collectorStatus} sites={sites} onChanged={reloadCollectors} />
      </section>
    </main>
  )
}
