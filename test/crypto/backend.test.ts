/**
 * The crypto backend the `#crypto` import resolves to in this vitest project (node:crypto in
 * `node-crypto`, WebCrypto + node-forge in `web-crypto`), checked against node:crypto as the reference.
 */
import {
  constants,
  createHash,
  createHmac,
  privateDecrypt,
  privateEncrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto'

import { backend } from '#crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import type { RsaPrivateKey, RsaPublicKey } from '../../src/crypto/backend.js'
import { parsePrivateKey, parsePublicKey } from '../../src/key-parsing.js'
import { keyText, secKeyVectors } from '../support/vectors.js'

const vectors = secKeyVectors()
const PRIVATE_PEM = keyText('test_rsa1024_private_pkcs1.pem')
const PUBLIC_PEM = keyText('test_rsa1024_public_spki.pem')
const K = 128
const NO_PADDING = constants.RSA_NO_PADDING

const publicKey: Promise<RsaPublicKey> = Promise.resolve(
  backend.importRsaPublicKey(parsePublicKey(PUBLIC_PEM)),
)
const privateKey: Promise<RsaPrivateKey> = Promise.resolve(
  backend.importRsaPrivateKey(parsePrivateKey(PRIVATE_PEM)),
)

const bytes = (data: Uint8Array) => Buffer.from(data)
/** Raw RSA with the public key: lets a test build any block the private key will then see. */
const rawPublic = (block: Uint8Array) => publicEncrypt({ key: PUBLIC_PEM, padding: NO_PADDING }, block)
/** Raw RSA with the private key: lets a test build any block the public key will then see. */
const rawPrivate = (block: Uint8Array) => privateEncrypt({ key: PRIVATE_PEM, padding: NO_PADDING }, block)

/** EM = 00 || type || PS || 00 || M, with hooks to break it. */
function block(type: number, message: Uint8Array, pad: (i: number) => number, separator = 0): Buffer {
  const out = Buffer.alloc(K)
  out[1] = type
  const psEnd = K - message.length - 1
  for (let i = 2; i < psEnd; i++) out[i] = pad(i)
  out[psEnd] = separator
  Buffer.from(message).copy(out, psEnd + 1)
  return out
}

const HASH = Buffer.from(vectors.serverSecKeys[0]!.hash)
const nonZero = (i: number) => ((i * 7) % 255) + 1

describe('the #crypto backend', () => {
  it('is the one this vitest project aliases', ({ task }) => {
    const expected = { 'node-crypto': 'node', 'web-crypto': 'web' }[task.file.projectName ?? '']
    expect(expected).toBeDefined()
    expect(backend.name).toBe(expected)
  })
})

describe(`HMAC and SHA-256 (${backend.name} backend)`, () => {
  it('match node:crypto for any key and message, including lone surrogates', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ minLength: 1, unit: 'binary' }), fc.constant('\uD800')),
        fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary-ascii' }), fc.constant('a\uDC00b')),
        async (secret, message) => {
          const key = await backend.importHmacKey(secret)
          const mac = await backend.hmacSha256Base64(key, message)
          expect(mac).toBe(
            createHmac('sha256', Buffer.from(secret, 'utf8')).update(message, 'utf8').digest('base64'),
          )
          expect(await backend.sha256Hex(message)).toBe(
            createHash('sha256').update(message, 'utf8').digest('hex'),
          )
        },
      ),
      { numRuns: 100 },
    )
  })

  it('gives standard padded base64 of 32 bytes', async () => {
    const mac = await backend.hmacSha256Base64(await backend.importHmacKey('k'), 'm')
    expect(mac).toMatch(/^[A-Za-z0-9+/]{43}=$/)
  })
})

