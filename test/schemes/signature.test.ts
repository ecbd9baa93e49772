import { afterEach, describe, expect, it, vi } from 'vitest'

import { SignatureAuth } from '../../src/index.js'
import { signatureVectors } from '../support/vectors.js'
import {
  backendName,
  checkedVerify,
  configurationError,
  countingBackend,
  expectFailure,
  expectNoSecrets,
  expectOk,
} from './helpers.js'

const vectors = signatureVectors()
const API_KEY = vectors.api_key
const PARTNER = vectors.partner_id
const ROTATION_KEYS = ['rotation-key-one-0001', 'rotation-key-two-0002', 'rotation-key-three-003']
const verify = checkedVerify([API_KEY, ...ROTATION_KEYS, vectors.js_test_suite_style.api_key + 'x'])
/** A vector that every SDK produced: the ISO `…sssZ` form with both `+` and `/` in its signature. */
const ISO_VECTOR = vectors.vectors[0]!

function auth(partnerId = PARTNER, apiKey: string | string[] = API_KEY): SignatureAuth {
  return new SignatureAuth({ partnerId, apiKey })
}

describe(`SignatureAuth vectors (${backendName} backend)`, () => {
  it('has all 11 timestamp spellings', () => {
    expect(vectors.vectors).toHaveLength(11)
    expect(new Set(vectors.vectors.map((v) => v.timestamp)).size).toBe(11)
    expect(new Set(vectors.vectors.map((v) => v.signature)).size).toBe(11)
  })

  it.each(vectors.vectors.map((v) => [v.timestamp, v] as const))(
    'verifies the spelling %j',
    async (_, vector) => {
      const strategy = auth()
      const result = expectOk(
        await verify(strategy, { signature: vector.signature, timestamp: vector.timestamp }),
      )
      expect(result).toMatchObject({
        scheme: 'signature',
        partnerId: PARTNER,
        timestamp: vector.timestamp,
        legacy: false,
        duplicate: false,
        transport: 'body',
      })
      expect(result.keyId).toMatch(/^hmac:[0-9a-f]{16}$/)
      // Every spelling in the vectors is a readable instant (this one: 2023-11-14T22:13:20 UTC, give or take).
      expect(result.issuedAt).toBeInstanceOf(Date)
      expect(Math.abs(result.issuedAt!.getTime() - 1_700_000_000_000)).toBeLessThan(1000)
    },
  )

  it.each(vectors.vectors.map((v) => [v.timestamp, v] as const))(
    'signs %j byte for byte',
    async (_, vector) => {
      await expect(auth().sign({ timestamp: vector.timestamp })).resolves.toEqual({
        signature: vector.signature,
        timestamp: vector.timestamp,
      })
    },
  )

  it("refuses each spelling with another spelling's signature (the string is HMACed verbatim)", async () => {
    const strategy = auth()
    const list = vectors.vectors
    for (let i = 0; i < list.length; i++) {
      const other = list[(i + 1) % list.length]!
      expectFailure(
        await verify(strategy, { signature: other.signature, timestamp: list[i]!.timestamp }),
        'invalid_signature',
      )
    }
  })

  it('flags only the zone-less spelling as naive', async () => {
    const strategy = auth()
    for (const vector of vectors.vectors) {
      const result = expectOk(await verify(strategy, vector))
      const naive = vector.timestamp === '2023-11-14T22:13:20.123456'
      expect(result.warnings).toEqual(naive ? ['timestamp_naive'] : [])
    }
  })

  it('signs the partner id verbatim: "085" and "85" are different partners', async () => {
    const [padded, bare] = vectors.partner_id_variants
    expect(padded!.partner_id).toBe('085')
    expect(bare!.partner_id).toBe('85')
    expect(padded!.signature).not.toBe(bare!.signature)
    const with085 = auth('085')
    const with85 = auth('85')
    expectOk(await verify(with085, padded))
    expectOk(await verify(with85, bare))
    expectFailure(await verify(with085, bare), 'invalid_signature')
    expectFailure(await verify(with85, padded), 'invalid_signature')
    expect((await with85.sign({ timestamp: bare!.timestamp })).signature).toBe(bare!.signature)
  })

  it('verifies the JS SDK test-suite vector', async () => {
    const v = vectors.js_test_suite_style
    expectOk(await verify(auth(v.partner_id, v.api_key), { signature: v.signature, timestamp: v.timestamp }))
  })

  describe('a JSON-number timestamp', () => {
    const [ms, seconds] = vectors.numeric_timestamp_semantics
    const nodeSignature = (entry: typeof ms) =>
      Object.entries(entry!).find(([name]) => name.startsWith('node>=3.1.0'))![1] as string
    const rubySignature = (entry: typeof ms) =>
      Object.entries(entry!).find(([name]) => name.startsWith('ruby/php'))![1] as string

    it('verifies as String(n) without a warning (Ruby, PHP)', async () => {
      const result = expectOk(await verify(auth(), { signature: rubySignature(ms), timestamp: ms!.input }))
      expect(ms!.input).toBe(1_700_000_000_000)
      expect(result.warnings).toEqual([])
      expect(result.timestamp).toBe(1_700_000_000_000)
      expect(result.issuedAt?.toISOString()).toBe('2023-11-14T22:13:20.000Z')
    })

    it("verifies as Node SDK 3.x's ISO form with a timestamp_coerced warning", async () => {
      const signature = nodeSignature(ms)
      // Node 3.x signs new Date(n).toISOString(): the same bytes as the ISO vector.
      expect(signature).toBe(ISO_VECTOR.signature)
      const result = expectOk(await verify(auth(), { signature, timestamp: ms!.input }))
      expect(result.warnings).toEqual(['timestamp_coerced'])
      expect(result.timestamp).toBe(ms!.input)
      expect(result.issuedAt?.toISOString()).toBe('2023-11-14T22:13:20.000Z')
    })

    it('coerces seconds the way Node 3.x does (as milliseconds, in 1970)', async () => {
      expect(seconds!.input).toBe(1_700_000_000)
      const coerced = expectOk(
        await verify(auth(), { signature: nodeSignature(seconds), timestamp: seconds!.input }),
      )
      expect(coerced.warnings).toEqual(['timestamp_coerced'])
      expect(coerced.issuedAt?.toISOString()).toBe('1970-01-20T16:13:20.000Z')
      const plain = expectOk(
        await verify(auth(), { signature: rubySignature(seconds), timestamp: seconds!.input }),
      )
      expect(plain.warnings).toEqual([])
      expect(plain.issuedAt?.toISOString()).toBe('2023-11-14T22:13:20.000Z')
    })

    it('coerces numbers only: a digit string is never re-serialised', async () => {
      expectOk(await verify(auth(), { signature: rubySignature(ms), timestamp: '1700000000000' }))
      expectFailure(
        await verify(auth(), { signature: nodeSignature(ms), timestamp: '1700000000000' }),
        'invalid_signature',
      )
    })
  })

  it('verifies the Java 1.0.x local-time bug vector as the string it hashed, an hour ahead', async () => {
    const bug = vectors.java_1_0_x_local_time_bug
    const strategy = auth()
    const result = expectOk(
      await verify(strategy, { signature: bug.signature, timestamp: bug.string_actually_hashed }),
    )
    expect(result.issuedAt!.getTime() - bug.timestamp_ms).toBe(3_600_000)
    // The true UTC instant does not match the buggy signature, and the correct one does.
    const utc = new Date(bug.timestamp_ms).toISOString()
    expectFailure(await verify(strategy, { signature: bug.signature, timestamp: utc }), 'invalid_signature')
    expectOk(await verify(strategy, { signature: bug.correct_utc_signature, timestamp: utc }))
    // With a freshness window, an hour-ahead clock is refused as a future timestamp.
    const fresh = { freshness: { now: bug.timestamp_ms } }
    expectFailure(
      await verify(strategy, { signature: bug.signature, timestamp: bug.string_actually_hashed }, fresh),
      'timestamp_in_future',
    )
  })
})

