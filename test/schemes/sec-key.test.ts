import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
} from 'node:crypto'

import { calculateJwkThumbprint } from 'jose'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { LegacySecKeyAuth, type RsaJwk } from '../../src/index.js'
import { keyBytes, keyText, secKeyVectors } from '../support/vectors.js'
import {
  backendName,
  checkedVerify,
  configurationError,
  countingBackend,
  expectFailure,
  expectNoSecrets,
  expectOk,
  mimeWrap,
  printable,
  sprinkleWhitespace,
} from './helpers.js'

const vectors = secKeyVectors()
const PARTNER = vectors.partnerId
const PRIVATE_PKCS1 = keyText('test_rsa1024_private_pkcs1.pem')
const PRIVATE_PKCS8 = keyText('test_rsa1024_private_pkcs8.pem')
const PUBLIC_SPKI_PEM = keyText('test_rsa1024_public_spki.pem')
const PUBLIC_PKCS1_PEM = keyText('test_rsa1024_public_pkcs1.pem')
const PUBLIC_SPKI_DER_B64 = Buffer.from(keyBytes('test_rsa1024_public_spki.der')).toString('base64')
const PUBLIC_JWK = createPublicKey(PUBLIC_SPKI_PEM).export({ format: 'jwk' }) as RsaJwk
const PRIVATE_JWK = createPrivateKey(PRIVATE_PKCS8).export({ format: 'jwk' }) as RsaJwk
/** The private key's base64 body: the part that must never be printed. */
const PRIVATE_BODY = PRIVATE_PKCS1.replace(/-----[A-Z ]+-----|\s/g, '')

const verify = checkedVerify([PRIVATE_BODY, PRIVATE_JWK.d!, PRIVATE_JWK.p!])
const server = () => new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: PRIVATE_PKCS1 })
const partner = (apiKey: string | RsaJwk = vectors.apiKeyEncodings.b64_spki_pem) =>
  new LegacySecKeyAuth({ partnerId: PARTNER, apiKey })

function split(secKey: string): [string, string] {
  const [rsa, hash] = secKey.split('|')
  return [rsa!, hash!]
}

/** A Smile → partner vector (type-1, checkable with the public key). */
const SERVER_VECTOR = vectors.serverSecKeys[1]!

describe('the vector files', () => {
  it('agree with each other', () => {
    expect(keyText('apikey_b64_spki_pem.txt').trim()).toBe(vectors.apiKeyEncodings.b64_spki_pem)
    expect(keyText('apikey_b64_pkcs1_pem.txt').trim()).toBe(vectors.apiKeyEncodings.b64_pkcs1_pem)
    expect(keyText('apikey_b64_spki_der.txt').trim()).toBe(vectors.apiKeyEncodings.b64_spki_der)
    expect(keyText('apikey_b64_spki_pem_wrapped60.txt')).toBe(vectors.apiKeyEncodings.b64_spki_pem_wrapped60)
    expect(PUBLIC_SPKI_DER_B64).toBe(vectors.apiKeyEncodings.b64_spki_der)
    expect(PUBLIC_SPKI_PEM).toBe(vectors.publicKeyPem)
    expect(vectors.serverSecKeys).toHaveLength(3)
    expect(vectors.partnerSamples.length).toBeGreaterThanOrEqual(3)
  })
})

