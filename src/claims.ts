/**
 * What a request *claims*: which scheme, which credential, which partner and which timestamp, read from
 * body fields or `SmileID-*` headers. No policy, no keys and no crypto here: this is the one reader that
 * the verifier, the test kit's simulator and the CLI's `inspect` and `verify` share, so that they cannot
 * disagree about what a request says.
 *
 * The rules, in one place:
 * - Headers first: a `SmileID-Request-Signature` header makes a `signature` claim in the headers, with
 *   the `SmileID-Timestamp` header as its timestamp. Otherwise the body's `signature`, then `sec_key`.
 * - A value in a field named `signature` that has the shape of a sec_key (`<base64>|<64 hex>`, as
 *   legacy job_status responses send it) is a `sec_key` claim: classified by value, not by field name.
 * - With both credentials present the signature alone decides (downgrade protection): `both` says so.
 * - The partner is named by `SmileID-Partner-ID`, `partner_id` and `smile_client_id`. Every one present
 *   must name the same partner, or the request is `malformed_credentials`, whatever the transport.
 * - `"085"` and `"85"` name one partner (the portal's leading zeros are not part of a partner's
 *   identity, and the legacy scheme hashes the integer); any other ids must match exactly.
 * - A SmileID header sent twice is `malformed_credentials`: no guessing which copy counts.
 *
 * This module imports nothing but the public types, so any layer may call it.
 *
 * @module
 */
import type { FailureReason, Scheme, Transport } from './types.js'

/** Headers as plain objects, Node `IncomingHttpHeaders`, or Fetch `Headers`. */
export type HeadersLike =
  | {
      /** Fetch `Headers.get`: the value, or `null` when absent. */
      get(name: string): string | null
    }
  | Record<string, string | readonly string[] | number | undefined>

/** Where a partner id claim was read from. */
export type PartnerIdSource = 'header' | 'partner_id' | 'smile_client_id'

/** A reason a request's claims cannot be used, before any key is looked at. */
export type ClaimFailureReason = Extract<FailureReason, 'missing_credentials' | 'malformed_credentials'>

/**
 * A request whose claims cannot be used: nothing to verify, or claims that contradict each other.
 * Messages are fixed phrases that never quote the request.
 */
export interface ClaimFailure {
  /** `false`: see `reason`. */
  ok: false
  /** `missing_credentials` or `malformed_credentials`. */
  reason: ClaimFailureReason
  /** A short explanation. */
  message: string
  /** The scheme the request claimed, when one could be told. */
  scheme: Scheme | null
  /** The partner the request names, when it names exactly one; `null` otherwise. */
  partnerId: string | null
}

/** The partner a request names, read from every place a partner id can travel. */
export interface PartnerClaim {
  /** `true`: the claims agree (or there are none). */
  ok: true
  /** The partner id as text (`85` as a JSON number becomes `"85"`), or `null` when none is named. */
  partnerId: string | null
  /** Where `partnerId` was read from: the transport's own place first. `null` when none is named. */
  source: PartnerIdSource | null
  /** The id came as a JSON number, which loses the portal's leading zeros (`085` → `85`). */
  isNumber: boolean
}

/** The credential fields of a claim, in the shape a strategy's `verify` takes. */
export type ClaimedCredentials =
  { signature: unknown; timestamp: unknown } | { sec_key: unknown; timestamp: unknown }

/** The credential a request claims to carry, in one scheme, without the partner it names. */
export interface CredentialClaim {
  /** `true`: there is a credential to verify. */
  ok: true
  /** The scheme the credential claims. */
  scheme: Scheme
  /** Where the credential was found. */
  transport: Transport
  /** The credential fields in the shape the strategy verifies (values as received, unchecked). */
  credentials: ClaimedCredentials
  /** The credential string as received (the signature or the sec_key), for the replay key. */
  credential: unknown
  /** The timestamp as received: the `SmileID-Timestamp` header for headers, the body's `timestamp` otherwise. */
  timestamp: unknown
  /** A sec_key was present together with a signature: the signature alone decides. */
  both: boolean
  /** The sec_key was found in a field named `signature` (legacy job_status responses). */
  secKeyInSignatureField: boolean
}

