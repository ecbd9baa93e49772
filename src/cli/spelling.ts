/**
 * Naming a timestamp's spelling for people, and listing the other spellings of the same instant that a
 * sender may have signed before the value was re-serialised on its way. Used by `inspect` only: the
 * library never re-spells a timestamp it verifies.
 *
 * @internal
 * @module
 */

/** What `inspect` can tell about a timestamp. */
export interface Spelling {
  /** A short description, e.g. `ISO 8601, 3 fraction digits, zone Z`. */
  description: string
  /** The instant in epoch milliseconds, or `null` when it is not readable as one. */
  ms: number | null
  /** The value says it is UTC (`Z`, `+00:00`, `+0000`, `UTC`). */
  utc: boolean
  /** The value has no zone at all. */
  naive: boolean
  /** The spelling Smile ID documents for signatures: `yyyy-MM-dd'T'HH:mm:ss.fffK`. */
  documented: boolean
  /** The fraction-of-second digits as written, or `''`. */
  fraction: string
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})([T ])(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?( ?)(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/
const EPOCH = /^\d{1,16}(?:\.\d{1,9})?$/
/** Epoch numbers below this are seconds, above are milliseconds, as the library reads them. */
const SECONDS_LIMIT = 1e11

function epochMs(value: number): number | null {
  if (!Number.isFinite(value) || value < 0) return null
  return value < SECONDS_LIMIT ? Math.round(value * 1000) : Math.round(value)
}

/**
 * Describes a timestamp as received (a JSON number or a string).
 *
 * @example
 * ```ts
 * describeTimestamp('2023-11-14 22:13:20 +0000').description // 'Ruby Time#to_s (YYYY-MM-DD HH:MM:SS +0000)'
 * ```
 */
export function describeTimestamp(value: string | number): Spelling {
  const none = { utc: true, naive: false, documented: false, fraction: '' }
  if (typeof value === 'number' || EPOCH.test(value)) {
    const number = typeof value === 'number' ? value : Number(value)
    const unit = number < SECONDS_LIMIT ? 'seconds' : 'milliseconds'
    const form = typeof value === 'number' ? 'a JSON number' : 'a string of digits'
    return { ...none, description: `epoch ${unit}, as ${form}`, ms: epochMs(number) }
  }
  const m = ISO.exec(value)
  if (!m) return { ...none, utc: false, description: 'not a timestamp spelling this tool can read', ms: null }
  const [, y, mo, d, separator, h, mi, s, fraction = '', space, zone] = m
  const parts = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number]
  let ms = Date.UTC(
    parts[0],
    parts[1] - 1,
    parts[2],
    parts[3],
    parts[4],
    parts[5],
    Number(fraction.slice(0, 3).padEnd(3, '0')),
  )
  const check = new Date(ms)
  const real =
    check.getUTCFullYear() === parts[0] &&
    check.getUTCMonth() === parts[1] - 1 &&
    check.getUTCDate() === parts[2] &&
    check.getUTCHours() === parts[3] &&
    check.getUTCMinutes() === parts[4] &&
    check.getUTCSeconds() === parts[5]
  let offsetText = 'no zone'
  let utc = false
  if (zone !== undefined) {
    if (zone === 'Z' || zone === 'z' || zone === 'UTC') {
      utc = true
      offsetText = `zone ${zone}`
    } else {
      const sign = zone[0] === '-' ? -1 : 1
      const digits = zone.slice(1).replace(':', '')
      const minutes = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2, 4)) : 0)
      ms -= sign * minutes * 60_000
      utc = minutes === 0
      offsetText = `offset ${zone}`
    }
  }
  const ruby = separator === ' ' && space === ' ' && zone === '+0000' && fraction === ''
  const fractionText =
    fraction === '' ? 'no fraction' : `${fraction.length} fraction digit${fraction.length === 1 ? '' : 's'}`
  const description = ruby
    ? 'Ruby Time#to_s (YYYY-MM-DD HH:MM:SS +0000)'
    : `ISO 8601${separator === ' ' ? ' with a space' : ''}, ${fractionText}, ${offsetText}`
  return {
    description,
    ms: real ? ms : null,
    utc,
    naive: zone === undefined,
    documented: separator === 'T' && fraction.length === 3 && zone !== undefined && space === '',
    fraction,
  }
}

