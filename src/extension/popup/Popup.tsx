// The toolbar popup: newest events first, filters, detail, "Sync now", per-site status and export.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import browser from 'webextension-polyfill'
import { exportFileName, exportNdjson, saveBlob } from '../export'
import { canStreamExport, streamExport } from '../export-stream'
import type {
  CollectorStatusView,
  CollectorView,
  EventCount,
  ExportFormat,
  Facets,
  PageCursor,
  Settings,
  SiteView,
  StatusReport,
  StoredEvent,
} from '../messages'
import { send } from '../messages'
import { archive } from '../ui/archive'
import { EventDetail } from '../ui/EventDetail'
import { EventGrid, type EventRow } from '../ui/EventGrid'
import { FilterBar, siteLabel } from '../ui/FilterBar'
import { EMPTY_FILTER, type FilterState, filterToSearch, isFiltered, toEventFilter } from '../ui/filter'
import { formatCount } from '../ui/format'
import { useDebounced, useInterval } from '../ui/hooks'
import { openPage } from '../ui/pages'
import { SiteStatusList, SyncProgress } from '../ui/SiteStatusList'
import { errorText } from '../ui/words'
import { AddThisSite } from './AddThisSite'
import { CollectorsStatus } from './CollectorsStatus'

const PAGE_SIZE = 100

const exportedNotice = (events: number, bytes: number, format: ExportFormat) =>
  `Exported ${formatCount(events)} events (${formatCount(Math.ceil(bytes / 1024))} KB, ${format === 'raw' ? 'raw Atlassian records' : 'ECS'}).`
/** Rows kept in memory while scrolling back in time; beyond this, narrow the filter or export. */
const MAX_LOADED_ROWS = 100_000
/** Filtered counts beyond counters/index ranges read rows; capped so a count never costs seconds: "1,000+". */
const COUNT_CAP = 1_000

interface ListState {
  rows: EventRow[]
  next?: PageCursor
  loading: boolean
  truncated: boolean
  error?: string
}

