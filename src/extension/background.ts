// Service worker (Chrome) / event page (Firefox). Listeners are registered synchronously at the top level so
// that an event that wakes a stopped worker (alarm, message) is delivered to them; everything else is in
// sync-runner.ts.
import browser from 'webextension-polyfill'
import { openArchive } from './db'
import { EXPORT_CHANNEL, exportStreamResponse, parseExportStreamUrl } from './export-stream'
import { isRequest } from './messages'
import { Background } from './sync-runner'

const archive = openArchive()
// What the export route reads: the archive, or the benchmark's database (__useExportArchive below).
let exportArchive = archive
const background = new Background({
  archive,
  // bound: calling an unbound `fetch` through an object throws "Illegal invocation" in Chromium
  fetch: (url, init) => fetch(url, init),
})

// Messages of other protocols get `undefined`, so that another listener may answer them.
browser.runtime.onMessage.addListener((message: unknown) =>
  isRequest(message) ? background.handle(message) : undefined,
)
browser.alarms.onAlarm.addListener((alarm) => background.onAlarm(alarm.name))
// Chromium: the service worker answers the pages' export navigations with a streamed download
// (export-stream.ts). Firefox's event page gets no fetch events; its pages use the Blob export instead.
if ('ServiceWorkerGlobalScope' in globalThis && globalThis instanceof ServiceWorkerGlobalScope) {
  const worker = globalThis as unknown as ServiceWorkerGlobalScope
  const exportChannel = new BroadcastChannel(EXPORT_CHANNEL)
  worker.addEventListener('fetch', (event) => {
    const url = new URL(event.request.url)
    if (url.origin !== worker.location.origin) return
    const request = parseExportStreamUrl(url)
    // An extension API call resets Chromium's idle timer (Chrome 110+): a long download must not outlive the worker.
    const keepAlive = () => void browser.runtime.getPlatformInfo().catch(() => {})
    if (request) event.respondWith(exportStreamResponse(exportArchive, request, exportChannel, { keepAlive }))
  })
}
// Every start of the worker (install, browser start, woken by an alarm or a message) checks alarms and badge.
const started = background.start()
// Listened to so that the worker or event page is started at all at browser start and after an install or an
// update: Firefox does not keep alarms across a restart, and an update clears them, so without these the
// archive would stop syncing until the admin opened the popup.
browser.runtime.onStartup.addListener(() => void started)
browser.runtime.onInstalled.addListener(() => void started)

// Test hooks for Playwright's serviceWorker.evaluate (harmless in production: they only call what the
// message handler already offers, plus awaiting a run or a delivery).
Object.assign(globalThis, {
  __handle: (message: unknown) => background.handle(message),
  __runSite: (siteId: string) => background.runSite(siteId),
  __pushAll: (force = true) => background.pushAll(force),
  __retention: () => background.enforceRetention(),
  __archive: archive,
  __useExportArchive: (name?: string) => {
    exportArchive = name === undefined ? archive : openArchive(name)
  },
  __started: started,
})
