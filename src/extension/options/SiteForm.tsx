// Add or edit one site. The token is a password field that is emptied after saving and never filled back
// in: the background keeps the secret and only tells the page whether one is stored.
import { useId, useState } from 'preact/hooks'
import browser from 'webextension-polyfill'
import type { AuthMode, Deployment, Product } from '../../core/model'
import type { CodedResult, SiteDraft, SiteView } from '../messages'
import { send } from '../messages'
import { siteOrigins } from '../site-origins'
import { normalizeSiteUrl } from '../ui/detect-site'
import { AUTH_LABELS, DEPLOYMENT_LABELS, PRODUCT_LABELS } from '../ui/format'
import { errorText, wordsFor } from '../ui/words'

export interface SiteFormValues {
  id?: string
  name: string
  url: string
  product: Product
  deployment: Deployment
  auth: AuthMode
  email: string
  orgId: string
  /** Scoped tokens: the API gateway; '' for https://api.atlassian.com. */
  gateway: string
  hasSecret: boolean
}

export const NEW_SITE: SiteFormValues = {
  name: '',
  url: '',
  product: 'confluence',
  deployment: 'cloud',
  auth: 'session',
  email: '',
  orgId: '',
  gateway: '',
  hasSecret: false,
}

export function formValuesOf(site: SiteView): SiteFormValues {
  return {
    id: site.id,
    name: site.name ?? '',
    url: site.url,
    product: site.product,
    deployment: site.deployment,
    auth: site.auth,
    email: site.email ?? '',
    orgId: site.orgId ?? '',
    gateway: site.gateway ?? '',
    hasSecret: site.hasSecret,
  }
}

/** Which deployments and sign-in modes make sense for a product (see docs/atlassian-apis.md §g). */
export function deploymentsFor(product: Product): Deployment[] {
  if (product === 'org') return ['cloud']
  if (product === 'bitbucket') return ['dc']
  return ['cloud', 'dc']
}

export function authModesFor(product: Product, deployment: Deployment): AuthMode[] {
  if (product === 'org') return ['org-key']
  if (deployment === 'dc') return ['session', 'pat']
  return ['session', 'basic', 'scoped']
}

const needsEmail = (auth: AuthMode) => auth === 'basic' || auth === 'scoped'
const needsToken = (auth: AuthMode) => auth !== 'session'

/** The form's values made consistent after one of them changed (a product that allows only Cloud, …). */
export function coherent(v: SiteFormValues): SiteFormValues {
  const deployments = deploymentsFor(v.product)
  const deployment = deployments.includes(v.deployment) ? v.deployment : deployments[0]
  const modes = authModesFor(v.product, deployment)
  const auth = modes.includes(v.auth) ? v.auth : modes[0]
  return { ...v, deployment, auth }
}

type Outcome =
  | { kind: 'result'; result: CodedResult }
  | { kind: 'saved'; text: string }
  | { kind: 'error'; text: string }