const pad = (n: number, size = 2) => String(n).padStart(size, '0')

/** `YYYY-MM-DDTHH:MM:SS` of an instant in UTC. */
function wallClock(ms: number, separator = 'T'): string {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}${separator}${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/**
 * Other spellings of the same instant that SDKs and serialisers produce: ISO with and without
 * milliseconds or microseconds, `Z` / `+00:00` / `+0000` / no zone, Ruby's `Time#to_s`, epoch seconds
 * and milliseconds. The original spelling is left out.
 *
 * @example
 * ```ts
 * respellings('2023-11-14T22:13:20.000Z', 1_700_000_000_000, '000') // ['2023-11-14T22:13:20Z', …, '1700000000']
 * ```
 */
export function respellings(original: string | number, ms: number, fraction: string): string[] {
  const base = wallClock(ms)
  const millis = pad(new Date(ms).getUTCMilliseconds(), 3)
  const fractions = new Set(['', `.${millis}`, `.${millis}000`])
  if (fraction !== '') fractions.add(`.${fraction}`)
  const out = new Set<string>()
  for (const f of fractions) for (const zone of ['Z', '+00:00', '+0000', '']) out.add(`${base}${f}${zone}`)
  out.add(`${wallClock(ms, ' ')} +0000`)
  out.add(`${wallClock(ms, ' ')}`)
  out.add(String(ms))
  out.add(String(Math.floor(ms / 1000)))
  if (ms % 1000 !== 0) out.add(String(ms / 1000))
  out.delete(String(original))
  return [...out]
}

/** UTC offsets in use around the world, in minutes: whole hours and the common half and quarter hours. */
const OFFSETS = [
  ...Array.from({ length: 27 }, (_, i) => (i - 12) * 60).filter((minutes) => minutes !== 0),
  -210,
  210,
  270,
  330,
  345,
  390,
  570,
  630,
]

/**
 * The instant's wall-clock time in each UTC offset, marked `Z` (and without a zone): what a sender
 * signs when it formats local time as if it were UTC.
 *
 * @example
 * ```ts
 * localTimeSpellings(1_700_000_000_000).find((s) => s.offsetMinutes === 60)?.text // '2023-11-14T23:13:20.000Z'
 * ```
 */
export function localTimeSpellings(ms: number): Array<{ text: string; offsetMinutes: number }> {
  const out: Array<{ text: string; offsetMinutes: number }> = []
  for (const offsetMinutes of OFFSETS) {
    const local = ms + offsetMinutes * 60_000
    const iso = new Date(local).toISOString()
    out.push(
      { text: iso, offsetMinutes },
      { text: iso.slice(0, -1), offsetMinutes },
      { text: `${iso.slice(0, 19)}Z`, offsetMinutes },
    )
  }
  return out
}

/**
 * When a UTC-marked instant is ahead of (or, with a known receive time, away from) the reference by a
 * whole UTC offset, the offset in minutes; else `null`. A tolerance of 2 minutes covers transit time.
 *
 * @example
 * ```ts
 * offsetFromLocalTime(now + 3_600_000, now, false) // 60
 * ```
 */
export function offsetFromLocalTime(
  instantMs: number,
  referenceMs: number,
  bothDirections: boolean,
): number | null {
  const diffMinutes = (instantMs - referenceMs) / 60_000
  if (!bothDirections && diffMinutes < 0) return null
  for (const offset of OFFSETS) {
    if (Math.abs(diffMinutes - offset) <= 2) return offset
  }
  return null
}

/**
 * `UTC+1`, `UTC-3:30`.
 *
 * @example
 * ```ts
 * formatOffset(-210) // 'UTC-3:30'
 * ```
 */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `UTC${sign}${Math.floor(abs / 60)}${abs % 60 === 0 ? '' : `:${pad(abs % 60)}`}`
}
