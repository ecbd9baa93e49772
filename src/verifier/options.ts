/**
 * Checks the verifier's options once, at construction, by hand: each mistake throws one
 * {@link ConfigurationError} whose message names the option, lists what it accepts and, where it can,
 * the likely slip. Values are echoed only when they cannot be a key (short words or date-like text).
 *
 * @internal
 * @module
 */
import { ConfigurationError } from '../errors.js'
import { checkKnownKeys, closest, describe } from '../option-checks.js'

export { checkKnownKeys, describe }
import type { BrownoutWindow } from './policy.js'

/** A policy as given, checked, with dates parsed; absent fields stay absent so they can inherit. */
export interface CheckedPolicy {
  legacy?: 'accept' | 'warn' | 'reject'
  mode?: 'enforce' | 'observe'
  legacySunsetAt?: Date
  stickyUpgrade?: boolean
  brownouts?: readonly BrownoutWindow[]
}

/** The freshness option, checked. */
export type CheckedFreshness = { maxAgeMs?: number; maxFutureMs?: number } | false

const POLICY_KEYS = ['legacy', 'mode', 'legacySunsetAt', 'stickyUpgrade', 'brownouts'] as const
const FRESHNESS_KEYS = ['maxAgeMs', 'maxFutureMs'] as const
const WINDOW_KEYS = ['start', 'end'] as const

/** Every option of `DualModeVerifier`, for the unknown-option check and its "did you mean" hint. */
export const VERIFIER_OPTION_KEYS = [
  'partnerId',
  'signature',
  'secKey',
  'partners',
  'policy',
  'freshness',
  'replay',
  'replayFailure',
  'replayTtlMs',
  'upgradeStore',
  'upgradeFailure',
  'audit',
  'onAuditError',
  'instance',
  'now',
] as const

const MAX_INSTANCE_LENGTH = 128

function fail(message: string): never {
  throw new ConfigurationError('invalid_options', message)
}