export function SiteForm(props: { initial: SiteFormValues; onSaved: (site: SiteView) => void; onCancel: () => void }) {
  const id = useId()
  const [values, setValues] = useState<SiteFormValues>(coherent(props.initial))
  const [token, setToken] = useState('')
  const [busy, setBusy] = useState(false)
  const [outcome, setOutcome] = useState<Outcome>()

  const set = (key: keyof SiteFormValues) => (event: Event) => {
    const value = (event.currentTarget as HTMLInputElement | HTMLSelectElement).value
    setValues((v) => coherent({ ...v, [key]: value }))
  }

  const draft = (): SiteDraft | string => {
    const url = normalizeSiteUrl(values.url)
    if (!url) return 'Enter the site URL, for example https://your-site.atlassian.net.'
    if (needsEmail(values.auth) && !values.email.trim()) return 'Enter the email of the Atlassian account.'
    if (needsToken(values.auth) && !token && !values.hasSecret) return 'Enter the token.'
    if (values.product === 'org' && !values.orgId.trim()) return 'Enter the organization ID.'
    let gateway: string | undefined
    if (values.auth === 'scoped' && values.gateway.trim()) {
      gateway = normalizeSiteUrl(values.gateway)
      if (!gateway) return 'Enter the API gateway as a URL, or leave it empty for https://api.atlassian.com.'
    }
    const site: SiteDraft = { url, product: values.product, deployment: values.deployment, auth: values.auth }
    if (values.id) site.id = values.id
    if (values.name.trim()) site.name = values.name.trim()
    if (needsEmail(values.auth)) site.email = values.email.trim()
    if (values.product === 'org') site.orgId = values.orgId.trim()
    if (gateway) site.gateway = gateway
    return site
  }

  /**
   * Host access is asked for inside the click that saves or tests, because browsers only show the
   * permission prompt during a user gesture; a site already allowed resolves at once without a prompt.
   */
  const withAccess = (site: SiteDraft): Promise<boolean> =>
    browser.permissions.request({ origins: siteOrigins(site) }).catch(() => false)

  const save = (event: Event) => {
    event.preventDefault()
    const site = draft()
    if (typeof site === 'string') return setOutcome({ kind: 'error', text: site })
    const access = withAccess(site)
    setBusy(true)
    const secret = needsToken(values.auth) && token ? token : undefined
    send({ type: 'saveSite', site, secret })
      .then(async (saved) => {
        setToken('')
        setValues(formValuesOf(saved))
        const granted = await access
        setOutcome({
          kind: 'saved',
          text: granted
            ? `Saved ${saved.name ?? saved.url}.`
            : `Saved ${saved.name ?? saved.url}, but access to the site was not allowed: it cannot sync until you save it again and allow access.`,
        })
        props.onSaved({ ...saved })
      })
      .catch((e) => setOutcome({ kind: 'error', text: `Not saved: ${errorText(e)}` }))
      .finally(() => setBusy(false))
  }

  const test = () => {
    const site = draft()
    if (typeof site === 'string') return setOutcome({ kind: 'error', text: site })
    const access = withAccess(site)
    setBusy(true)
    setOutcome(undefined)
    access
      .then(() => send({ type: 'testConnection', site, secret: needsToken(values.auth) && token ? token : undefined }))
      .then((result) => setOutcome({ kind: 'result', result }))
      .catch((e) => setOutcome({ kind: 'error', text: errorText(e) }))
      .finally(() => setBusy(false))
  }

  const deployments = deploymentsFor(values.product)
  const modes = authModesFor(values.product, values.deployment)
  return (
    <form class="site-form card" onSubmit={save} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{values.id ? 'Edit site' : 'New site'}</h3>
      <div class="form-grid">
        <div class="field wide-field">
          <label for={`${id}-url`}>Site URL</label>
          <input
            id={`${id}-url`}
            type="url"
            value={values.url}
            onInput={set('url')}
            placeholder={values.product === 'org' ? 'https://api.atlassian.com' : 'https://your-site.atlassian.net'}
            required
            autocomplete="url"
          />
        </div>
        <div class="field">
          <label for={`${id}-product`}>Product</label>
          <select id={`${id}-product`} value={values.product} onChange={set('product')}>
            {Object.entries(PRODUCT_LABELS).map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={`${id}-deployment`}>Deployment</label>
          <select id={`${id}-deployment`} value={values.deployment} onChange={set('deployment')}>
            {(['cloud', 'dc'] as const).map((d) => (
              <option key={d} value={d} disabled={!deployments.includes(d)}>
                {DEPLOYMENT_LABELS[d]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={`${id}-auth`}>Authentication</label>
          <select id={`${id}-auth`} value={values.auth} onChange={set('auth')}>
            {(Object.keys(AUTH_LABELS) as AuthMode[]).map((m) => (
              <option key={m} value={m} disabled={!modes.includes(m)}>
                {AUTH_LABELS[m]}
              </option>
            ))}
          </select>
        </div>
        {values.product === 'org' && (
          <div class="field">
            <label for={`${id}-org`}>Organization ID</label>
            <input id={`${id}-org`} type="text" value={values.orgId} onInput={set('orgId')} spellcheck={false} />
          </div>
        )}
        {values.auth === 'scoped' && (
          <div class="field">
            <label for={`${id}-gateway`}>API gateway</label>
            <input
              id={`${id}-gateway`}
              type="url"
              value={values.gateway}
              onInput={set('gateway')}
              placeholder="https://api.atlassian.com"
              spellcheck={false}
            />
          </div>
        )}
        {needsEmail(values.auth) && (
          <div class="field">
            <label for={`${id}-email`}>Email</label>
            <input
              id={`${id}-email`}
              type="email"
              value={values.email}
              onInput={set('email')}
              autocomplete="username"
            />
          </div>
        )}
        {needsToken(values.auth) && (
          <div class="field">
            <label for={`${id}-token`}>Token</label>
            <input
              id={`${id}-token`}
              type="password"
              value={token}
              onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
              placeholder={values.hasSecret ? 'Stored; type a new one to replace it' : ''}
              autocomplete="new-password"
              spellcheck={false}
              aria-describedby={`${id}-token-help`}
            />
            <small id={`${id}-token-help`} class="muted">
              Kept in this browser’s extension storage and sent only to this site.
            </small>
          </div>
        )}
        <div class="field">
          <label for={`${id}-name`}>Name (optional)</label>
          <input id={`${id}-name`} type="text" value={values.name} onInput={set('name')} />
        </div>
      </div>
      {values.auth === 'session' && (
        <p class="muted">Uses the browser’s sign-in to the site: stay logged in there with an administrator account.</p>
      )}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          Save site
        </button>
        <button type="button" onClick={test} disabled={busy}>
          Test connection
        </button>
        <button type="button" onClick={props.onCancel}>
          Close
        </button>
      </div>
      <div role="status" class="form-status" aria-live="polite">
        {busy && <span class="muted">Working…</span>}
        {!busy && outcome && <OutcomeText outcome={outcome} />}
      </div>
    </form>
  )
}

function OutcomeText({ outcome }: { outcome: Outcome }) {
  if (outcome.kind === 'saved') return <p class="notice good">{outcome.text}</p>
  if (outcome.kind === 'error') return <p class="notice bad">{outcome.text}</p>
  const words = wordsFor(outcome.result.code)
  return (
    <div class={`notice ${words.tone}`} data-code={outcome.result.code}>
      <strong>{words.headline}</strong>
      {outcome.result.message && outcome.result.message !== words.headline && <span>: {outcome.result.message}</span>}
      {words.advice && outcome.result.code !== 'ok' && <div class="muted">{words.advice}</div>}
    </div>
  )
}
