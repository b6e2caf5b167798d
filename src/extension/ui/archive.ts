// The pages read the archive straight from IndexedDB (same origin as the background), one instance per page.
import { type Archive, openArchive } from '../db'

let instance: Archive | undefined

export function archive(): Archive {
  instance ??= openArchive()
  return instance
}
