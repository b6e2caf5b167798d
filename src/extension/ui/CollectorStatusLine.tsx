// One collector's delivery state: backlog, delivered, rejected, last success, last error, next attempt.
import type { CollectorStatusView } from '../messages'
import { formatCount, formatRelative } from './format'

export function CollectorStatusLine({ status }: { status?: CollectorStatusView }) {
  if (!status) return <span class="muted">No delivery yet</span>
  const failing = Boolean(status.lastErrorAt && (!status.lastSuccessAt || status.lastErrorAt > status.lastSuccessAt))
  return (
    <span class={`collector-status ${failing ? 'bad' : 'muted'}`}>
      {status.running ? 'Delivering… · ' : ''}
      Backlog {formatCount(status.backlog)} · delivered {formatCount(status.deliveredTotal)}
      {status.rejectedTotal ? ` · rejected ${formatCount(status.rejectedTotal)}` : ''} · last success{' '}
      {formatRelative(status.lastSuccessAt)}
      {status.lastError && ` · last error ${formatRelative(status.lastErrorAt)}: ${status.lastError}`}
      {status.retryAt && ` · next attempt ${formatRelative(status.retryAt)}`}
    </span>
  )
}
