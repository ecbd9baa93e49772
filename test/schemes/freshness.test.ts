import { describe, expect, it } from 'vitest'

import { LegacySecKeyAuth, SignatureAuth, type FreshnessOptions } from '../../src/index.js'
import { keyText } from '../support/vectors.js'
import { backendName, checkedVerify, expectFailure, expectOk } from './helpers.js'

const API_KEY = 'freshness-api-key-0123456789'
const PRIVATE_KEY = keyText('test_rsa1024_private_pkcs1.pem')
const PUBLIC_KEY = keyText('test_rsa1024_public_spki.pem')
const verify = checkedVerify([API_KEY, PRIVATE_KEY.replace(/-----[A-Z ]+-----|\s/g, '')])

/** 2023-11-14T22:13:20.000Z, the instant of the interop vectors. */
const T = 1_700_000_000_000
const MINUTE = 60_000
const window = (now: number, extra: Partial<FreshnessOptions> = {}) => ({
  freshness: { maxAgeMs: 5 * MINUTE, maxFutureMs: 5 * MINUTE, now, ...extra },
})

const signature = new SignatureAuth({ partnerId: '085', apiKey: API_KEY })
const smile = new LegacySecKeyAuth({ partnerId: '085', privateKey: PRIVATE_KEY })
const partner = new LegacySecKeyAuth({ partnerId: '085', apiKey: PUBLIC_KEY })

/** Spellings of instant T (or T plus a fraction of a second) that SDKs send, with the warnings each gets. */
const SPELLINGS: Array<[string, string, string[]]> = [
  ['ISO with Z', '2023-11-14T22:13:20.000Z', []],
  ['ISO without fraction', '2023-11-14T22:13:20Z', []],
  ['ISO with +00:00 and microseconds', '2023-11-14T22:13:20.123456+00:00', []],
  ['ISO with +0000', '2023-11-14T22:13:20+0000', []],
  ['ISO with 9 fraction digits', '2023-11-14T22:13:20.123456789Z', []],
  ['ISO in another zone', '2023-11-14T23:13:20.000+01:00', []],
  ['ISO west of UTC', '2023-11-14T17:13:20-0500', []],
  ['naive local time (read as UTC)', '2023-11-14T22:13:20.123456', ['timestamp_naive']],
  ['Ruby Time#to_s', '2023-11-14 22:13:20 +0000', []],
  ['epoch seconds', '1700000000', []],
  ['epoch milliseconds', '1700000000000', []],
]

