import { render } from 'preact'
import '../ui/styles.css'
import './popup.css'
import { Popup } from './Popup'

document.body.dataset.page = 'popup'
render(<Popup />, document.getElementById('app')!)
