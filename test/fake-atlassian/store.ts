// Sorted record stores. Every query is a binary search plus a slice, so a page costs O(log n + page)
// whatever the store size (the benchmark serves 100,000+ records).

export type StoreKey = 'confluence-cloud' | 'jira-cloud' | 'confluence-dc' | 'jira-dc' | 'bitbucket-dc' | 'org'
export const STORE_KEYS: readonly StoreKey[] = [
  'confluence-cloud',
  'jira-cloud',
  'confluence-dc',
  'jira-dc',
  'bitbucket-dc',
  'org',
]

export interface Stored {
  /** Event time, epoch ms (Confluence creationDate, Jira created, DC timestamp, org attributes.time). */
  ts: number
  /**
   * Tie-breaker among records of the same millisecond: Jira Cloud `id`, the DC event id (the second half of
   * `pageCursor`), or the insertion sequence. Newest-first APIs return larger ties first.
   */
  tie: number
  /** The record exactly as the API serves it. Never mutated after insertion. */
  raw: Record<string, unknown>
  /** Org events only: attributes.processedAt in epoch ms. */
  processedAt?: number
}

/** Compare (ts, tie) positions. */
export function comparePos(ats: number, atie: number, bts: number, btie: number): number {
  return ats !== bts ? ats - bts : atie - btie
}

/** First index in `items` whose key (by `keyOf`) is >= (ts, tie). */
function lowerBound(items: readonly Stored[], ts: number, tie: number, primary: (s: Stored) => number): number {
  let lo = 0
  let hi = items.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const s = items[mid]
    if (comparePos(primary(s), s.tie, ts, tie) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

const byTs = (s: Stored) => s.ts
const byProcessed = (s: Stored) => s.processedAt ?? s.ts

/** Records sorted ascending by (ts, tie); optionally a second index by (processedAt, tie). */
export class SortedStore {
  readonly items: Stored[] = []
  readonly byProcessed: Stored[] | undefined
  private lagMin = 0
  private lagMax = 0

  constructor(withProcessedIndex = false) {
    this.byProcessed = withProcessedIndex ? [] : undefined
  }

  get size(): number {
    return this.items.length
  }

  /** Inserts keeping order; appending newer records is O(1), a late record is one splice. */
  insert(s: Stored): void {
    insertSorted(this.items, s, byTs)
    if (this.byProcessed) {
      insertSorted(this.byProcessed, s, byProcessed)
      this.trackLag(s)
    }
  }

  /** Bulk load (seeding): append then sort once. */
  load(records: Stored[]): void {
    for (const r of records) this.items.push(r)
    this.items.sort((a, b) => comparePos(a.ts, a.tie, b.ts, b.tie))
    if (this.byProcessed) {
      for (const r of records) {
        this.byProcessed.push(r)
        this.trackLag(r)
      }
      this.byProcessed.sort((a, b) => comparePos(byProcessed(a), a.tie, byProcessed(b), b.tie))
    }
  }

  private trackLag(s: Stored): void {
    const lag = (s.processedAt ?? s.ts) - s.ts
    if (lag < this.lagMin) this.lagMin = lag
    if (lag > this.lagMax) this.lagMax = lag
  }

  /** Bounds of processedAt - ts over all records (to turn an event-time window into a processedAt range). */
  get processingLag(): { min: number; max: number } {
    return { min: this.lagMin, max: this.lagMax }
  }

  /** Index of the first record with (ts, tie) >= (ts, tie). */
  indexAtOrAfter(ts: number, tie = Number.NEGATIVE_INFINITY): number {
    return lowerBound(this.items, ts, tie, byTs)
  }

  /** Index of the first record with ts > ts (any tie). */
  indexAfterMs(ts: number): number {
    return lowerBound(this.items, ts, Number.POSITIVE_INFINITY, byTs)
  }

  /** In the processedAt index: first record with (processedAt, tie) >= (p, tie). */
  processedIndexAtOrAfter(p: number, tie = Number.NEGATIVE_INFINITY): number {
    if (!this.byProcessed) throw new Error('store has no processedAt index')
    return lowerBound(this.byProcessed, p, tie, byProcessed)
  }

  /** Newest-first slice of items[lo, hi): skip `skip` newest, take up to `take`. */
  newestFirst(lo: number, hi: number, skip: number, take: number): Stored[] {
    const end = hi - skip
    if (end <= lo || take <= 0) return []
    const begin = Math.max(lo, end - take)
    const out = this.items.slice(begin, end)
    out.reverse()
    return out
  }
}

function insertSorted(arr: Stored[], s: Stored, primary: (s: Stored) => number): void {
  const last = arr[arr.length - 1]
  if (!last || comparePos(primary(last), last.tie, primary(s), s.tie) <= 0) {
    arr.push(s)
    return
  }
  const at = lowerBound(arr, primary(s), s.tie, primary)
  arr.splice(at, 0, s)
}
