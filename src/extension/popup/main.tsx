import { render } from 'preact'

function Popup() {
  return (
    <main>
      <h1>Atlassian audit log</h1>
      <p role="status">No events yet.</p>
    </main>
  )
}

render(<Popup />, document.getElementById('app')!)