describe(`RSA with the test key (${backend.name} backend)`, () => {
  it('reports the modulus size', async () => {
    expect((await publicKey).size).toBe(K)
    expect((await privateKey).size).toBe(K)
  })

  it("makes the vectors' deterministic type-1 blocks byte for byte", async () => {
    for (const vector of vectors.serverSecKeys) {
      const [rsa] = vector.server_sec_key.split('|')
      const made = await backend.rsaPrivateEncrypt(await privateKey, Buffer.from(vector.hash))
      expect(bytes(made).toString('base64')).toBe(rsa)
    }
  })

  it("opens the vectors' type-1 blocks with the public key", async () => {
    for (const vector of vectors.serverSecKeys) {
      const [rsa] = vector.server_sec_key.split('|')
      const opened = await backend.rsaPublicDecrypt(await publicKey, Buffer.from(rsa!, 'base64'))
      expect(opened && bytes(opened).toString()).toBe(vector.hash)
    }
  })

  it("opens the SDKs' type-2 samples with the private key", async () => {
    for (const sample of vectors.partnerSamples) {
      const [rsa, hash] = sample.sec_key.split('|')
      const opened = await backend.rsaPrivateDecrypt(await privateKey, Buffer.from(rsa!, 'base64'), 64)
      expect(opened && bytes(opened).toString()).toBe(hash)
    }
  })

  it('pads type-2 encryption correctly and randomly (checked with raw RSA in node:crypto)', async () => {
    const seen = new Set<string>()
    for (let run = 0; run < 20; run++) {
      const sealed = bytes(await backend.rsaPublicEncrypt(await publicKey, HASH))
      expect(sealed).toHaveLength(K)
      seen.add(sealed.toString('hex'))
      const em = privateDecrypt({ key: PRIVATE_PEM, padding: NO_PADDING }, sealed)
      const separator = K - HASH.length - 1
      expect([em[0], em[1], em[separator]]).toEqual([0x00, 0x02, 0x00])
      expect(em.subarray(2, separator).includes(0)).toBe(false)
      expect(em.subarray(separator + 1)).toEqual(HASH)
      expect(bytes((await backend.rsaPrivateDecrypt(await privateKey, sealed, 64))!)).toEqual(HASH)
    }
    expect(seen.size).toBe(20)
  })

  it('makes type-1 blocks of the right shape (checked with raw RSA in node:crypto)', async () => {
    const signed = bytes(await backend.rsaPrivateEncrypt(await privateKey, HASH))
    // Raw RSA with the public exponent undoes the private operation and shows the padded block.
    expect(rawPublic(signed)).toEqual(block(0x01, HASH, () => 0xff))
  })
})

describe(`RSA failures are uniform (${backend.name} backend)`, () => {
  const privateCases: Array<[string, () => Uint8Array]> = [
    ['random bytes', () => randomBytes(K).fill(0, 0, 1)],
    ['a valid block with a 63-byte message', () => rawPublic(block(0x02, HASH.subarray(1), nonZero))],
    [
      'a valid block with a 65-byte message',
      () => rawPublic(block(0x02, Buffer.concat([HASH, Buffer.from('0')]), nonZero)),
    ],
    ['type byte 0x01', () => rawPublic(block(0x01, HASH, () => 0xff))],
    ['type byte 0x00', () => rawPublic(block(0x00, HASH, nonZero))],
    ['a non-zero separator', () => rawPublic(block(0x02, HASH, nonZero, 0x01))],
    ['a zero byte in the padding', () => rawPublic(block(0x02, HASH, (i) => (i === 5 ? 0 : nonZero(i))))],
    ['a zero first byte of padding', () => rawPublic(block(0x02, HASH, (i) => (i === 2 ? 0 : nonZero(i))))],
    ['an all-zero block', () => rawPublic(Buffer.alloc(K))],
    ['the value 0xff…ff (not below the modulus)', () => Buffer.alloc(K, 0xff)],
    ['127 bytes', () => randomBytes(127)],
    ['129 bytes', () => randomBytes(129)],
    ['no bytes', () => new Uint8Array(0)],
  ]

  it('opens a well-formed type-2 block built by hand', async () => {
    const opened = await backend.rsaPrivateDecrypt(
      await privateKey,
      rawPublic(block(0x02, HASH, nonZero)),
      64,
    )
    expect(opened && bytes(opened)).toEqual(HASH)
  })

  it.each(privateCases)('gives null for %s in private decryption, without throwing', async (_, make) => {
    await expect(backend.rsaPrivateDecrypt(await privateKey, make(), 64)).resolves.toBeNull()
  })

  const publicCases: Array<[string, () => Uint8Array]> = [
    ['random bytes', () => randomBytes(K).fill(0, 0, 1)],
    ['a type-2 block', () => rawPrivate(block(0x02, HASH, nonZero))],
    ['padding of 7 bytes of 0xff', () => rawPrivate(block(0x01, Buffer.alloc(K - 10, 0x61), () => 0xff))],
    ['padding with a 0xfe byte', () => rawPrivate(block(0x01, HASH, (i) => (i === 9 ? 0xfe : 0xff)))],
    ['no separator', () => rawPrivate(block(0x01, Buffer.alloc(0), () => 0xff, 0xff))],
    ['the value 0xff…ff (not below the modulus)', () => Buffer.alloc(K, 0xff)],
    ['127 bytes', () => randomBytes(127)],
    ['no bytes', () => new Uint8Array(0)],
  ]

  it('opens a well-formed type-1 block built by hand, with the shortest legal padding', async () => {
    const message = Buffer.alloc(K - 11, 0x61)
    const opened = await backend.rsaPublicDecrypt(
      await publicKey,
      rawPrivate(block(0x01, message, () => 0xff)),
    )
    expect(opened && bytes(opened)).toEqual(message)
  })

  it.each(publicCases)('gives null for %s in public decryption, without throwing', async (_, make) => {
    await expect(Promise.resolve(backend.rsaPublicDecrypt(await publicKey, make()))).resolves.toBeNull()
  })
})
