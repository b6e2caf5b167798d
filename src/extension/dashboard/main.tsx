import { render } from 'preact'

function Dashboard() {
  return (
    <main>
      <h1>Audit dashboard</h1>
    </main>
  )
}

render(<Dashboard />, document.getElementById('app')!)
