/**
 * Reading the many timestamp spellings the official SDKs send as instants, for freshness checks only.
 * The bytes that are signed are never re-serialised: verification always uses the string as received.
 *
 * Spellings: ISO 8601 with `Z`, `+00:00`, `+0000` or no zone (read as UTC, flagged `timestamp_naive`),
 * up to 9 fraction digits, a space instead of `T` (Ruby `Time#to_s`: `2022-10-27 13:25:52 +0000`), and
 * epoch numbers or digit strings (below 1e11 seconds, above milliseconds).
 *
 * @internal
 * @module
 */
import type { FailureReason, FreshnessOptions } from './types.js'

/** An instant read from a timestamp. */
export interface ReadInstant {
  /** Epoch milliseconds, or `null` when the timestamp is not an instant this library can read. */
  ms: number | null
  /** The timestamp had no zone and was read as UTC. */
  naive: boolean
}

/** Default freshness window each way: 5 minutes, as in the standard-webhooks guidance. */
export const DEFAULT_MAX_AGE_MS = 300_000
/** Default tolerance for clocks ahead of ours. */
export const DEFAULT_MAX_FUTURE_MS = 300_000

/** Epoch numbers below this are seconds, above are milliseconds (1e11 s is the year 5138). */
const SECONDS_LIMIT = 1e11

/**
 * The furthest instant from the epoch a JavaScript `Date` can hold, either way: 8.64e15 ms (ECMA-262,
 * "Time Values and Time Range"). Beyond it `new Date(ms)` is an Invalid Date whose `getTime()` is NaN,
 * and NaN compares false with every window bound, so such a value must never count as an instant.
 */
export const MAX_INSTANT_MS = 8.64e15

/**
 * `true` when `ms` is an instant a `Date` can hold: finite and within ±{@link MAX_INSTANT_MS}. The one
 * test of "can this instant be established" that every freshness check goes through.
 */
export function isInstant(ms: number): boolean {
  return Number.isFinite(ms) && ms <= MAX_INSTANT_MS && ms >= -MAX_INSTANT_MS
}

/** An epoch-ms value as a {@link ReadInstant}: `ms` is `null` unless it is an instant a Date can hold. */
function instant(ms: number | null, naive: boolean): ReadInstant {
  return { ms: ms !== null && isInstant(ms) ? ms : null, naive }
}