describe(`SignatureAuth.sign (${backendName} backend)`, () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('defaults to new Date().toISOString()', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2024-05-06T07:08:09.123Z'))
    const signed = await auth().sign()
    expect(signed.timestamp).toBe('2024-05-06T07:08:09.123Z')
    expectOk(await verify(auth(), signed))
  })

  it('echoes a given string timestamp exactly and writes a Date as ISO', async () => {
    const odd = '  2024-05-06 07:08:09.123456789 +0000 '
    expect((await auth().sign({ timestamp: odd })).timestamp).toBe(odd)
    const fromDate = await auth().sign({ timestamp: new Date(1_700_000_000_000) })
    expect(fromDate).toEqual({ signature: ISO_VECTOR.signature, timestamp: ISO_VECTOR.timestamp })
  })

  it('signs a number as its JS spelling, verifiable as the number or the string', async () => {
    const signed = await auth().sign({ timestamp: 1_700_000_000 })
    expect(signed).toEqual({ signature: vectors.vectors[10]!.signature, timestamp: '1700000000' })
    expectOk(await verify(auth(), { signature: signed.signature, timestamp: 1_700_000_000 }))
  })

  it.each([
    ['an empty string', ''],
    ['a 65-character string', '1'.repeat(65)],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['an invalid Date', new Date(Number.NaN)],
  ])('refuses %s as a timestamp with invalid_options', async (_, timestamp) => {
    const error = await auth()
      .sign({ timestamp })
      .then(
        () => expect.fail('sign() should have thrown'),
        (reason: unknown) => reason,
      )
    const thrown = configurationError(() => {
      throw error
    }, 'invalid_options')
    expectNoSecrets(thrown, [API_KEY])
  })
})

