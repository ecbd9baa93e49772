/**
 * sec_key is asymmetric: a partner-made value (type-2 public-key encryption) can only be checked with the
 * private key, a Smile-made one (type-1) only with the public key. Checking a value with the wrong half
 * of the pair, such as one's own `sign()` output, says so instead of only "does not match".
 */
import { describe, expect, it } from 'vitest'

import { LegacySecKeyAuth } from '../../src/index.js'
import { keyText, secKeyVectors } from '../support/vectors.js'
import { backendName, checkedVerify, expectFailure, expectOk } from './helpers.js'

const vectors = secKeyVectors()
const PARTNER = vectors.partnerId
const PRIVATE_PKCS1 = keyText('test_rsa1024_private_pkcs1.pem')
const verify = checkedVerify([PRIVATE_PKCS1.replace(/-----[A-Z ]+-----|\s/g, '')])
const partner = () =>
  new LegacySecKeyAuth({ partnerId: PARTNER, apiKey: vectors.apiKeyEncodings.b64_spki_pem })
const server = () => new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: PRIVATE_PKCS1 })
const PARTNER_HINT = /Only the private key can check a partner-made sec_key/
const TIMESTAMP = 1_733_000_000_000

describe(`LegacySecKeyAuth checking a value made in the other direction (${backendName} backend)`, () => {
  it('explains why the partner role cannot check its own sign() output', async () => {
    const auth = partner()
    const own = await auth.sign({ timestamp: TIMESTAMP })
    const result = expectFailure(await verify(auth, own), 'invalid_sec_key')
    expect(result.message).toMatch(PARTNER_HINT)
    expect(result.message).toMatch(/^sec_key does not match: /)
    // The value itself is fine: the private key holder accepts it.
    expectOk(await verify(server(), own))
  })

  it.each(vectors.partnerSamples.map((s) => [`${s.sdk} ${s.version}`, s] as const))(
    'explains it for the %s partner sample too',
    async (_, sample) => {
      const result = expectFailure(
        await verify(partner(), { sec_key: sample.sec_key, timestamp: sample.timestamp }),
        'invalid_sec_key',
      )
      expect(result.message).toMatch(PARTNER_HINT)
    },
  )

  it('keeps one uniform answer in the server role (no padding oracle), even for its own sign() output', async () => {
    const auth = server()
    const own = await auth.sign({ timestamp: TIMESTAMP })
    const result = expectFailure(await verify(auth, own), 'invalid_sec_key')
    expect(result.message).toBe('sec_key does not match')
    const wrongHash = await partner().sign({ timestamp: TIMESTAMP + 1 })
    const other = expectFailure(await verify(auth, { ...wrongHash, timestamp: TIMESTAMP }), 'invalid_sec_key')
    expect(other.message).toBe(result.message)
    expectOk(await verify(partner(), own))
  })

  it('keeps the hint within the 200 characters of every failure message', async () => {
    const auth = partner()
    const result = expectFailure(await verify(auth, await auth.sign()), 'invalid_sec_key')
    expect(result.message.length).toBeLessThanOrEqual(200)
  })

  it('explains it with a key list as well', async () => {
    const rotating = new LegacySecKeyAuth({
      partnerId: PARTNER,
      apiKey: [vectors.apiKeyEncodings.b64_spki_der, vectors.apiKeyEncodings.b64_pkcs1_pem],
    })
    const result = expectFailure(await verify(rotating, await rotating.sign()), 'invalid_sec_key')
    expect(result.message).toMatch(PARTNER_HINT)
  })

  it('keeps the plain message when the hash half is wrong', async () => {
    const own = await partner().sign({ timestamp: TIMESTAMP })
    const result = expectFailure(
      await verify(partner(), { ...own, timestamp: TIMESTAMP + 1 }),
      'invalid_sec_key',
    )
    expect(result.message).toBe('sec_key does not match')
    const smile = await server().sign({ timestamp: TIMESTAMP })
    const other = expectFailure(
      await verify(partner(), { ...smile, timestamp: TIMESTAMP + 1 }),
      'invalid_sec_key',
    )
    expect(other.message).toBe('sec_key does not match')
  })

  it('keeps the plain message when the RSA half has the size of no configured key', async () => {
    const { sec_key } = await partner().sign({ timestamp: TIMESTAMP })
    const hash = sec_key.split('|')[1]!
    const short = `${Buffer.alloc(127, 7).toString('base64')}|${hash}`
    const result = expectFailure(
      await verify(partner(), { sec_key: short, timestamp: TIMESTAMP }),
      'invalid_sec_key',
    )
    expect(result.message).toBe('sec_key does not match')
  })
})
