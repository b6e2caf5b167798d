// One event: a summary, its ECS document and the original Atlassian record. Everything is rendered as
// text nodes (JSX children), never as HTML, so a record whose fields hold markup shows that markup.
import { useEffect, useRef } from 'preact/hooks'
import type { StoredEvent } from '../messages'
import { formatTime, prettyJson, prettyOriginal, productLabel } from './format'

export interface EventDetailProps {
  event: StoredEvent
  siteName: string
  onClose: () => void
}

export function EventDetail({ event, siteName, onClose }: EventDetailProps) {
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => heading.current?.focus(), [])
  const original = event.doc.event.original
  const message = typeof event.doc.message === 'string' ? event.doc.message : ''

  return (
    <section
      class="detail"
      aria-labelledby="detail-heading"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault()
          onClose()
        }
      }}
    >
      <div class="detail-bar">
        <button type="button" onClick={onClose}>
          Back to list
        </button>
      </div>
      <h2 id="detail-heading" tabIndex={-1} ref={heading}>
        {event.action || '(no action)'}
      </h2>
      <dl class="summary">
        <dt>Time</dt>
        <dd>{formatTime(event.ts)}</dd>
        <dt>User</dt>
        <dd>{event.user || '—'}</dd>
        <dt>Source IP</dt>
        <dd>{event.ip || '—'}</dd>
        <dt>Site</dt>
        <dd>
          {siteName} ({productLabel(event.product)})
        </dd>
        <dt>Category</dt>
        <dd>{event.categories.join(', ') || '—'}</dd>
        <dt>Outcome</dt>
        <dd>{event.outcome || '—'}</dd>
        {message && (
          <>
            <dt>Message</dt>
            <dd>{message}</dd>
          </>
        )}
      </dl>
      <details open>
        <summary>ECS document</summary>
        <pre class="json" data-testid="ecs-document">
          {prettyJson(event.doc)}
        </pre>
      </details>
      <details open={original !== undefined}>
        <summary>Original record</summary>
        <pre class="json" data-testid="original-record">
          {original === undefined ? 'Not kept for this event.' : prettyOriginal(original)}
        </pre>
      </details>
    </section>
  )
}
