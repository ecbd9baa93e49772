import { describe, expect, it } from 'vitest'

import { LegacySecKeyAuth, SignatureAuth } from '../../src/index.js'
import { keyText } from '../support/vectors.js'
import { backendName, checkedVerify, expectFailure, expectOk } from './helpers.js'

const API_KEY = 'instant-range-api-key-0123456789'
const PRIVATE_KEY = keyText('test_rsa1024_private_pkcs1.pem')
const PUBLIC_KEY = keyText('test_rsa1024_public_spki.pem')
const verify = checkedVerify([API_KEY, PRIVATE_KEY.replace(/-----[A-Z ]+-----|\s/g, '')])

/** 2023-11-14T22:13:20.000Z */
const T = 1_700_000_000_000
const window = { freshness: { maxAgeMs: 300_000, maxFutureMs: 300_000, now: T } }

const signature = new SignatureAuth({ partnerId: '085', apiKey: API_KEY })
const smile = new LegacySecKeyAuth({ partnerId: '085', privateKey: PRIVATE_KEY })
const partner = new LegacySecKeyAuth({ partnerId: '085', apiKey: PUBLIC_KEY })

/**
 * Timestamps that verify cryptographically but whose instant no Date can hold. Before the fix they came
 * back with `issuedAt` = Invalid Date, which a window check written as "outside" let through.
 */
const UNESTABLISHED: Array<[string, string | number]> = [
  ['a nanosecond epoch as a JSON number', 1_700_000_000_000_000_000],
  ['a 16-digit epoch string', '9999999999999999'],
  ['1e300', 1e300],
  ['just past the Date range', 8.64e15 + 1],
]

describe(`an instant that cannot be established is never fresh (${backendName} backend)`, () => {
  it.each(UNESTABLISHED)(
    'signature with %s: issuedAt null, malformed_credentials under freshness',
    async (_, timestamp) => {
      // A JSON number arrives as a number; the HMAC covers String(n), as the signer made it.
      const signed = { ...(await signature.sign({ timestamp })), timestamp }
      const plain = expectOk(await verify(signature, signed))
      expect(plain.issuedAt).toBeNull()
      const refused = expectFailure(await verify(signature, signed, window), 'malformed_credentials')
      expect(refused).toMatchObject({ scheme: 'signature', partnerId: '085' })
    },
  )

  it.each(UNESTABLISHED)(
    'sec_key with %s: issuedAt null, malformed_credentials under freshness',
    async (_, timestamp) => {
      const signed = await smile.sign({ timestamp })
      const plain = expectOk(await verify(partner, signed))
      expect(plain.issuedAt).toBeNull()
      const refused = expectFailure(await verify(partner, signed, window), 'malformed_credentials')
      expect(refused).toMatchObject({ scheme: 'sec_key', partnerId: '085' })
    },
  )

  it('still reads the last instant a Date can hold, and refuses it as timestamp_in_future', async () => {
    const signed = await smile.sign({ timestamp: 8.64e15 })
    expect(expectOk(await verify(partner, signed)).issuedAt?.getTime()).toBe(8.64e15)
    expectFailure(await verify(partner, signed, window), 'timestamp_in_future')
  })

  it('fails closed when the freshness clock or a bound is NaN', async () => {
    const signed = await signature.sign({ timestamp: new Date(T) })
    expectFailure(await verify(signature, signed, { freshness: { now: Number.NaN } }), 'timestamp_expired')
    expectFailure(
      await verify(signature, signed, { freshness: { now: T, maxAgeMs: Number.NaN } }),
      'timestamp_expired',
    )
    expectFailure(
      await verify(signature, signed, { freshness: { now: T, maxFutureMs: Number.NaN } }),
      'timestamp_in_future',
    )
  })
})
