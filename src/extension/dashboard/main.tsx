import { render } from 'preact'
import '../ui/styles.css'
import './dashboard.css'
import { Dashboard } from './Dashboard'

document.body.dataset.page = 'dashboard'
render(<Dashboard />, document.getElementById('app')!)
