import { render } from 'preact'
import '../ui/styles.css'
import './options.css'
import { Options } from './Options'

document.body.dataset.page = 'options'
render(<Options />, document.getElementById('app')!)
