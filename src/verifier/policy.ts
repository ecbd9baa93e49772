/**
 * The migration policy: which schemes are *allowed* for a partner, separate from what a request claims
 * (detection) and from whether its credential is genuine (crypto).
 *
 * @module
 */
import { parseOptions, policySchema } from '../schemas.js'

/**
 * How a verifier treats the legacy scheme during the migration.
 *
 * @example
 * ```ts
 * const policy: MigrationPolicy = { legacy: 'warn', legacySunsetAt: '2027-03-31T00:00:00Z', stickyUpgrade: true }
 * ```
 */
export interface MigrationPolicy {
  /** `accept` (default), `warn` (accept with a `legacy_scheme` warning), or `reject` (`scheme_not_allowed`). */
  legacy?: 'accept' | 'warn' | 'reject'
  /**
   * `enforce` (default) rejects what the policy, the freshness window or the replay store refuse;
   * `observe` accepts those with `would_reject:<reason>` warnings and audits them as `would_reject`.
   * Cryptographic failures are rejected in both modes.
   */
  mode?: 'enforce' | 'observe'
  /** After this instant the legacy scheme is rejected as if `legacy` were `reject`. */
  legacySunsetAt?: Date | string
  /** Once a partner has authenticated with `signature`, refuse its `sec_key` requests. */
  stickyUpgrade?: boolean
}

/** A policy with defaults applied and the sunset parsed. */
export interface ResolvedPolicy {
  /** See {@link MigrationPolicy.legacy}; default `accept`. */
  readonly legacy: 'accept' | 'warn' | 'reject'
  /** See {@link MigrationPolicy.mode}; default `enforce`. */
  readonly mode: 'enforce' | 'observe'
  /** The sunset instant, if one is set. */
  readonly legacySunsetAt: Date | undefined
  /** See {@link MigrationPolicy.stickyUpgrade}; default `false`. */
  readonly stickyUpgrade: boolean
}

/**
 * Validates a policy and lays it over a base policy (a partner's policy over the verifier's).
 *
 * @internal
 */
export function resolvePolicy(policy: unknown, base?: ResolvedPolicy, what = 'policy'): ResolvedPolicy {
  const parsed = parseOptions(policySchema, policy ?? {}, what)
  const sunset = parsed.legacySunsetAt === undefined ? base?.legacySunsetAt : new Date(parsed.legacySunsetAt)
  return Object.freeze({
    legacy: parsed.legacy ?? base?.legacy ?? 'accept',
    mode: parsed.mode ?? base?.mode ?? 'enforce',
    legacySunsetAt: sunset,
    stickyUpgrade: parsed.stickyUpgrade ?? base?.stickyUpgrade ?? false,
  })
}

/**
 * Why the policy refuses the legacy scheme at `nowMs`, or `null` when it allows it.
 *
 * @internal
 */
export function legacyRefusal(policy: ResolvedPolicy, nowMs: number, upgraded: boolean): string | null {
  if (policy.legacy === 'reject') return 'the legacy sec_key scheme is not accepted'
  if (policy.legacySunsetAt !== undefined && nowMs >= policy.legacySunsetAt.getTime()) {
    return 'the legacy sec_key scheme was switched off at its sunset date'
  }
  if (upgraded) return 'this partner has moved to the signature scheme; sec_key is no longer accepted'
  return null
}