describe(`LegacySecKeyAuth hash halves (${backendName} backend)`, () => {
  it.each(vectors.hashHalves.map((v) => [v.timestamp, v] as const))(
    'hashes %j as the SDKs do',
    async (_, vector) => {
      expect(vector.preimage).toBe(`${vectors.partnerIdInt}:${vector.timestamp}`)
      expect(createHash('sha256').update(vector.preimage).digest('hex')).toBe(vector.hash_half)
      const { sec_key, timestamp } = await server().sign({ timestamp: vector.timestamp })
      expect(timestamp).toBe(vector.timestamp)
      expect(split(sec_key)[1]).toBe(vector.hash_half)
      // Partner-role values carry the same hash half (only the RSA half is randomized).
      expect(split((await partner().sign({ timestamp: vector.timestamp })).sec_key)[1]).toBe(vector.hash_half)
    },
  )

  it('hashes the integer value of the partner id: "085" and "85" give the same sec_key', async () => {
    expect(vectors.partnerIdInt).toBe(85)
    const as85 = new LegacySecKeyAuth({ partnerId: '85', privateKey: PRIVATE_PKCS1 })
    expect(await as85.sign({ timestamp: SERVER_VECTOR.timestamp })).toEqual(
      await server().sign({ timestamp: SERVER_VECTOR.timestamp }),
    )
    expectOk(
      await verify(
        new LegacySecKeyAuth({ partnerId: '0085', apiKey: PUBLIC_SPKI_PEM }),
        SERVER_VECTOR_CREDENTIALS(),
      ),
    )
  })

  it('refuses the non-digit partner id that SDKs hash as NaN or 0', () => {
    expect(vectors.nonDigitPartner.partner_id).toBe('abc')
    configurationError(
      () => new LegacySecKeyAuth({ partnerId: vectors.nonDigitPartner.partner_id, apiKey: PUBLIC_SPKI_PEM }),
      'invalid_partner_id',
    )
  })
})

function SERVER_VECTOR_CREDENTIALS() {
  return { sec_key: SERVER_VECTOR.server_sec_key, timestamp: SERVER_VECTOR.timestamp }
}

describe(`LegacySecKeyAuth server-direction vectors (${backendName} backend)`, () => {
  const privateKeys: Array<[string, string | RsaJwk]> = [
    ['PKCS#1 PEM', PRIVATE_PKCS1],
    ['PKCS#8 PEM', PRIVATE_PKCS8],
    ["the vectors' PKCS#8 PEM", vectors.privateKeyPem],
    ['base64 of the PKCS#1 PEM', Buffer.from(PRIVATE_PKCS1).toString('base64')],
    ['a JWK', PRIVATE_JWK],
    ['a JWK string', JSON.stringify(PRIVATE_JWK)],
    ['PEM with CRLF line ends', PRIVATE_PKCS8.replace(/\n/g, '\r\n')],
  ]

  it.each(privateKeys)('reproduces every vector byte for byte from %s', async (_, privateKey) => {
    const strategy = new LegacySecKeyAuth({ partnerId: PARTNER, privateKey })
    expect(strategy.role).toBe('server')
    for (const vector of vectors.serverSecKeys) {
      const signed = await strategy.sign({ timestamp: vector.timestamp })
      expect(signed).toEqual({ sec_key: vector.server_sec_key, timestamp: vector.timestamp })
      expect(split(signed.sec_key)[1]).toBe(vector.hash)
    }
  })

  it.each(vectors.serverSecKeys.map((v) => [v.timestamp, v] as const))(
    'verifies the vector for %j in the partner role',
    async (_, vector) => {
      const result = expectOk(
        await verify(partner(), { sec_key: vector.server_sec_key, timestamp: vector.timestamp }),
      )
      expect(result).toMatchObject({
        scheme: 'sec_key',
        partnerId: PARTNER,
        timestamp: vector.timestamp,
        legacy: true,
        duplicate: false,
        transport: 'body',
        warnings: [],
      })
    },
  )

  it('reads the instant of each timestamp kind (seconds, milliseconds, ISO string)', async () => {
    for (const vector of vectors.serverSecKeys) {
      const result = expectOk(
        await verify(partner(), { sec_key: vector.server_sec_key, timestamp: vector.timestamp }),
      )
      expect(result.issuedAt?.toISOString()).toBe('2023-11-14T22:13:20.000Z')
    }
  })

  it('hashes a digit string like the number it spells', async () => {
    expectOk(
      await verify(partner(), {
        sec_key: SERVER_VECTOR.server_sec_key,
        timestamp: String(SERVER_VECTOR.timestamp),
      }),
    )
  })

  it('does not accept a server-direction value in the server role (wrong direction)', async () => {
    expectFailure(await verify(server(), SERVER_VECTOR_CREDENTIALS()), 'invalid_sec_key')
  })
})

