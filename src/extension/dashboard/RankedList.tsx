// A top-N list with proportional bars; each entry narrows the dashboard's filter to that value.
import type { FacetValue } from '../messages'
import { formatCount } from '../ui/format'

export function RankedList(props: {
  title: string
  values: FacetValue[]
  onPick?: (value: string) => void
  empty?: string
}) {
  const max = Math.max(1, ...props.values.map((v) => v.count))
  const headingId = `rank-${props.title.replace(/\W+/g, '-').toLowerCase()}`
  return (
    <section class="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>{props.title}</h2>
      {props.values.length === 0 ? (
        <p class="muted">{props.empty ?? 'Nothing yet.'}</p>
      ) : (
        <ol class="ranked">
          {props.values.map((v) => (
            <li key={v.value}>
              <button
                type="button"
                class="ranked-item"
                onClick={() => props.onPick?.(v.value)}
                title={`Filter by ${v.value}`}
              >
                <span class="ranked-label">{v.value || '(none)'}</span>
                <span class="ranked-count">{formatCount(v.count)}</span>
                <span class="bar" style={{ width: `${(v.count / max) * 100}%` }} aria-hidden="true" />
              </button>
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}
