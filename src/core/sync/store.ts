// Where the sync engine keeps what it collected. The engine never knows whether this is IndexedDB
// (src/extension/db.ts), a state file (CLI `--state`), or memory (tests).

import type { EcsDocument } from '../model'

/** Opaque per-stream state owned by the sync engine (checkpoint, backfill progress, API cursor). */
export type StreamState = Record<string, unknown>

export interface Store {
  /** The state last committed for this stream (a stream is one site + one audit API), if any. */
  loadState(streamId: string): Promise<StreamState | undefined>
  /**
   * Durably store `docs` (idempotent: a document whose key, see core/ecs/identity.ts `documentKey`,
   * is already stored is not stored again) **and** the new stream state, as one atomic step.
   * The state must never be durable without the documents. Returns the documents newly added,
   * in input order, so callers can forward exactly those (stdout, outbox) and count them.
   */
  commit(streamId: string, docs: EcsDocument[], state: StreamState): Promise<EcsDocument[]>
}