describe(`LegacySecKeyAuth api-key encodings (${backendName} backend)`, () => {
  const encodings = vectors.apiKeyEncodings
  const withCrlf = (pem: string) => pem.replace(/\n/g, '\r\n')
  const indented = (pem: string) => pem.replace(/\n(?!-----END)([^\n])/g, '\n    $1')
  const keys: Array<[string, string | RsaJwk]> = [
    ['base64 of SPKI PEM (the portal)', encodings.b64_spki_pem],
    ['base64 of PKCS#1 PEM', encodings.b64_pkcs1_pem],
    ['base64 of DER SPKI', encodings.b64_spki_der],
    ['base64 of SPKI PEM wrapped at 60', encodings.b64_spki_pem_wrapped60],
    ['raw SPKI PEM', PUBLIC_SPKI_PEM],
    ['raw PKCS#1 PEM', PUBLIC_PKCS1_PEM],
    ['the SPKI DER file, base64', PUBLIC_SPKI_DER_B64],
    ['a JWK object', PUBLIC_JWK],
    ['a JWK string', JSON.stringify(PUBLIC_JWK)],
    ['a JWK string with spaces and line breaks', JSON.stringify(PUBLIC_JWK, null, 2)],
    ['a JWK with extra members', { ...PUBLIC_JWK, alg: 'RSA1_5', use: 'enc', kid: 'smile' }],
    ['base64 of SPKI PEM with whitespace sprinkled in', sprinkleWhitespace(encodings.b64_spki_pem)],
    ['base64 of PKCS#1 PEM with whitespace sprinkled in', sprinkleWhitespace(encodings.b64_pkcs1_pem, 5)],
    ['base64 of DER SPKI with whitespace sprinkled in', sprinkleWhitespace(encodings.b64_spki_der, 3)],
    [
      'base64 of DER SPKI wrapped at 64 with CRLF',
      (PUBLIC_SPKI_DER_B64.match(/.{1,64}/g) ?? []).join('\r\n'),
    ],
    ['raw SPKI PEM with CRLF line ends', withCrlf(PUBLIC_SPKI_PEM)],
    ['raw SPKI PEM indented, as pasted into YAML', indented(PUBLIC_SPKI_PEM)],
    ['raw PKCS#1 PEM with surrounding blank lines', `\n\n  ${PUBLIC_PKCS1_PEM}\n\n`],
    ['raw SPKI PEM on one line with spaces', PUBLIC_SPKI_PEM.replace(/\n/g, ' ')],
  ]

  it('covers the keys with whitespace as different strings', () => {
    expect(keys[11]![1]).not.toBe(encodings.b64_spki_pem)
    expect(keys[11]![1]).toMatch(/\n/)
    expect(keys[11]![1]).toMatch(/ /)
  })

  it.each(keys)('verifies every server-direction vector with %s', async (_, apiKey) => {
    const strategy = new LegacySecKeyAuth({ partnerId: PARTNER, apiKey })
    expect(strategy.role).toBe('partner')
    const expectedId = await calculateJwkThumbprint(
      { kty: 'RSA', n: PUBLIC_JWK.n, e: PUBLIC_JWK.e },
      'sha256',
    )
    for (const vector of vectors.serverSecKeys) {
      const result = expectOk(
        await verify(strategy, { sec_key: vector.server_sec_key, timestamp: vector.timestamp }),
      )
      expect(result.keyId).toBe(expectedId)
    }
  })

  it.each(keys)('makes partner → Smile values with %s that the key holder verifies', async (_, apiKey) => {
    const signed = await new LegacySecKeyAuth({ partnerId: PARTNER, apiKey }).sign({
      timestamp: 1_700_000_000,
    })
    expect(split(signed.sec_key)[1]).toBe(vectors.hashHalves[0]!.hash_half)
    expectOk(await verify(server(), signed))
  })

  it('gives the server role the same keyId (the public key thumbprint)', async () => {
    const fromServer = expectOk(await verify(server(), await partner().sign()))
    const fromPartner = expectOk(await verify(partner(), SERVER_VECTOR_CREDENTIALS()))
    expect(fromServer.keyId).toBe(fromPartner.keyId)
    expect(fromServer.keyId).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })
})

