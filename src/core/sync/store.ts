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
  commit(streamId: string, docs: EcsDocument[], state: StreamState, info?: CommitInfo): Promise<EcsDocument[]>
}

/**
 * Optional hints from the sync engine for stores that do not keep every document (the CLI state file keeps
 * only document keys, and only those it may meet again). A store that keeps all documents can ignore them.
 */
export interface CommitInfo {
  /** The record time (epoch ms) of each document, parallel to `docs`; undefined when unreadable. */
  recordTimes?: (number | undefined)[]
  /**
   * Record-time ranges (inclusive) whose document keys must stay known for de-duplication, because the engine
   * may fetch those records again (overlap re-scan of the next run, re-read of one millisecond on resume).
   * Keys of records outside every range may be forgotten.
   */
  retain?: { from: number; to: number }[]
}
