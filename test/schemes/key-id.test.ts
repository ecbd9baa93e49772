/**
 * `keyId` of an RSA key is its RFC 7638 thumbprint, computed by the library itself (no JOSE library is
 * loaded to name a key): it must equal jose's `calculateJwkThumbprint` for every key shape.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto'

import { calculateJwkThumbprint } from 'jose'
import { describe, expect, it } from 'vitest'

import { VERIFY_NOW } from '../../src/schemes/common.js'
import { LegacySecKeyAuth, type RsaJwk } from '../../src/index.js'
import { rsaThumbprintInput } from '../../src/key-parsing.js'
import { keyText } from '../support/vectors.js'
import { backendName, expectOk } from './helpers.js'

interface Case {
  name: string
  privateKey: string
  jwk: RsaJwk
}

function generated(name: string, modulusLength: number, publicExponent?: number): Case {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength,
    ...(publicExponent === undefined ? {} : { publicExponent }),
  })
  return {
    name,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    jwk: privateKey.export({ format: 'jwk' }) as RsaJwk,
  }
}

const vectorKey = keyText('test_rsa1024_private_pkcs1.pem')
const cases: Case[] = [
  {
    name: 'the vectors’ RSA-1024 key',
    privateKey: vectorKey,
    jwk: createPrivateKey(vectorKey).export({ format: 'jwk' }) as RsaJwk,
  },
  generated('a fresh RSA-1024 key', 1024),
  generated('an RSA-1024 key with e = 3', 1024, 3),
  generated('an RSA-2048 key', 2048),
  generated('an RSA-2048 key with e = 17', 2048, 17),
  generated('an RSA-3072 key', 3072),
]

const PARTNER = '085'
const TIMESTAMP = 1_733_000_000_000

describe(`RSA keyId is the RFC 7638 thumbprint (${backendName} backend)`, () => {
  it.each(cases.map((c) => [c.name, c] as const))('matches jose for %s, in both roles', async (_, c) => {
    const expected = await calculateJwkThumbprint({ kty: 'RSA', n: c.jwk.n, e: c.jwk.e }, 'sha256')
    const server = new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: c.privateKey })
    const partner = new LegacySecKeyAuth({
      partnerId: PARTNER,
      apiKey: { kty: 'RSA', n: c.jwk.n, e: c.jwk.e },
    })
    expect(expectOk(await partner.verify(await server.sign({ timestamp: TIMESTAMP }))).keyId).toBe(expected)
    expect(expectOk(await server.verify(await partner.sign({ timestamp: TIMESTAMP }))).keyId).toBe(expected)
  })

  it('ignores leading zero octets and extra members of a JWK, as RFC 7638 requires', async () => {
    const c = cases[0]!
    const expected = await calculateJwkThumbprint({ kty: 'RSA', n: c.jwk.n, e: c.jwk.e }, 'sha256')
    const padded = Buffer.concat([Buffer.alloc(2), Buffer.from(c.jwk.n, 'base64url')]).toString('base64url')
    const partner = new LegacySecKeyAuth({
      partnerId: PARTNER,
      apiKey: { kty: 'RSA', n: padded, e: c.jwk.e, kid: 'smile-2024', alg: 'RSA1_5', use: 'enc' },
    })
    const server = new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: c.privateKey })
    expect(expectOk(await partner.verify(await server.sign({ timestamp: TIMESTAMP }))).keyId).toBe(expected)
  })

  it('hashes the canonical member order with no whitespace', () => {
    expect(rsaThumbprintInput({ n: new Uint8Array([0xff, 0x01]), e: new Uint8Array([1, 0, 1]) })).toBe(
      '{"e":"AQAB","kty":"RSA","n":"_wE"}',
    )
  })

  // node:crypto is synchronous, so the id must be too: no import or await stands before the first result.
  // WebCrypto digests are promises by nature; there the first result is awaited and must agree.
  it(`is ready at construction (${backendName === 'node' ? 'the first verify is synchronous' : 'the first verify resolves'})`, async () => {
    const c = cases[1]!
    const signed = await new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: c.privateKey }).sign({
      timestamp: TIMESTAMP,
    })
    const partner = new LegacySecKeyAuth({
      partnerId: PARTNER,
      apiKey: { kty: 'RSA', n: c.jwk.n, e: c.jwk.e },
    })
    const first = partner[VERIFY_NOW](signed)
    expect(first instanceof Promise).toBe(backendName !== 'node')
    expect(expectOk(await first).keyId).toBe(
      await calculateJwkThumbprint({ kty: 'RSA', n: c.jwk.n, e: c.jwk.e }, 'sha256'),
    )
  })
})
