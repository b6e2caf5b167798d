// recordFingerprint writes canonical JSON into a growable buffer and checks its capacity once per string or
// container, not per unit. These records end in long runs of closing brackets that straddle each buffer size
// the writer grows through (this file gets a fresh module), so a missing capacity check would drop units
// and change the hash.
import { describe, expect, it } from 'vitest'
import { canonicalJson, hash128, recordFingerprint } from '../../src/core/ecs/identity'

const reference = (site: string, record: unknown) => hash128(`${site}\n${canonicalJson(record)}`)

describe('recordFingerprint buffer bounds', () => {
  it('equals the definition when deeply nested containers close at the end of the buffer', () => {
    let deep: unknown = 'x'
    for (let i = 0; i < 300; i++) deep = i % 2 === 0 ? [deep] : { k: deep }
    const deepLength = canonicalJson(deep).length
    // Sizes only grow, so only the first record longer than the current capacity crosses its end; one
    // record per power of two, whose last 300 units (all brackets) straddle that power, covers whatever
    // initial capacity the writer has.
    for (let size = 1 << 12; size <= 1 << 18; size *= 2) {
      // {"a":["x",…],"z":<deep>}: 4 units per "x", about 12 around them
      const count = Math.floor((size + 100 - deepLength - 12) / 4)
      const record = { a: new Array<string>(count).fill('x'), z: deep }
      expect(recordFingerprint('', record)).toBe(reference('', record))
    }
  })
})
