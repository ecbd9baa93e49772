/**
 * The pieces every option check shares, so that each module's configuration errors read alike: a value
 * described without ever echoing something that could be a key, and unknown option names refused with a
 * "did you mean". It sits beside `errors.ts` and imports nothing else, so the verifier, the schemes, the
 * stores, the sinks, the signer and the adapters can all use it without importing one another.
 *
 * @internal
 * @module
 */
import { ConfigurationError } from './errors.js'

/** Short plain words are safe to echo; anything else could be a key pasted into the wrong place. */
export const WORDS = /^[A-Za-z][A-Za-z _-]{0,23}$/
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
export function closest(name: string, known: readonly string[]): string | undefined {
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
  throw new ConfigurationError(
    'invalid_options',
    `unknown option${unknown.length > 1 ? 's' : ''}${where}: ${named.join(', ')}; known: ${known.join(', ')}`,
  )
}