/** What a request claims to carry: a credential, in one scheme, for the partner it names. */
export interface Claim extends CredentialClaim {
  /** The partner the request names, as text, or `null` when it names none. */
  partnerId: string | null
  /** Where `partnerId` was read from, or `null`. */
  partnerIdSource: PartnerIdSource | null
  /** The partner id came as a JSON number. */
  partnerIdIsNumber: boolean
}

/** Options of {@link readClaim}. */
export interface ReadClaimOptions {
  /** `false`: read the credential only; the partner fields stay empty. Default `true`. */
  partner?: boolean
}

const CREDENTIAL_ONLY: ReadClaimOptions = Object.freeze({ partner: false })

/** The outcome of {@link readCredentialClaim}: branch on `ok`. */
export type CredentialClaimResult = CredentialClaim | ClaimFailure

/** The outcome of {@link readClaim}: branch on `ok`. */
export type ClaimResult = Claim | ClaimFailure

/** The outcome of {@link readPartnerClaim}: branch on `ok`. */
export type PartnerClaimResult = PartnerClaim | ClaimFailure

/** The outcome of {@link readTimestampClaim}: the timestamp as received, or why it is unusable. */
export type TimestampClaim =
  | {
      /** `true`: a usable timestamp value. */
      ok: true
      /** The value exactly as received: it is what was signed. */
      value: string | number
    }
  | {
      /** `false`: see `reason`. */
      ok: false
      /** `missing_credentials` when absent or empty, `malformed_credentials` otherwise. */
      reason: ClaimFailureReason
      /** A short explanation. */
      message: string
    }

/** The longest partner id accepted as a claim (longer ones are malformed, not looked up). */
export const MAX_PARTNER_ID_LENGTH = 64
/** The longest timestamp string accepted as a claim. */
export const MAX_TIMESTAMP_LENGTH = 64

/**
 * The longest value classified by shape as a sec_key: an RSA-4096 block MIME-wrapped is under 800
 * characters. Longer values are not sec_keys, and a regex pass over a megabyte costs ~10 ms.
 */
const MAX_SEC_KEY_SHAPE_LENGTH = 4096
/** `<base64, possibly MIME-wrapped>|<64 hex>`. Anchored, and linear in the value's length. */
const SEC_KEY_SHAPE = /^[A-Za-z0-9+/=\s]+\|[0-9a-fA-F]{64}$/
/** Digit ids that name a partner by their integer value: at most 15 digits, exact in a double. */
const DIGIT_ID = /^\d{1,15}$/
const LEADING_ZEROS = /^0+(?=\d)/

const DUPLICATE_HEADER = 'a SmileID header appears more than once'
const UNREADABLE = 'the request could not be read'
const NOT_A_PARTNER_ID = 'partner id must be a string or a number'
const PARTNERS_DISAGREE =
  'the request names more than one partner (SmileID-Partner-ID, partner_id and smile_client_id disagree)'

/**
 * Reads one header case-insensitively from a plain object, Node headers or Fetch `Headers`.
 * Never throws.
 *
 * @returns the value; `undefined` when absent; `null` when sent more than once or not text.
 * @example
 * ```ts
 * readHeader({ 'smileid-timestamp': '2023-11-14T22:13:20.000Z' }, 'SmileID-Timestamp') // '2023-11-14T22:13:20.000Z'
 * readHeader({ 'smileid-partner-id': ['085', '212'] }, 'SmileID-Partner-ID') // null
 * ```
 */
export function readHeader(headers: unknown, name: string): string | null | undefined {
  if (headers === undefined || headers === null || typeof headers !== 'object') return undefined
  try {
    if (typeof (headers as { get?: unknown }).get === 'function') {
      const value = (headers as { get(name: string): unknown }).get(name)
      if (value === null || value === undefined) return undefined
      return typeof value === 'string' ? value : null
    }
    const record = headers as Record<string, unknown>
    let value = record[name]
    if (value === undefined) {
      const lower = name.toLowerCase()
      value = record[lower]
      if (value === undefined) {
        for (const key of Object.keys(record)) {
          if (key.toLowerCase() === lower) {
            value = record[key]
            break
          }
        }
      }
    }
    if (value === undefined || value === null) return undefined
    if (Array.isArray(value)) return value.length === 1 && typeof value[0] === 'string' ? value[0] : null
    return typeof value === 'string' || typeof value === 'number' ? String(value) : null
  } catch {
    // A Headers object or a Proxy that throws cannot be read: treat it as sending the header badly.
    return null
  }
}