const EPOCH = /^\d{1,16}(?:\.\d{1,9})?$/
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))? ?(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/

function fromEpoch(value: number): number | null {
  if (!Number.isFinite(value) || value < 0) return null
  return value < SECONDS_LIMIT ? Math.round(value * 1000) : Math.round(value)
}

const GREGORIAN_CYCLE_MS = 146_097 * 86_400_000

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/** The value of `count` decimal digits at `at`, or -1 when one is not a digit. */
function digits(text: string, at: number, count: number): number {
  let value = 0
  for (let i = at; i < at + count; i++) {
    const digit = text.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) return -1
    value = value * 10 + digit
  }
  return value
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ` without a regex; `null` when anything is off (the general parser decides). */
function readCanonicalIso(text: string): number | null {
  if (text[4] !== '-' || text[7] !== '-' || text[13] !== ':' || text[16] !== ':') return null
  const year = digits(text, 0, 4)
  const month = digits(text, 5, 2)
  const day = digits(text, 8, 2)
  const hour = digits(text, 11, 2)
  const minute = digits(text, 14, 2)
  const second = digits(text, 17, 2)
  const millis = digits(text, 20, 3)
  if (year < 100 || millis < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month))
    return null
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null
  return Date.UTC(year, month - 1, day, hour, minute, second, millis)
}

/**
 * Reads a timestamp as an instant without altering the original value. `ms` is `null` for anything that
 * is not an instant a `Date` can hold: free text, impossible dates, NaN, and epochs beyond ±8.64e15 ms
 * (nanosecond epochs sent as JSON numbers, `"9999999999999999"`, `1e300`).
 */
export function readInstant(timestamp: string | number): ReadInstant {
  if (typeof timestamp === 'number') return instant(fromEpoch(timestamp), false)
  // Fast path for the spelling most SDKs send, `new Date().toISOString()`: YYYY-MM-DDTHH:MM:SS.sssZ.
  if (timestamp.length === 24 && timestamp[10] === 'T' && timestamp[19] === '.' && timestamp[23] === 'Z') {
    const canonical = readCanonicalIso(timestamp)
    if (canonical !== null) return { ms: canonical, naive: false }
  }
  if (EPOCH.test(timestamp)) return instant(fromEpoch(Number(timestamp)), false)
  const m = ISO.exec(timestamp)
  if (!m) return { ms: null, naive: false }
  const [, y, mo, d, h, mi, s, fraction, zone] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s)
  const millis = fraction ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0
  // Out-of-range fields (Feb 30, 24:00) would roll over in Date.UTC: such a timestamp is not a real instant.
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return { ms: null, naive: false }
  }
  // Date.UTC maps years 0–99 to 1900–1999; compute those 400 years (one Gregorian cycle) later instead.
  let ms = Date.UTC(year < 100 ? year + 400 : year, month - 1, day, hour, minute, second, millis)
  if (year < 100) ms -= GREGORIAN_CYCLE_MS
  if (zone && zone !== 'Z' && zone !== 'z' && zone !== 'UTC') {
    const sign = zone[0] === '-' ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    const offsetHours = Number(digits.slice(0, 2))
    const offsetMinutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0
    if (offsetHours > 23 || offsetMinutes > 59) return { ms: null, naive: false }
    ms -= sign * (offsetHours * 60 + offsetMinutes) * 60_000
  }
  return instant(ms, zone === undefined)
}

/** The current time in epoch milliseconds from a `now` option. */
export function resolveNow(now: FreshnessOptions['now']): number {
  if (now === undefined) return Date.now()
  if (typeof now === 'function') return now()
  return typeof now === 'number' ? now : now.getTime()
}

/**
 * A freshness failure, or `null` when the instant is inside the window. Written as "not inside" rather
 * than "outside" so that a NaN anywhere (instant, clock or bound) fails instead of passing every test.
 */
export function checkWindow(
  instantMs: number,
  nowMs: number,
  maxAgeMs: number,
  maxFutureMs: number,
): Extract<FailureReason, 'timestamp_expired' | 'timestamp_in_future'> | null {
  if (!(nowMs - instantMs <= maxAgeMs)) return 'timestamp_expired'
  if (!(instantMs - nowMs <= maxFutureMs)) return 'timestamp_in_future'
  return null
}

/** The result of a freshness check. */
export type FreshnessCheck =
  | { ok: true }
  | {
      ok: false
      reason: 'timestamp_expired' | 'timestamp_in_future' | 'malformed_credentials'
      message: string
    }

const FRESH: FreshnessCheck = Object.freeze({ ok: true })

/**
 * Checks an instant (epoch ms, or `null` when the timestamp is not one) against a window: the one place
 * the freshness reasons and messages are decided, for the strategies and the verifier alike. An instant
 * that cannot be established (`null`, NaN such as an Invalid Date's `getTime()`, or beyond the Date
 * range) is never fresh: it fails as `malformed_credentials`.
 */
export function checkInstant(
  instantMs: number | null,
  nowMs: number,
  maxAgeMs: number,
  maxFutureMs: number,
): FreshnessCheck {
  if (instantMs === null || !isInstant(instantMs)) {
    return { ok: false, reason: 'malformed_credentials', message: 'timestamp cannot be read as an instant' }
  }
  const reason = checkWindow(instantMs, nowMs, maxAgeMs, maxFutureMs)
  if (reason === null) return FRESH
  return {
    ok: false,
    reason,
    message:
      reason === 'timestamp_expired'
        ? 'timestamp is older than the freshness window allows'
        : 'timestamp is further in the future than the freshness window allows',
  }
}

/** Checks an already-read instant against a freshness window given as options. */
export function checkFreshness(instant: ReadInstant, options: FreshnessOptions): FreshnessCheck {
  return checkInstant(
    instant.ms,
    resolveNow(options.now),
    options.maxAgeMs ?? DEFAULT_MAX_AGE_MS,
    options.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS,
  )
}
