// The dashboard: events over time, top and rarest actions, top users and source IPs, failed logins and
// permission changes, all over the same filters as the popup (the filter lives in the page URL).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import type { Aggregates, Facets, SiteView, StoredEvent } from '../messages'
import { send } from '../messages'
import { archive } from '../ui/archive'
import { EventDetail } from '../ui/EventDetail'
import { FilterBar, siteLabel } from '../ui/FilterBar'
import { type FilterState, filterFromSearch, filterToSearch, toEventFilter } from '../ui/filter'
import { formatCount, formatTime } from '../ui/format'
import { useDebounced } from '../ui/hooks'
import { errorText } from '../ui/words'
import { RankedList } from './RankedList'
import { TimeChart } from './TimeChart'

export function Dashboard() {
  const [filter, setFilter] = useState<FilterState>(() => filterFromSearch(location.search))
  const settled = useDebounced(filter, 300)
  const [sites, setSites] = useState<SiteView[]>([])
  const [facets, setFacets] = useState<Facets>()
  const [data, setData] = useState<Aggregates>()
  const [loading, setLoading] = useState(true)
  const [error, setError] = useState('')
  const [detail, setDetail] = useState<StoredEvent>()
  const generation = useRef(0)
  const siteNames = useMemo(() => new Map(sites.map((s) => [s.id, siteLabel(s)])), [sites])

  useEffect(() => {
    send({ type: 'listSites' }).then(setSites, () => {})
    archive()
      .facets()
      .then(setFacets, () => {})
  }, [])

  useEffect(() => {
    history.replaceState(null, '', `${location.pathname}${filterToSearch(filter)}`)
  }, [filter])

  useEffect(() => {
    const gen = ++generation.current
    setLoading(true)
    archive()
      .aggregate(toEventFilter(settled), { bucket: 'auto', top: 10 })
      .then(
        (result) => {
          if (gen !== generation.current) return
          setData(result)
          setError('')
        },
        (e) => gen === generation.current && setError(errorText(e)),
      )
      .finally(() => gen === generation.current && setLoading(false))
  }, [settled])

  const pick = (key: keyof FilterState) => (value: string) => setFilter((f) => ({ ...f, [key]: value }))

  return (
    <main class="dashboard">
      <header class="row">
        <h1>Audit dashboard</h1>
        <span class="spacer" />
        <p role="status" aria-live="polite" class="muted">
          {loading
            ? 'Computing…'
            : data
              ? `${formatCount(data.total)} events${data.sampled ? ' (figures from the newest matching events only)' : ''}`
              : ''}
        </p>
      </header>
      <FilterBar value={filter} onChange={setFilter} sites={sites} facets={facets} />
      {error && (
        <p class="notice bad" role="alert">
          {error}
        </p>
      )}
      {detail && (
        <div class="card">
          <EventDetail
            event={detail}
            siteName={siteNames.get(detail.siteId) ?? detail.siteId}
            onClose={() => setDetail(undefined)}
          />
        </div>
      )}
      {data && (
        <>
          <section class="panel" aria-labelledby="over-time">
            <h2 id="over-time">Events over time (per {data.bucket}, UTC)</h2>
            <TimeChart buckets={data.overTime} bucket={data.bucket} />
          </section>
          <div class="panels">
            <RankedList title="Top actions" values={data.topActions} onPick={pick('action')} />
            <RankedList title="Rarest actions" values={data.rarestActions} onPick={pick('action')} />
            <RankedList title="Top users" values={data.topUsers} onPick={pick('user')} />
            <RankedList title="Top source IPs" values={data.topIps} onPick={pick('ip')} />
          </div>
          <div class="panels two">
            <EventsPanel
              title="Failed logins"
              count={data.failedLogins.count}
              events={data.failedLogins.recent}
              siteNames={siteNames}
              onOpen={setDetail}
            />
            <EventsPanel
              title="Permission changes"
              count={data.permissionChanges.count}
              events={data.permissionChanges.recent}
              siteNames={siteNames}
              onOpen={setDetail}
            />
          </div>
        </>
      )}
    </main>
  )
}

function EventsPanel(props: {
  title: string
  count: number
  events: StoredEvent[]
  siteNames: Map<string, string>
  onOpen: (event: StoredEvent) => void
}) {
  const id = `panel-${props.title.replace(/\W+/g, '-').toLowerCase()}`
  return (
    <section class="panel" aria-labelledby={id}>
      <h2 id={id}>
        {props.title} <span class="big">{formatCount(props.count)}</span>
      </h2>
      {props.events.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <table class="events">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Action</th>
              <th scope="col">User</th>
              <th scope="col">Source IP</th>
            </tr>
          </thead>
          <tbody>
            {props.events.map((e) => (
              <tr key={e.key}>
                <td>{formatTime(e.ts)}</td>
                <td>
                  <button type="button" class="link" onClick={() => props.onOpen(e)}>
                    {e.action || '(no action)'}
                  </button>
                </td>
                <td>{e.user || '—'}</td>
                <td>{e.ip || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.count > props.events.length && <p class="muted">Newest {props.events.length} shown.</p>}
    </section>
  )
}
