// Collectors (SIEM push): list with backlog / last success / last error, "Push now", add, edit, remove.
import { useId, useState } from 'preact/hooks'
import browser from 'webextension-polyfill'
import type { Product } from '../../core/model'
import type { CollectorAuthScheme, SinkKind } from '../../core/sinks/sink'
import type { CollectorDraft, CollectorStatusView, CollectorView, SiteView } from '../messages'
import { send } from '../messages'
import { CollectorStatusLine } from '../ui/CollectorStatusLine'
import { siteLabel } from '../ui/FilterBar'
import { formatCount, PRODUCT_LABELS } from '../ui/format'
import { errorText } from '../ui/words'

export const SINK_LABELS: Record<SinkKind, string> = {
  elasticsearch: 'Elasticsearch / OpenSearch',
  'splunk-hec': 'Splunk HTTP Event Collector',
  'http-ndjson': 'HTTP NDJSON (Logstash, Vector, Fluent Bit, Cribl, webhook)',
}

export const COLLECTOR_AUTH_LABELS: Record<CollectorAuthScheme, string> = {
  none: 'None',
  basic: 'Basic (user name and password)',
  bearer: 'Bearer token',
  apikey: 'Elasticsearch API key',
  splunk: 'Splunk HEC token',
  header: 'Custom header',
}

const URL_HINT: Record<SinkKind, string> = {
  elasticsearch: 'Cluster base URL, e.g. https://es.example.com:9200 (requests go to /_bulk)',
  'splunk-hec': 'HEC base URL, e.g. https://splunk.example.com:8088',
  'http-ndjson': 'Full endpoint URL',
}

interface Values {
  id?: string
  name: string
  kind: SinkKind
  url: string
  auth: CollectorAuthScheme
  username: string
  headerName: string
  namespace: string
  /** Extra request headers, one `Name: value` a line. */
  headers: string
  splunkIndex: string
  splunkSourcetype: string
  batchSize: string
  gzip: boolean
  enabled: boolean
  siteUrls: string[]
  products: Product[]
  hasSecret: boolean
}

const NEW_COLLECTOR: Values = {
  name: '',
  kind: 'elasticsearch',
  url: '',
  auth: 'apikey',
  username: '',
  headerName: '',
  namespace: 'default',
  headers: '',
  splunkIndex: '',
  splunkSourcetype: '',
  batchSize: '',
  gzip: false,
  enabled: true,
  siteUrls: [],
  products: [],
  hasSecret: false,
}

function valuesOf(c: CollectorView): Values {
  return {
    id: c.id,
    name: c.name ?? '',
    kind: c.kind,
    url: c.url,
    auth: c.auth.scheme,
    username: c.auth.username ?? '',
    headerName: c.auth.headerName ?? '',
    namespace: c.namespace ?? 'default',
    headers: Object.entries(c.headers ?? {})
      .map(([k, val]) => `${k}: ${val}`)
      .join('\n'),
    splunkIndex: c.splunkIndex ?? '',
    splunkSourcetype: c.splunkSourcetype ?? '',
    batchSize: c.batchSize ? String(c.batchSize) : '',
    gzip: Boolean(c.gzip),
    enabled: c.enabled !== false,
    siteUrls: c.filter?.sites ?? [],
    products: c.filter?.products ?? [],
    hasSecret: c.hasSecret,
  }
}

