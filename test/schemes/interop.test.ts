/**
 * Live interop with the official Node SDKs, both ways: what they produce verifies with ours, and what we
 * produce is accepted by their `confirm_*`. 1.3.0 covers both schemes; 3.2.1 only has `signature`.
 */
import { createRequire } from 'node:module'

import { describe, expect, it } from 'vitest'

import { LegacySecKeyAuth, SignatureAuth } from '../../src/index.js'
import { keyText, secKeyVectors, signatureVectors } from '../support/vectors.js'
import { backendName, checkedVerify, expectFailure, expectOk } from './helpers.js'

interface SdkSignature {
  generate_signature(timestamp?: string | number): { signature: string; timestamp: string | number }
  confirm_signature(timestamp: string | number, signature: string): boolean
}
interface Sdk1Signature extends SdkSignature {
  generate_sec_key(timestamp?: string | number): { sec_key: string; timestamp: string | number }
  confirm_sec_key(timestamp: string | number, secKey: string): boolean
}

const require = createRequire(import.meta.url)
const Sdk1 = (
  require('smile-identity-core') as { Signature: new (partnerId: string, apiKey: string) => Sdk1Signature }
).Signature
// 3.x re-exports the default export of dist/src/signature.js as `Signature`.
const Sdk3 = (
  require('smile-identity-core-3') as { Signature: new (partnerId: string, apiKey: string) => SdkSignature }
).Signature

const sigVectors = signatureVectors()
const secVectors = secKeyVectors()
const PARTNER = '085'
const SIGNATURE_KEY = sigVectors.api_key
/** The SDK wants the portal's format: base64 of the SPKI PEM. */
const SEC_KEY_API_KEY = secVectors.apiKeyEncodings.b64_spki_pem
const PRIVATE_KEY = keyText('test_rsa1024_private_pkcs8.pem')
const verify = checkedVerify([SIGNATURE_KEY, PRIVATE_KEY.replace(/-----[A-Z ]+-----|\s/g, '')])

const STRING_TIMESTAMPS = [
  '2023-11-14T22:13:20.000Z',
  '2024-02-29T23:59:59.999Z',
  '2023-11-14T22:13:20.123456+00:00',
  '2023-11-14 22:13:20 +0000',
  '2023-11-14T22:13:20+0100',
]

describe('the installed SDKs', () => {
  it('are the versions this suite pins', () => {
    expect((require('smile-identity-core/package.json') as { version: string }).version).toBe('1.3.0')
    expect((require('smile-identity-core-3/package.json') as { version: string }).version).toBe('3.2.1')
  })
})

describe(`signature interop with smile-identity-core 1.3.0 (${backendName} backend)`, () => {
  const sdk = new Sdk1(PARTNER, SIGNATURE_KEY)
  const ours = new SignatureAuth({ partnerId: PARTNER, apiKey: SIGNATURE_KEY })

  it.each(STRING_TIMESTAMPS)('verifies the SDK signature for %j', async (timestamp) => {
    const theirs = sdk.generate_signature(timestamp)
    expect(theirs.timestamp).toBe(timestamp)
    expectOk(await verify(ours, theirs))
  })

  it('verifies the SDK default (the current time)', async () => {
    expectOk(await verify(ours, sdk.generate_signature()))
  })

  it.each(STRING_TIMESTAMPS)('gets our signature for %j accepted by confirm_signature', async (timestamp) => {
    const signed = await ours.sign({ timestamp })
    expect(sdk.confirm_signature(signed.timestamp, signed.signature)).toBe(true)
  })

  it('gets our default signature accepted, and a wrong one refused, by confirm_signature', async () => {
    const signed = await ours.sign()
    expect(sdk.confirm_signature(signed.timestamp, signed.signature)).toBe(true)
    const other = await new SignatureAuth({ partnerId: '85', apiKey: SIGNATURE_KEY }).sign(signed)
    expect(sdk.confirm_signature(signed.timestamp, other.signature)).toBe(false)
  })

  it('refuses an SDK signature made for another partner or key', async () => {
    const timestamp = STRING_TIMESTAMPS[0]!
    expectFailure(
      await verify(ours, new Sdk1('85', SIGNATURE_KEY).generate_signature(timestamp)),
      'invalid_signature',
    )
    expectFailure(
      await verify(ours, new Sdk1(PARTNER, 'another-key').generate_signature(timestamp)),
      'invalid_signature',
    )
  })
})