/**
 * `true` when `value` has the shape of a sec_key: `<base64>|<64 hex>`, the base64 half possibly
 * MIME-wrapped (Ruby), the whole possibly padded with whitespace, at most 4096 characters. Shape only:
 * nothing is verified.
 *
 * @example
 * ```ts
 * isSecKeyShape(`${'QUJD'.repeat(32)}|${'0'.repeat(64)}`) // true
 * isSecKeyShape('tQ6xq6Bj7sM3AzV1bAxs1jK5TgBaebIp8Vx0vtvYdmM=') // false
 * ```
 */
export function isSecKeyShape(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= MAX_SEC_KEY_SHAPE_LENGTH &&
    value.includes('|') &&
    SEC_KEY_SHAPE.test(value.trim())
  )
}

/**
 * A partner id claim as text: a non-empty string of at most 64 characters as is, a non-negative safe
 * integer as its decimal spelling; `null` for anything else (which a reader reports as malformed).
 *
 * @example
 * ```ts
 * partnerIdText('085') // '085'
 * partnerIdText(85) // '85'
 * partnerIdText({}) // null
 * ```
 */
export function partnerIdText(value: unknown): string | null {
  if (typeof value === 'string')
    return value.length > 0 && value.length <= MAX_PARTNER_ID_LENGTH ? value : null
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value)
  return null
}

/**
 * Whether a partner id can name a sec_key partner: 1 to 15 digits, whose integer value the sec_key hash
 * takes (`"085"` → `85`) and a double holds exactly. The one place this rule lives.
 *
 * @example
 * ```ts
 * isDigitPartnerId('085') // true
 * isDigitPartnerId('acme') // false
 * ```
 */
export function isDigitPartnerId(partnerId: string): boolean {
  return DIGIT_ID.test(partnerId)
}

/**
 * The identity of a partner id: ids of 1 to 15 digits without their leading zeros (`"085"` → `"85"`),
 * any other id as it is. Two ids name the same partner exactly when their keys are equal, so a `Map`
 * keyed by it finds a partner in O(1) whatever spelling a request uses.
 *
 * @example
 * ```ts
 * partnerKey('085') // '85'
 * partnerKey('000') // '0'
 * partnerKey('acme-085') // 'acme-085'
 * ```
 */
export function partnerKey(partnerId: string): string {
  return isDigitPartnerId(partnerId) ? partnerId.replace(LEADING_ZEROS, '') : partnerId
}

/**
 * `true` when two partner ids name the same partner: `"085"` and `"85"` do; other ids must match exactly.
 *
 * @example
 * ```ts
 * samePartner('085', '85') // true
 * samePartner('085', '0850') // false
 * ```
 */
export function samePartner(a: string, b: string): boolean {
  return a === b || partnerKey(a) === partnerKey(b)
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== ''
}

function asBody(body: unknown): Record<string, unknown> | undefined {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined
}

function claimFailure(
  reason: ClaimFailureReason,
  message: string,
  scheme: Scheme | null,
  partnerId: string | null,
): ClaimFailure {
  return { ok: false, reason, message, scheme, partnerId }
}

/**
 * Reads the partner a request names from the `SmileID-Partner-ID` header and the body's `partner_id` and
 * `smile_client_id`. Every one present must name the same partner ({@link samePartner}): two that differ,
 * in any combination and whatever the transport, are `malformed_credentials`, as is a value that is not
 * a partner id ({@link partnerIdText}) or a header sent twice. Never throws.
 *
 * @param transport - where the credential travels; its own place is preferred for the reported
 *   spelling (the header for `headers`, the body fields for `body`). Default `body`.
 * @example
 * ```ts
 * readPartnerClaim({ partner_id: '085', smile_client_id: '85' }, undefined) // { ok: true, partnerId: '085', ... }
 * readPartnerClaim({ partner_id: '085' }, { 'SmileID-Partner-ID': '212' }) // { ok: false, reason: 'malformed_credentials', ... }
 * ```
 */
