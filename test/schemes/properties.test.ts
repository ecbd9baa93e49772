/**
 * Properties of both strategies: sign → verify round-trips for random partners, timestamps and keys; any
 * single-character change to a credential is rejected; garbage never throws and always yields a listed
 * reason. Runs are kept modest so the file stays fast on the node-forge backend too.
 */
import { createHash, generateKeyPairSync } from 'node:crypto'

import { calculateJwkThumbprint } from 'jose'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'

import {
  FAILURE_REASONS,
  LegacySecKeyAuth,
  SignatureAuth,
  type FailureReason,
  type RsaJwk,
  type VerificationResult,
} from '../../src/index.js'
import { backendName, checkedVerify, expectOk } from './helpers.js'

interface TestKeyPair {
  /** Public key in one of the encodings partners paste. */
  apiKey: string | RsaJwk
  privateKey: string
  thumbprint: string
  /** The private key's base64 body, which must never be printed. */
  secret: string
}

const keyPairs: TestKeyPair[] = []
const secrets: string[] = []
const verify = checkedVerify(secrets)

beforeAll(async () => {
  // Three 1024-bit keys (fast to make and use), each handed over in a different public encoding.
  for (let i = 0; i < 3; i++) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const jwk = publicKey.export({ format: 'jwk' }) as RsaJwk
    const spkiPem = publicKey.export({ type: 'spki', format: 'pem' })
    const apiKey = [
      Buffer.from(spkiPem).toString('base64'),
      publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      jwk,
    ][i]!
    const privatePem = privateKey.export({ type: i === 0 ? 'pkcs1' : 'pkcs8', format: 'pem' }).toString()
    const secret = privatePem.replace(/-----[A-Z ]+-----|\s/g, '')
    keyPairs.push({
      apiKey,
      privateKey: privatePem,
      thumbprint: await calculateJwkThumbprint({ kty: 'RSA', n: jwk.n, e: jwk.e }, 'sha256'),
      secret,
    })
    secrets.push(secret.slice(200, 260))
  }
})

const RUNS = { fast: 150, rsa: 30, garbage: 250 }

// ---- Arbitraries ----

const BASE64_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
/** The whitespace the sec_key RSA half may carry (Ruby MIME line breaks): inserting it is not a change. */
const RSA_HALF_WHITESPACE = /[\r\n\t ]/g

const signaturePartnerId = fc.stringMatching(/^[\x21-\x7e]{1,64}$/)
const digitPartnerId = fc.stringMatching(/^\d{1,15}$/)
/** API keys: any code points, a lone surrogate now and then (both backends encode it as U+FFFD). */
const hmacKey = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }),
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.constantFrom('\uD800', 'key-\uDFFF-tail'),
)
/** Timestamps a caller may sign: strings up to 64 UTF-16 units, finite numbers, valid Dates. */
const timestamp = fc.oneof(
  fc.string({ minLength: 1, maxLength: 32, unit: 'binary' }),
  fc.string({ minLength: 1, maxLength: 64 }),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer({ min: 0, max: 4_102_444_800_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.date({ noInvalidDate: true }),
)
/** A character to change one into: anything but the RSA half's allowed whitespace (see the property below). */
const replacementChar = fc
  .oneof(
    fc.constantFrom(...BASE64_CHARS, '=', '|', '-', '_', '\u0000', 'é', '\uD800'),
    fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
    fc.constantFrom(...'0123456789abcdefABCDEF'),
  )
  .filter((c) => !/^[\r\n\t ]$/.test(c))

type Edit = { kind: 'replace' | 'insert' | 'delete'; at: number; char: string }
const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('replace', 'insert', 'delete'),
  at: fc.nat(),
  char: replacementChar,
})

/** Applies one edit; `null` when the edit would leave the text as it was. */
function applyEdit(text: string, { kind, at, char }: Edit): string | null {
  const i = kind === 'insert' ? at % (text.length + 1) : at % text.length
  const changed =
    kind === 'replace'
      ? text.slice(0, i) + char + text.slice(i + 1)
      : kind === 'insert'
        ? text.slice(0, i) + char + text.slice(i)
        : text.slice(0, i) + text.slice(i + 1)
  return changed === text ? null : changed
}

function expectReason(result: VerificationResult, reason: FailureReason): void {
  expect(result.ok).toBe(false)
  if (!result.ok) expect(result.reason).toBe(reason)
}

/** The reason a changed timestamp string must get: the shape checks come first, then the crypto. */
function timestampReason(value: string, crypto: FailureReason): FailureReason {
  if (value === '') return 'missing_credentials'
  return value.length > 64 ? 'malformed_credentials' : crypto
}

