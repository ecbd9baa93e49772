/**
 * sec_key key rotation: `apiKey` (and `privateKey`) take a list; the first key signs, every key verifies,
 * and `keyId` says which one matched.
 */
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto'

import { calculateJwkThumbprint } from 'jose'
import { describe, expect, it } from 'vitest'

import { LegacySecKeyAuth, type RsaJwk } from '../../src/index.js'
import { keyText, secKeyVectors } from '../support/vectors.js'
import { backendName, checkedVerify, configurationError, expectFailure, expectOk } from './helpers.js'

const vectors = secKeyVectors()
const PARTNER = vectors.partnerId

/** A key pair as the tests pass it: the portal form of the public key and a PKCS#8 PEM private key. */
interface Pair {
  apiKey: string
  privateKey: string
  thumbprint: string
}

async function pair(publicPem: string, privatePem: string): Promise<Pair> {
  const jwk = createPublicKey(publicPem).export({ format: 'jwk' }) as RsaJwk
  return {
    apiKey: Buffer.from(publicPem).toString('base64'),
    privateKey: privatePem,
    thumbprint: await calculateJwkThumbprint({ kty: 'RSA', n: jwk.n, e: jwk.e }, 'sha256'),
  }
}

function generated(bits: number): Promise<Pair> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  return pair(
    publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  )
}

const OLD = await pair(keyText('test_rsa1024_public_spki.pem'), keyText('test_rsa1024_private_pkcs8.pem'))
const NEW = await generated(1024)
const WIDE = await generated(2048)
const STRANGER = await generated(1024)
const verify = checkedVerify([OLD, NEW, WIDE, STRANGER].map((p) => p.privateKey.slice(40, 120)))

const partner = (apiKey: string | string[]) => new LegacySecKeyAuth({ partnerId: PARTNER, apiKey })
const server = (privateKey: string | string[]) => new LegacySecKeyAuth({ partnerId: PARTNER, privateKey })
const TIMESTAMP = 1_733_000_000_000

describe(`LegacySecKeyAuth key rotation, partner role (${backendName} backend)`, () => {
  it.each([
    ['new, old', [NEW, OLD]],
    ['old, new', [OLD, NEW]],
  ] as const)('verifies Smile values made with either key (%s) and says which matched', async (_, order) => {
    const rotating = partner(order.map((p) => p.apiKey))
    for (const keys of order) {
      const signed = await server(keys.privateKey).sign({ timestamp: TIMESTAMP })
      const result = expectOk(await verify(rotating, signed))
      expect(result.keyId).toBe(keys.thumbprint)
      expect(result.keyId).toBe(expectOk(await verify(partner(keys.apiKey), signed)).keyId)
    }
    expect(order[0].thumbprint).not.toBe(order[1].thumbprint)
  })

  it.each([
    ['new, old', [NEW, OLD]],
    ['old, new', [OLD, NEW]],
  ] as const)('signs with the first key only (%s)', async (_, order) => {
    const signed = await partner(order.map((p) => p.apiKey)).sign({ timestamp: TIMESTAMP })
    expect(expectOk(await verify(server(order[0].privateKey), signed)).keyId).toBe(order[0].thumbprint)
    expectFailure(await verify(server(order[1].privateKey), signed), 'invalid_sec_key')
  })

  it('verifies the SDK vectors through a list that holds their key second', async () => {
    const rotating = partner([NEW.apiKey, vectors.apiKeyEncodings.b64_spki_der])
    for (const vector of vectors.serverSecKeys) {
      const result = expectOk(
        await verify(rotating, { sec_key: vector.server_sec_key, timestamp: vector.timestamp }),
      )
      expect(result.keyId).toBe(OLD.thumbprint)
    }
  })

  it('mixes key sizes: a 2048-bit key first does not stop a 1024-bit value', async () => {
    const rotating = partner([WIDE.apiKey, OLD.apiKey])
    for (const keys of [WIDE, OLD]) {
      const signed = await server(keys.privateKey).sign({ timestamp: TIMESTAMP })
      expect(expectOk(await verify(rotating, signed)).keyId).toBe(keys.thumbprint)
    }
  })

  it('refuses a value made with a key outside the list, and a right value for another timestamp', async () => {
    const rotating = partner([NEW.apiKey, OLD.apiKey])
    const stranger = await server(STRANGER.privateKey).sign({ timestamp: TIMESTAMP })
    expectFailure(await verify(rotating, stranger), 'invalid_sec_key')
    const signed = await server(OLD.privateKey).sign({ timestamp: TIMESTAMP })
    expectFailure(await verify(rotating, { ...signed, timestamp: TIMESTAMP + 1 }), 'invalid_sec_key')
  })

  it('accepts a one-key list as that key', async () => {
    const signed = await server(OLD.privateKey).sign({ timestamp: TIMESTAMP })
    expect(expectOk(await verify(partner([OLD.apiKey]), signed)).keyId).toBe(OLD.thumbprint)
  })
})

