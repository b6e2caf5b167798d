// Events over time, drawn with uPlot (canvas). Screen readers get the same numbers as a table.
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { TimeBucket } from '../messages'
import { formatCount } from '../ui/format'

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback
}

export function TimeChart({ buckets, bucket }: { buckets: TimeBucket[]; bucket: 'hour' | 'day' }) {
  const host = useRef<HTMLDivElement>(null)

  useEffect(() => {
    const el = host.current
    if (!el || buckets.length === 0) return
    const width = Math.max(300, el.clientWidth)
    const half = (bucket === 'hour' ? 3600 : 86_400) / 2
    const accent = cssVar('--accent', '#0052cc')
    const muted = cssVar('--muted', '#5e6c84')
    const line = cssVar('--line', '#dfe1e6')
    const axis = { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } }
    const plot = new uPlot(
      {
        width,
        height: 220,
        legend: { show: false },
        // the buckets are UTC hours and days (the archive counts per UTC day): the axis says so, in UTC
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        cursor: { drag: { x: false, y: false } },
        scales: {
          // Half a bucket of room on each side, so the first and last bars are not cut in half.
          x: { time: true, range: (_u, min, max) => [min - half, max + half] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
        },
        axes: [axis, { ...axis, size: 50 }],
        series: [
          {},
          {
            label: 'Events',
            stroke: accent,
            fill: `${accent}33`,
            width: 1.5,
            paths: uPlot.paths.bars?.({ size: [0.8, 40] }),
            points: { show: false },
          },
        ],
      },
      [buckets.map((b) => b.start / 1000), buckets.map((b) => b.count)],
      el,
    )
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(300, el.clientWidth), height: 220 }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [buckets, bucket])

  const fmt = (start: number) =>
    new Date(start).toLocaleString(
      'en',
      bucket === 'hour'
        ? { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }
        : { dateStyle: 'medium', timeZone: 'UTC' },
    )

  return (
    <figure class="chart">
      <div
        ref={host}
        role="img"
        aria-label={`Bar chart of events per ${bucket}; the same numbers are in the table below`}
      />
      {buckets.length === 0 && <p class="empty">No events in this range.</p>}
      <details>
        <summary>Show as a table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{bucket === 'hour' ? 'Hour (UTC)' : 'Day (UTC)'}</th>
              <th scope="col">Events</th>
            </tr>
          </thead>
          <tbody>
            {buckets.map((b) => (
              <tr key={b.start}>
                <td>{fmt(b.start)}</td>
                <td>{formatCount(b.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  )
}