describe(`LegacySecKeyAuth partner-direction samples (${backendName} backend)`, () => {
  it.each(vectors.partnerSamples.map((s) => [`${s.sdk} ${s.version}`, s] as const))(
    'verifies the %s sample with the private key',
    async (_, sample) => {
      const result = expectOk(
        await verify(server(), { sec_key: sample.sec_key, timestamp: sample.timestamp }),
      )
      expect(result.timestamp).toBe(sample.timestamp)
      expect(result.legacy).toBe(true)
    },
  )

  it('refuses a sample with another timestamp', async () => {
    for (const sample of vectors.partnerSamples) {
      const timestamp = Number(sample.timestamp) + 1
      expectFailure(await verify(server(), { sec_key: sample.sec_key, timestamp }), 'invalid_sec_key')
    }
  })

  it('cannot verify a partner-direction value with the public key (type-2 needs the private key)', async () => {
    const sample = vectors.partnerSamples[0]!
    expectFailure(
      await verify(partner(), { sec_key: sample.sec_key, timestamp: sample.timestamp }),
      'invalid_sec_key',
    )
  })
})

describe(`LegacySecKeyAuth with Ruby's MIME line breaks (${backendName} backend)`, () => {
  const wrap = (secKey: string, lineEnd?: string) => {
    const [rsa, hash] = split(secKey)
    return `${mimeWrap(rsa, lineEnd)}|${hash}`
  }

  it('verifies wrapped server-direction vectors in the partner role', async () => {
    for (const vector of vectors.serverSecKeys) {
      const wrapped = wrap(vector.server_sec_key)
      expect(wrapped).toMatch(/^[^|]{60}\n[^|]{60}\n[^|]{52}\n\|[0-9a-f]{64}$/)
      expectOk(await verify(partner(), { sec_key: wrapped, timestamp: vector.timestamp }))
      expectOk(
        await verify(partner(), {
          sec_key: wrap(vector.server_sec_key, '\r\n'),
          timestamp: vector.timestamp,
        }),
      )
    }
  })

  it('verifies wrapped partner-direction samples in the server role', async () => {
    for (const sample of vectors.partnerSamples) {
      expectOk(await verify(server(), { sec_key: wrap(sample.sec_key), timestamp: sample.timestamp }))
    }
  })

  it('never lets line breaks into the hash half', async () => {
    const [rsa, hash] = split(SERVER_VECTOR.server_sec_key)
    const broken = `${rsa}|${hash.slice(0, 60)}\n${hash.slice(60)}`
    expectFailure(
      await verify(partner(), { sec_key: broken, timestamp: SERVER_VECTOR.timestamp }),
      'malformed_credentials',
    )
  })
})

