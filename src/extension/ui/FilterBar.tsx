// The filter controls (popup and dashboard): every control has a visible label, values combine with AND.
import { useEffect, useId, useState } from 'preact/hooks'
import type { Facets, FacetValue, SiteView } from '../messages'
import { archive } from './archive'
import { EMPTY_FILTER, type FilterState, isFiltered, TIME_RANGES } from './filter'
import { formatCount, PRODUCT_LABELS, productLabel } from './format'

const DATALIST_LIMIT = 200
/** IPs have no maintained counters (db.ts): suggestions come from the newest events only. */
const IP_SUGGESTION_SAMPLE = 2000

export interface FilterBarProps {
  value: FilterState
  onChange: (next: FilterState) => void
  sites: SiteView[]
  facets?: Facets
  compact?: boolean
}

export function siteLabel(site: SiteView): string {
  if (site.name) return site.name
  try {
    const u = new URL(site.url)
    return `${u.host}${u.pathname === '/' ? '' : u.pathname} · ${productLabel(site.product)}`
  } catch {
    return site.url
  }
}

export function FilterBar({ value, onChange, sites, facets, compact }: FilterBarProps) {
  const id = useId()
  const set = (key: keyof FilterState) => (event: Event) =>
    onChange({ ...value, [key]: (event.currentTarget as HTMLInputElement | HTMLSelectElement).value })
  const withCount = (f: FacetValue) => `${f.value} (${formatCount(f.count)})`
  const [recentIps, setRecentIps] = useState<FacetValue[]>([])
  // Reloaded whenever the page reloads its facets (new events arrived).
  useEffect(() => {
    let current = true
    archive()
      .recentIps(IP_SUGGESTION_SAMPLE, DATALIST_LIMIT)
      .then(
        (ips) => current && setRecentIps(ips),
        () => {},
      )
    return () => {
      current = false
    }
  }, [facets])

  return (
    <search>
      <form class={compact ? 'filters compact' : 'filters'} onSubmit={(e) => e.preventDefault()}>
        <div class="field search">
          <label for={`${id}-text`}>Search</label>
          <input
            id={`${id}-text`}
            type="search"
            value={value.text}
            onInput={set('text')}
            placeholder="action, user, IP, message…"
          />
        </div>
        <div class="field">
          <label for={`${id}-range`}>Time range</label>
          <select id={`${id}-range`} value={value.range} onChange={set('range')}>
            {TIME_RANGES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        {value.range === 'custom' && (
          <>
            <div class="field">
              <label for={`${id}-from`}>From</label>
              <input id={`${id}-from`} type="datetime-local" value={value.from} onInput={set('from')} />
            </div>
            <div class="field">
              <label for={`${id}-to`}>To</label>
              <input id={`${id}-to`} type="datetime-local" value={value.to} onInput={set('to')} />
            </div>
          </>
        )}
        <div class="field">
          <label for={`${id}-site`}>Site</label>
          <select id={`${id}-site`} value={value.site} onChange={set('site')}>
            <option value="">All sites</option>
            {sites.map((s) => (
              <option key={s.id} value={s.id}>
                {siteLabel(s)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={`${id}-product`}>Product</label>
          <select id={`${id}-product`} value={value.product} onChange={set('product')}>
            <option value="">All products</option>
            {Object.entries(PRODUCT_LABELS).map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={`${id}-category`}>Category</label>
          <select id={`${id}-category`} value={value.category} onChange={set('category')}>
            <option value="">All categories</option>
            {(facets?.categories ?? []).map((f) => (
              <option key={f.value} value={f.value}>
                {withCount(f)}
              </option>
            ))}
            {value.category && !facets?.categories.some((f) => f.value === value.category) && (
              <option value={value.category}>{value.category}</option>
            )}
          </select>
        </div>
        <TextFacet
          id={`${id}-action`}
          label="Action"
          value={value.action}
          onInput={set('action')}
          values={facets?.actions}
        />
        <TextFacet id={`${id}-user`} label="User" value={value.user} onInput={set('user')} values={facets?.users} />
        <TextFacet
          id={`${id}-ip`}
          label="Source IP"
          value={value.ip}
          onInput={set('ip')}
          values={facets?.ips.length ? facets.ips : recentIps}
        />
        {isFiltered(value) && (
          <button type="button" class="link" onClick={() => onChange({ ...EMPTY_FILTER })}>
            Clear filters
          </button>
        )}
      </form>
    </search>
  )
}

function TextFacet(props: {
  id: string
  label: string
  value: string
  onInput: (event: Event) => void
  values?: FacetValue[]
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="text"
        value={props.value}
        onInput={props.onInput}
        list={`${props.id}-list`}
        autocomplete="off"
        spellcheck={false}
      />
      <datalist id={`${props.id}-list`}>
        {(props.values ?? []).slice(0, DATALIST_LIMIT).map((f) => (
          <option key={f.value} value={f.value} />
        ))}
      </datalist>
    </div>
  )
}
