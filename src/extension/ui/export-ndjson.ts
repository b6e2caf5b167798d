// NDJSON lines of every event matching a filter, newest first, produced a page at a time.
// ECS: one ECS document per line. Raw: the original Atlassian record (event.original) per line, as
// Atlassian sent it; events stored without their original are skipped (and counted).
import type { Archive } from '../db'
import type { EventFilter, ExportFormat } from '../messages'

export interface NdjsonChunk {
  text: string
  lines: number
}

export async function* ndjsonChunks(
  source: Pick<Archive, 'iterate'>,
  filter: EventFilter,
  format: ExportFormat,
  options: { signal?: AbortSignal; onProgress?: (events: number) => void; pageSize?: number } = {},
): AsyncGenerator<NdjsonChunk> {
  let events = 0
  for await (const page of source.iterate(filter, options.pageSize ?? 1000, options.signal)) {
    let text = ''
    let lines = 0
    for (const event of page) {
      if (format === 'raw') {
        const original = event.doc.event.original
        if (typeof original !== 'string') continue
        // event.original is the record's JSON text; re-serialize so that one record is exactly one line.
        text += `${oneLine(original)}\n`
      } else {
        text += `${JSON.stringify(event.doc)}\n`
      }
      lines++
    }
    events += page.length
    options.onProgress?.(events)
    if (lines) yield { text, lines }
  }
}

function oneLine(json: string): string {
  if (!json.includes('\n')) return json
  try {
    return JSON.stringify(JSON.parse(json))
  } catch {
    return JSON.stringify(json)
  }
}