export function readPartnerClaim(
  body: unknown,
  headers: unknown,
  transport: Transport = 'body',
): PartnerClaimResult {
  try {
    const header = readHeader(headers, 'SmileID-Partner-ID')
    if (header === null) return claimFailure('malformed_credentials', DUPLICATE_HEADER, null, null)
    const fields = asBody(body)
    // Unrolled over the three places, in the transport's order, without allocating: this runs on every
    // request.
    let state: PartnerState = transport === 'headers' ? offer(undefined, 'header', header) : undefined
    state = offer(state, 'partner_id', fields?.partner_id)
    state = offer(state, 'smile_client_id', fields?.smile_client_id)
    if (transport !== 'headers') state = offer(state, 'header', header)
    return state ?? NO_PARTNER
  } catch {
    return claimFailure('malformed_credentials', UNREADABLE, null, null)
  }
}

/** The partner claims read so far: none yet, one partner, or the failure that sticks. */
type PartnerState = PartnerClaim | ClaimFailure | undefined

/** Adds one place's partner id claim to what was read so far. */
function offer(state: PartnerState, source: PartnerIdSource, value: unknown): PartnerState {
  if (state?.ok === false || !present(value)) return state
  const text = partnerIdText(value)
  if (text === null) {
    return claimFailure('malformed_credentials', NOT_A_PARTNER_ID, null, null)
  }
  if (state === undefined) return { ok: true, partnerId: text, source, isNumber: typeof value === 'number' }
  if (samePartner(state.partnerId!, text)) return state
  // A handler keying on one field while the verifier attributed another would cross tenants.
  return claimFailure('malformed_credentials', PARTNERS_DISAGREE, null, null)
}

const NO_PARTNER: PartnerClaim = Object.freeze({ ok: true, partnerId: null, source: null, isNumber: false })

/**
 * Checks a claimed timestamp value without altering it: a non-empty string of at most 64 characters,
 * or a finite number (a JSON number). Whether it denotes an instant, and a fresh one, is for
 * `timestamps.ts` to say.
 *
 * @example
 * ```ts
 * readTimestampClaim('2023-11-14T22:13:20.000Z') // { ok: true, value: '2023-11-14T22:13:20.000Z' }
 * readTimestampClaim(undefined) // { ok: false, reason: 'missing_credentials', ... }
 * ```
 */
export function readTimestampClaim(value: unknown): TimestampClaim {
  if (!present(value)) return { ok: false, reason: 'missing_credentials', message: 'timestamp is missing' }
  if (
    typeof value === 'number'
      ? Number.isFinite(value)
      : typeof value === 'string' && value.length <= MAX_TIMESTAMP_LENGTH
  ) {
    return { ok: true, value: value as string | number }
  }
  return {
    ok: false,
    reason: 'malformed_credentials',
    message: 'timestamp must be a string of at most 64 characters or a number',
  }
}

/**
 * Reads the credential a request claims to carry, without the partner: scheme, transport and the
 * fields as received. For tools that report on the partner claim separately ({@link readPartnerClaim});
 * the verifier uses {@link readClaim}, which reads both. Never throws.
 *
 * @example
 * ```ts
 * const credential = readCredentialClaim({ sec_key, timestamp: 1700000000 })
 * if (credential.ok) console.log(credential.scheme, credential.transport) // 'sec_key' 'body'
 * ```
 */
export function readCredentialClaim(body: unknown, headers?: unknown): CredentialClaimResult {
  const claim = readClaim(body, headers, CREDENTIAL_ONLY)
  if (!claim.ok) return claim
  const { partnerId: _id, partnerIdSource: _source, partnerIdIsNumber: _number, ...credential } = claim
  return credential
}

/**
 * Reads what a request claims: the credential (scheme, transport, fields as received) and the partner it
 * names. Headers are read case-insensitively from a plain object, Node headers or Fetch `Headers`; a
 * body that is not a plain object counts as no body. Never throws, whatever it is given (Proxies and
 * throwing getters included): what cannot be read is `malformed_credentials`.
 *
 * Nothing is verified here. A `Claim` says what to verify; the partner it names is a claim too, to be
 * resolved against configuration, and a handler must trust the verifier's `result.partnerId`, never it.
 *
 * Written as one function on purpose: it runs on every request, and kept whole it is compiled on its
 * own rather than inlined into the verifier, whose inlining budget then stays for the crypto (measured:
 * split into small helpers, the verifier lost about 10% of its rate).
 *
 * @param options - `{ partner: false }` skips the partner claim (see {@link readCredentialClaim}).
 * @example
 * ```ts
 * const claim = readClaim({ partner_id: '085', signature, timestamp }, req.headers)
 * if (!claim.ok) console.log(claim.reason) // 'missing_credentials' | 'malformed_credentials'
 * else console.log(claim.scheme, claim.transport, claim.partnerId) // 'signature' 'body' '085'
 * ```
 */
