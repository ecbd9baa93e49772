/**
 * One step of the verifier's pipeline that stays synchronous when its input is.
 *
 * Why the synchronous path exists: with node:crypto and in-memory state, every stage of a verification
 * (partner lookup, policy, HMAC or RSA check, freshness) can decide at once. Chaining them with `await`
 * or `Promise.prototype.then` would cost a microtask and a promise per stage; on a signature check of a
 * few microseconds that is a measured share of the whole (see bench/verify.mjs, `DualModeVerifier` against
 * the raw HMAC). A partner resolver, a replay or upgrade store, or a WebCrypto strategy answers with a
 * promise instead, and then the rest of the pipeline continues once it settles. {@link andThen} is the
 * only place that tells the two apart, so each stage reads as plain sequential code.
 *
 * @internal
 * @module
 */
import type { MaybePromise } from '../crypto/backend.js'

export type { MaybePromise }

/**
 * Applies `next` to a value that may still be pending: at once when `value` is a plain value, after it
 * settles when it is a promise. `onRejected` (optional) answers for a rejected `value`, as the second
 * argument of `Promise.prototype.then` does; an exception thrown by `next` on the synchronous path
 * propagates to the caller, as it would from any plain call.
 *
 * Only native promises count as pending (`instanceof Promise`): every asynchronous source in the pipeline
 * is an `async` function or a strategy's `verify`, which returns one.
 *
 * @example
 * ```ts
 * andThen(2, (n) => n + 1) // 3, synchronously
 * await andThen(Promise.resolve(2), (n) => n + 1) // 3
 * ```
 */
export function andThen<T, U>(
  value: MaybePromise<T>,
  next: (value: T) => MaybePromise<U>,
  onRejected?: (error: unknown) => MaybePromise<U>,
): MaybePromise<U> {
  return value instanceof Promise ? value.then(next, onRejected) : next(value)
}
