import { render } from 'preact'

function Options() {
  return (
    <main>
      <h1>Audit Log Collector for Atlassian</h1>
      <p role="status">No site configured.</p>
    </main>
  )
}

render(<Options />, document.getElementById('app')!)