export function readClaim(input: unknown, headers?: unknown, options?: ReadClaimOptions): ClaimResult {
  const withPartner = options?.partner !== false
  try {
    const body = asBody(input)
    let scheme: Scheme | null = null
    let transport: Transport = 'body'
    let credential: unknown
    let timestamp: unknown
    let both = false
    let secKeyInSignatureField = false
    let missing: string | null = null

    const headerSignature = readHeader(headers, 'SmileID-Request-Signature')
    // A SmileID header sent twice makes the whole request ambiguous: no scheme is told for it.
    let duplicate = headerSignature === null
    if (headerSignature !== undefined && headerSignature !== null) {
      timestamp = readHeader(headers, 'SmileID-Timestamp')
      duplicate = timestamp === null
      scheme = 'signature'
      transport = 'headers'
      credential = headerSignature
      both = present(body?.sec_key) || present(body?.signature)
    } else if (!duplicate) {
      if (body === undefined) missing = 'the request carries no credentials'
      else {
        const signatureField = body.signature
        const secKeyField = body.sec_key
        timestamp = body.timestamp
        if (present(signatureField)) {
          if (!present(secKeyField) && isSecKeyShape(signatureField)) {
            scheme = 'sec_key'
            secKeyInSignatureField = true
          } else {
            scheme = 'signature'
            both = present(secKeyField)
          }
          credential = signatureField
        } else if (present(secKeyField)) {
          scheme = 'sec_key'
          credential = secKeyField
        } else missing = 'the request carries no signature or sec_key'
      }
    }

    // The partner claim, read inline without allocating (this runs on every request; the same rule as
    // readPartnerClaim, which the claims tests hold it to): every place present must agree.
    let partnerId: string | null = null
    let partnerIdSource: PartnerIdSource | null = null
    let partnerIdIsNumber = false
    if (withPartner) {
      const header = readHeader(headers, 'SmileID-Partner-ID')
      if (header === null) return claimFailure('malformed_credentials', DUPLICATE_HEADER, null, null)
      const viaHeaders = transport === 'headers'
      for (let i = 0; i < 3; i++) {
        const source: PartnerIdSource =
          i === 0
            ? viaHeaders
              ? 'header'
              : 'partner_id'
            : i === 1
              ? viaHeaders
                ? 'partner_id'
                : 'smile_client_id'
              : viaHeaders
                ? 'smile_client_id'
                : 'header'
        const value =
          source === 'header' ? header : source === 'partner_id' ? body?.partner_id : body?.smile_client_id
        if (!present(value)) continue
        const text = partnerIdText(value)
        let problem: string | null = null
        if (text === null) problem = NOT_A_PARTNER_ID
        else if (partnerId === null) {
          partnerId = text
          partnerIdSource = source
          partnerIdIsNumber = typeof value === 'number'
        } else if (!samePartner(partnerId, text)) problem = PARTNERS_DISAGREE
        if (problem !== null) {
          // A duplicated header leaves the scheme untold; contradicting partner claims keep it.
          return claimFailure('malformed_credentials', problem, duplicate ? null : scheme, null)
        }
      }
    }
    if (duplicate) return claimFailure('malformed_credentials', DUPLICATE_HEADER, null, partnerId)
    if (missing !== null || scheme === null) {
      return claimFailure(
        'missing_credentials',
        missing ?? 'the request carries no credentials',
        null,
        partnerId,
      )
    }
    return {
      ok: true,
      scheme,
      transport,
      credentials:
        scheme === 'signature' ? { signature: credential, timestamp } : { sec_key: credential, timestamp },
      credential,
      timestamp,
      partnerId,
      partnerIdSource,
      partnerIdIsNumber,
      both,
      secKeyInSignatureField,
    }
  } catch {
    return claimFailure('malformed_credentials', UNREADABLE, null, null)
  }
}