describe(`LegacySecKeyAuth round trips and defaults (${backendName} backend)`, () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('round-trips partner → Smile and Smile → partner', async () => {
    const toSmile = await partner().sign({ timestamp: 1_712_345_678_901 })
    expectOk(await verify(server(), toSmile))
    const toPartner = await server().sign({ timestamp: '2024-04-05 19:34:38 +0000' })
    expectOk(await verify(partner(), toPartner))
  })

  it('randomizes partner-role values and keeps server-role values deterministic', async () => {
    const a = await partner().sign({ timestamp: 5 })
    const b = await partner().sign({ timestamp: 5 })
    expect(a.sec_key).not.toBe(b.sec_key)
    expect(split(a.sec_key)[1]).toBe(split(b.sec_key)[1])
    expect((await server().sign({ timestamp: 5 })).sec_key).toBe(
      (await server().sign({ timestamp: 5 })).sec_key,
    )
  })

  it('defaults to Date.now() as a number of milliseconds', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(1_700_000_000_000)
    const signed = await server().sign()
    expect(signed).toEqual({ sec_key: SERVER_VECTOR.server_sec_key, timestamp: 1_700_000_000_000 })
    expect(typeof (await partner().sign()).timestamp).toBe('number')
  })

  it('signs a Date as epoch milliseconds and echoes strings and numbers as given', async () => {
    expect(await server().sign({ timestamp: new Date(1_700_000_000_000) })).toEqual(
      SERVER_VECTOR_CREDENTIALS(),
    )
    expect((await server().sign({ timestamp: '1700000000' })).timestamp).toBe('1700000000')
    expect((await server().sign({ timestamp: 1.5 })).timestamp).toBe(1.5)
  })

  it.each([
    ['an empty string', ''],
    ['a 65-character string', '9'.repeat(65)],
    ['NaN', Number.NaN],
    ['an invalid Date', new Date('nope')],
  ])('refuses %s as a sign() timestamp with invalid_options', async (_, timestamp) => {
    const error: unknown = await server()
      .sign({ timestamp })
      .then(
        () => expect.fail('sign() should have thrown'),
        (reason: unknown) => reason,
      )
    const thrown = configurationError(() => {
      throw error
    }, 'invalid_options')
    expectNoSecrets(thrown, [PRIVATE_BODY, PRIVATE_JWK.d!])
  })
})