/** An oracle for sec_key shape, written independently of the implementation (Buffer's canonical base64). */
function secKeyWellFormed(secKey: string): boolean {
  const parts = secKey.split('|')
  if (parts.length !== 2 || secKey.length > 4096) return false
  const rsa = parts[0]!.replace(RSA_HALF_WHITESPACE, '')
  return (
    rsa.length > 0 &&
    Buffer.from(rsa, 'base64').toString('base64') === rsa &&
    /^[0-9a-f]{64}$/.test(parts[1]!)
  )
}

// ---- Properties ----

describe(`SignatureAuth properties (${backendName} backend)`, () => {
  it('round-trips sign → verify for random partner ids, keys and timestamps, naming the first key', async () => {
    await fc.assert(
      fc.asyncProperty(
        signaturePartnerId,
        fc.array(hmacKey, { minLength: 1, maxLength: 3 }),
        timestamp,
        async (partnerId, apiKeys, ts) => {
          const rotating = new SignatureAuth({ partnerId, apiKey: apiKeys })
          const signed = await rotating.sign({ timestamp: ts })
          expect(signed.timestamp).toBe(ts instanceof Date ? ts.toISOString() : String(ts))
          const result = expectOk(await verify(rotating, signed))
          const alone = expectOk(await verify(new SignatureAuth({ partnerId, apiKey: apiKeys[0]! }), signed))
          expect(result.keyId).toBe(alone.keyId)
          // A number is signed as its JS spelling, so the number itself verifies too.
          if (typeof ts === 'number')
            expectOk(await verify(rotating, { signature: signed.signature, timestamp: ts }))
        },
      ),
      { numRuns: RUNS.fast },
    )
  })

  it('rejects any single-character change to the signature or the timestamp', async () => {
    const FORMAT = /^[A-Za-z0-9+/]{43}=$/
    await fc.assert(
      fc.asyncProperty(
        signaturePartnerId,
        hmacKey,
        timestamp,
        fc.constantFrom('signature', 'timestamp'),
        edit,
        async (partnerId, apiKey, ts, field, change) => {
          const auth = new SignatureAuth({ partnerId, apiKey })
          const signed = await auth.sign({ timestamp: ts })
          if (field === 'signature') {
            const changed = applyEdit(signed.signature, change)
            fc.pre(changed !== null)
            const result = await verify(auth, { ...signed, signature: changed })
            expectReason(result, FORMAT.test(changed!) ? 'invalid_signature' : 'malformed_credentials')
          } else {
            const changed = applyEdit(signed.timestamp, change)
            fc.pre(changed !== null)
            const result = await verify(auth, { ...signed, timestamp: changed })
            expectReason(result, timestampReason(changed!, 'invalid_signature'))
          }
        },
      ),
      { numRuns: RUNS.fast },
    )
  })
})