describe(`freshness of signature timestamps (${backendName} backend)`, () => {
  it.each(SPELLINGS)('reads %s as the right instant', async (_, timestamp, warnings) => {
    const signed = await signature.sign({ timestamp })
    const result = expectOk(await verify(signature, signed, window(T)))
    expect(result.warnings).toEqual(warnings)
    expect(Math.abs(result.issuedAt!.getTime() - T)).toBeLessThan(1000)
  })

  it.each(SPELLINGS)('refuses %s six minutes late as timestamp_expired', async (_, timestamp) => {
    const signed = await signature.sign({ timestamp })
    expectFailure(await verify(signature, signed, window(T + 6 * MINUTE)), 'timestamp_expired')
    expectOk(await verify(signature, signed, window(T + 4 * MINUTE)))
  })

  it.each(SPELLINGS)('refuses %s six minutes early as timestamp_in_future', async (_, timestamp) => {
    const signed = await signature.sign({ timestamp })
    expectFailure(await verify(signature, signed, window(T - 6 * MINUTE)), 'timestamp_in_future')
    expectOk(await verify(signature, signed, window(T - 4 * MINUTE)))
  })

  it('includes both ends of the window', async () => {
    const signed = await signature.sign({ timestamp: new Date(T) })
    expectOk(await verify(signature, signed, window(T + 5 * MINUTE)))
    expectFailure(await verify(signature, signed, window(T + 5 * MINUTE + 1)), 'timestamp_expired')
    expectOk(await verify(signature, signed, window(T - 5 * MINUTE)))
    expectFailure(await verify(signature, signed, window(T - 5 * MINUTE - 1)), 'timestamp_in_future')
  })

  it('defaults to five minutes each way when only now is given', async () => {
    const signed = await signature.sign({ timestamp: new Date(T) })
    expectOk(await verify(signature, signed, { freshness: { now: T + 5 * MINUTE } }))
    expectFailure(
      await verify(signature, signed, { freshness: { now: T + 5 * MINUTE + 1 } }),
      'timestamp_expired',
    )
    expectFailure(
      await verify(signature, signed, { freshness: { now: T - 5 * MINUTE - 1 } }),
      'timestamp_in_future',
    )
  })

  it('honours its own window sizes', async () => {
    const signed = await signature.sign({ timestamp: new Date(T) })
    expectOk(await verify(signature, signed, window(T + 59 * MINUTE, { maxAgeMs: 60 * MINUTE })))
    expectFailure(
      await verify(signature, signed, window(T + 2_000, { maxAgeMs: 1_000 })),
      'timestamp_expired',
    )
    expectFailure(
      await verify(signature, signed, window(T - 2_000, { maxFutureMs: 1_000 })),
      'timestamp_in_future',
    )
  })

  it('takes now as a number, a Date or a clock function', async () => {
    const signed = await signature.sign({ timestamp: new Date(T) })
    expectOk(await verify(signature, signed, { freshness: { now: new Date(T) } }))
    expectOk(await verify(signature, signed, { freshness: { now: () => T } }))
    expectFailure(
      await verify(signature, signed, { freshness: { now: () => T + 3_600_000 } }),
      'timestamp_expired',
    )
    expectFailure(
      await verify(signature, signed, { freshness: { now: new Date(T - 3_600_000) } }),
      'timestamp_in_future',
    )
  })

  it('reads a coerced JSON number as Node 3.x did: milliseconds', async () => {
    const iso = await signature.sign({ timestamp: new Date(T) })
    const result = expectOk(await verify(signature, { signature: iso.signature, timestamp: T }, window(T)))
    expect(result.warnings).toEqual(['timestamp_coerced'])
    // Node 3.x signed 1700000000 (seconds) as 1970-01-20: stale by any window.
    const seconds = await signature.sign({ timestamp: new Date(T / 1000) })
    expectFailure(
      await verify(signature, { signature: seconds.signature, timestamp: T / 1000 }, window(T)),
      'timestamp_expired',
    )
  })

  it('checks the signature before the clock: a forged stale credential is invalid_signature', async () => {
    const signed = await signature.sign({ timestamp: new Date(T) })
    const forged = {
      signature: signed.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
      timestamp: signed.timestamp,
    }
    expectFailure(await verify(signature, forged, window(T + 3_600_000)), 'invalid_signature')
  })

  it('checks no clock without options.freshness', async () => {
    const signed = await signature.sign({ timestamp: '1999-01-01T00:00:00Z' })
    expectOk(await verify(signature, signed))
    expectOk(await verify(signature, signed, {}))
  })

  it.each([
    ['free text', 'not a time'],
    ['an impossible date', '2023-02-30T10:00:00Z'],
    ['an hour out of range', '2023-11-14T25:13:20Z'],
    ['an offset out of range', '2023-11-14T22:13:20+25:00'],
    ['a date without time', '2023-11-14'],
    ['a negative number string', '-1700000000'],
  ])('verifies %s but refuses it as malformed_credentials when freshness is on', async (_, timestamp) => {
    const signed = await signature.sign({ timestamp })
    const plain = expectOk(await verify(signature, signed))
    expect(plain.issuedAt).toBeNull()
    const failure = expectFailure(await verify(signature, signed, window(T)), 'malformed_credentials')
    expect(failure).toMatchObject({ scheme: 'signature', partnerId: '085' })
  })
})

describe(`freshness of sec_key timestamps (${backendName} backend)`, () => {
  const cases: Array<[string, number | string]> = [
    ['epoch seconds (Python, Ruby, PHP)', 1_700_000_000],
    ['epoch milliseconds (Node, Java)', T],
    ['a digit string', '1700000000'],
    ['a Ruby Time#to_s string (Ruby IdApi)', '2023-11-14 22:13:20 +0000'],
    ['an ISO string', '2023-11-14T22:13:20.000Z'],
  ]

  it.each(cases)('reads %s as the right instant, both directions', async (_, timestamp) => {
    const toPartner = await smile.sign({ timestamp })
    expect(expectOk(await verify(partner, toPartner, window(T))).issuedAt?.getTime()).toBe(T)
    const toSmile = await partner.sign({ timestamp })
    expect(expectOk(await verify(smile, toSmile, window(T))).issuedAt?.getTime()).toBe(T)
  })

  it.each(cases)('refuses %s outside the window', async (_, timestamp) => {
    const signed = await smile.sign({ timestamp })
    expectFailure(await verify(partner, signed, window(T + 6 * MINUTE)), 'timestamp_expired')
    expectFailure(await verify(partner, signed, window(T - 6 * MINUTE)), 'timestamp_in_future')
  })

  it('flags a naive string timestamp', async () => {
    const signed = await smile.sign({ timestamp: '2023-11-14 22:13:20' })
    expect(expectOk(await verify(partner, signed, window(T))).warnings).toEqual(['timestamp_naive'])
  })

  it('verifies a timestamp that is not an instant, but refuses it as malformed_credentials when freshness is on', async () => {
    const signed = await smile.sign({ timestamp: 'job-42' })
    expect(expectOk(await verify(partner, signed)).issuedAt).toBeNull()
    const failure = expectFailure(await verify(partner, signed, window(T)), 'malformed_credentials')
    expect(failure).toMatchObject({ scheme: 'sec_key', partnerId: '085' })
  })

  it('checks the sec_key before the clock', async () => {
    const signed = await smile.sign({ timestamp: 1_700_000_000 })
    expectFailure(
      await verify(partner, { sec_key: signed.sec_key, timestamp: 1_600_000_000 }, window(T)),
      'invalid_sec_key',
    )
  })
})
