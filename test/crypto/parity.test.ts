/**
 * The two backends side by side in one process: whatever one makes, the other reads, and the
 * deterministic outputs are identical. This file picks each backend explicitly, on purpose.
 */
import { generateKeyPairSync } from 'node:crypto'

import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'

import type { CryptoBackend, RsaPrivateComponents, RsaPublicComponents } from '../../src/crypto/backend.js'
import { backend as nodeBackend } from '../../src/crypto/node.js'
import { backend as webBackend } from '../../src/crypto/portable.js'
import { LegacySecKeyAuth, SignatureAuth } from '../../src/index.js'
import { parsePrivateKey, parsePublicKey } from '../../src/key-parsing.js'

interface Key {
  pem: string
  publicPem: string
  components: RsaPrivateComponents
  publicComponents: RsaPublicComponents
}
const keys: Key[] = []

beforeAll(() => {
  for (const modulusLength of [1024, 2048]) {
    const pair = generateKeyPairSync('rsa', { modulusLength })
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()
    keys.push({
      pem,
      publicPem,
      components: parsePrivateKey(pem),
      publicComponents: parsePublicKey(publicPem),
    })
  }
})

/** Bytes as hex, so a Buffer and a Uint8Array with the same bytes compare equal; `null` stays visible. */
const hex = (data: Uint8Array | null) => (data === null ? 'null' : Buffer.from(data).toString('hex'))

const backends: Array<[string, CryptoBackend, CryptoBackend]> = [
  ['node → web', nodeBackend, webBackend],
  ['web → node', webBackend, nodeBackend],
]

describe('backend parity', () => {
  it('names the backends', () => {
    expect([nodeBackend.name, webBackend.name]).toEqual(['node', 'web'])
  })

  it('computes identical HMACs and hashes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        async (secret, message) => {
          const a = await nodeBackend.hmacSha256Base64(await nodeBackend.importHmacKey(secret), message)
          const b = await webBackend.hmacSha256Base64(await webBackend.importHmacKey(secret), message)
          expect(a).toBe(b)
          expect(await nodeBackend.sha256Hex(message)).toBe(await webBackend.sha256Hex(message))
        },
      ),
      { numRuns: 60 },
    )
  })

  it.each(backends)('reads RSA output across backends (%s)', async (_, maker, reader) => {
    const message = new TextEncoder().encode(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    )
    for (const key of keys) {
      const makerPrivate = await maker.importRsaPrivateKey(key.components)
      const readerPrivate = await reader.importRsaPrivateKey(key.components)
      const makerPublic = await maker.importRsaPublicKey(key.publicComponents)
      const readerPublic = await reader.importRsaPublicKey(key.publicComponents)

      const signed = await maker.rsaPrivateEncrypt(makerPrivate, message)
      expect(hex(await reader.rsaPrivateEncrypt(readerPrivate, message))).toBe(hex(signed))
      expect(hex(await reader.rsaPublicDecrypt(readerPublic, signed))).toBe(hex(message))

      const sealed = await maker.rsaPublicEncrypt(makerPublic, message)
      expect(sealed).toHaveLength(key.publicComponents.n.length)
      expect(hex(await reader.rsaPrivateDecrypt(readerPrivate, sealed, message.length))).toBe(hex(message))
    }
  })

  it('gives the strategies identical signatures, sec_keys and key ids on both backends', async () => {
    const [node, web] = [nodeBackend, webBackend].map((backend) => ({
      signature: new SignatureAuth({ partnerId: '085', apiKey: 'parity-key-0123456789', backend }),
      smile: new LegacySecKeyAuth({ partnerId: '085', privateKey: keys[1]!.pem, backend }),
      partner: new LegacySecKeyAuth({ partnerId: '085', apiKey: keys[1]!.publicPem, backend }),
    }))
    const ts = '2024-06-01T12:00:00.000Z'
    const signedNode = await node!.signature.sign({ timestamp: ts })
    expect(await web!.signature.sign({ timestamp: ts })).toEqual(signedNode)
    const nodeResult = await node!.signature.verify(signedNode)
    const webResult = await web!.signature.verify(signedNode)
    expect(webResult).toEqual(nodeResult)

    const secKey = await node!.smile.sign({ timestamp: 1_717_243_200 })
    expect(await web!.smile.sign({ timestamp: 1_717_243_200 })).toEqual(secKey)
    expect(await web!.partner.verify(secKey)).toEqual(await node!.partner.verify(secKey))
    const fromWebPartner = await web!.partner.sign({ timestamp: 1_717_243_200 })
    const accepted = await node!.smile.verify(fromWebPartner)
    expect(accepted.ok).toBe(true)
    expect(await web!.smile.verify(await node!.partner.sign({ timestamp: 1_717_243_200 }))).toEqual(accepted)
  })
})
