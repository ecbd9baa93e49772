import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { ConfigurationError } from '../src/errors.js'
import { parsePrivateKey, parsePublicKey, type RsaJwk } from '../src/key-parsing.js'
import { keyBytes, keyText, secKeyVectors } from './support/vectors.js'

const vectors = secKeyVectors()
const PUBLIC_SPKI_PEM = keyText('test_rsa1024_public_spki.pem')
const PRIVATE_PKCS1 = keyText('test_rsa1024_private_pkcs1.pem')
const PRIVATE_PKCS8 = keyText('test_rsa1024_private_pkcs8.pem')
const PUBLIC_JWK = createPublicKey(PUBLIC_SPKI_PEM).export({ format: 'jwk' }) as RsaJwk
const PRIVATE_JWK = createPrivateKey(PRIVATE_PKCS1).export({ format: 'jwk' }) as RsaJwk

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')
const derOf = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')
const pemOf = (label: string, der: Uint8Array) =>
  `-----BEGIN ${label}-----\n${(
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? []
  ).join('\n')}\n-----END ${label}-----\n`

function errorOf(parse: () => unknown, code: ConfigurationError['code']): ConfigurationError {
  let caught: unknown
  try {
    parse()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(ConfigurationError)
  expect((caught as ConfigurationError).code).toBe(code)
  return caught as ConfigurationError
}

describe('parsePublicKey', () => {
  const encodings: Array<[string, unknown]> = [
    ...Object.entries(vectors.apiKeyEncodings),
    ['raw SPKI PEM', PUBLIC_SPKI_PEM],
    ['raw PKCS#1 PEM', keyText('test_rsa1024_public_pkcs1.pem')],
    ['base64 of the SPKI DER file', Buffer.from(keyBytes('test_rsa1024_public_spki.der')).toString('base64')],
    ['base64 of PKCS#1 DER', derOf(keyText('test_rsa1024_public_pkcs1.pem')).toString('base64')],
    ['a JWK object', PUBLIC_JWK],
    ['a JWK string', JSON.stringify(PUBLIC_JWK)],
    [
      'a JWK whose n has a leading zero byte',
      { ...PUBLIC_JWK, n: b64url(Buffer.concat([Buffer.alloc(1), Buffer.from(PUBLIC_JWK.n, 'base64url')])) },
    ],
    ['a PEM with commentary around it', `Sec key for 085:\n${PUBLIC_SPKI_PEM}(rotated 2023)`],
  ]

  it.each(encodings)('reads %s as the test key', (_, input) => {
    const key = parsePublicKey(input)
    expect(b64url(key.n)).toBe(PUBLIC_JWK.n)
    expect(b64url(key.e)).toBe(PUBLIC_JWK.e)
    expect(key.n).toHaveLength(128)
  })

  it('reads a 2048-bit key', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    expect(parsePublicKey(publicKey.export({ type: 'spki', format: 'pem' })).n).toHaveLength(256)
  })

  const n = (length: number) => b64url(Buffer.alloc(length, 0xc5))
  it('accepts moduli from 1024 to 8192 bits (sizes only: key generation that large is slow)', () => {
    expect(parsePublicKey({ kty: 'RSA', n: n(128), e: 'AQAB' }).n).toHaveLength(128)
    expect(parsePublicKey({ kty: 'RSA', n: n(1024), e: 'AQAB' }).n).toHaveLength(1024)
  })
  it.each([
    ['a modulus under 1024 bits', { kty: 'RSA', n: n(127), e: 'AQAB' }, /1016 bits/],
    ['a modulus over 8192 bits', { kty: 'RSA', n: n(1025), e: 'AQAB' }, /8192/],
    ['a public exponent over 8 bytes', { kty: 'RSA', n: n(128), e: b64url(Buffer.alloc(9, 1)) }, /exponent/],
    ['an empty exponent', { kty: 'RSA', n: n(128), e: '' }, /e is missing/],
    ['a private JWK', PRIVATE_JWK, /private key/],
    ['a private PEM', PRIVATE_PKCS8, /private key/],
    ['base64 of a private PEM', Buffer.from(PRIVATE_PKCS1).toString('base64'), /private key/],
    [
      'an EC key',
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }),
      /not an RSA key|RSAPublicKey|DER/,
    ],
    [
      'DER with trailing bytes',
      Buffer.concat([keyBytes('test_rsa1024_public_spki.der'), Buffer.alloc(1)]).toString('base64'),
      /trailing|DER/,
    ],
    [
      'a truncated DER',
      Buffer.from(keyBytes('test_rsa1024_public_spki.der')).subarray(0, 100).toString('base64'),
      /truncated|DER/,
    ],
    [
      'a CERTIFICATE PEM',
      PUBLIC_SPKI_PEM.replace(/PUBLIC KEY/g, 'CERTIFICATE'),
      /unsupported PEM type CERTIFICATE/,
    ],
    [
      'a PEM whose body is not base64',
      '-----BEGIN PUBLIC KEY-----\n@@@@\n-----END PUBLIC KEY-----',
      /not base64/,
    ],
    ['text that is nothing', 'hello world', /not PEM, JWK or base64/],
    ['key text over 64 KiB', 'A'.repeat(65 * 1024), /too long/],
    ['a JWK of another type', { kty: 'oct', k: 'AAAA' }, /not an RSA JWK/],
    ['null', null, /not a JWK/],
    ['broken JSON', '{"kty": RSA}', /not valid JSON/],
  ])('refuses %s with invalid_api_key, saying why', (_, input, why) => {
    expect(errorOf(() => parsePublicKey(input), 'invalid_api_key').message).toMatch(why)
  })

  it('refuses a negative modulus', () => {
    // RSAPublicKey ::= SEQUENCE { INTEGER n, INTEGER e } with the top bit of n set and no leading zero.
    const body = Buffer.concat([
      Buffer.from([0x02, 0x81, 0x80]),
      Buffer.alloc(128, 0x80),
      Buffer.from([0x02, 0x01, 0x03]),
    ])
    const der = Buffer.concat([Buffer.from([0x30, 0x81, body.length]), body])
    expect(errorOf(() => parsePublicKey(pemOf('RSA PUBLIC KEY', der)), 'invalid_api_key').message).toMatch(
      /negative/,
    )
  })

  it('keeps key material out of its errors, including the cause', () => {
    const broken = JSON.stringify(PRIVATE_JWK).replace('"d":"', '"d": ')
    const error = errorOf(() => parsePublicKey(broken), 'invalid_api_key')
    const printed = [error.message, String(error.cause), JSON.stringify(error)].join('\n')
    expect(printed).not.toContain(PRIVATE_JWK.d!.slice(0, 8))
  })
})

