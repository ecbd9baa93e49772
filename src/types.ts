/**
 * Public types shared by the strategies, the verifier, the audit trail and the adapters.
 *
 * @module
 */

/** The two Smile ID authentication schemes: the current HMAC `signature` and the legacy RSA `sec_key`. */
export type Scheme = 'signature' | 'sec_key'

/** Where a credential was found in an incoming request. */
export type Transport = 'body' | 'headers'

/** Credential fields of the `signature` scheme, as they travel in a body. */
export interface SignatureCredentials {
  /** Standard padded base64 of the 32-byte HMAC-SHA256 (44 characters). */
  signature: string
  /** The timestamp string exactly as it was signed. */
  timestamp: string
}

/** Credential fields of the legacy `sec_key` scheme, as they travel in a body. */
export interface SecKeyCredentials {
  /** `base64(RSA block) + "|" + sha256 hex`. */
  sec_key: string
  /** Seconds or milliseconds since the epoch, or a string, exactly as it was hashed. */
  timestamp: number | string
}

/** Options for {@link AuthStrategy.sign}. */
export interface SignOptions {
  /**
   * The timestamp to sign. A string or number is echoed back exactly as given; a `Date` becomes an ISO
   * string for `signature` and epoch milliseconds for `sec_key`. Defaults to now.
   */
  timestamp?: string | number | Date
}

/** A freshness window applied to a credential's timestamp. */
export interface FreshnessOptions {
  /** How old a timestamp may be, in milliseconds. Default 300 000 (5 minutes). */
  maxAgeMs?: number
  /** How far in the future a timestamp may be, in milliseconds. Default 300 000 (5 minutes). */
  maxFutureMs?: number
  /** The current time: epoch milliseconds, a `Date`, or a clock function. Default `Date.now()`. */
  now?: number | Date | (() => number)
}

/** Options for {@link AuthStrategy.verify}. */
export interface VerifyOptions {
  /** Check the timestamp against this window. Strategies check freshness only when this is given. */
  freshness?: FreshnessOptions
}

/** Why a verification failed. Stable snake_case codes, safe for log lines and metric labels. */
export type FailureReason =
  | 'missing_credentials'
  | 'malformed_credentials'
  | 'invalid_signature'
  | 'invalid_sec_key'
  | 'timestamp_expired'
  | 'timestamp_in_future'
  | 'unknown_partner'
  | 'scheme_not_allowed'
  | 'replayed'
  | 'replay_check_failed'

/** Every {@link FailureReason}, for validation and exhaustive tests. */
export const FAILURE_REASONS: readonly FailureReason[] = [
  'missing_credentials',
  'malformed_credentials',
  'invalid_signature',
  'invalid_sec_key',
  'timestamp_expired',
  'timestamp_in_future',
  'unknown_partner',
  'scheme_not_allowed',
  'replayed',
  'replay_check_failed',
]

/** A successful verification. */
export interface VerificationSuccess {
  /** `true`: the request is authentic and allowed. */
  ok: true
  /** The scheme the request was authenticated with. */
  scheme: Scheme
  /** The partner the credential belongs to. */
  partnerId: string
  /** The timestamp exactly as received. */
  timestamp: string | number
  /** The instant the timestamp denotes, or `null` when it cannot be read as one. */
  issuedAt: Date | null
  /** Identifies the key that matched without revealing it (RFC 7638 thumbprint for RSA, a short hash for HMAC). */
  keyId: string
  /** Where the credential was found. */
  transport: Transport
  /** `true` when the legacy `sec_key` scheme was used. */
  legacy: boolean
  /** `true` when this exact request (same credential, same body) was seen before: a redelivery. */
  duplicate: boolean
  /** Notes that do not fail the request, such as `legacy_scheme` or `timestamp_naive`. */
  warnings: string[]
}

/** A failed verification. */
export interface VerificationFailure {
  /** `false`: the request was refused; see `reason`. */
  ok: false
  /** The scheme the request claimed, or `null` when none could be told. */
  scheme: Scheme | null
  /** Why it failed. */
  reason: FailureReason
  /** A short human-readable explanation. Never contains a key, signature or sec_key. */
  message: string
  /** The partner the request claimed, or `null` when it named none. */
  partnerId: string | null
}

/**
 * The outcome of a verification: branch on `ok`.
 *
 * @example
 * ```ts
 * const result = await verifier.verify({ body })
 * if (!result.ok) console.log(result.reason)
 * else console.log(`authenticated with ${result.scheme}`)
 * ```
 */
export type VerificationResult = VerificationSuccess | VerificationFailure

/**
 * A Smile ID authentication scheme bound to one partner and its keys.
 *
 * Implemented by {@link SignatureAuth} and {@link LegacySecKeyAuth}.
 *
 * @typeParam C - the credential fields this scheme produces.
 */
export interface AuthStrategy<C> {
  /** Which scheme this strategy implements. */
  readonly scheme: Scheme
  /** The partner id as configured (for example `"085"`). */
  readonly partnerId: string
  /** Produces credential fields for an outgoing request or callback. */
  sign(options?: SignOptions): Promise<C>
  /** Checks credential fields. Never throws on bad input: returns a failure with a {@link FailureReason}. */
  verify(credentials: unknown, options?: VerifyOptions): Promise<VerificationResult>
}