/** `'a', 'b' or 'c'`. */
function oneOf(values: readonly string[]): string {
  const quoted = values.map((value) => `'${value}'`)
  return quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)!}`
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

/** Checks that `value` is one of `allowed` (or absent). */
export function checkChoice<T extends string>(
  value: unknown,
  allowed: readonly T[],
  what: string,
): T | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
  let hint = ''
  if (typeof value === 'string') {
    const guess = closest(value, allowed)
    if (guess !== undefined) hint = `; did you mean '${guess}'?`
  }
  return fail(`${what} must be ${oneOf(allowed)} (got ${describe(value)})${hint}`)
}

/** Parses a `Date | string` option; a string must be a date `Date.parse` understands. */
export function checkDate(value: unknown, what: string): Date {
  const example = 'a Date or a date string such as "2027-03-31T00:00:00Z"'
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) fail(`${what} must be ${example} (got an invalid Date)`)
    return new Date(value.getTime())
  }
  if (typeof value === 'string') {
    const ms = Date.parse(value)
    if (Number.isNaN(ms))
      fail(`${what} must be ${example} (got ${describe(value, true)}, which is not a date)`)
    return new Date(ms)
  }
  if (typeof value === 'number') {
    return fail(
      `${what} must be ${example} (got ${describe(value)}; for epoch milliseconds pass new Date(${String(value)}))`,
    )
  }
  return fail(`${what} must be ${example} (got ${describe(value)})`)
}

function checkBrownouts(value: unknown, what: string): BrownoutWindow[] {
  const shape = 'an array of { start, end } windows (each a Date or a date string)'
  if (!Array.isArray(value)) {
    const hint = isPlainObject(value) ? '; wrap a single window in [ ]' : ''
    return fail(`${what} must be ${shape} (got ${describe(value)})${hint}`)
  }
  return value.map((window: unknown, index) => {
    const at = `${what}[${index}]`
    if (!isPlainObject(window)) return fail(`${at} must be a { start, end } window (got ${describe(window)})`)
    checkKnownKeys(window, WINDOW_KEYS, at)
    if (window.start === undefined) fail(`${at}.start is missing: a window needs a start and an end`)
    if (window.end === undefined) fail(`${at}.end is missing: a window needs a start and an end`)
    const start = checkDate(window.start, `${at}.start`)
    const end = checkDate(window.end, `${at}.end`)
    if (end.getTime() <= start.getTime()) {
      fail(
        `${at}.end must be after its start (start ${start.toISOString()}, end ${end.toISOString()}); ` +
          'the end is exclusive, so an empty or reversed window would never apply',
      )
    }
    return Object.freeze({ start, end })
  })
}

/** Checks a migration policy (the verifier's or a partner's). */
export function checkPolicy(value: unknown, what: string): CheckedPolicy {
  if (value === undefined) return {}
  if (!isPlainObject(value)) {
    const hint =
      value === 'accept' || value === 'warn' || value === 'reject'
        ? `; did you mean { legacy: '${value}' }?`
        : value === 'enforce' || value === 'observe'
          ? `; did you mean { mode: '${value}' }?`
          : ''
    return fail(`${what} must be an object such as { legacy: 'warn' } (got ${describe(value)})${hint}`)
  }
  checkKnownKeys(value, POLICY_KEYS, what)
  const checked: CheckedPolicy = {}
  const legacy = checkChoice(value.legacy, ['accept', 'warn', 'reject'], `${what}.legacy`)
  if (legacy !== undefined) checked.legacy = legacy
  const mode = checkChoice(value.mode, ['enforce', 'observe'], `${what}.mode`)
  if (mode !== undefined) checked.mode = mode
  if (value.legacySunsetAt !== undefined) {
    checked.legacySunsetAt = checkDate(value.legacySunsetAt, `${what}.legacySunsetAt`)
  }
  if (value.stickyUpgrade !== undefined) {
    if (typeof value.stickyUpgrade !== 'boolean') {
      fail(`${what}.stickyUpgrade must be true or false (got ${describe(value.stickyUpgrade)})`)
    }
    checked.stickyUpgrade = value.stickyUpgrade
  }
  if (value.brownouts !== undefined) {
    checked.brownouts = Object.freeze(checkBrownouts(value.brownouts, `${what}.brownouts`))
  }
  return checked
}

function checkDuration(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value
  const hint =
    typeof value === 'string' && /^\d+$/.test(value) ? `; pass the number ${value}, not a string` : ''
  return fail(`${what} must be a finite number of milliseconds, 0 or more (got ${describe(value)})${hint}`)
}

/** Checks the `freshness` option: `false`, or `{ maxAgeMs?, maxFutureMs? }`. */
export function checkFreshness(value: unknown): CheckedFreshness {
  if (value === undefined) return {}
  if (value === false) return false
  if (!isPlainObject(value)) {
    const hint =
      value === true
        ? '; freshness is on by default, leave the option out'
        : typeof value === 'number'
          ? `; write { maxAgeMs: ${String(value)}, maxFutureMs: ${String(value)} }`
          : ''
    return fail(`freshness must be false or { maxAgeMs?, maxFutureMs? } (got ${describe(value)})${hint}`)
  }
  checkKnownKeys(value, FRESHNESS_KEYS, 'freshness')
  const checked: { maxAgeMs?: number; maxFutureMs?: number } = {}
  const maxAgeMs = checkDuration(value.maxAgeMs, 'freshness.maxAgeMs')
  if (maxAgeMs !== undefined) checked.maxAgeMs = maxAgeMs
  const maxFutureMs = checkDuration(value.maxFutureMs, 'freshness.maxFutureMs')
  if (maxFutureMs !== undefined) checked.maxFutureMs = maxFutureMs
  return checked
}

/** Checks `replayTtlMs`: a positive finite number of milliseconds. */
export function checkReplayTtl(value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value
  const hint =
    typeof value === 'string' && /^\d+$/.test(value) ? `; pass the number ${value}, not a string` : ''
  return fail(`replayTtlMs must be a positive, finite number of milliseconds (got ${describe(value)})${hint}`)
}

/** Checks `instance`: a non-empty name of at most 128 characters without control characters, or `null`. */
export function checkInstance(value: unknown): string | null | undefined {
  if (value === undefined || value === null) return value
  if (typeof value !== 'string') {
    return fail(`instance must be a string naming this instance, or null (got ${describe(value)})`)
  }
  if (value.length === 0 || value.length > MAX_INSTANCE_LENGTH) {
    fail(`instance must be 1 to ${MAX_INSTANCE_LENGTH} characters long (got ${value.length})`)
  }
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) fail('instance must not contain control characters')
  return value
}

/** Checks that `value` is an object at all (the options argument). */
export function checkOptionsObject(value: unknown): void {
  if (!isPlainObject(value)) {
    fail(
      `DualModeVerifier needs an options object such as { signature, secKey } or { partners } (got ${describe(value)})`,
    )
  }
}
