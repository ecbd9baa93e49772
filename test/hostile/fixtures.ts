/**
 * Shared by the hostile-input tests: one test partner's keys, a verifier with both schemes, replay and an
 * audit recorder, genuinely signed requests to mutate, and the arbitraries that make hostile values.
 */
import fc from 'fast-check'
import { expect } from 'vitest'

import {
  DualModeVerifier,
  FAILURE_REASONS,
  LegacySecKeyAuth,
  MemoryReplayStore,
  SignatureAuth,
  type AuditEvent,
  type VerificationResult,
} from '../../src/index.js'
import { createTestKeys, SmileServerSimulator, type TestKeys } from '../../src/testing/index.js'
import { secretsOf, type NamedSecret } from '../support/secrets.js'

/** The verifier's clock: 2023-11-14T22:13:20.000Z. */
export const NOW = 1_700_000_000_000
export const PARTNER = '085'

/** One partner's keys, strategies in both roles, and a Smile simulator to sign callbacks. */
export interface Partner {
  keys: TestKeys
  signature: SignatureAuth
  /** Partner role: verifies Smile → partner sec_keys with the public key. */
  secKey: LegacySecKeyAuth
  /** Server role: signs Smile → partner sec_keys, verifies partner → Smile ones with the private key. */
  smile: LegacySecKeyAuth
  simulator: SmileServerSimulator
}

let partner: Partner | undefined

/** The test partner, made once per test file. */
export function testPartner(): Partner {
  if (partner === undefined) {
    const keys = createTestKeys({ partnerId: PARTNER })
    partner = {
      keys,
      signature: new SignatureAuth({ partnerId: PARTNER, apiKey: keys.signatureApiKey }),
      secKey: new LegacySecKeyAuth({ partnerId: PARTNER, apiKey: keys.secKeyApiKey }),
      smile: new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: keys.secKeyPrivateKey }),
      simulator: new SmileServerSimulator(keys, { now: () => NOW }),
    }
  }
  return partner
}

/** A verifier over both schemes at {@link NOW}, with replay protection; `events` receives its audit trail. */
export function hostileVerifier(events: AuditEvent[] = []): DualModeVerifier {
  const { signature, secKey } = testPartner()
  return new DualModeVerifier({
    partnerId: PARTNER,
    signature,
    secKey,
    policy: { legacy: 'warn' },
    replay: new MemoryReplayStore(),
    audit: (event) => void events.push(event),
    now: () => NOW,
  })
}

/** Genuine requests in every shape the verifier accepts, to mutate. */
export interface SignedRequests {
  signatureBody: Record<string, unknown>
  secKeyBody: Record<string, unknown>
  /** A legacy value in a field named `signature`, as job_status responses carry it. */
  secKeyAsSignatureBody: Record<string, unknown>
  headers: Record<string, string>
  headersBody: Record<string, unknown>
}

/** Signs one request of each shape at {@link NOW}. */
export async function signedRequests(): Promise<SignedRequests> {
  const { simulator, signature } = testPartner()
  const signatureBody = await simulator.callbackBody({ scheme: 'signature', timestamp: new Date(NOW) })
  const secKeyBody = await simulator.callbackBody({ scheme: 'sec_key', timestamp: NOW })
  const legacy = await simulator.callbackBody({ scheme: 'sec_key', timestamp: Math.floor(NOW / 1000) })
  const { sec_key: legacyValue, ...rest } = legacy
  const signed = await signature.sign({ timestamp: new Date(NOW + 1000) })
  return {
    signatureBody,
    secKeyBody,
    secKeyAsSignatureBody: { ...rest, signature: legacyValue },
    headers: {
      'SmileID-Partner-ID': PARTNER,
      'SmileID-Request-Signature': signed.signature,
      'SmileID-Timestamp': signed.timestamp,
    },
    headersBody: { job_id: 'job-headers', result: { ResultCode: '1012' } },
  }
}

/** Every secret a hostile test handles: keys, and the genuine credentials of {@link signedRequests}. */
export function hostileSecrets(requests: SignedRequests): NamedSecret[] {
  const { keys } = testPartner()
  return secretsOf({
    'signature API key': keys.signatureApiKey,
    'sec_key API key': keys.secKeyApiKey,
    'private key': keys.secKeyPrivateKey,
    signature: [String(requests.signatureBody.signature), requests.headers['SmileID-Request-Signature']!],
    sec_key: [String(requests.secKeyBody.sec_key), String(requests.secKeyAsSignatureBody.signature)],
  })
}

/** Checks the contract for a request that must be refused: a result, not accepted, a listed reason. */
export function expectRefused(result: VerificationResult): void {
  expect(result.ok).toBe(false)
  if (result.ok) return
  expect(FAILURE_REASONS).toContain(result.reason)
  expect(typeof result.message).toBe('string')
  expect(result.message.length).toBeLessThanOrEqual(200)
  expect(
    result.partnerId === null || (typeof result.partnerId === 'string' && result.partnerId.length <= 64),
  ).toBe(true)
}

// ---- Hostile values ----

const BASE64_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=']
const HEX_CHARS = [...'0123456789abcdef']

