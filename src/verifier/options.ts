/**
 * Checks the verifier's options once, at construction, by hand: each mistake throws one
 * {@link ConfigurationError} whose message names the option, lists what it accepts and, where it can,
 * the likely slip. Values are echoed only when they cannot be a key (short words or date-like text).
 *
 * @internal
 * @module
 */
import { ConfigurationError } from '../errors.js'
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

/** Short plain words are safe to echo; anything else could be a key pasted into the wrong place. */
const WORDS = /^[A-Za-z][A-Za-z _-]{0,23}$/
/** Date-like text: digits with date punctuation, or plain words ("next spring"). */
const DATE_TEXT = /^[0-9 :.,/+TZtz-]{1,40}$/

/** Describes a value for a message without ever printing something that could be a secret. */
export function describe(value: unknown, dateLike = false): string {
  if (value === undefined) return 'undefined'
  if (value === null) return 'null'
  if (typeof value === 'string') {
    if (value.length === 0) return 'an empty string'
    if (WORDS.test(value) || (dateLike && DATE_TEXT.test(value))) return JSON.stringify(value)
    return `a string of ${value.length} characters`
  }
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `the number ${String(value)}`
  if (typeof value === 'boolean') return String(value)
  if (typeof value === 'function') return 'a function'
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** Levenshtein distance, small strings only (option names). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost)
    }
    previous = current
  }
  return previous[b.length]!
}

/** The known name a mistyped one most likely meant, if any is close. */
function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    const option = candidate.toLowerCase()
    // "warning" for "warn", "maxAge" for "maxAgeMs": a prefix either way is as good as one typo.
    const d =
      option === lower
        ? 0
        : lower.length >= 3 && (lower.startsWith(option) || option.startsWith(lower))
          ? 1
          : distance(lower, option)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

/** Refuses keys outside `known`, naming each and the option it was probably meant to be. */
export function checkKnownKeys(value: object, known: readonly string[], what: string): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key))
  if (unknown.length === 0) return
  const named = unknown.map((key) => {
    const shown = WORDS.test(key) ? key : `(a key of ${key.length} characters)`
    const guess = closest(key, known)
    return guess === undefined ? shown : `${shown} (did you mean ${guess}?)`
  })
  const where = what === '' ? '' : ` in ${what}`
  fail(
    `unknown option${unknown.length > 1 ? 's' : ''}${where}: ${named.join(', ')}; known: ${known.join(', ')}`,
  )
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
