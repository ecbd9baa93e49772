import { afterEach, describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'

import {
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_FUTURE_MS,
  MAX_INSTANT_MS,
  checkFreshness,
  checkInstant,
  checkWindow,
  isInstant,
  readInstant,
  resolveNow,
} from '../src/timestamps.js'

/** 2023-11-14T22:13:20.000Z */
const T = 1_700_000_000_000

describe('readInstant', () => {
  it.each([
    ['2023-11-14T22:13:20.000Z', T],
    ['2023-11-14T22:13:20Z', T],
    ['2023-11-14T22:13:20z', T],
    ['2023-11-14T22:13:20.123Z', T + 123],
    ['2023-11-14T22:13:20.1Z', T + 100],
    ['2023-11-14T22:13:20.123456Z', T + 123],
    ['2023-11-14T22:13:20.999999999Z', T + 999],
    ['2023-11-14T22:13:20,5Z', T + 500],
    ['2023-11-14T22:13:20.123456+00:00', T + 123],
    ['2023-11-14T22:13:20+0000', T],
    ['2023-11-14T22:13:20.000+0000', T],
    ['2023-11-14T23:13:20+01:00', T],
    ['2023-11-14T23:13:20+01', T],
    ['2023-11-15T03:43:20+05:30', T],
    ['2023-11-14T14:13:20-0800', T],
    ['2023-11-14 22:13:20 +0000', T],
    ['2023-11-14 22:13:20 UTC', T],
    ['2023-11-14 23:13:20 +0100', T],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['1970-01-01T00:00:00Z', 0],
  ])('reads %j as a zoned instant', (timestamp, ms) => {
    expect(readInstant(timestamp)).toEqual({ ms, naive: false })
  })

  it.each([
    ['2023-11-14T22:13:20.123456', T + 123],
    ['2023-11-14T22:13:20', T],
    ['2023-11-14 22:13:20', T],
  ])('reads the zone-less %j as UTC and flags it naive', (timestamp, ms) => {
    expect(readInstant(timestamp)).toEqual({ ms, naive: true })
  })

  it.each([
    ['epoch seconds', 1_700_000_000, T],
    ['epoch milliseconds', T, T],
    ['fractional seconds', 1_700_000_000.5, T + 500],
    ['zero', 0, 0],
    ['the last value read as seconds', 99_999_999_999, 99_999_999_999_000],
    ['the first value read as milliseconds', 1e11, 1e11],
  ])('reads %s given as a number', (_, value, ms) => {
    expect(readInstant(value)).toEqual({ ms, naive: false })
  })

  it.each([
    ['epoch seconds', '1700000000', T],
    ['epoch milliseconds', '1700000000000', T],
    ['fractional seconds', '1700000000.25', T + 250],
    ['a 16-digit value', '1700000000000000', 1_700_000_000_000_000],
  ])('reads %s given as a digit string', (_, value, ms) => {
    expect(readInstant(value)).toEqual({ ms, naive: false })
  })

  it.each([
    'not a time',
    '',
    '2023-02-29T00:00:00Z',
    '2023-02-30T10:00:00Z',
    '2023-13-01T00:00:00Z',
    '2023-11-14T24:00:00Z',
    '2023-11-14T22:60:00Z',
    '2023-11-14T22:13:60Z',
    '2023-11-14T22:13:20+24:00',
    '2023-11-14T22:13:20+01:60',
    '2023-11-14T22:13:20.1234567890Z',
    '2023-11-14',
    '22:13:20',
    '2023-11-14T22:13:20 Z garbage',
    '-1700000000',
    '1e12',
    '17000000000000000',
    ' 1700000000',
    'Tue, 14 Nov 2023 22:13:20 GMT',
  ])('does not read %j as an instant', (timestamp) => {
    expect(readInstant(timestamp)).toEqual({ ms: null, naive: false })
  })

  it.each([
    ['a negative number', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('does not read %s as an instant', (_, value) => {
    expect(readInstant(value).ms).toBeNull()
  })
})

describe('checkWindow', () => {
  it('includes both ends of the window', () => {
    expect(checkWindow(T, T + 1000, 1000, 1000)).toBeNull()
    expect(checkWindow(T, T - 1000, 1000, 1000)).toBeNull()
    expect(checkWindow(T, T, 0, 0)).toBeNull()
  })

  it('names the side a timestamp falls off', () => {
    expect(checkWindow(T, T + 1001, 1000, 1000)).toBe('timestamp_expired')
    expect(checkWindow(T, T - 1001, 1000, 1000)).toBe('timestamp_in_future')
  })
})

describe('resolveNow', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('takes a number, a Date or a clock function', () => {
    expect(resolveNow(T)).toBe(T)
    expect(resolveNow(new Date(T))).toBe(T)
    expect(resolveNow(() => T + 1)).toBe(T + 1)
  })

  it('defaults to Date.now()', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(T + 42)
    expect(resolveNow(undefined)).toBe(T + 42)
  })
})

describe('checkFreshness', () => {
  it('defaults to five minutes each way', () => {
    expect([DEFAULT_MAX_AGE_MS, DEFAULT_MAX_FUTURE_MS]).toEqual([300_000, 300_000])
    const instant = { ms: T, naive: false }
    expect(checkFreshness(instant, { now: T + 300_000 })).toEqual({ ok: true })
    expect(checkFreshness(instant, { now: T - 300_000 })).toEqual({ ok: true })
    expect(checkFreshness(instant, { now: T + 300_001 })).toMatchObject({
      ok: false,
      reason: 'timestamp_expired',
    })
    expect(checkFreshness(instant, { now: T - 300_001 })).toMatchObject({
      ok: false,
      reason: 'timestamp_in_future',
    })
  })

  it('uses the given window sizes', () => {
    const instant = { ms: T, naive: false }
    expect(checkFreshness(instant, { now: T + 2000, maxAgeMs: 1000 })).toMatchObject({
      reason: 'timestamp_expired',
    })
    expect(checkFreshness(instant, { now: T - 2000, maxFutureMs: 1000 })).toMatchObject({
      reason: 'timestamp_in_future',
    })
    expect(checkFreshness(instant, { now: T + 2000, maxAgeMs: 3000 })).toEqual({ ok: true })
  })

  it('refuses a timestamp that is not an instant as malformed_credentials', () => {
    expect(checkFreshness({ ms: null, naive: false }, { now: T })).toMatchObject({
      ok: false,
      reason: 'malformed_credentials',
    })
  })
})

describe('readInstant: the canonical toISOString() fast path', () => {
  it('agrees with Date for every canonical spelling', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31) }), (ms) => {
        const iso = new Date(ms).toISOString()
        expect(readInstant(iso)).toEqual({ ms, naive: false })
      }),
      { numRuns: 500 },
    )
  })

  it('refuses impossible dates and non-digits in the canonical shape', () => {
    for (const text of [
      '2023-02-29T00:00:00.000Z',
      '2023-04-31T00:00:00.000Z',
      '2023-11-14T24:00:00.000Z',
      '2023-11-14T22:60:00.000Z',
      '2023-11-14T22:13:60.000Z',
      '2023-13-14T22:13:20.000Z',
      '2023-11-14T22:13:20.0a0Z',
      '2023-11-1xT22:13:20.000Z',
    ]) {
      expect(readInstant(text), text).toEqual({ ms: null, naive: false })
    }
    expect(readInstant('2024-02-29T23:59:59.999Z').ms).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999))
  })
})

