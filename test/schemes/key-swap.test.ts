/**
 * The portal shows two keys side by side: the signature API key (a UUID) and the RSA "API Key for Sec
 * Key". Each strategy given the other one must fail at construction, naming the likely swap, and every
 * genuine key must still be accepted.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { LegacySecKeyAuth, SignatureAuth, type RsaJwk } from '../../src/index.js'
import { keyBytes, keyText, secKeyVectors, signatureVectors } from '../support/vectors.js'
import {
  backendName,
  configurationError,
  expectNoSecrets,
  expectOk,
  mimeWrap,
  sprinkleWhitespace,
} from './helpers.js'

const secVectors = secKeyVectors()
const sigVectors = signatureVectors()
const PARTNER = secVectors.partnerId
const PUBLIC_SPKI_PEM = keyText('test_rsa1024_public_spki.pem')
const PUBLIC_PKCS1_PEM = keyText('test_rsa1024_public_pkcs1.pem')
const PRIVATE_PKCS1 = keyText('test_rsa1024_private_pkcs1.pem')
const PRIVATE_PKCS8 = keyText('test_rsa1024_private_pkcs8.pem')
const PUBLIC_JWK = createPublicKey(PUBLIC_SPKI_PEM).export({ format: 'jwk' }) as RsaJwk
const PRIVATE_JWK = createPrivateKey(PRIVATE_PKCS8).export({ format: 'jwk' }) as RsaJwk
const b64 = (text: string | Uint8Array) => Buffer.from(text).toString('base64')
const derOf = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')

const big = generateKeyPairSync('rsa', { modulusLength: 2048 })
const bigPublicPem = big.publicKey.export({ type: 'spki', format: 'pem' }) as string

/** The public key in every encoding LegacySecKeyAuth accepts, plus a 2048-bit key. */
const publicEncodings: Array<[string, string | RsaJwk]> = [
  ...Object.entries(secVectors.apiKeyEncodings).map(([name, key]): [string, string] => [
    `vectors ${name}`,
    key,
  ]),
  ['raw SPKI PEM', PUBLIC_SPKI_PEM],
  ['raw PKCS#1 PEM', PUBLIC_PKCS1_PEM],
  ['base64 of the PKCS#1 PEM', b64(PUBLIC_PKCS1_PEM)],
  ['base64 of SPKI DER (the DER file)', b64(keyBytes('test_rsa1024_public_spki.der'))],
  ['base64 of PKCS#1 DER', b64(derOf(PUBLIC_PKCS1_PEM))],
  ['base64 of SPKI DER, MIME-wrapped', mimeWrap(b64(keyBytes('test_rsa1024_public_spki.der')))],
  [
    'the portal key with whitespace sprinkled through it',
    sprinkleWhitespace(secVectors.apiKeyEncodings.b64_spki_pem),
  ],
  ['a JWK object', PUBLIC_JWK],
  ['a JWK string', JSON.stringify(PUBLIC_JWK)],
  ['a 2048-bit SPKI PEM', bigPublicPem],
  ['base64 of a 2048-bit SPKI PEM', b64(bigPublicPem)],
  ['base64 of 2048-bit SPKI DER', b64(big.publicKey.export({ type: 'spki', format: 'der' }))],
]

const privateEncodings: Array<[string, string | RsaJwk]> = [
  ['a PKCS#1 PEM', PRIVATE_PKCS1],
  ['a PKCS#8 PEM', PRIVATE_PKCS8],
  ['base64 of a PKCS#1 PEM', b64(PRIVATE_PKCS1)],
  ['base64 of PKCS#8 DER', b64(derOf(PRIVATE_PKCS8))],
  ['base64 of PKCS#1 DER', b64(derOf(PRIVATE_PKCS1))],
  ['a private JWK object', PRIVATE_JWK],
  ['a private JWK string', JSON.stringify(PRIVATE_JWK)],
]

/** Key material that must never be printed by an error. */
const KEY_SECRETS = [PRIVATE_PKCS1.replace(/-----[A-Z ]+-----|\s/g, ''), PRIVATE_JWK.d!, PRIVATE_JWK.p!]

function signatureAuth(apiKey: unknown) {
  return () => new SignatureAuth({ partnerId: PARTNER, apiKey: apiKey as string })
}

describe('SignatureAuth given an RSA key (the legacy "API Key for Sec Key")', () => {
  it.each(publicEncodings)('refuses %s as invalid_api_key, naming the swap', (_, key) => {
    for (const apiKey of [key, [randomUUID(), key]]) {
      const error = configurationError(signatureAuth(apiKey), 'invalid_api_key')
      expect(error.message).toMatch(/this looks like the 'API Key for Sec Key'/)
      expect(error.message).toMatch(/LegacySecKeyAuth\(\{ partnerId, apiKey \}\)/)
    }
  })

  it.each(privateEncodings)('refuses %s as invalid_api_key, naming the private-key role', (_, key) => {
    const error = configurationError(signatureAuth(key), 'invalid_api_key')
    expect(error.message).toMatch(/RSA private key/)
    expect(error.message).toMatch(/LegacySecKeyAuth\(\{ partnerId, privateKey \}\)/)
    expectNoSecrets(error, KEY_SECRETS)
  })

  it('refuses any PEM key armour, even a damaged one, and keeps it out of the error', () => {
    const damaged = PRIVATE_PKCS1.replace('MIIC', 'MIID')
    expectNoSecrets(configurationError(signatureAuth(damaged), 'invalid_api_key'), KEY_SECRETS)
    configurationError(signatureAuth(PUBLIC_SPKI_PEM.slice(0, 120)), 'invalid_api_key')
  })

  it('still says missing_key for values that are not keys at all', () => {
    configurationError(signatureAuth(1234), 'missing_key')
    configurationError(signatureAuth([randomUUID(), 42]), 'missing_key')
    configurationError(signatureAuth({ not: 'a jwk' }), 'missing_key')
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom')
        },
      },
    )
    configurationError(signatureAuth(hostile), 'missing_key')
  })
})

