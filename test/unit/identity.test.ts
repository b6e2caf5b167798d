import { describe, expect, it } from 'vitest'
import { canonicalJson, documentKey, hash128, recordFingerprint } from '../../src/core/ecs/identity'

describe('identity', () => {
  it('canonical JSON sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    )
  })

  it('the fingerprint ignores key order but not content or site', () => {
    const a = recordFingerprint('https://x.atlassian.net', { summary: 'S', creationDate: 1 })
    const b = recordFingerprint('https://x.atlassian.net', { creationDate: 1, summary: 'S' })
    expect(a).toBe(b)
    expect(a).toMatch(/^[0-9a-f]{32}$/)
    expect(recordFingerprint('https://y.atlassian.net', { summary: 'S', creationDate: 1 })).not.toBe(a)
    expect(recordFingerprint('https://x.atlassian.net', { summary: 'S', creationDate: 2 })).not.toBe(a)
  })

  it('hash128 spreads: 100,000 distinct inputs give 100,000 distinct hashes, every tail length differs', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 100_000; i++) seen.add(hash128(`record-${i}`))
    expect(seen.size).toBe(100_000)
    const tails = new Set<string>()
    for (let n = 0; n <= 17; n++) tails.add(hash128('x'.repeat(n)))
    expect(tails.size).toBe(18)
  })

  it('documentKey prefers the Atlassian id, scoped by site and product', () => {
    const doc = (id: string | undefined, site: string) => ({
      event: { kind: 'event' as const, hash: 'h'.repeat(32), id },
      atlassian: { site, product: 'jira' },
    })
    expect(documentKey(doc(undefined, 's'))).toBe('h'.repeat(32))
    expect(documentKey(doc('1', 's'))).not.toBe(documentKey(doc('1', 't')))
    expect(documentKey(doc('1', 's'))).toBe(documentKey(doc('1', 's')))
  })
})
