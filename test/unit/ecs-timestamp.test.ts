// The hand-written timestamp fast paths (integer date arithmetic instead of Date objects and regexes) must
// give exactly what the Date-based definitions give.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isoFromEpochMs, parseIsoTimestamp } from '../../src/core/ecs/timestamp'

const MIN_MS = -62167219200000 // 0000-01-01T00:00:00.000Z
const MAX_MS = 253402300799999 // 9999-12-31T23:59:59.999Z

describe('timestamp fast paths', () => {
  it('isoFromEpochMs equals Date#toISOString over years 0000–9999, undefined outside', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_MS, max: MAX_MS }), (ms) => {
        expect(isoFromEpochMs(ms)).toBe(new Date(ms).toISOString())
      }),
      { numRuns: 5000 },
    )
    for (const ms of [MIN_MS, MAX_MS, 0, -1, 951782400000, 951868800000, 4107542400000, 1637624653873.9])
      expect(isoFromEpochMs(ms)).toBe(new Date(Math.floor(ms)).toISOString())
    for (const ms of [MIN_MS - 1, MAX_MS + 1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(isoFromEpochMs(ms)).toBe(undefined)
  })

  it('YYYY-MM-DDTHH:MM:SS.mmm±HHMM and ±HH:MM equal Date.parse of the same instant', () => {
    const two = (n: number) => String(n).padStart(2, '0')
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0001-01-02T00:00:00Z'), max: new Date('9999-12-30T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        fc.boolean(),
        (date, offset, colon) => {
          const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 23)
          const sign = offset < 0 ? '-' : '+'
          const abs = Math.abs(offset)
          const zone = `${sign}${two(Math.floor(abs / 60))}${colon ? ':' : ''}${two(abs % 60)}`
          expect(parseIsoTimestamp(local + zone)).toBe(date.toISOString())
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('impossible values in that format are rejected', () => {
    for (const bad of [
      '2022-02-30T08:48:05.645+0000',
      '2023-02-29T08:48:05.645+0000',
      '2022-13-01T08:48:05.645+0000',
      '2022-01-24T24:48:05.645+0000',
      '2022-01-24T08:60:05.645+0000',
      '2022-01-24T08:48:60.645+0000',
      '2022-01-24T08:48:05.645+2400',
      '2022-01-24T08:48:05.645+0060',
      '2022-01-24T08:48:05.6x5+0000',
      '2022-01-24T08:48:05.645+00:0x',
      '0000-01-01T00:00:00.000+0100',
    ])
      expect(parseIsoTimestamp(bad), bad).toBeUndefined()
    expect(parseIsoTimestamp('2024-02-29T23:30:00.000-01:00')).toBe('2024-03-01T00:30:00.000Z')
  })
})