describe(`SignatureAuth strictness (${backendName} backend)`, () => {
  const { signature, timestamp } = ISO_VECTOR
  const strategy = auth()

  it('uses a vector with both + and / in it', () => {
    expect(signature).toMatch(/\+/)
    expect(signature).toMatch(/\//)
  })

  it.each([
    ['url-safe', signature.replace(/\+/g, '-').replace(/\//g, '_')],
    ['unpadded', signature.replace(/=+$/, '')],
    ['url-safe and unpadded', signature.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')],
    ['padded twice', `${signature}=`],
    ['leading space', ` ${signature}`],
    ['trailing space', `${signature} `],
    ['trailing newline', `${signature}\n`],
    ['leading tab', `\t${signature}`],
    ['a space inside', `${signature.slice(0, 20)} ${signature.slice(20)}`],
    ['43 characters', signature.slice(1)],
    ['hex instead of base64', 'fb0961b418ace780a68eb58ba169b57ffd4446dadf734c475fd5dbd59c3d945b'],
    ['a NUL byte appended', `${signature}\u0000`],
  ])('refuses a signature that is %s as malformed_credentials', async (_, changed) => {
    expectFailure(await verify(strategy, { signature: changed, timestamp }), 'malformed_credentials')
  })

  it.each([
    [
      'case-swapped',
      [...signature].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
    ],
    ['one letter upper-cased', signature.replace('w', 'W')],
    ['one letter lower-cased', signature.replace('F', 'f')],
    // `s` and `t` differ only in the two bits the final padding discards: a lenient decoder sees the same bytes.
    ['non-canonical in the padding bits', signature.replace(/s=$/, 't=')],
  ])('refuses a signature that is %s as invalid_signature', async (_, changed) => {
    expect(changed).not.toBe(signature)
    expect(changed).toMatch(/^[A-Za-z0-9+/]{43}=$/)
    expectFailure(await verify(strategy, { signature: changed, timestamp }), 'invalid_signature')
  })

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty string', ''],
  ])('reports a signature that is %s as missing_credentials', async (_, value) => {
    expectFailure(await verify(strategy, { signature: value, timestamp }), 'missing_credentials')
    expectFailure(await verify(strategy, { timestamp }), 'missing_credentials')
  })

  it.each([
    ['a number', 42],
    ['an array', [signature]],
    ['an object', { signature }],
    ['a boxed string', Object(signature) as unknown],
    ['a boolean', true],
  ])('refuses a signature that is %s as malformed_credentials', async (_, value) => {
    expectFailure(await verify(strategy, { signature: value, timestamp }), 'malformed_credentials')
  })

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty string', ''],
  ])('reports a timestamp that is %s as missing_credentials', async (_, value) => {
    expectFailure(await verify(strategy, { signature, timestamp: value }), 'missing_credentials')
  })

  it.each([
    ['a boolean', true],
    ['an object', { timestamp }],
    ['an array', [timestamp]],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a bigint', 1_700_000_000_000n],
    ['a Date', new Date(timestamp)],
  ])('refuses a timestamp that is %s as malformed_credentials', async (_, value) => {
    expectFailure(await verify(strategy, { signature, timestamp: value }), 'malformed_credentials')
  })

  it.each([
    ['undefined', undefined, 'missing_credentials'],
    ['null', null, 'missing_credentials'],
    ['a string', `${timestamp}:${signature}`, 'malformed_credentials'],
    ['an array', [signature, timestamp], 'malformed_credentials'],
    ['a number', 7, 'malformed_credentials'],
  ] as const)('reports credentials that are %s as %s', async (_, value, reason) => {
    expectFailure(await verify(strategy, value), reason)
  })

  it('does not trim the timestamp: surrounding spaces are part of what was signed', async () => {
    expectFailure(await verify(strategy, { signature, timestamp: ` ${timestamp}` }), 'invalid_signature')
    expectFailure(await verify(strategy, { signature, timestamp: `${timestamp}\n` }), 'invalid_signature')
  })

  describe('size caps, checked before any crypto work', () => {
    const counter = countingBackend()
    const capped = new SignatureAuth({ partnerId: PARTNER, apiKey: API_KEY, backend: counter.backend })

    it.each([
      ['a 129-character signature', { signature: `${signature}${'A'.repeat(85)}`, timestamp }],
      ['a 10 MB signature', { signature: 'A'.repeat(10_000_000), timestamp }],
      ['a 65-character timestamp', { signature, timestamp: '2'.repeat(65) }],
      ['a 10 MB timestamp', { signature, timestamp: '2'.repeat(10_000_000) }],
    ])('refuses %s as malformed_credentials', async (_, credentials) => {
      counter.reset()
      expectFailure(await verify(capped, credentials), 'malformed_credentials')
      expect(counter.calls()).toBe(0)
    })

    it('accepts a 64-character timestamp (the cap is inclusive) and does the work for it', async () => {
      const long = `2024-01-01T00:00:00.000Z${'x'.repeat(40)}`
      expect(long).toHaveLength(64)
      const signed = await capped.sign({ timestamp: long })
      counter.reset()
      expectOk(await verify(capped, signed))
      expect(counter.calls()).toBeGreaterThan(0)
    })
  })
})