export function Collectors(props: {
  collectors: CollectorView[]
  statuses: CollectorStatusView[]
  sites: SiteView[]
  onChanged: () => void
}) {
  const [editing, setEditing] = useState<Values>()
  const [message, setMessage] = useState('')
  const byId = new Map(props.statuses.map((s) => [s.collectorId, s]))

  const pushNow = async (collectorId?: string) => {
    try {
      const { started } = await send({ type: 'pushNow', collectorId })
      setMessage(started.length ? 'Delivery started.' : 'Nothing to deliver.')
      props.onChanged()
    } catch (e) {
      setMessage(`Push failed: ${errorText(e)}`)
    }
  }
  const requeue = async (c: CollectorView) => {
    try {
      const { requeued } = await send({ type: 'requeueRejected', collectorId: c.id })
      setMessage(
        requeued
          ? `${formatCount(requeued)} rejected events queued again for ${c.name || c.url}.`
          : 'Nothing rejected.',
      )
      props.onChanged()
    } catch (e) {
      setMessage(`Not queued again: ${errorText(e)}`)
    }
  }
  const remove = async (c: CollectorView) => {
    try {
      await send({ type: 'removeCollector', collectorId: c.id })
      setMessage(`Removed ${c.name || c.url}, its stored secret and its queue.`)
      props.onChanged()
    } catch (e) {
      setMessage(`Not removed: ${errorText(e)}`)
    }
  }

  return (
    <>
      {props.collectors.length === 0 && <p class="muted">No collector: events stay in this browser.</p>}
      <ul class="site-list">
        {props.collectors.map((c) => (
          <li key={c.id} class="card" data-collector-id={c.id}>
            <div class="row">
              <strong>{c.name || c.url}</strong>
              <span class="muted">
                {SINK_LABELS[c.kind]}
                {c.enabled ? '' : ' · paused'}
              </span>
              <span class="spacer" />
              <button type="button" onClick={() => pushNow(c.id)} aria-label={`Push now to ${c.name || c.url}`}>
                Push now
              </button>
              {(byId.get(c.id)?.rejectedBacklog ?? 0) > 0 && (
                <button
                  type="button"
                  onClick={() => requeue(c)}
                  aria-label={`Send the rejected events to ${c.name || c.url} again`}
                >
                  Retry rejected
                </button>
              )}
              <button type="button" onClick={() => setEditing(valuesOf(c))} aria-label={`Edit ${c.name || c.url}`}>
                Edit
              </button>
              <button type="button" class="danger" onClick={() => remove(c)} aria-label={`Remove ${c.name || c.url}`}>
                Remove
              </button>
            </div>
            <CollectorStatusLine status={byId.get(c.id)} />
          </li>
        ))}
      </ul>
      {editing ? (
        <CollectorForm
          initial={editing}
          sites={props.sites}
          onDone={(text) => {
            setEditing(undefined)
            if (text) setMessage(text)
            props.onChanged()
          }}
        />
      ) : (
        <button type="button" onClick={() => setEditing({ ...NEW_COLLECTOR })}>
          Add collector
        </button>
      )}
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
    </>
  )
}

