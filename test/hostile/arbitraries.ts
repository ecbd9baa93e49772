/**
 * The hostile-input tests' own tools: the refusal contract and the arbitraries that make hostile values.
 * The partner, the verifier and the signed requests they mutate are the suite's shared fixtures
 * (`test/support/fixtures.ts`).
 */
import fc from 'fast-check'
import { expect } from 'vitest'

import { FAILURE_REASONS, type VerificationResult } from '../../src/index.js'
import { NOW } from '../support/fixtures.js'

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