describe(`LegacySecKeyAuth properties (${backendName} backend)`, () => {
  const pair = fc.nat({ max: 2 })
  const secKeyTimestamp = timestamp.filter((ts) => !(ts instanceof Date))

  it('round-trips both directions for random digit partner ids, timestamps and keys', async () => {
    await fc.assert(
      fc.asyncProperty(digitPartnerId, pair, secKeyTimestamp, async (partnerId, index, ts) => {
        const keys = keyPairs[index]!
        const partner = new LegacySecKeyAuth({ partnerId, apiKey: keys.apiKey })
        const smile = new LegacySecKeyAuth({ partnerId, privateKey: keys.privateKey })
        const hash = createHash('sha256')
          .update(`${parseInt(partnerId, 10)}:${String(ts)}`)
          .digest('hex')

        const toPartner = await smile.sign({ timestamp: ts })
        expect(toPartner.timestamp).toBe(ts)
        expect(toPartner.sec_key.endsWith(`|${hash}`)).toBe(true)
        expect(expectOk(await verify(partner, toPartner)).keyId).toBe(keys.thumbprint)

        const toSmile = await partner.sign({ timestamp: ts })
        expect(toSmile.sec_key.endsWith(`|${hash}`)).toBe(true)
        expect(expectOk(await verify(smile, toSmile)).keyId).toBe(keys.thumbprint)
      }),
      { numRuns: RUNS.rsa },
    )
  })

  it('rejects any single-character change to either half of the sec_key or to the timestamp', async () => {
    await fc.assert(
      fc.asyncProperty(
        digitPartnerId,
        pair,
        secKeyTimestamp,
        fc.boolean(),
        fc.constantFrom('rsa', 'hash', 'timestamp'),
        edit,
        async (partnerId, index, ts, serverDirection, field, change) => {
          const keys = keyPairs[index]!
          const partner = new LegacySecKeyAuth({ partnerId, apiKey: keys.apiKey })
          const smile = new LegacySecKeyAuth({ partnerId, privateKey: keys.privateKey })
          // Smile → partner values are checked by the partner, partner → Smile values by Smile.
          const [signer, verifier] = serverDirection ? [smile, partner] : [partner, smile]
          const signed = await signer.sign({ timestamp: ts })
          const bar = signed.sec_key.indexOf('|')
          if (field === 'timestamp') {
            const changed = applyEdit(String(signed.timestamp), change)
            fc.pre(changed !== null)
            const result = await verify(verifier, { sec_key: signed.sec_key, timestamp: changed })
            expectReason(result, timestampReason(changed!, 'invalid_sec_key'))
            return
          }
          const [start, end] = field === 'rsa' ? [0, bar] : [bar + 1, signed.sec_key.length]
          const part = applyEdit(signed.sec_key.slice(start, end), change)
          fc.pre(part !== null)
          const changed = signed.sec_key.slice(0, start) + part! + signed.sec_key.slice(end)
          const result = await verify(verifier, { sec_key: changed, timestamp: signed.timestamp })
          expectReason(result, secKeyWellFormed(changed) ? 'invalid_sec_key' : 'malformed_credentials')
        },
      ),
      { numRuns: RUNS.rsa * 2 },
    )
  })

  it('treats line breaks and spaces in the RSA half as formatting, not as a change (Ruby MIME)', async () => {
    await fc.assert(
      fc.asyncProperty(
        pair,
        fc.array(fc.record({ at: fc.nat(), char: fc.constantFrom('\n', '\r\n', ' ', '\t') }), {
          minLength: 1,
          maxLength: 6,
        }),
        async (index, breaks) => {
          const keys = keyPairs[index]!
          const signed = await new LegacySecKeyAuth({ partnerId: '085', privateKey: keys.privateKey }).sign()
          let [rsa, hash] = signed.sec_key.split('|') as [string, string]
          for (const { at, char } of breaks) {
            const i = at % (rsa.length + 1)
            rsa = rsa.slice(0, i) + char + rsa.slice(i)
          }
          const partner = new LegacySecKeyAuth({ partnerId: '085', apiKey: keys.apiKey })
          expectOk(await verify(partner, { sec_key: `${rsa}|${hash}`, timestamp: signed.timestamp }))
        },
      ),
      { numRuns: RUNS.rsa },
    )
  })
})

describe(`garbage never throws and always yields a listed reason (${backendName} backend)`, () => {
  const huge = [
    'A'.repeat(5_000_000),
    `${'A'.repeat(3_000_000)}|${'a'.repeat(64)}`,
    '\u0000'.repeat(1_000_000),
  ]
  const garbageString = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'binary-ascii', maxLength: 300 }),
    fc.base64String({ maxLength: 400 }),
    fc.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
    fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    fc.stringMatching(/^[A-Za-z0-9+/\r\n]{1,200}={0,2}\|[0-9a-fA-F]{60,68}$/),
    fc.stringMatching(/^[|=\u0000 ]{0,10}$/),
    fc.constantFrom('', '|', '||', ' ', '\u0000', '\uD800', '=', '====', '{"sec_key":1}', ...huge),
  )
  const garbageTimestamp = fc.oneof(
    garbageString,
    fc.double(),
    fc.bigInt(),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, Number.MAX_VALUE, 1e308, -1e308, 8.64e15 + 1),
  )
  const credentials = fc.oneof(
    fc.anything({
      maxDepth: 2,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      stringUnit: 'binary',
    }),
    fc.record({ signature: garbageString, timestamp: garbageTimestamp }, { requiredKeys: [] }),
    fc.record({ sec_key: garbageString, timestamp: garbageTimestamp }, { requiredKeys: [] }),
    fc.record(
      { signature: fc.anything(), sec_key: fc.anything(), timestamp: fc.anything() },
      { requiredKeys: [] },
    ),
  )

  it('for SignatureAuth and both LegacySecKeyAuth roles', async () => {
    const strategies = [
      new SignatureAuth({ partnerId: '085', apiKey: ['garbage-key-one-000', 'garbage-key-two-000'] }),
      new LegacySecKeyAuth({ partnerId: '085', apiKey: keyPairs[0]!.apiKey }),
      new LegacySecKeyAuth({ partnerId: '085', privateKey: keyPairs[1]!.privateKey }),
    ]
    await fc.assert(
      fc.asyncProperty(credentials, fc.boolean(), async (input, withFreshness) => {
        for (const strategy of strategies) {
          const result = await verify(
            strategy,
            input,
            withFreshness ? { freshness: { now: 1_700_000_000_000 } } : undefined,
          )
          expect(result.ok).toBe(false)
          if (!result.ok) {
            expect(FAILURE_REASONS).toContain(result.reason)
            expect(result.scheme).toBe(strategy.scheme)
            expect(typeof result.message).toBe('string')
          }
        }
      }),
      { numRuns: RUNS.garbage },
    )
  })
})