function CollectorForm(props: { initial: Values; sites: SiteView[]; onDone: (message?: string) => void }) {
  const id = useId()
  const [v, setV] = useState(props.initial)
  const [secret, setSecret] = useState('')
  const [error, setError] = useState('')
  const set = (key: keyof Values) => (e: Event) =>
    setV((prev) => ({
      ...prev,
      [key]: (e.currentTarget as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value,
    }))
  const toggle = <T extends string>(list: T[], value: T, on: boolean) =>
    on ? [...new Set([...list, value])] : list.filter((x) => x !== value)

  const save = (e: Event) => {
    e.preventDefault()
    let url: URL
    try {
      url = new URL(v.url.trim())
    } catch {
      return setError('Enter the collector URL.')
    }
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      return setError('Use https:// (plain http:// is allowed only for this computer: localhost, 127.0.0.1).')
    }
    const draft: CollectorDraft = {
      kind: v.kind,
      url: url.href.replace(/\/$/, ''),
      auth: { scheme: v.auth },
      enabled: v.enabled,
      gzip: v.gzip,
      filter: {
        sites: v.siteUrls.length ? v.siteUrls : undefined,
        products: v.products.length ? v.products : undefined,
      },
    }
    if (v.id) draft.id = v.id
    if (v.name.trim()) draft.name = v.name.trim()
    if (v.auth === 'basic') draft.auth.username = v.username.trim()
    if (v.auth === 'header') draft.auth.headerName = v.headerName.trim()
    if (v.kind === 'elasticsearch') draft.namespace = v.namespace.trim() || 'default'
    if (v.kind === 'splunk-hec') {
      if (v.splunkIndex.trim()) draft.splunkIndex = v.splunkIndex.trim()
      if (v.splunkSourcetype.trim()) draft.splunkSourcetype = v.splunkSourcetype.trim()
    }
    const headers: Record<string, string> = {}
    for (const line of v.headers.split('\n')) {
      if (!line.trim()) continue
      const colon = line.indexOf(':')
      if (colon <= 0) return setError(`Extra headers: write one "Name: value" a line (not "${line.trim()}").`)
      headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim()
    }
    if (Object.keys(headers).length) draft.headers = headers
    const batch = Number(v.batchSize)
    if (batch > 0) draft.batchSize = Math.floor(batch)
    // Requested inside the click: the browser shows the prompt only during a user gesture.
    const access = browser.permissions.request({ origins: [`${url.protocol}//${url.hostname}/*`] }).catch(() => false)
    send({ type: 'saveCollector', collector: draft, secret: v.auth !== 'none' && secret ? secret : undefined })
      .then(async (saved) => {
        setSecret('')
        const granted = await access
        props.onDone(
          granted
            ? `Saved ${saved.name || saved.url}.`
            : `Saved ${saved.name || saved.url}, but access to it was not allowed: delivery waits until you allow it.`,
        )
      })
      .catch((err) => setError(`Not saved: ${errorText(err)}`))
  }

  return (
    <form class="card" onSubmit={save} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{v.id ? 'Edit collector' : 'New collector'}</h3>
      <div class="form-grid">
        <div class="field">
          <label for={`${id}-kind`}>Collector type</label>
          <select id={`${id}-kind`} value={v.kind} onChange={set('kind')}>
            {Object.entries(SINK_LABELS).map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field wide-field">
          <label for={`${id}-url`}>Collector URL</label>
          <input
            id={`${id}-url`}
            type="url"
            value={v.url}
            onInput={set('url')}
            placeholder={URL_HINT[v.kind]}
            required
          />
        </div>
        <div class="field">
          <label for={`${id}-auth`}>Collector authentication</label>
          <select id={`${id}-auth`} value={v.auth} onChange={set('auth')}>
            {Object.entries(COLLECTOR_AUTH_LABELS).map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {v.auth === 'basic' && (
          <div class="field">
            <label for={`${id}-user`}>User name</label>
            <input id={`${id}-user`} type="text" value={v.username} onInput={set('username')} autocomplete="off" />
          </div>
        )}
        {v.auth === 'header' && (
          <div class="field">
            <label for={`${id}-header`}>Header name</label>
            <input id={`${id}-header`} type="text" value={v.headerName} onInput={set('headerName')} />
          </div>
        )}
        {v.auth !== 'none' && (
          <div class="field">
            <label for={`${id}-secret`}>Collector secret</label>
            <input
              id={`${id}-secret`}
              type="password"
              value={secret}
              onInput={(e) => setSecret((e.currentTarget as HTMLInputElement).value)}
              placeholder={v.hasSecret ? 'Stored; type a new one to replace it' : ''}
              autocomplete="new-password"
            />
          </div>
        )}
        {v.kind === 'elasticsearch' && (
          <div class="field">
            <label for={`${id}-ns`}>Data stream namespace</label>
            <input id={`${id}-ns`} type="text" value={v.namespace} onInput={set('namespace')} />
          </div>
        )}
        {v.kind === 'splunk-hec' && (
          <>
            <div class="field">
              <label for={`${id}-index`}>Splunk index (optional)</label>
              <input id={`${id}-index`} type="text" value={v.splunkIndex} onInput={set('splunkIndex')} />
            </div>
            <div class="field">
              <label for={`${id}-sourcetype`}>Splunk sourcetype (optional)</label>
              <input
                id={`${id}-sourcetype`}
                type="text"
                value={v.splunkSourcetype}
                onInput={set('splunkSourcetype')}
                placeholder="atlassian:audit:ecs"
              />
            </div>
          </>
        )}
        <div class="field wide-field">
          <label for={`${id}-headers`}>
            Extra headers (optional, one "Name: value" a line; not for secrets: use a Custom header authentication)
          </label>
          <textarea id={`${id}-headers`} rows={2} value={v.headers} onInput={set('headers')} spellcheck={false} />
        </div>
        <div class="field">
          <label for={`${id}-batch`}>Batch size (events)</label>
          <input
            id={`${id}-batch`}
            type="number"
            min={1}
            value={v.batchSize}
            onInput={set('batchSize')}
            placeholder="default"
          />
        </div>
        <div class="field">
          <label for={`${id}-name`}>Collector name (optional)</label>
          <input id={`${id}-name`} type="text" value={v.name} onInput={set('name')} />
        </div>
      </div>
      <div class="row">
        <label class="check">
          <input
            type="checkbox"
            checked={v.gzip}
            onChange={(e) => setV({ ...v, gzip: (e.currentTarget as HTMLInputElement).checked })}
          />{' '}
          Compress (gzip)
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={v.enabled}
            onChange={(e) => setV({ ...v, enabled: (e.currentTarget as HTMLInputElement).checked })}
          />{' '}
          Enabled
        </label>
      </div>
      <fieldset>
        <legend>Send events of (none checked = all)</legend>
        <div class="row">
          {props.sites.map((s) => (
            <label key={s.id} class="check">
              <input
                type="checkbox"
                checked={v.siteUrls.includes(s.url)}
                onChange={(e) =>
                  setV({ ...v, siteUrls: toggle(v.siteUrls, s.url, (e.currentTarget as HTMLInputElement).checked) })
                }
              />{' '}
              {siteLabel(s)}
            </label>
          ))}
        </div>
        <div class="row">
          {(Object.keys(PRODUCT_LABELS) as Product[]).map((p) => (
            <label key={p} class="check">
              <input
                type="checkbox"
                checked={v.products.includes(p)}
                onChange={(e) =>
                  setV({ ...v, products: toggle(v.products, p, (e.currentTarget as HTMLInputElement).checked) })
                }
              />{' '}
              {PRODUCT_LABELS[p]}
            </label>
          ))}
        </div>
      </fieldset>
      <div class="row">
        <button type="submit" class="primary">
          Save collector
        </button>
        <button type="button" onClick={() => props.onDone()}>
          Close
        </button>
      </div>
      <div role="status" aria-live="polite">
        {error && <p class="notice bad">{error}</p>}
      </div>
    </form>
  )
}
