/**
 * Pieces shared by both schemes: size caps, the timestamp field, result builders, partner-id checks.
 *
 * @internal
 * @module
 */
import { isDigitPartnerId, MAX_TIMESTAMP_LENGTH, readTimestampClaim } from '../claims.js'
import { ConfigurationError } from '../errors.js'
import { describe } from '../option-checks.js'
import { checkFreshness, type ReadInstant } from '../timestamps.js'
import type {
  FailureReason,
  Scheme,
  VerificationFailure,
  VerificationResult,
  VerificationSuccess,
  VerifyOptions,
} from '../types.js'

/**
 * The key of a strategy's synchronous-where-possible verify, which the verifier calls on its hot path to
 * avoid a promise per request on node:crypto. Same contract as `verify`.
 */
export const VERIFY_NOW: unique symbol = Symbol('smileid-auth-shim.verifyNow')

/** A strategy with the fast verify path. */
export interface VerifiesNow {
  [VERIFY_NOW](
    credentials: unknown,
    options?: VerifyOptions,
  ): VerificationResult | Promise<VerificationResult>
}

/** Size caps, checked before any decoding so a huge value costs nothing. */
export const MAX_SIGNATURE_LENGTH = 128
export const MAX_SEC_KEY_LENGTH = 4096
export const MAX_PARTNER_ID_LENGTH = 64
export { MAX_TIMESTAMP_LENGTH }

/** Builds a failure result. Messages are fixed phrases: they never quote the input. */
export function failure(
  scheme: Scheme | null,
  reason: FailureReason,
  message: string,
  partnerId: string | null,
): VerificationFailure {
  return { ok: false, scheme, reason, message, partnerId }
}

/** A timestamp field that passed the shape checks. */
export type TimestampField =
  { ok: true; value: string | number } | { ok: false; failure: VerificationFailure }

/**
 * Checks a credential's timestamp field: a non-empty string of at most 64 characters, or a finite number.
 * The rule is the claim reader's ({@link readTimestampClaim}); this gives it the strategy's failure shape.
 */
export function readTimestampField(value: unknown, scheme: Scheme, partnerId: string): TimestampField {
  const read = readTimestampClaim(value)
  return read.ok ? read : { ok: false, failure: failure(scheme, read.reason, read.message, partnerId) }
}

/** Applies the optional freshness window and assembles the success result. */
export function success(
  scheme: Scheme,
  partnerId: string,
  timestamp: string | number,
  instant: ReadInstant,
  keyId: string,
  warnings: string[],
  options: VerifyOptions | undefined,
): VerificationSuccess | VerificationFailure {
  if (instant.naive) warnings.push('timestamp_naive')
  if (options?.freshness) {
    const fresh = checkFreshness(instant, options.freshness)
    if (!fresh.ok) return failure(scheme, fresh.reason, fresh.message, partnerId)
  }
  return {
    ok: true,
    scheme,
    partnerId,
    timestamp,
    issuedAt: instant.ms === null ? null : new Date(instant.ms),
    keyId,
    transport: 'body',
    legacy: scheme === 'sec_key',
    duplicate: false,
    warnings,
  }
}

/** The credential object's fields, or a failure when there is none. */
export type CredentialFields =
  { ok: true; fields: Record<string, unknown> } | { ok: false; failure: VerificationFailure }

/** Reads the credential object given to a strategy's `verify`. */
export function credentialObject(credentials: unknown, scheme: Scheme, partnerId: string): CredentialFields {
  if (credentials === undefined || credentials === null) {
    return {
      ok: false,
      failure: failure(scheme, 'missing_credentials', 'no credentials were given', partnerId),
    }
  }
  if (typeof credentials !== 'object' || Array.isArray(credentials)) {
    return {
      ok: false,
      failure: failure(scheme, 'malformed_credentials', 'credentials must be an object', partnerId),
    }
  }
  return { ok: true, fields: credentials as Record<string, unknown> }
}

/** Validates a partner id as the signature scheme uses it: the portal string, verbatim. */
export function checkPartnerId(partnerId: unknown): string {
  if (typeof partnerId === 'number') {
    throw new ConfigurationError(
      'invalid_partner_id',
      'partnerId must be a string such as "085": a number loses leading zeros and signs a different message',
    )
  }
  if (typeof partnerId !== 'string' || partnerId.length === 0) {
    throw new ConfigurationError(
      'invalid_partner_id',
      `partnerId must be a non-empty string such as "085" (got ${describe(partnerId)})`,
    )
  }
  if (partnerId.length > MAX_PARTNER_ID_LENGTH || !/^[\x21-\x7e]+$/.test(partnerId)) {
    throw new ConfigurationError(
      'invalid_partner_id',
      `partnerId must be at most 64 printable ASCII characters without spaces (got ${describe(partnerId)})` +
        (/^\s|\s$/.test(partnerId)
          ? '; trim it: a trailing newline or space often comes from an env file'
          : ''),
    )
  }
  return partnerId
}

/** Validates a partner id for the sec_key scheme, which hashes its integer value (`"085"` → `85`). */
export function checkDigitPartnerId(partnerId: unknown): string {
  const id = checkPartnerId(partnerId)
  if (!isDigitPartnerId(id)) {
    throw new ConfigurationError(
      'invalid_partner_id',
      `partnerId must be 1 to 15 digits for the sec_key scheme, such as "085" (it hashes the integer value) (got ${describe(id)})`,
    )
  }
  return id
}

/** Normalises a sign() timestamp option, refusing values no verifier could accept. */
export function signTimestamp(
  value: unknown,
  fallback: () => string | number,
  fromDate: (d: Date) => string | number,
) {
  if (value === undefined) return fallback()
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw new ConfigurationError('invalid_options', 'timestamp is an invalid Date')
    return fromDate(value)
  }
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'string' && value.length > 0 && value.length <= MAX_TIMESTAMP_LENGTH) return value
  throw new ConfigurationError(
    'invalid_options',
    `timestamp must be a Date, a finite number or a non-empty string of at most 64 characters (got ${describe(value, true)})`,
  )
}

/**
 * Returns a value that is replaced by its settled form once ready, so the hot path reads a plain
 * value and only the first calls await. Rejections surface at use, not as unhandled rejections.
 */
export function settle<T>(value: T | Promise<T>, store: (settled: T) => void): T | Promise<T> {
  if (!(value instanceof Promise)) return value
  value.then(store, () => undefined)
  return value
}