describe(`LegacySecKeyAuth key rotation, server role (${backendName} backend)`, () => {
  it.each([
    ['new, old', [NEW, OLD]],
    ['old, new', [OLD, NEW]],
  ] as const)('verifies partner values made with either public key (%s)', async (_, order) => {
    const rotating = server(order.map((p) => p.privateKey))
    expect(rotating.role).toBe('server')
    for (const keys of order) {
      const signed = await partner(keys.apiKey).sign({ timestamp: TIMESTAMP })
      expect(expectOk(await verify(rotating, signed)).keyId).toBe(keys.thumbprint)
    }
    const stranger = await partner(STRANGER.apiKey).sign({ timestamp: TIMESTAMP })
    expectFailure(await verify(rotating, stranger), 'invalid_sec_key')
  })

  it('signs Smile values with the first private key', async () => {
    const signed = await server([NEW.privateKey, OLD.privateKey]).sign({ timestamp: TIMESTAMP })
    expect(signed).toEqual(await server(NEW.privateKey).sign({ timestamp: TIMESTAMP }))
    expectFailure(await verify(partner(OLD.apiKey), signed), 'invalid_sec_key')
  })
})

describe('LegacySecKeyAuth key lists: configuration errors', () => {
  it('refuses an empty list as missing_key, in both roles', () => {
    const a = configurationError(() => partner([]), 'missing_key')
    expect(a.message).toMatch(/apiKey must be a key or a non-empty list of keys/)
    const b = configurationError(() => server([]), 'missing_key')
    expect(b.message).toMatch(/privateKey must be a key or a non-empty list of keys/)
  })

  it('refuses a list with an empty entry as missing_key', () => {
    configurationError(() => partner([OLD.apiKey, '']), 'missing_key')
    configurationError(() => server([OLD.privateKey, null as never]), 'missing_key')
  })

  it('names the entry that is not a usable key, and the likely swap', () => {
    const broken = configurationError(() => partner([OLD.apiKey, 'not a key at all']), 'invalid_api_key')
    expect(broken.message).toMatch(/^apiKey\[1\]: apiKey is not a usable RSA public key/)
    const swapped = configurationError(() => partner([randomUUID(), OLD.apiKey]), 'invalid_api_key')
    expect(swapped.message).toMatch(/^apiKey\[0\]: .*this looks like the signature API key/)
    const publicAsPrivate = configurationError(
      () => server([OLD.privateKey, OLD.apiKey]),
      'invalid_private_key',
    )
    expect(publicAsPrivate.message).toMatch(/^privateKey\[1\]: /)
  })

  it('still refuses both roles at once', () => {
    configurationError(
      () =>
        new LegacySecKeyAuth({
          partnerId: PARTNER,
          apiKey: [OLD.apiKey],
          privateKey: [OLD.privateKey],
        } as never),
      'invalid_options',
    )
  })
})