describe(`SignatureAuth key rotation (${backendName} backend)`, () => {
  const rotating = auth(PARTNER, ROTATION_KEYS)
  const singles = ROTATION_KEYS.map((key) => auth(PARTNER, key))

  it('signs with the first key', async () => {
    const ts = '2024-02-03T04:05:06.007Z'
    expect(await rotating.sign({ timestamp: ts })).toEqual(await singles[0]!.sign({ timestamp: ts }))
    expect(await rotating.sign({ timestamp: ts })).not.toEqual(await singles[1]!.sign({ timestamp: ts }))
  })

  it('verifies every key and says which one matched', async () => {
    const ids: string[] = []
    for (const single of singles) {
      const signed = await single.sign({ timestamp: '2024-02-03T04:05:06.007Z' })
      const own = expectOk(await verify(single, signed))
      const result = expectOk(await verify(rotating, signed))
      expect(result.keyId).toBe(own.keyId)
      ids.push(result.keyId)
    }
    expect(new Set(ids).size).toBe(ROTATION_KEYS.length)
    for (const id of ids) expect(id).toMatch(/^hmac:[0-9a-f]{16}$/)
  })

  it('refuses a key that is not in the list', async () => {
    const stranger = await auth(PARTNER, 'rotation-key-stranger-9').sign({
      timestamp: '2024-02-03T04:05:06.007Z',
    })
    expectFailure(await verify(rotating, stranger), 'invalid_signature')
  })

  it('gives the same keyId for the same key in any instance, and the keyId is not the key', async () => {
    const a = expectOk(await verify(auth(), ISO_VECTOR))
    const b = expectOk(await verify(auth('another-partner', [API_KEY]), await auth('another-partner').sign()))
    expect(a.keyId).toBe(b.keyId)
    expect(a.keyId).not.toContain(API_KEY.slice(0, 6))
  })
})

describe('SignatureAuth configuration errors', () => {
  it.each([
    ['an empty partner id', ''],
    ['a number (it would lose leading zeros)', 85],
    ['a partner id with a space', '08 5'],
    ['a partner id with a newline', '085\n'],
    ['a 65-character partner id', '1'.repeat(65)],
    ['a non-ASCII partner id', 'partenaire-é'],
    ['undefined', undefined],
  ])('refuses %s as invalid_partner_id', (_, partnerId) => {
    const error = configurationError(
      () => new SignatureAuth({ partnerId: partnerId as string, apiKey: API_KEY }),
      'invalid_partner_id',
    )
    expectNoSecrets(error, [API_KEY])
  })

  it.each([
    ['an empty key', ''],
    ['an empty list', []],
    ['a list with an empty key', [API_KEY, '']],
    ['a list with a non-string', [API_KEY, 42]],
    ['undefined', undefined],
    ['a number', 1234],
  ])('refuses %s as missing_key', (_, apiKey) => {
    const error = configurationError(
      () => new SignatureAuth({ partnerId: PARTNER, apiKey: apiKey as string }),
      'missing_key',
    )
    expectNoSecrets(error, [API_KEY])
  })

  it('refuses missing options as invalid_options', () => {
    configurationError(() => new SignatureAuth(undefined as never), 'invalid_options')
    configurationError(() => new SignatureAuth(null as never), 'invalid_options')
  })

  it('accepts non-digit partner ids (the signature scheme signs the string verbatim)', async () => {
    const strategy = auth('partner-ABC_1', API_KEY)
    expectOk(await verify(strategy, await strategy.sign()))
  })
})
