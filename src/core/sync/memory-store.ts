// A Store in memory: documents by key. Tests use it; the CLI uses it when no --state file is given.

import { documentKey } from '../ecs/identity'
import type { EcsDocument } from '../model'
import type { Store, StreamState } from './store'

export class MemoryStore implements Store {
  readonly docs = new Map<string, EcsDocument>()
  readonly states = new Map<string, StreamState>()
  commits = 0

  async loadState(streamId: string): Promise<StreamState | undefined> {
    const s = this.states.get(streamId)
    return s === undefined ? undefined : structuredClone(s)
  }

  async commit(streamId: string, docs: EcsDocument[], state: StreamState): Promise<EcsDocument[]> {
    const added: EcsDocument[] = []
    for (const doc of docs) {
      const key = documentKey(doc)
      if (this.docs.has(key)) continue
      this.docs.set(key, doc)
      added.push(doc)
    }
    this.states.set(streamId, structuredClone(state))
    this.commits++
    return added
  }
}
