/**
 * The migration policy: which schemes are *allowed* for a partner, separate from what a request claims
 * (detection) and from whether its credential is genuine (crypto).
 *
 * @module
 */
import { checkPolicy } from './options.js'

/**
 * A brownout window with both ends parsed, as {@link ResolvedPolicy.brownouts} holds it.
 *
 * @example
 * ```ts
 * const window: BrownoutWindow = { start: new Date('2027-02-01T09:00:00Z'), end: new Date('2027-02-01T10:00:00Z') }
 * ```
 */
export interface BrownoutWindow {
  /** First instant of the window (inclusive). */
  readonly start: Date
  /** Instant the window ends (exclusive). */
  readonly end: Date
}

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
  /**
   * Once a partner has authenticated with `signature`, refuse its `sec_key` requests (`scheme_not_allowed`).
   * The verifier's `upgradeStore` remembers upgraded partners; while it cannot answer, such a partner's
   * `sec_key` requests are refused as `replay_check_failed` unless the verifier's `upgradeFailure` is
   * `accept`.
   */
  stickyUpgrade?: boolean
  /**
   * Windows in which `sec_key` is refused (`scheme_not_allowed`, with a `brownout` warning in the audit
   * event), so that clients still on legacy surface before the sunset. `start` is inclusive, `end`
   * exclusive. A partner's own `brownouts` replace the verifier's (`[]` exempts that partner).
   */
  brownouts?: ReadonlyArray<{
    /** First instant of the window (inclusive): a Date or a date string. */
    start: Date | string
    /** Instant the window ends (exclusive): a Date or a date string, after `start`. */
    end: Date | string
  }>
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
  /** See {@link MigrationPolicy.brownouts}; default none. */
  readonly brownouts: readonly BrownoutWindow[]
}

/** Why the policy refuses the legacy scheme. */
export interface LegacyRefusal {
  /** The failure message for the caller. */
  readonly message: string
  /** The refusal comes from a brownout window (the audit event then warns `brownout`). */
  readonly brownout: boolean
}

const NO_BROWNOUTS: readonly BrownoutWindow[] = Object.freeze([])

/**
 * Validates a policy and lays it over a base policy (a partner's policy over the verifier's).
 *
 * @internal
 */
export function resolvePolicy(policy: unknown, base?: ResolvedPolicy, what = 'policy'): ResolvedPolicy {
  const parsed = checkPolicy(policy, what)
  return Object.freeze({
    legacy: parsed.legacy ?? base?.legacy ?? 'accept',
    mode: parsed.mode ?? base?.mode ?? 'enforce',
    legacySunsetAt: parsed.legacySunsetAt ?? base?.legacySunsetAt,
    stickyUpgrade: parsed.stickyUpgrade ?? base?.stickyUpgrade ?? false,
    brownouts: parsed.brownouts ?? base?.brownouts ?? NO_BROWNOUTS,
  })
}

/**
 * Whether `nowMs` falls inside one of the policy's brownout windows (start inclusive, end exclusive).
 *
 * @internal
 */
export function inBrownout(policy: ResolvedPolicy, nowMs: number): boolean {
  for (const window of policy.brownouts) {
    if (nowMs >= window.start.getTime() && nowMs < window.end.getTime()) return true
  }
  return false
}

/**
 * Why the policy refuses the legacy scheme at `nowMs`, or `null` when it allows it.
 *
 * @internal
 */
export function legacyRefusal(
  policy: ResolvedPolicy,
  nowMs: number,
  upgraded: boolean,
): LegacyRefusal | null {
  // The first standing reason wins: a brownout only counts as the cause when nothing permanent refuses.
  if (policy.legacy === 'reject') return REJECTED
  if (policy.legacySunsetAt !== undefined && nowMs >= policy.legacySunsetAt.getTime()) return SUNSET
  if (policy.brownouts.length > 0 && inBrownout(policy, nowMs)) return BROWNOUT
  if (upgraded) return UPGRADED
  return null
}

const REJECTED: LegacyRefusal = { message: 'the legacy sec_key scheme is not accepted', brownout: false }
const SUNSET: LegacyRefusal = {
  message: 'the legacy sec_key scheme was switched off at its sunset date',
  brownout: false,
}
const BROWNOUT: LegacyRefusal = {
  message: 'the legacy sec_key scheme is switched off during a scheduled brownout',
  brownout: true,
}
const UPGRADED: LegacyRefusal = {
  message: 'this partner has moved to the signature scheme; sec_key is no longer accepted',
  brownout: false,
}