describe(`SignatureAuth accepts genuine signature API keys (${backendName} backend)`, () => {
  const genuine: Array<[string, string]> = [
    ['a UUID', randomUUID()],
    ['an upper-case UUID', randomUUID().toUpperCase()],
    ['the vectors’ API key', sigVectors.api_key],
    ['the JS SDK test-suite key', sigVectors.js_test_suite_style.api_key],
    ['64 hex digits', randomBytes(32).toString('hex')],
    ['base64 of 32 random bytes', b64(randomBytes(32))],
    ['base64 of 512 random bytes', b64(randomBytes(512))],
    [
      'base64 of 300 random bytes starting like DER',
      b64(Buffer.concat([Buffer.from([0x30, 0x82]), randomBytes(298)])),
    ],
    [
      'a long random printable string',
      randomBytes(600)
        .toString('latin1')
        .replace(/[^\x21-\x7e]/g, 'x'),
    ],
    ['text that mentions a key', 'my-key-----not-a-pem-----value'],
    ['text that starts with a brace', '{not json at all'],
  ]

  it.each(genuine)('accepts %s and verifies what it signs', async (_, apiKey) => {
    const auth = new SignatureAuth({ partnerId: PARTNER, apiKey })
    expectOk(await auth.verify(await auth.sign()))
  })

  it('accepts the vectors’ key and still verifies the SDK vectors with it', async () => {
    const auth = new SignatureAuth({ partnerId: sigVectors.partner_id, apiKey: sigVectors.api_key })
    for (const vector of sigVectors.vectors) {
      expectOk(await auth.verify({ signature: vector.signature, timestamp: vector.timestamp }))
    }
  })

  it('accepts any base64 or hex of random bytes as a key (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 600 }), fc.boolean(), (bytes, hex) => {
        const apiKey = hex ? Buffer.from(bytes).toString('hex') : b64(bytes)
        expect(new SignatureAuth({ partnerId: PARTNER, apiKey }).partnerId).toBe(PARTNER)
      }),
      { numRuns: 300, seed: 20261201 },
    )
  })
})

describe('LegacySecKeyAuth given the signature API key', () => {
  const signatureKeys: Array<[string, string]> = [
    ['a UUID', randomUUID()],
    ['the vectors’ API key', sigVectors.api_key],
    ['32 hex digits (once reported as "truncated DER")', randomBytes(16).toString('hex')],
    ['64 hex digits', randomBytes(32).toString('hex')],
    ['base64 of 32 bytes', b64(randomBytes(32))],
    ['a UUID with a trailing newline', `${randomUUID()}\n`],
  ]

  it.each(signatureKeys)('refuses %s as apiKey, naming the swap instead of a DER detail', (_, key) => {
    const error = configurationError(
      () => new LegacySecKeyAuth({ partnerId: PARTNER, apiKey: key }),
      'invalid_api_key',
    )
    expect(error.message).toMatch(/this looks like the signature API key/)
    expect(error.message).toMatch(/SignatureAuth\(\{ partnerId, apiKey \}\)/)
    expect(error.message).not.toMatch(/truncated|DER tag|not PEM/)
    expectNoSecrets(error, [key.trim()])
  })

  it.each(signatureKeys)('refuses %s as privateKey, naming the swap', (_, key) => {
    const error = configurationError(
      () => new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: key }),
      'invalid_private_key',
    )
    expect(error.message).toMatch(/this looks like the signature API key/)
    expectNoSecrets(error, [key.trim()])
  })

  it('keeps the structural reason for text that is neither a key nor an API key', () => {
    const truncated = b64(keyBytes('test_rsa1024_public_spki.der').subarray(0, 100))
    const error = configurationError(
      () => new LegacySecKeyAuth({ partnerId: PARTNER, apiKey: truncated }),
      'invalid_api_key',
    )
    expect(error.message).toMatch(/truncated DER/)
    expect(error.message).not.toMatch(/signature API key/)
    // Text with spaces is no API key either: the structural reason stays.
    const prose = configurationError(
      () => new LegacySecKeyAuth({ partnerId: PARTNER, apiKey: 'not a key at all' }),
      'invalid_api_key',
    )
    expect(prose.message).toMatch(/^apiKey is not a usable RSA public key: /)
    expect(prose.message).not.toMatch(/signature API key/)
  })

  it.each(publicEncodings)('still accepts %s', (_, apiKey) => {
    expect(new LegacySecKeyAuth({ partnerId: PARTNER, apiKey }).role).toBe('partner')
  })
})
