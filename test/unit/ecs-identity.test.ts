// The fast recordFingerprint (canonical JSON written into a buffer and hashed there) must give exactly
// hash128(site + "\n" + canonicalJson(record)), the documented definition, for any value.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson, hash128, recordFingerprint } from '../../src/core/ecs/identity'

const reference = (site: string, record: unknown) => hash128(`${site}\n${canonicalJson(record)}`)

describe('recordFingerprint fast path', () => {
  it('equals the definition for arbitrary JSON values and sites', () => {
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), (site, value) => {
        expect(recordFingerprint(site, value)).toBe(reference(site, value))
      }),
      { numRuns: 500 },
    )
  })

  it('equals the definition for every unicode case JSON.stringify escapes', () => {
    const tricky = [
      '\u0000\u0001\u001f\b\f\n\r\t"\\/',
      '\ud83d\ude00 ok',
      'lone high \ud800 end',
      'lone low \udc00',
      '\ud800',
      '\u2028\u2029 \u007f é 漢字',
    ]
    for (const s of tricky) {
      expect(recordFingerprint('', { [s]: s, list: [s, 1.5, -0, 1e21, null, true] })).toBe(
        reference('', { [s]: s, list: [s, 1.5, -0, 1e21, null, true] }),
      )
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (k, v) => {
        expect(recordFingerprint(k, { [k]: v, x: [v] })).toBe(reference(k, { [k]: v, x: [v] }))
      }),
      { numRuns: 500 },
    )
  })

  it('equals the definition for values JSON does not have, and for a record larger than the buffer', () => {
    const odd = { u: undefined, f: () => 1, n: Number.NaN, i: Number.POSITIVE_INFINITY, s: Symbol('x'), d: new Date(0) }
    expect(recordFingerprint('s', odd)).toBe(reference('s', odd))
    expect(recordFingerprint('s', [undefined, () => 1])).toBe(reference('s', [undefined, () => 1]))
    const big = { text: 'x'.repeat(200_000), nested: Array.from({ length: 2000 }, (_, i) => ({ i, s: `\n${i}` })) }
    expect(recordFingerprint('s', big)).toBe(reference('s', big))
    // and the buffer is reused correctly afterwards
    expect(recordFingerprint('', { a: 1 })).toBe(reference('', { a: 1 }))
    expect(() => recordFingerprint('', { b: 1n })).toThrow(TypeError)
  })
})
