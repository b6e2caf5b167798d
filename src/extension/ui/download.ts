// Saves text produced chunk by chunk as a file download. Each chunk becomes a Blob part at once, so the
// page holds one chunk of text at a time; the browser keeps large blobs outside the JS heap (Chromium
// pages them to disk), which is what lets a million events export from a small extension page.
// No `downloads` permission is needed for an <a download> click on a blob: URL of our own page.

export async function downloadChunks(
  filename: string,
  chunks: AsyncIterable<string>,
  type = 'application/x-ndjson',
): Promise<{ bytes: number }> {
  const parts: Blob[] = []
  let bytes = 0
  for await (const chunk of chunks) {
    const part = new Blob([chunk], { type })
    bytes += part.size
    parts.push(part)
  }
  const file = new Blob(parts, { type })
  const url = URL.createObjectURL(file)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.rel = 'noopener'
  document.body.append(link)
  link.click()
  link.remove()
  // The download has its own reference once started; revoke later so a slow start still finds the URL.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
  return { bytes }
}

export function exportFilename(format: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '')
  return `atlassian-audit-${format}-${stamp}.ndjson`
}