describe('parsePrivateKey', () => {
  const fields = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const
  const encodings: Array<[string, unknown]> = [
    ['PKCS#1 PEM', PRIVATE_PKCS1],
    ['PKCS#8 PEM', PRIVATE_PKCS8],
    ["the vectors' PKCS#8 PEM", vectors.privateKeyPem],
    ['base64 of PKCS#1 PEM', Buffer.from(PRIVATE_PKCS1).toString('base64')],
    [
      'base64 of PKCS#8 PEM with line breaks',
      (
        Buffer.from(PRIVATE_PKCS8)
          .toString('base64')
          .match(/.{1,60}/g) ?? []
      ).join('\n'),
    ],
    ['PEM with CRLF', PRIVATE_PKCS1.replace(/\n/g, '\r\n')],
    ['a JWK object', PRIVATE_JWK],
    ['a JWK string', JSON.stringify(PRIVATE_JWK)],
  ]

  it.each(encodings)('reads %s with every CRT component', (_, input) => {
    const key = parsePrivateKey(input)
    for (const field of fields) expect(b64url(key[field]), field).toBe(PRIVATE_JWK[field])
  })

  it.each([
    ['a public key', PUBLIC_SPKI_PEM, /unsupported PEM type PUBLIC KEY/],
    ['the portal api key', vectors.apiKeyEncodings.b64_spki_pem, /unsupported PEM type PUBLIC KEY/],
    ['a JWK without private members', PUBLIC_JWK, /d is missing/],
    ['a JWK without qi', { ...PRIVATE_JWK, qi: undefined }, /qi is missing/],
    [
      'an EC private key',
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }),
      /unsupported PEM type EC PRIVATE KEY/,
    ],
    [
      'a PKCS#8 EC key',
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
      /not an RSA key/,
    ],
    ['plain text', 'no key here', /not a PEM private key/],
    [
      'a multi-prime (version 1) RSAPrivateKey',
      pemOf('RSA PRIVATE KEY', Buffer.from(derOf(PRIVATE_PKCS1)).fill(1, 6, 7)),
      /version/,
    ],
    ['key text over 64 KiB', `${PRIVATE_PKCS1}${' '.repeat(65 * 1024)}`, /too long/],
  ])('refuses %s with invalid_private_key, saying why', (_, input, why) => {
    const error = errorOf(() => parsePrivateKey(input), 'invalid_private_key')
    expect(error.message).toMatch(why)
    expect(error.message).not.toContain(PRIVATE_JWK.d!.slice(0, 8))
  })

  it('checks the DER it patched for the version test really is version 1', () => {
    // SEQUENCE (30 82 LL LL), then INTEGER version (02 01 vv): byte 6 is the version.
    expect([...derOf(PRIVATE_PKCS1).subarray(0, 7)]).toEqual([0x30, 0x82, 0x02, 0x5d, 0x02, 0x01, 0x00])
  })
})
