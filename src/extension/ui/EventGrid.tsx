// The event list: an ARIA grid that renders only the rows in view (plus a few), so its cost does not
// depend on how many events are loaded. Rows have one fixed height, which makes windowing plain
// arithmetic (see docs/ui.md for why no virtual-list library). Keyboard: Up/Down/Home/End/PageUp/
// PageDown move the row focus (roving tabindex), Enter opens the detail.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import { formatTime, productLabel } from './format'

export const ROW_HEIGHT = 46
const OVERSCAN = 6
/** Ask for the next page when fewer than this many loaded rows are left below the view. */
const PREFETCH_ROWS = 40

export interface EventRow {
  key: string
  ts: number
  action: string
  user: string
  ip: string
  outcome: string
  product: string
  site: string
}

export interface EventGridProps {
  rows: EventRow[]
  /** More (older) rows can be loaded. */
  hasMore: boolean
  loading: boolean
  onNeedMore: () => void
  onOpen: (row: EventRow) => void
  label: string
}

export function EventGrid({ rows, hasMore, loading, onNeedMore, onOpen, label }: EventGridProps) {
  const scroller = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [viewport, setViewport] = useState(320)
  const [active, setActive] = useState(0)
  const focusWanted = useRef(false)

  useLayoutEffect(() => {
    const el = scroller.current
    if (!el) return
    const observer = new ResizeObserver(() => setViewport(el.clientHeight || 320))
    observer.observe(el)
    setViewport(el.clientHeight || 320)
    return () => observer.disconnect()
  }, [])

  // A new result set (filter changed) starts at the top.
  const firstKey = rows[0]?.key
  useEffect(() => {
    setActive(0)
    if (scroller.current) scroller.current.scrollTop = 0
    setScrollTop(0)
  }, [firstKey])

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN)
  const last = Math.min(rows.length, Math.ceil((scrollTop + viewport) / ROW_HEIGHT) + OVERSCAN)

  useEffect(() => {
    if (hasMore && !loading && last >= rows.length - PREFETCH_ROWS) onNeedMore()
  }, [last, rows.length, hasMore, loading, onNeedMore])

  useEffect(() => {
    if (!focusWanted.current) return
    focusWanted.current = false
    scroller.current?.querySelector<HTMLElement>(`[data-index="${active}"]`)?.focus()
  }, [active, first, last])

  const moveTo = (index: number) => {
    const el = scroller.current
    const target = Math.max(0, Math.min(rows.length - 1, index))
    if (el) {
      const top = target * ROW_HEIGHT
      if (top < el.scrollTop) el.scrollTop = top
      else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight
      setScrollTop(el.scrollTop)
    }
    focusWanted.current = true
    setActive(target)
  }

  const onKeyDown = (event: KeyboardEvent) => {
    const page = Math.max(1, Math.floor(viewport / ROW_HEIGHT) - 1)
    const moves: Record<string, number> = {
      ArrowDown: active + 1,
      ArrowUp: active - 1,
      PageDown: active + page,
      PageUp: active - page,
      Home: 0,
      End: rows.length - 1,
    }
    if (event.key in moves) {
      event.preventDefault()
      moveTo(moves[event.key])
    } else if (event.key === 'Enter' || event.key === ' ') {
      const row = rows[active]
      if (row) {
        event.preventDefault()
        onOpen(row)
      }
    }
  }

  const visible = rows.slice(first, last)
  return (
    <div
      ref={scroller}
      class="grid-scroll"
      aria-busy={loading}
      onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}
    >
      <table
        class="grid"
        // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: a table with role=grid is the ARIA APG data grid pattern (rows focusable, Enter opens the detail)
        role="grid"
        aria-label={label}
        aria-readonly="true"
        aria-rowcount={hasMore ? -1 : rows.length}
        style={{ height: `${rows.length * ROW_HEIGHT}px` }}
      >
        <tbody>
          {visible.map((row, i) => {
            const index = first + i
            return (
              <tr
                key={row.key}
                class={`grid-row${index === active ? ' active' : ''}${row.outcome === 'failure' ? ' failure' : ''}`}
                aria-rowindex={index + 1}
                data-index={index}
                data-key={row.key}
                tabIndex={index === active ? 0 : -1}
                style={{ transform: `translateY(${index * ROW_HEIGHT}px)`, height: `${ROW_HEIGHT}px` }}
                onClick={() => {
                  setActive(index)
                  onOpen(row)
                }}
                onKeyDown={onKeyDown}
                onFocus={() => setActive(index)}
              >
                <td class="cell-action" title={row.action}>
                  {row.action || '(no action)'}
                  {row.outcome === 'failure' && <span class="badge bad">failed</span>}
                </td>
                <td class="cell-time">{formatTime(row.ts)}</td>
                <td class="cell-user" title={row.user}>
                  {row.user || '—'}
                </td>
                <td class="cell-ip">{row.ip}</td>
                <td class="cell-site" title={row.site}>
                  {row.site || productLabel(row.product)}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}
