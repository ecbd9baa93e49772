/**
 * Error classes. Configuration mistakes throw {@link ConfigurationError} at construction; verification never
 * throws on what a caller sends, except through the explicit {@link VerificationError} of `verifyOrThrow`.
 *
 * @module
 */
import type { FailureReason, VerificationFailure } from './types.js'

/** Stable codes of {@link ConfigurationError}. */
export type ConfigurationErrorCode =
  'invalid_partner_id' | 'missing_key' | 'invalid_api_key' | 'invalid_private_key' | 'invalid_options'

/**
 * A configuration mistake: a bad key, a partner id the scheme cannot use, an invalid option.
 * Thrown at construction, never per request. The message names the problem, never the key.
 *
 * @example
 * ```ts
 * try {
 *   new LegacySecKeyAuth({ partnerId: 'abc', apiKey })
 * } catch (error) {
 *   if (error instanceof ConfigurationError) console.error(error.code) // 'invalid_partner_id'
 * }
 * ```
 */
export class ConfigurationError extends Error {
  /** A stable code to branch on. */
  readonly code: ConfigurationErrorCode

  constructor(code: ConfigurationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ConfigurationError'
    this.code = code
  }
}

/**
 * Thrown by `verifyOrThrow` when a request is rejected. Carries the full failure result.
 *
 * @example
 * ```ts
 * try {
 *   await verifier.verifyOrThrow({ body })
 * } catch (error) {
 *   if (error instanceof VerificationError) res.status(401).json({ error: error.code })
 * }
 * ```
 */
export class VerificationError extends Error {
  /** The failure reason, same as `result.reason`. */
  readonly code: FailureReason
  /** The failed verification result. */
  readonly result: VerificationFailure

  constructor(result: VerificationFailure) {
    super(result.message)
    this.name = 'VerificationError'
    this.code = result.reason
    this.result = result
  }
}
