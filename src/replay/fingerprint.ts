/**
 * The replay fingerprint of a request body: what tells a redelivery (same credential, same body) from a
 * replay (same credential, another body). It runs on every request that reaches the replay check, before
 * anything says the body is worth reading, so its cost is linear in the body's size whatever the body
 * holds.
 *
 * @internal
 * @module
 */
import { hashBackend } from '#crypto-hash'

import type { MaybePromise } from '../crypto/backend.js'

/** What the fingerprint is taken of: the bytes as received when the adapter has them, else the parsed body. */
export interface FingerprintInput {
  /** The body exactly as received (bytes, or their text). Preferred: hashed as is. */
  rawBody?: string | Uint8Array | undefined
  /** The parsed body, when no raw body is at hand. */
  body?: Record<string, unknown> | undefined
}

/**
 * Lowercase hex SHA-256 over the body.
 * - Raw body: its exact bytes. A sender's redelivery repeats them, so it is a `duplicate`; any change
 *   to them, even one JSON would not see, makes it a replay.
 * - Parsed body: an unambiguous encoding of the body without the top-level credential fields in `omit`,
 *   in the body's own key order (see {@link parsedBodyText}). Linear in the body's size: sorting every
 *   object's keys and joining the pieces by hand, as before, cost 6–9× a `JSON.parse` of a 1 MB body.
 *   `JSON.parse` keeps the key order of the text, so the same bytes always give the same fingerprint; a
 *   body reordered by the sender counts as another body.
 *
 * The two forms differ for one body, so every instance of a deployment should read bodies the same way
 * (all raw, or all parsed) for a redelivery that reaches another instance to be a `duplicate`.
 *
 * Throws on a body that cannot be encoded (a cycle, a BigInt, a throwing getter, nesting deeper than the
 * stack allows): the caller fails closed on it.
 *
 * @example
 * ```ts
 * const fingerprint = await bodyFingerprint({ body: { job_id: 'job-1', signature, timestamp } }, omit)
 * ```
 */
export function bodyFingerprint(input: FingerprintInput, omit: ReadonlySet<string>): MaybePromise<string> {
  if (input.rawBody !== undefined) return hashBackend.sha256Hex(input.rawBody)
  return hashBackend.sha256Hex(parsedBodyText(input.body ?? {}, omit))
}

/**
 * Nodes encoded one by one before the rest goes to `JSON.stringify` whole. Native `JSON.stringify` is the
 * fastest way through many small values, but it scans long strings character by character at several
 * times the cost of `JSON.parse`; walking the first nodes lets the long strings near the top (an image in
 * base64, the usual way a body reaches a megabyte) be taken as they are. The budget keeps the walk's own
 * per-node cost small.
 */
const WALK_BUDGET = 256
/** Strings at least this long are taken as they are; shorter ones are cheaper through JSON. */
const LONG_STRING = 1024

const isWellFormed: (text: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (text) => (text as unknown as { isWellFormed(): boolean }).isWellFormed()
    : () => false

/**
 * The text the parsed-body fingerprint hashes: a prefix code, so that two different bodies never give
 * one text. Each walked node is tagged: `{` … `}` an object (each member a key, then its value), `[` … `]`
 * an array, `s<length>:<text>` a string (well-formed UTF-16, so its UTF-8 bytes are unambiguous), and
 * `j<length>:<JSON>` a value written by `JSON.stringify` (which escapes lone surrogates). Which nodes are
 * walked depends on the body's shape alone, so one body always gives one text.
 *
 * @example
 * ```ts
 * parsedBodyText({ a: 'x', signature: '…' }, new Set(['signature'])) // '{s1:aj3:"x"}'
 * ```
 */
export function parsedBodyText(body: Record<string, unknown>, omit: ReadonlySet<string>): string {
  const budget = { left: WALK_BUDGET }
  let out = '{'
  for (const key of Object.keys(body)) {
    if (omit.has(key)) continue
    out += encodeString(key) + encode(body[key], budget)
  }
  return out + '}'
}

function encodeString(text: string): string {
  if (isWellFormed(text)) return 's' + text.length + ':' + text
  return json(text)
}

function json(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined
  // undefined, a function or a symbol (only a caller's own objects hold them): written as JSON would skip it.
  if (text === undefined) return 'u'
  return 'j' + text.length + ':' + text
}

function encode(value: unknown, budget: { left: number }): string {
  if (typeof value === 'string') return value.length >= LONG_STRING ? encodeString(value) : json(value)
  if (value === null || typeof value !== 'object') return json(value)
  // Past the budget, JSON.stringify takes the subtree whole. The budget also bounds this walk's depth;
  // JSON.stringify throws a RangeError on nesting deeper than the stack, and the caller fails closed.
  if (budget.left <= 0) return json(value)
  budget.left--
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return json(value)
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += encode(value[i], budget)
    return out + ']'
  }
  const record = value as Record<string, unknown>
  let out = '{'
  for (const key of Object.keys(record)) out += encodeString(key) + encode(record[key], budget)
  return out + '}'
}