describe(`signature interop with smile-identity-core 3.2.1 (${backendName} backend)`, () => {
  const sdk = new Sdk3(PARTNER, SIGNATURE_KEY)
  const ours = new SignatureAuth({ partnerId: PARTNER, apiKey: SIGNATURE_KEY })

  it.each(STRING_TIMESTAMPS)('verifies the SDK signature for %j', async (timestamp) => {
    expectOk(await verify(ours, sdk.generate_signature(timestamp)))
  })

  it('verifies the SDK default (the current time)', async () => {
    expectOk(await verify(ours, sdk.generate_signature()))
  })

  it('verifies a number the SDK signed as its ISO form, with a timestamp_coerced warning', async () => {
    const theirs = sdk.generate_signature(1_700_000_000_000)
    expect(theirs.timestamp).toBe(1_700_000_000_000)
    const result = expectOk(await verify(ours, theirs))
    expect(result.warnings).toEqual(['timestamp_coerced'])
    expect(result.issuedAt?.toISOString()).toBe('2023-11-14T22:13:20.000Z')
  })

  it.each(STRING_TIMESTAMPS)('gets our signature for %j accepted by confirm_signature', async (timestamp) => {
    const signed = await ours.sign({ timestamp })
    expect(sdk.confirm_signature(signed.timestamp, signed.signature)).toBe(true)
  })

  it('gets our default and Date-based signatures accepted by confirm_signature', async () => {
    const now = await ours.sign()
    expect(sdk.confirm_signature(now.timestamp, now.signature)).toBe(true)
    const fromDate = await ours.sign({ timestamp: new Date(1_700_000_000_000) })
    expect(sdk.confirm_signature(1_700_000_000_000, fromDate.signature)).toBe(true)
  })

  it('has its confirm_signature refuse a signature for another timestamp', async () => {
    const signed = await ours.sign({ timestamp: STRING_TIMESTAMPS[0]! })
    expect(sdk.confirm_signature(STRING_TIMESTAMPS[1]!, signed.signature)).toBe(false)
  })
})

describe(`sec_key interop with smile-identity-core 1.3.0 (${backendName} backend)`, () => {
  const sdk = new Sdk1(PARTNER, SEC_KEY_API_KEY)
  // The SDK's generate_sec_key is partner → Smile (type-2): the private-key holder verifies it.
  const smile = new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: PRIVATE_KEY })
  const partner = new LegacySecKeyAuth({ partnerId: PARTNER, apiKey: SEC_KEY_API_KEY })
  const timestamps: Array<number | string> = [
    1_700_000_000,
    1_700_000_000_000,
    '2023-11-14 22:13:20 +0000',
    7,
  ]

  it.each(timestamps)('verifies the SDK sec_key for %j in the server role', async (timestamp) => {
    const theirs = sdk.generate_sec_key(timestamp)
    expect(theirs.timestamp).toBe(timestamp)
    const result = expectOk(await verify(smile, theirs))
    expect(result.timestamp).toBe(timestamp)
  })

  it('verifies the SDK default (Date.now(), a number) in the server role', async () => {
    const theirs = sdk.generate_sec_key()
    expect(typeof theirs.timestamp).toBe('number')
    expectOk(await verify(smile, theirs))
  })

  it('refuses an SDK sec_key for another partner', async () => {
    const theirs = new Sdk1('86', SEC_KEY_API_KEY).generate_sec_key(1_700_000_000)
    expectFailure(await verify(smile, theirs), 'invalid_sec_key')
  })

  it.each(timestamps)(
    'gets our server-role sec_key for %j accepted by confirm_sec_key',
    async (timestamp) => {
      // confirm_sec_key checks Smile → partner values (type-1, public decrypt): our server role makes those.
      const signed = await smile.sign({ timestamp })
      expect(sdk.confirm_sec_key(signed.timestamp, signed.sec_key)).toBe(true)
    },
  )

  it('gets our default server-role sec_key accepted, and refused for another timestamp', async () => {
    const signed = await smile.sign()
    expect(sdk.confirm_sec_key(signed.timestamp, signed.sec_key)).toBe(true)
    expect(sdk.confirm_sec_key(Number(signed.timestamp) + 1, signed.sec_key)).toBe(false)
  })

  it('agrees with our partner role on what the SDK confirms', async () => {
    const signed = await smile.sign({ timestamp: 1_712_345_678 })
    expect(sdk.confirm_sec_key(signed.timestamp, signed.sec_key)).toBe(true)
    expectOk(await verify(partner, signed))
  })

  it('makes partner-role values that decrypt to the same hash the SDK sends', async () => {
    const ours = await partner.sign({ timestamp: 1_700_000_000 })
    const theirs = sdk.generate_sec_key(1_700_000_000)
    expect(ours.sec_key.split('|')[1]).toBe(theirs.sec_key.split('|')[1])
    expectOk(await verify(smile, ours))
  })
})
