// Sync interval, retention and export format.
import { useEffect, useId, useState } from 'preact/hooks'
import type { ExportFormat, Settings } from '../messages'
import { send } from '../messages'
import { errorText } from '../ui/words'

export function SettingsForm({ settings, onSaved }: { settings: Settings; onSaved: (s: Settings) => void }) {
  const id = useId()
  const [values, setValues] = useState(settings)
  const [message, setMessage] = useState('')
  useEffect(() => setValues(settings), [settings])

  const setNumber = (key: keyof Settings) => (e: Event) =>
    setValues((v) => ({
      ...v,
      [key]: Math.max(0, Math.floor(Number((e.currentTarget as HTMLInputElement).value) || 0)),
    }))
  const setFormat = (format: ExportFormat) => setValues((v) => ({ ...v, exportFormat: format }))

  const save = async (e: Event) => {
    e.preventDefault()
    try {
      const saved = await send({
        type: 'saveSettings',
        settings: { ...values, syncIntervalMinutes: Math.max(1, values.syncIntervalMinutes) },
      })
      onSaved(saved)
      setMessage('Settings saved.')
    } catch (err) {
      setMessage(`Not saved: ${errorText(err)}`)
    }
  }

  return (
    <form onSubmit={save} class="card">
      <div class="form-grid">
        <div class="field">
          <label for={`${id}-interval`}>Sync every (minutes)</label>
          <input
            id={`${id}-interval`}
            type="number"
            min={1}
            value={values.syncIntervalMinutes}
            onInput={setNumber('syncIntervalMinutes')}
          />
        </div>
        <div class="field">
          <label for={`${id}-lookback`}>First sync reads back (days)</label>
          <input
            id={`${id}-lookback`}
            type="number"
            min={1}
            value={values.lookbackDays}
            onInput={setNumber('lookbackDays')}
          />
        </div>
        <div class="field">
          <label for={`${id}-days`}>Keep events for (days, 0 = forever)</label>
          <input
            id={`${id}-days`}
            type="number"
            min={0}
            value={values.retentionDays}
            onInput={setNumber('retentionDays')}
          />
        </div>
        <div class="field">
          <label for={`${id}-max`}>Keep at most (events, 0 = no limit)</label>
          <input
            id={`${id}-max`}
            type="number"
            min={0}
            step={1}
            value={values.maxEvents}
            onInput={setNumber('maxEvents')}
          />
        </div>
      </div>
      <fieldset>
        <legend>Export format</legend>
        <label class="check">
          <input
            type="radio"
            name={`${id}-format`}
            checked={values.exportFormat === 'ecs'}
            onChange={() => setFormat('ecs')}
          />{' '}
          ECS documents (as Elastic’s Atlassian integrations produce them)
        </label>
        <label class="check">
          <input
            type="radio"
            name={`${id}-format`}
            checked={values.exportFormat === 'raw'}
            onChange={() => setFormat('raw')}
          />{' '}
          Raw Atlassian records (as the audit API returned them)
        </label>
      </fieldset>
      <div class="row">
        <button type="submit" class="primary">
          Save settings
        </button>
        <span role="status" aria-live="polite" class="muted">
          {message}
        </span>
      </div>
    </form>
  )
}
