// Collectors in the popup: each one's backlog and last result, and "Push now".
import { useState } from 'preact/hooks'
import type { CollectorStatusView, CollectorView } from '../messages'
import { send } from '../messages'
import { CollectorStatusLine } from '../ui/CollectorStatusLine'
import { errorText } from '../ui/words'

export function CollectorsStatus(props: {
  collectors: CollectorView[]
  statuses: CollectorStatusView[]
  onPushed: () => void
}) {
  const [message, setMessage] = useState('')
  if (props.collectors.length === 0) return null
  const byId = new Map(props.statuses.map((s) => [s.collectorId, s]))
  const backlog = props.statuses.reduce((n, s) => n + s.backlog, 0)
  const pushNow = async () => {
    try {
      const { started } = await send({ type: 'pushNow' })
      setMessage(started.length ? 'Delivery started.' : 'Nothing to deliver.')
      props.onPushed()
    } catch (e) {
      setMessage(`Push failed: ${errorText(e)}`)
    }
  }
  return (
    <details class="sites collectors">
      <summary>
        Collectors ({props.collectors.length}) · backlog {backlog.toLocaleString('en')}
      </summary>
      <ul class="site-status">
        {props.collectors.map((c) => (
          <li key={c.id} data-collector-id={c.id}>
            <span class="site-name">{c.name || c.url}</span>
            <CollectorStatusLine status={byId.get(c.id)} />
          </li>
        ))}
      </ul>
      <div class="row">
        <button type="button" onClick={pushNow}>
          Push now
        </button>
        <span class="muted" role="status">
          {message}
        </span>
      </div>
    </details>
  )
}
