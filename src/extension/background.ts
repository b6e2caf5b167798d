import browser from 'webextension-polyfill'

browser.runtime.onInstalled.addListener(() => {
  // later issues: alarms, sync, outbox
})
