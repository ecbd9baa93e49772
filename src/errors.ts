/**
 * Error classes. Mistakes in the calling code throw {@link ConfigurationError} (see there for exactly
 * where); verification never throws on what a request sender controls, except through the explicit
 * {@link VerificationError} of `verifyOrThrow`.
 *
 * @module
 */
import type { FailureReason, VerificationFailure } from './types.js'

/** Stable codes of {@link ConfigurationError}. */
export type ConfigurationErrorCode =
  'invalid_partner_id' | 'missing_key' | 'invalid_api_key' | 'invalid_private_key' | 'invalid_options'

/**
 * A mistake in the calling code: a bad key, a partner id the scheme cannot use, an invalid option. The
 * message names the option, what was given (a value that could be a key only by its kind and length),
 * what is allowed and, where one is common, the likely slip; an unknown option name comes with the
 * closest known one. Branch on `code`, not on the message.
 *
 * Where it is thrown:
 * - at construction: the strategies, `DualModeVerifier`, `MigratingSigner`, the stores and sinks, and the
 *   adapters when they are built (`smileIdAuth(…)`, `withSmileIdAuth(…)`, `new SmileIdAuthGuard(…)`, a
 *   Fastify registration), for every option;
 * - by the few calls whose arguments are the caller's own code and never a request's content:
 *   `verifyRequest(…)` / `verifyIncomingMessage(…)` for their options (a rejected promise, before any
 *   request is read), and `MigratingSigner`'s `sign`, `signBody` and `headers` (a body that is not an
 *   object, a routing key that is not a string, `headers()` without a signature strategy), and
 *   `summarizeAudit(…)` / `LegacyUsageTracker.report(now)` for a `since` or `now` that is not a Date.
 *
 * Never for anything a request sender controls: a request that cannot be verified is a result
 * (`verify()` never throws) or, in the adapters, a typed answer. A Fetch request whose body the app itself
 * already read is answered 500 `{ error: 'body_already_read' }`, not thrown.
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