describe(`LegacySecKeyAuth strictness (${backendName} backend)`, () => {
  const { timestamp } = SERVER_VECTOR
  const [rsa, hash] = split(SERVER_VECTOR.server_sec_key)
  const other = split(vectors.serverSecKeys[0]!.server_sec_key)
  const check = async (
    sec_key: unknown,
    reason: Parameters<typeof expectFailure>[1],
    ts: unknown = timestamp,
  ) => expectFailure(await verify(partner(), { sec_key, timestamp: ts }), reason)

  it('starts from a value that verifies', async () => {
    expectOk(await verify(partner(), { sec_key: `${rsa}|${hash}`, timestamp }))
  })

  it.each([
    ['an empty RSA half', `|${hash}`],
    ['an RSA half of whitespace only', ` \n|${hash}`],
    ['no "|"', `${rsa}${hash}`],
    ['a doubled "|"', `${rsa}||${hash}`],
    ['three parts', `${rsa}|${hash}|${hash}`],
    ['an empty hash half', `${rsa}|`],
    ['an upper-case hash half', `${rsa}|${hash.toUpperCase()}`],
    ['a 63-character hash half', `${rsa}|${hash.slice(1)}`],
    ['a 65-character hash half', `${rsa}|${hash}0`],
    ['a non-hex hash half', `${rsa}|${hash.slice(1)}g`],
    ['a hash half with a trailing newline', `${rsa}|${hash}\n`],
    ['a hash half with a leading space', `${rsa}| ${hash.slice(1)}`],
    // U+0130 and U+00B0 share their low 7 bits with '0': the table lookup must not alias them.
    ['a hash half with a non-ASCII character (U+0130)', `${rsa}|${hash.slice(1)}\u0130`],
    ['a hash half with a non-ASCII character (U+00B0)', `${rsa}|\u00b0${hash.slice(1)}`],
    ['a hash half with a NUL', `${rsa}|${hash.slice(1)}\u0000`],
    ['a url-safe RSA half', `${rsa.replace(/\+/g, '-').replace(/\//g, '_')}|${hash}`],
    ['an unpadded RSA half', `${rsa.replace(/=+$/, '')}|${hash}`],
    ['an RSA half with a stray character', `${rsa.slice(0, 10)}*${rsa.slice(10)}|${hash}`],
    ['the halves swapped', `${hash}|${rsa}`],
  ])('refuses %s as malformed_credentials', async (_, secKey) => {
    await check(secKey, 'malformed_credentials')
  })

  it('has an RSA half with + or / (so the url-safe case changes something)', () => {
    expect(rsa).toMatch(/[+/]/)
    expect(rsa).toMatch(/=$/)
  })

  it.each([
    ['127 bytes', Buffer.alloc(127, 7).toString('base64')],
    ['129 bytes', Buffer.alloc(129, 7).toString('base64')],
    ['256 bytes (a 2048-bit block)', Buffer.alloc(256, 7).toString('base64')],
    ['1 byte', 'AA=='],
    ['the right block with one byte cut', Buffer.from(rsa, 'base64').subarray(1).toString('base64')],
  ])('refuses an RSA half of the wrong length (%s) as invalid_sec_key', async (_, wrongLength) => {
    await check(`${wrongLength}|${hash}`, 'invalid_sec_key')
  })

  it.each([
    ['the RSA half of another timestamp', `${other[0]}|${hash}`],
    ['the hash half of another timestamp', `${rsa}|${other[1]}`],
    ['both halves of another timestamp', `${other[0]}|${other[1]}`],
    ['an all-zero block', `${Buffer.alloc(128).toString('base64')}|${hash}`],
    ['an all-0xff block (larger than the modulus)', `${Buffer.alloc(128, 0xff).toString('base64')}|${hash}`],
    ['the hash with an unpadded raw RSA block', `${rawBlock(hash)}|${hash}`],
  ])('refuses %s as invalid_sec_key', async (_, secKey) => {
    await check(secKey, 'invalid_sec_key')
  })

  it('refuses the RSA half re-spelt in the padding bits (a lenient decoder sees the same bytes)', async () => {
    // 128 bytes end in a 2-byte group: its third character carries 2 bits that decoders drop.
    const last = rsa.at(-2)!
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
    const twin = alphabet[alphabet.indexOf(last) ^ 1]!
    const respelt = `${rsa.slice(0, -2)}${twin}=`
    expect(Buffer.from(respelt, 'base64')).toEqual(Buffer.from(rsa, 'base64'))
    await check(`${respelt}|${hash}`, 'malformed_credentials')
  })

  it('refuses the right value for another partner', async () => {
    const other = new LegacySecKeyAuth({ partnerId: '86', apiKey: PUBLIC_SPKI_PEM })
    expectFailure(await verify(other, SERVER_VECTOR_CREDENTIALS()), 'invalid_sec_key')
  })

  it('refuses the right value under another key', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const stranger = new LegacySecKeyAuth({
      partnerId: PARTNER,
      apiKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    })
    expectFailure(await verify(stranger, SERVER_VECTOR_CREDENTIALS()), 'invalid_sec_key')
  })

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty string', ''],
  ])('reports a sec_key that is %s as missing_credentials', async (_, value) => {
    await check(value, 'missing_credentials')
  })

  it.each([
    ['a number', 12],
    ['an array', [rsa, hash]],
    ['an object', { rsa, hash }],
  ])('refuses a sec_key that is %s as malformed_credentials', async (_, value) => {
    await check(value, 'malformed_credentials')
  })

  it.each([
    ['undefined', undefined, 'missing_credentials'],
    ['an empty string', '', 'missing_credentials'],
    ['a boolean', false, 'malformed_credentials'],
    ['NaN', Number.NaN, 'malformed_credentials'],
    ['an array', [timestamp], 'malformed_credentials'],
  ] as const)('reports a timestamp that is %s as %s', async (_, ts, reason) => {
    expectFailure(await verify(partner(), { sec_key: `${rsa}|${hash}`, timestamp: ts }), reason)
  })

  it('reports a missing timestamp field as missing_credentials', async () => {
    expectFailure(await verify(partner(), { sec_key: `${rsa}|${hash}` }), 'missing_credentials')
  })

  it.each([
    ['undefined', undefined, 'missing_credentials'],
    ['a string', `${rsa}|${hash}`, 'malformed_credentials'],
    ['an array', [`${rsa}|${hash}`, timestamp], 'malformed_credentials'],
  ] as const)('reports credentials that are %s as %s', async (_, credentials, reason) => {
    expectFailure(await verify(partner(), credentials), reason)
  })

  describe('size caps, checked before any crypto work', () => {
    const counter = countingBackend()
    const capped = new LegacySecKeyAuth({
      partnerId: PARTNER,
      apiKey: PUBLIC_SPKI_PEM,
      backend: counter.backend,
    })
    const padTo = (length: number) => `${rsa}${' '.repeat(length - rsa.length - 65)}|${hash}`

    it.each([
      ['a valid sec_key padded with spaces to 4097 characters', { sec_key: padTo(4097), timestamp }],
      ['a 10 MB sec_key', { sec_key: `${'A'.repeat(10_000_000)}|${hash}`, timestamp }],
      ['a 65-character timestamp', { sec_key: `${rsa}|${hash}`, timestamp: '1'.repeat(65) }],
      ['a 10 MB timestamp', { sec_key: `${rsa}|${hash}`, timestamp: '1'.repeat(10_000_000) }],
    ])('refuses %s as malformed_credentials', async (_, credentials) => {
      counter.reset()
      expectFailure(await verify(capped, credentials), 'malformed_credentials')
      expect(counter.calls()).toBe(0)
    })

    it('accepts a valid sec_key of exactly 4096 characters (the cap is inclusive)', async () => {
      expect(padTo(4096)).toHaveLength(4096)
      counter.reset()
      expectOk(await verify(capped, { sec_key: padTo(4096), timestamp }))
      expect(counter.calls()).toBeGreaterThan(0)
    })

    it('refuses malformed halves before any crypto work', async () => {
      counter.reset()
      expectFailure(
        await verify(capped, { sec_key: `${rsa}|${hash.toUpperCase()}`, timestamp }),
        'malformed_credentials',
      )
      expectFailure(await verify(capped, { sec_key: `|${hash}`, timestamp }), 'malformed_credentials')
      expect(counter.calls()).toBe(0)
    })
  })
})