describe('an instant that cannot be established is never fresh', () => {
  it.each([
    ['a nanosecond epoch number', 1_700_000_000_000_000_000],
    ['1e300', 1e300],
    ['one past the Date range', MAX_INSTANT_MS + 1],
    ['"9999999999999999"', '9999999999999999'],
  ])('readInstant gives no instant for %s', (_, value) => {
    expect(readInstant(value).ms).toBeNull()
  })

  it('keeps the edges of the Date range', () => {
    expect(readInstant(MAX_INSTANT_MS).ms).toBe(MAX_INSTANT_MS)
    expect(new Date(MAX_INSTANT_MS).getTime()).toBe(MAX_INSTANT_MS)
    expect(Number.isNaN(new Date(MAX_INSTANT_MS + 1).getTime())).toBe(true)
    expect([isInstant(MAX_INSTANT_MS), isInstant(-MAX_INSTANT_MS), isInstant(0)]).toEqual([true, true, true])
    expect([isInstant(MAX_INSTANT_MS + 1), isInstant(Number.NaN), isInstant(Infinity)]).toEqual([
      false,
      false,
      false,
    ])
  })

  it.each([
    ['NaN (an Invalid Date)', Number.NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['1e300', 1e300],
    ['-1e300', -1e300],
    ['null', null],
  ])('checkInstant refuses %s as malformed_credentials', (_, ms) => {
    expect(checkInstant(ms, T, 300_000, 300_000)).toMatchObject({
      ok: false,
      reason: 'malformed_credentials',
    })
  })

  it('checkWindow fails closed on NaN anywhere', () => {
    expect(checkWindow(Number.NaN, T, 1000, 1000)).not.toBeNull()
    expect(checkWindow(T, Number.NaN, 1000, 1000)).not.toBeNull()
    expect(checkWindow(T, T, Number.NaN, 1000)).toBe('timestamp_expired')
    expect(checkWindow(T, T, 1000, Number.NaN)).toBe('timestamp_in_future')
  })

  it('property: whatever readInstant returns is null or an instant a Date holds', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double(), fc.string(), fc.stringMatching(/^\d{1,16}(\.\d{1,9})?$/)),
        (value) => {
          const { ms } = readInstant(value)
          if (ms !== null) expect(Number.isNaN(new Date(ms).getTime())).toBe(false)
        },
      ),
      { numRuns: 500 },
    )
  })
})
