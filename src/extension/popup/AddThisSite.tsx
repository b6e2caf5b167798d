// "Add this site": one click from the Atlassian tab the admin is on, signed in with the browser session.
// The popup learns the tab's URL through `activeTab` (granted when the toolbar button is clicked), so the
// extension needs neither the `tabs` permission nor access to any site before the admin picks one.
import { useEffect, useState } from 'preact/hooks'
import browser from 'webextension-polyfill'
import type { SiteDraft, SiteView } from '../messages'
import { send } from '../messages'
import { siteOrigins } from '../site-origins'
import { type DetectedSite, detectSite } from '../ui/detect-site'
import { DEPLOYMENT_LABELS, productLabel } from '../ui/format'
import { openPage } from '../ui/pages'
import { errorText } from '../ui/words'

async function currentTabUrl(): Promise<string | undefined> {
  // Opened in a tab instead of as the popup (tests, keyboard users): ?tab=<id> names the tab to look at.
  const named = Number(new URLSearchParams(location.search).get('tab'))
  if (Number.isInteger(named) && named > 0) return (await browser.tabs.get(named)).url
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true })
  return tab?.url
}

function sameSite(site: SiteView, detected: DetectedSite): boolean {
  return site.url === detected.url && site.product === detected.product && (site.orgId ?? '') === (detected.orgId ?? '')
}

export function AddThisSite({ sites, onAdded }: { sites: SiteView[]; onAdded: (site: SiteView) => void }) {
  const [detected, setDetected] = useState<DetectedSite>()
  const [message, setMessage] = useState('')
  const [busy, setBusy] = useState(false)

  useEffect(() => {
    currentTabUrl().then(
      (url) => setDetected(detectSite(url)),
      () => {},
    )
  }, [])

  if (!detected || (sites.some((s) => sameSite(s, detected)) && !message)) return null
  const oneClick = detected.product !== undefined && detected.auth === 'session'
  const host = new URL(detected.url).host
  const what = detected.product
    ? `${productLabel(detected.product)} ${DEPLOYMENT_LABELS[detected.deployment]}`
    : 'An Atlassian site'

  const add = () => {
    if (!oneClick || !detected.product) {
      openPage('options', `?add=${encodeURIComponent(JSON.stringify(detected))}`)
      return
    }
    const draft: SiteDraft = {
      url: detected.url,
      product: detected.product,
      deployment: detected.deployment,
      auth: 'session',
    }
    // Both start inside the click: permissions.request needs the user gesture, and the site is saved
    // even if the browser closes the popup while its permission prompt is open.
    const granted = browser.permissions.request({ origins: siteOrigins(draft) })
    const saved = send({ type: 'saveSite', site: draft })
    setBusy(true)
    Promise.all([granted, saved])
      .then(async ([ok, site]) => {
        onAdded(site)
        if (ok) {
          await send({ type: 'syncNow', siteId: site.id })
          setMessage(`Added ${host}. Syncing now.`)
        } else {
          setMessage(`Added ${host}, but access was not allowed: it cannot sync until you allow it in Settings.`)
        }
      })
      .catch((e) => setMessage(`Could not add the site: ${errorText(e)}`))
      .finally(() => setBusy(false))
  }

  if (message) return <p class="notice good">{message}</p>
  return (
    <div class="notice row add-this-site">
      <span>
        {what} at <strong>{host}</strong>
      </span>
      <span class="spacer" />
      <button type="button" class="primary" onClick={add} disabled={busy}>
        {oneClick ? 'Add this site' : 'Add this site…'}
      </button>
    </div>
  )
}