export function Popup() {
  const [sites, setSites] = useState<SiteView[]>([])
  const [status, setStatus] = useState<StatusReport>()
  const [facets, setFacets] = useState<Facets>()
  const [settings, setSettings] = useState<Settings>()
  const [collectors, setCollectors] = useState<CollectorView[]>([])
  const [collectorStatus, setCollectorStatus] = useState<CollectorStatusView[]>([])
  const [filter, setFilter] = useState<FilterState>(() => ({ ...EMPTY_FILTER }))
  const settled = useDebounced(filter, 250)
  const [list, setList] = useState<ListState>({ rows: [], loading: true, truncated: false })
  const [count, setCount] = useState<EventCount>()
  const [detail, setDetail] = useState<StoredEvent>()
  const [notice, setNotice] = useState<string>('')
  const [exporting, setExporting] = useState<{ events: number; abort: AbortController }>()
  const generation = useRef(0)

  const siteNames = useMemo(() => new Map(sites.map((s) => [s.id, siteLabel(s)])), [sites])
  const running = status?.sites.some((s) => s.running) ?? false

  const toRow = useCallback(
    (e: StoredEvent): EventRow => ({
      key: e.key,
      ts: e.ts,
      action: e.action,
      user: e.user,
      ip: e.ip,
      outcome: e.outcome,
      product: e.product,
      site: siteNames.get(e.siteId) ?? '',
    }),
    [siteNames],
  )

  useEffect(() => {
    send({ type: 'popupOpened' }).catch(() => {})
    send({ type: 'listSites' }).then(setSites, (e) => setNotice(errorText(e)))
    send({ type: 'getSettings' }).then(setSettings, () => {})
    send({ type: 'listCollectors' }).then(setCollectors, () => {})
    archive()
      .facets()
      .then(setFacets, () => {})
  }, [])

  const [reloadTick, setReloadTick] = useState(0)
  // New events reload the list, but not under the admin's hands while a sync runs (the status is polled every
  // 700 ms then, and each reload would throw away the pages loaded and the scroll position): during a run only
  // an empty list is reloaded; the rest waits for the end of the run.
  const listEmpty = useRef(true)
  listEmpty.current = list.rows.length === 0
  const reloadPending = useRef(false)
  const refreshStatus = useCallback(() => {
    send({ type: 'getStatus' }).then(
      (next) =>
        setStatus((prev) => {
          if (!prev) return next
          const runningNow = next.sites.some((s) => s.running)
          if (prev.totalEvents !== next.totalEvents) reloadPending.current = true
          if (reloadPending.current && (!runningNow || listEmpty.current)) {
            reloadPending.current = false
            setReloadTick((t) => t + 1)
          }
          return next
        }),
      () => {},
    )
    if (collectors.length) send({ type: 'getCollectorStatus' }).then(setCollectorStatus, () => {})
  }, [collectors.length])
  useInterval(refreshStatus, running ? 700 : 4000)

  // First page (and count) whenever the filter settles or new events arrived.
  useEffect(() => {
    const gen = ++generation.current
    const eventFilter = toEventFilter(settled)
    setList((l) => ({ ...l, loading: true, error: undefined }))
    archive()
      .recentEvents(eventFilter, { limit: PAGE_SIZE })
      .then(
        (page) => {
          if (gen !== generation.current) return
          setList({ rows: page.events.map(toRow), next: page.next, loading: false, truncated: page.truncated })
        },
        (e) =>
          gen === generation.current && setList({ rows: [], loading: false, truncated: false, error: errorText(e) }),
      )
    if (isFiltered(settled)) {
      archive()
        .countEvents(eventFilter, COUNT_CAP)
        .then(
          (c) => gen === generation.current && setCount(c),
          () => {},
        )
    } else setCount(undefined)
    if (reloadTick > 0) {
      archive()
        .facets()
        .then(setFacets, () => {})
    }
  }, [settled, reloadTick, toRow])

  const loadMore = useCallback(() => {
    const cursor = list.next
    if (!cursor || list.loading || list.rows.length >= MAX_LOADED_ROWS) return
    const gen = generation.current
    setList((l) => ({ ...l, loading: true }))
    archive()
      .recentEvents(toEventFilter(settled), { limit: PAGE_SIZE, before: cursor })
      .then(
        (page) => {
          if (gen !== generation.current) return
          setList((l) => ({
            rows: l.rows.concat(page.events.map(toRow)),
            next: page.next,
            loading: false,
            truncated: page.truncated,
          }))
        },
        (e) => gen === generation.current && setList((l) => ({ ...l, loading: false, error: errorText(e) })),
      )
  }, [list, settled, toRow])

  // A search that stopped at its scan limit before finding anything goes on by itself ("Searching older
  // events…"): with no row there is no list to scroll, and stopping there would look like "no match".
  useEffect(() => {
    if (!list.loading && !list.error && list.rows.length === 0 && list.next) loadMore()
  }, [list, loadMore])

  const openDetail = useCallback(async (row: EventRow) => {
    const event = await archive().getEvent(row.key)
    if (event) setDetail(event)
    else setNotice('This event is no longer stored (retention removed it).')
  }, [])

  const syncNow = async () => {
    setNotice('')
    try {
      const { started } = await send({ type: 'syncNow' })
      setNotice(started.length ? '' : 'Nothing to sync: add a site in Settings first.')
      refreshStatus()
    } catch (e) {
      setNotice(errorText(e))
    }
  }

  const exportFiltered = async () => {
    const format = settings?.exportFormat ?? 'ecs'
    const abort = new AbortController()
    setExporting({ events: 0, abort })
    setNotice('')
    try {
      if (canStreamExport()) {
        // Chromium: the service worker streams the file to disk (export-stream.ts).
        const { events, bytes } = await streamExport(
          { id: crypto.randomUUID(), filter: toEventFilter(filter), format },
          { signal: abort.signal, onProgress: (events) => setExporting({ events, abort }) },
        )
        setNotice(exportedNotice(events, bytes, format))
        return
      }
      // Firefox: a Blob of per-page Blobs (export.ts), saved through an <a download> link.
      const { blob, events, bytes } = await exportNdjson(archive(), toEventFilter(filter), format, {
        signal: abort.signal,
        onProgress: (p) => setExporting({ events: p.events, abort }),
      })
      saveBlob(blob, exportFileName(format))
      setNotice(exportedNotice(events, bytes, format))
    } catch (e) {
      setNotice(abort.signal.aborted ? 'Export cancelled.' : `Export failed: ${errorText(e)}`)
    } finally {
      setExporting(undefined)
    }
  }

  const total = status?.totalEvents ?? 0
  const statusText = exporting
    ? `Exporting… ${formatCount(exporting.events)} events written`
    : list.loading && list.rows.length === 0
      ? 'Loading events…'
      : count
        ? `${formatCount(count.count)}${count.exact ? '' : '+'} matching events of ${formatCount(total)} stored`
        : `${formatCount(total)} events stored`

  return (
    <main class="popup">
      <header class="row">
        <h1>Atlassian audit log</h1>
        <span class="spacer" />
        <button type="button" class="primary" onClick={syncNow} disabled={running}>
          Sync now
        </button>
        <button type="button" onClick={() => openPage('options')}>
          Settings
        </button>
      </header>
      <SyncProgress statuses={status?.sites ?? []} />
      <AddThisSite sites={sites} onAdded={(site) => setSites((s) => [...s.filter((x) => x.id !== site.id), site])} />
      {sites.length === 0 ? (
        <p class="notice">
          No site yet. Open a Confluence, Jira, Bitbucket or Atlassian Administration tab and click “Add this site”, or
          add one in{' '}
          <button type="button" class="link" onClick={() => openPage('options')}>
            Settings
          </button>
          .
        </p>
      ) : (
        <details class="sites">
          <summary>Sites ({sites.length})</summary>
          <SiteStatusList sites={sites} statuses={status?.sites ?? []} />
        </details>
      )}
      <CollectorsStatus collectors={collectors} statuses={collectorStatus} onPushed={refreshStatus} />
      {detail ? (
        <EventDetail
          event={detail}
          siteName={siteNames.get(detail.siteId) ?? detail.siteId}
          onClose={() => setDetail(undefined)}
        />
      ) : (
        <>
          <FilterBar value={filter} onChange={setFilter} sites={sites} facets={facets} compact />
          {(list.rows.length > 0 || list.loading) && (
            <EventGrid
              rows={list.rows}
              hasMore={Boolean(list.next) && list.rows.length < MAX_LOADED_ROWS}
              loading={list.loading}
              onNeedMore={loadMore}
              onOpen={openDetail}
              label="Audit events, newest first"
            />
          )}
          {!list.loading && list.rows.length === 0 && (
            <p class="empty">
              {list.error ??
                (list.next
                  ? 'Searching older events…'
                  : isFiltered(filter)
                    ? 'No event matches these filters.'
                    : 'No events stored yet.')}
            </p>
          )}
          {list.rows.length >= MAX_LOADED_ROWS && (
            <p class="muted">
              Showing the newest {formatCount(MAX_LOADED_ROWS)} matches: narrow the filters or export for more.
            </p>
          )}
        </>
      )}
      <footer class="row">
        <p role="status" class="counts" aria-live="polite">
          {statusText}
        </p>
        <span class="spacer" />
        {exporting ? (
          <button type="button" onClick={() => exporting.abort.abort()}>
            Cancel export
          </button>
        ) : (
          <button type="button" onClick={exportFiltered}>
            Export NDJSON
          </button>
        )}
        <a
          href={browser.runtime.getURL(`src/extension/dashboard/index.html${filterToSearch(filter)}`)}
          onClick={(e) => {
            e.preventDefault()
            openPage('dashboard', filterToSearch(filter))
          }}
        >
          Dashboard
        </a>
      </footer>
      {notice && (
        <p class="notice" role="alert">
          {notice}
        </p>
      )}
    </main>
  )
}
