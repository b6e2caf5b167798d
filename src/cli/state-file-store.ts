// The CLI's Store: documents go to an emitter (stdout as NDJSON), and what must survive between runs — each
// stream's sync state plus the keys of the documents the next run may meet again — goes to a JSON state file.
// Order inside commit(): emit the new documents and wait until they are flushed, then replace the state file
// atomically (write a temp file, fsync, rename). A crash between the two re-emits at most that one page on the
// next run; it never loses one.

import { randomBytes } from 'node:crypto'
import { open, readFile, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { documentKey } from '../core/ecs/identity'
import type { EcsDocument } from '../core/model'
import type { CommitInfo, Store, StreamState } from '../core/sync/store'

interface StreamEntry {
  state: StreamState
  /** document key → record time (epoch ms), or null when the record has no readable time. */
  keys: Record<string, number | null>
}

interface StateFile {
  version: 1
  streams: Record<string, StreamEntry>
}

export type Emit = (docs: EcsDocument[]) => Promise<void>

export class StateFileStore implements Store {
  private data: StateFile = { version: 1, streams: {} }
  private readonly keySets = new Map<string, Map<string, number | null>>()
  /**
   * Every key emitted in this run, per stream. The key map above is pruned to what the *next* run may meet
   * (`retain`), but within a run records pushed down by inserts can come back further than that: this set,
   * never pruned, keeps them from being emitted twice (one short string per record of the run).
   */
  private readonly emitted = new Map<string, Set<string>>()

  /** `file` undefined: nothing persists (one-shot fetch); keys are kept for the whole run. */
  private constructor(
    private readonly file: string | undefined,
    private readonly emit: Emit,
  ) {}

  static async open(file: string | undefined, emit: Emit): Promise<StateFileStore> {
    const store = new StateFileStore(file, emit)
    if (file) {
      let text: string | undefined
      try {
        text = await readFile(file, 'utf8')
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      }
      if (text !== undefined) {
        const parsed = JSON.parse(text) as Partial<StateFile>
        if (parsed.version !== 1 || typeof parsed.streams !== 'object' || parsed.streams === null) {
          throw new Error(`${file} is not an atlassian-audit state file (version 1)`)
        }
        store.data = { version: 1, streams: parsed.streams }
      }
    }
    return store
  }

  async loadState(streamId: string): Promise<StreamState | undefined> {
    const s = this.data.streams[streamId]?.state
    return s === undefined ? undefined : structuredClone(s)
  }

  private keysOf(streamId: string): Map<string, number | null> {
    let keys = this.keySets.get(streamId)
    if (!keys) {
      keys = new Map(Object.entries(this.data.streams[streamId]?.keys ?? {}))
      this.keySets.set(streamId, keys)
    }
    return keys
  }

  async commit(
    streamId: string,
    docs: EcsDocument[],
    state: StreamState,
    info: CommitInfo = {},
  ): Promise<EcsDocument[]> {
    const keys = this.keysOf(streamId)
    let emitted = this.emitted.get(streamId)
    if (!emitted) {
      emitted = new Set()
      this.emitted.set(streamId, emitted)
    }
    const added: EcsDocument[] = []
    const addedKeys: [string, number | null][] = []
    for (let i = 0; i < docs.length; i++) {
      const key = documentKey(docs[i])
      if (keys.has(key) || emitted.has(key)) continue
      keys.set(key, info.recordTimes?.[i] ?? null)
      emitted.add(key)
      addedKeys.push([key, info.recordTimes?.[i] ?? null])
      added.push(docs[i])
    }
    try {
      if (added.length) await this.emit(added)
    } catch (e) {
      // Not emitted: forget the keys so that a retry of this commit emits them.
      for (const [k] of addedKeys) {
        keys.delete(k)
        emitted.delete(k)
      }
      throw e
    }
    if (this.file && info.retain) {
      for (const [k, t] of keys) {
        if (t === null) continue
        if (!info.retain.some((r) => t >= r.from && t <= r.to)) keys.delete(k)
      }
    }
    this.data.streams[streamId] = { state: structuredClone(state), keys: Object.fromEntries(keys) }
    if (this.file) await writeAtomically(this.file, JSON.stringify(this.data))
    return added
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(tmp, 'w', 0o600)
  try {
    await handle.writeFile(text, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await rename(tmp, file)
  } catch (e) {
    await unlink(tmp).catch(() => {})
    throw e
  }
}
