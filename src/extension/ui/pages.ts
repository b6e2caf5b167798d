// Opening the extension's own pages from another page (popup → dashboard, settings).
import browser from 'webextension-polyfill'

export const PAGE_PATHS = {
  popup: 'src/extension/popup/index.html',
  options: 'src/extension/options/index.html',
  dashboard: 'src/extension/dashboard/index.html',
} as const

export function pageUrl(page: keyof typeof PAGE_PATHS, search = ''): string {
  return browser.runtime.getURL(`${PAGE_PATHS[page]}${search}`)
}

/** Opens a page in a new tab and closes the popup (a popup does not close by itself when a tab opens). */
export async function openPage(page: keyof typeof PAGE_PATHS, search = ''): Promise<void> {
  await browser.tabs.create({ url: pageUrl(page, search) })
  if (isToolbarPopup()) window.close()
}

/** True when this page is shown as the toolbar popup, not opened in a tab (as tests do). */
export function isToolbarPopup(): boolean {
  return browser.extension.getViews({ type: 'popup' }).includes(window)
}