/** Nested `depth` levels deep, built without recursion. */
export function nested(depth: number, kind: 'object' | 'array'): unknown {
  let value: unknown = 'bottom'
  for (let i = 0; i < depth; i++) value = kind === 'object' ? { a: value } : [value]
  return value
}

/** The JSON text of {@link nested}, built as text: `JSON.stringify` itself overflows the stack this deep. */
export function nestedJson(depth: number, kind: 'object' | 'array'): string {
  return kind === 'object'
    ? `${'{"a":'.repeat(depth)}"bottom"${'}'.repeat(depth)}`
    : `${'['.repeat(depth)}"bottom"${']'.repeat(depth)}`
}

/** Four megabytes of text shaped like a credential. */
export const HUGE = 'QUFB'.repeat(1024 * 1024)
const DEEP_OBJECT = nested(10_000, 'object')
const DEEP_ARRAY = nested(10_000, 'array')

/** Strings from the alphabets credentials are parsed with, and the characters parsers trip on. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 60, unit: 'binary' }),
  fc.string({ maxLength: 30, unit: 'grapheme' }),
  fc.string({ maxLength: 60, unit: fc.constantFrom(...BASE64_CHARS, '|', '\u0000', '\n', ' ', '-', '_') }),
  fc.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
  fc
    .tuple(
      fc.string({ minLength: 1, maxLength: 200, unit: fc.constantFrom(...BASE64_CHARS) }),
      fc.string({ minLength: 64, maxLength: 64, unit: fc.constantFrom(...HEX_CHARS) }),
    )
    .map(([rsa, hash]) => `${rsa}|${hash}`),
  fc
    .uint8Array({ minLength: 128, maxLength: 128 })
    .map((bytes) => `${Buffer.from(bytes).toString('base64')}|${'0'.repeat(64)}`),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\uD800',
    '|',
    '||',
    '=',
    'null',
    '__proto__',
    'constructor',
    '085',
    '85',
    '0x55',
    '1e3',
  ),
)

/** Numbers JSON and JavaScript can carry, edge cases first. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    Number.MAX_SAFE_INTEGER + 2,
    1e308,
    5e-324,
    NOW,
    NOW / 1000,
  ),
)

/** Any value a parsed body field may hold, plus the extremes. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.constantFrom(null, undefined, true, false),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
    fc.constantFrom(DEEP_OBJECT, DEEP_ARRAY),
  ),
})).value

const CREDENTIAL_FIELDS = ['signature', 'sec_key', 'timestamp', 'partner_id', 'smile_client_id'] as const

/** Objects with any mix of the credential fields, holding hostile values, beside arbitrary JSON. */
export const hostileBody: fc.Arbitrary<unknown> = fc.oneof(
  fc
    .tuple(
      fc.record(
        Object.fromEntries(CREDENTIAL_FIELDS.map((field) => [field, hostileValue])) as Record<
          (typeof CREDENTIAL_FIELDS)[number],
          fc.Arbitrary<unknown>
        >,
        { requiredKeys: [] },
      ),
      fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
    )
    .map(([credentials, extra]) => ({ ...extra, ...credentials })),
  fc.jsonValue({ maxDepth: 4 }),
  hostileValue,
)

/** `SmileID-*` headers in any case, holding hostile values (a list stands for a repeated header). */
export const hostileHeaders: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(
  fc.constantFrom(
    'SmileID-Request-Signature',
    'smileid-request-signature',
    'SMILEID-TIMESTAMP',
    'SmileID-Timestamp',
    'smileid-partner-id',
    'SmileID-Partner-ID',
    'content-type',
  ),
  fc.oneof(hostileString, hostileNumber, fc.array(hostileString, { maxLength: 3 }), fc.constant(undefined)),
  { maxKeys: 4 },
)

/** Header values that HTTP can carry: printable ASCII, trimmed. */
export const headerSafeString: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({
      minLength: 1,
      maxLength: 60,
      unit: fc.constantFrom(...BASE64_CHARS, '|', ' ', ',', ';', '"'),
    }),
    fc.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
    fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme-ascii' }),
  )
  .map((text) => text.replace(/[^\x21-\x7e ]/g, '').trim())
  .filter((text) => text.length > 0)

/** A single-character change: replace or delete (inserting whitespace into a sec_key's RSA half is allowed). */
export interface Edit {
  kind: 'replace' | 'delete'
  at: number
  char: string
}

export const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('replace', 'delete'),
  at: fc.nat(),
  char: fc.oneof(
    fc.constantFrom(...BASE64_CHARS, ...HEX_CHARS, '|', '\u0000', ' ', '\n', 'é', '\uD800'),
    fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
  ),
})

/** Applies one edit; `null` when it leaves the text unchanged. */
export function applyEdit(text: string, { kind, at, char }: Edit): string | null {
  if (text.length === 0) return null
  const i = at % text.length
  const changed =
    kind === 'replace' ? text.slice(0, i) + char + text.slice(i + 1) : text.slice(0, i) + text.slice(i + 1)
  return changed === text ? null : changed
}

/** A changed timestamp keeps its type when it still reads as the same kind of value. */
export function editTimestamp(value: unknown, change: Edit): unknown {
  const changed = applyEdit(String(value), change)
  if (changed === null) return null
  return typeof value === 'number' && /^\d+$/.test(changed) ? Number(changed) : changed
}