/** A raw (unpadded) RSA encryption of the hash text with the test public key: no PKCS#1 structure at all. */
function rawBlock(text: string): string {
  const block = Buffer.alloc(128)
  Buffer.from(text).copy(block, 128 - text.length)
  return publicEncrypt({ key: PUBLIC_SPKI_PEM, padding: constants.RSA_NO_PADDING }, block).toString('base64')
}

describe('LegacySecKeyAuth configuration errors', () => {
  const secrets = [PRIVATE_BODY, PRIVATE_JWK.d!, PRIVATE_JWK.p!, PRIVATE_JWK.q!]

  it.each([
    ['letters', 'abc'],
    ['digits and a letter', '08a'],
    ['a sign', '-85'],
    ['a decimal point', '8.5'],
    ['a leading space', ' 85'],
    ['16 digits', '1'.repeat(16)],
    ['an empty string', ''],
    ['a number', 85],
  ])('refuses a partner id with %s as invalid_partner_id', (_, partnerId) => {
    configurationError(
      () => new LegacySecKeyAuth({ partnerId: partnerId as string, apiKey: PUBLIC_SPKI_PEM }),
      'invalid_partner_id',
    )
    configurationError(
      () => new LegacySecKeyAuth({ partnerId: partnerId as string, privateKey: PRIVATE_PKCS1 }),
      'invalid_partner_id',
    )
  })

  it('refuses empty and absent keys as missing_key', () => {
    configurationError(() => new LegacySecKeyAuth({ partnerId: PARTNER, apiKey: '' }), 'missing_key')
    configurationError(() => new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: '' }), 'missing_key')
    configurationError(() => new LegacySecKeyAuth({ partnerId: PARTNER } as never), 'missing_key')
  })

  it('refuses both keys at once as invalid_options', () => {
    const error = configurationError(
      () =>
        new LegacySecKeyAuth({
          partnerId: PARTNER,
          apiKey: PUBLIC_SPKI_PEM,
          privateKey: PRIVATE_PKCS1,
        } as never),
      'invalid_options',
    )
    expectNoSecrets(error, secrets)
  })

  it('refuses missing options as invalid_options', () => {
    configurationError(() => new LegacySecKeyAuth(undefined as never), 'invalid_options')
  })

  const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    type: 'spki',
    format: 'pem',
  })
  const smallKey = generateKeyPairSync('rsa', { modulusLength: 512 }).publicKey.export({
    type: 'spki',
    format: 'pem',
  })
  const garbageKeys: Array<[string, unknown]> = [
    ['plain text', 'not a key at all'],
    ['base64 of text', Buffer.from('hello, this is not a key').toString('base64')],
    [
      'base64 of random bytes',
      Buffer.from(Array.from({ length: 160 }, (_, i) => (i * 37) % 256)).toString('base64'),
    ],
    ['a truncated PEM', PUBLIC_SPKI_PEM.slice(0, 120)],
    ['a PEM with a damaged body', PUBLIC_SPKI_PEM.replace('MIGf', 'MIGg')],
    ['a certificate label', PUBLIC_SPKI_PEM.replace(/PUBLIC KEY/g, 'CERTIFICATE')],
    ['an EC public key', ecKey],
    ['a 512-bit RSA key', smallKey],
    ['a JWK without n', { kty: 'RSA', e: 'AQAB' }],
    ['an EC JWK', { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }],
    ['a JWK with a non-base64url n', { ...PUBLIC_JWK, n: `${PUBLIC_JWK.n}!` }],
    ['broken JSON', '{"kty":"RSA","n":'],
    ['a number', 42],
    ['a key list with an entry that is no key', [PUBLIC_SPKI_PEM, 'not a key at all']],
    ['a 100 KB string', 'A'.repeat(100_000)],
  ]

  it.each(garbageKeys)('refuses %s as apiKey with invalid_api_key', (_, apiKey) => {
    const error = configurationError(
      () => new LegacySecKeyAuth({ partnerId: PARTNER, apiKey: apiKey as string }),
      'invalid_api_key',
    )
    expect(error.message).toMatch(/apiKey|RSA/)
  })

  it.each([
    ['a PKCS#1 private PEM', PRIVATE_PKCS1],
    ['a PKCS#8 private PEM', PRIVATE_PKCS8],
    ['base64 of a private PEM', Buffer.from(PRIVATE_PKCS8).toString('base64')],
    ['a private JWK', PRIVATE_JWK],
    ['a private JWK string', JSON.stringify(PRIVATE_JWK)],
  ])('refuses %s passed as apiKey with invalid_api_key, without printing it', (_, apiKey) => {
    const error = configurationError(
      () => new LegacySecKeyAuth({ partnerId: PARTNER, apiKey }),
      'invalid_api_key',
    )
    expect(error.message).toMatch(/private/)
    expectNoSecrets(error, secrets)
  })

  it.each([
    ['a public key', PUBLIC_SPKI_PEM],
    ['the portal api key', vectors.apiKeyEncodings.b64_spki_pem],
    ['plain text', 'not a key'],
    ['a JWK without d', PUBLIC_JWK],
    ['a PEM with a damaged body', PRIVATE_PKCS1.replace('MIIC', 'MIID')],
  ])('refuses %s as privateKey with invalid_private_key', (_, privateKey) => {
    const error = configurationError(
      () => new LegacySecKeyAuth({ partnerId: PARTNER, privateKey }),
      'invalid_private_key',
    )
    expectNoSecrets(error, secrets)
  })

  it('does not print a private JWK that fails to parse', () => {
    // An unquoted member value: V8's SyntaxError quotes about ten characters around it.
    const broken = JSON.stringify(PRIVATE_JWK).replace(`"d":"`, '"d": ').slice(0, -1)
    const error = configurationError(
      () => new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: broken }),
      'invalid_private_key',
    )
    expectNoSecrets(error, secrets)
    expect(printable(error)).not.toContain(PRIVATE_JWK.d!.slice(0, 8))
    const publicBroken = JSON.stringify(PUBLIC_JWK).replace(`"n":"`, '"n": ')
    const publicError = configurationError(
      () => new LegacySecKeyAuth({ partnerId: PARTNER, apiKey: publicBroken }),
      'invalid_api_key',
    )
    expect(printable(publicError)).not.toContain(PUBLIC_JWK.n.slice(0, 8))
  })
})
