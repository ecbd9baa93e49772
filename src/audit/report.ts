/**
 * Turning audit records into a {@link UsageReport}: who still uses the legacy scheme, from which SDKs,
 * routes and keys, what the records prove, and whether legacy can be switched off (and from when).
 *
 * @module
 */
import { ConfigurationError } from '../errors.js'
import { checkKnownKeys, describe } from '../option-checks.js'
import type { AuditEvent, AuditGapRecord } from './events.js'
import {
  EvidenceCollector,
  judgeReadiness,
  type Evidence,
  type LegacyUser,
  type Readiness,
} from './evidence.js'

/** A count of legacy requests by one value (an SDK, a route, a key). */
export interface LegacyCount {
  /** The value, or `unknown` when the records did not say. */
  value: string
  /** Authentic legacy requests with it. */
  count: number
}

/** Per-partner usage in a {@link UsageReport}. Only authenticated events make a partner row. */
export interface PartnerUsage {
  /** The partner id. */
  partnerId: string
  /** Every authenticated event of this partner. */
  total: number
  /** Requests accepted (including `would_reject`) per scheme, both directions. */
  byScheme: {
    /** Accepted with the signature scheme. */
    signature: number
    /** Accepted with the legacy sec_key scheme. */
    sec_key: number
  }
  /** Authenticated requests rejected anyway (policy, freshness, replay), whatever their scheme. */
  rejected: number
  /** Authentic sec_key requests refused by policy or brownout: the clients that break at switch-off. */
  legacyRefused: number
  /** Of `legacyRefused`, those refused during a brownout window. */
  brownoutRefused: number
  /** ISO time of the last authentic legacy request (accepted, would_reject or refused), or `null`. */
  lastLegacyAt: string | null
  /**
   * The same authentic legacy requests split by the way they travelled, so that each can be fixed where
   * it comes from: `incoming` are callbacks and responses this library verified (the partner's or Smile's
   * side still sends `sec_key`); `outgoing` are requests your side sent (a `MigratingSigner` still
   * choosing `sec_key`, or an app behind the outbound gateway that still signs with it). Records without
   * a `direction` (logs written before it existed) count as `incoming`. Both count as legacy use.
   */
  legacyByDirection: {
    /** Authentic legacy requests verified here. */
    incoming: number
    /** Authentic legacy requests signed or forwarded here. */
    outgoing: number
  }
  /** SDKs (the body's `source_sdk` / `source_sdk_version`) of the authentic legacy requests, most first. */
  legacySdks: Array<{
    /** `source_sdk`, or `unknown`. */
    sdk: string
    /** `source_sdk_version`, or `unknown`. */
    version: string
    /** Legacy requests from it. */
    count: number
  }>
  /** Routes of the authentic legacy requests, most first. */
  legacyRoutes: LegacyCount[]
  /** Key ids of the authentic legacy requests, most first. */
  legacyKeyIds: LegacyCount[]
}

/** What {@link summarizeAudit} and {@link LegacyUsageTracker.report} return. */
export interface UsageReport {
  /** ISO time the report was made (its `now`). */
  generatedAt: string
  /** One entry per authenticated partner, sorted by partner id (numerically where ids are digits). */
  partners: PartnerUsage[]
  /** Credentials that did not verify: counted here, never a partner row, never a blocker. */
  unverified: {
    /** Unverified events read. */
    events: number
    /** The same, per failure reason. */
    byReason: Record<string, number>
  }
  /** What the records prove: the span, its silent days, gaps and instances. */
  evidence: Evidence
  /** Whether legacy can be switched off, and from when. */
  readiness: Readiness
}

/** Options of {@link summarizeAudit}. */
export interface SummarizeOptions {
  /** Ignore records before this instant. */
  since?: Date
  /** The report's `generatedAt` and the end of the evidence span. Default now. */
  now?: Date
  /** Days without authentic legacy use (and without gaps) needed for `ready`. Default 30. */
  quietPeriodDays?: number
}

/** Ten years: a longer quiet period is a unit slip, and a verdict that could never be `ready`. */
const MAX_QUIET_DAYS = 3650

const SUMMARIZE_OPTION_KEYS = ['since', 'now', 'quietPeriodDays'] as const

/**
 * A `Date` option, checked. A date string or a number is refused with the `new Date(…)` to write: these
 * options are typed `Date`, and guessing a string's time zone would move the evidence window silently.
 *
 * @internal
 */
export function checkDateOption(value: unknown, what: string): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new ConfigurationError('invalid_options', `${what} must be a valid Date (got an invalid Date)`)
    }
    return value
  }
  const shown = describe(value, true)
  let hint = ''
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) {
    hint = `; pass new Date(${shown.startsWith('"') ? shown : 'the text'})`
  } else if (typeof value === 'number' && Number.isFinite(value)) {
    hint = `; for epoch milliseconds pass new Date(${String(value)})`
  }
  throw new ConfigurationError('invalid_options', `${what} must be a Date (got ${shown})${hint}`)
}

// Bounds: a log can hold anything, the summary stays small.
const MAX_PARTNERS = 10_000
const MAX_VALUES = 50
const MAX_REASONS = 64
const OTHER_PARTNERS = '(other partners)'
const OTHER = '(other)'
const NO_PARTNER = '(none)'

interface PartnerCounts {
  total: number
  signature: number
  secKey: number
  rejected: number
  legacy: number
  legacyOutgoing: number
  refused: number
  brownout: number
  lastLegacyMs: number
  sdks: Map<string, number> | null
  routes: Map<string, number> | null
  keyIds: Map<string, number> | null
}

/**
 * Incremental counters behind {@link summarizeAudit} and {@link LegacyUsageTracker}. Memory is bounded:
 * unverified events never create a row, and every table has a cap.
 *
 * @internal
 */
export class AuditSummary {
  readonly #partners = new Map<string, PartnerCounts>()
  readonly #evidence = new EvidenceCollector()
  readonly #byReason = new Map<string, number>()
  #unverified = 0
  readonly #sinceMs: number
  readonly #quietPeriodDays: number

  readonly #owner: string

  constructor(
    options: { since?: Date | undefined; quietPeriodDays?: number | undefined } = {},
    owner = 'summarizeAudit',
  ) {
    this.#owner = owner
    const since: unknown = options.since
    this.#sinceMs = since === undefined ? -Infinity : checkDateOption(since, `${owner}: since`).getTime()
    const quiet: unknown = options.quietPeriodDays ?? 30
    if (!(typeof quiet === 'number' && quiet >= 0 && quiet <= MAX_QUIET_DAYS)) {
      const hint =
        typeof quiet === 'string'
          ? '; pass a number, not a string'
          : typeof quiet === 'number' && quiet > MAX_QUIET_DAYS && Number.isFinite(quiet)
            ? '; the value is in days, not milliseconds or seconds'
            : ''
      throw new ConfigurationError(
        'invalid_options',
        `${owner}: quietPeriodDays must be a number of days from 0 to ${MAX_QUIET_DAYS} (default 30) (got ${describe(quiet)})${hint}`,
      )
    }
    this.#quietPeriodDays = quiet
  }

  /** Counts one audit event or gap record; anything else is ignored. */
  add(record: AuditEvent | AuditGapRecord): void {
    if (typeof record !== 'object' || record === null) return
    if ((record as Partial<AuditGapRecord>).kind === 'gap') {
      this.#addGap(record as AuditGapRecord)
      return
    }
    const event = record as AuditEvent
    const timeMs = typeof event.time === 'string' ? Date.parse(event.time) : NaN
    if (!(timeMs >= this.#sinceMs)) return
    if (event.authenticated !== true) {
      this.#unverified++
      const reason = typeof event.reason === 'string' ? event.reason : 'unknown'
      const seen = this.#byReason.get(reason)
      if (seen !== undefined) this.#byReason.set(reason, seen + 1)
      else if (this.#byReason.size < MAX_REASONS) this.#byReason.set(reason, 1)
      else this.#byReason.set(OTHER, (this.#byReason.get(OTHER) ?? 0) + 1)
      return
    }
    this.#evidence.addEvent(timeMs, event.instance)
    const id = typeof event.partnerId === 'string' ? event.partnerId : NO_PARTNER
    let counts = this.#partners.get(id)
    if (counts === undefined) {
      const key = this.#partners.size < MAX_PARTNERS ? id : OTHER_PARTNERS
      counts = this.#partners.get(key)
      if (counts === undefined) this.#partners.set(key, (counts = newCounts()))
    }
    counts.total++
    const secKey = event.scheme === 'sec_key'
    if (event.outcome === 'rejected') {
      counts.rejected++
      // A genuine legacy client refused by policy breaks at switch-off just the same. Replays and stale
      // timestamps are not counted: a captured credential replayed by anyone would move the verdict.
      if (!secKey || event.reason !== 'scheme_not_allowed') return
      counts.refused++
      if (Array.isArray(event.warnings) && event.warnings.includes('brownout')) counts.brownout++
    } else if (secKey) counts.secKey++
    else {
      if (event.scheme === 'signature') counts.signature++
      return
    }
    counts.legacy++
    // Only an explicit `outgoing` is outgoing: records from before the field existed were verifications.
    if (event.direction === 'outgoing') counts.legacyOutgoing++
    if (timeMs > counts.lastLegacyMs) counts.lastLegacyMs = timeMs
    const sdk = `${text(event.source_sdk)} ${text(event.source_sdk_version)}`
    counts.sdks = bump(counts.sdks, sdk)
    counts.routes = bump(counts.routes, text(event.route))
    counts.keyIds = bump(counts.keyIds, text(event.keyId))
  }

  #addGap(gap: AuditGapRecord): void {
    const fromMs = typeof gap.from === 'string' ? Date.parse(gap.from) : NaN
    const toMs = typeof gap.to === 'string' ? Date.parse(gap.to) : NaN
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs < this.#sinceMs) return
    const dropped =
      typeof gap.dropped === 'number' && gap.dropped >= 0 && Number.isFinite(gap.dropped) ? gap.dropped : 0
    const instance = typeof gap.instance === 'string' ? gap.instance : null
    this.#evidence.addGap(Math.min(fromMs, toMs), Math.max(fromMs, toMs), dropped, instance)
  }

  /** The report for everything added so far, as of `now`. */
  report(now: Date = new Date()): UsageReport {
    const nowMs = checkDateOption(now, `${this.#owner}: now`).getTime()
    const partners: PartnerUsage[] = []
    const legacyUsers: LegacyUser[] = []
    for (const [partnerId, c] of [...this.#partners].sort(([a], [b]) => comparePartnerIds(a, b))) {
      const legacySdks = ranked(c.sdks).map(({ value, count }) => {
        const space = value.indexOf(' ')
        return { sdk: value.slice(0, space), version: value.slice(space + 1), count }
      })
      partners.push({
        partnerId,
        total: c.total,
        byScheme: { signature: c.signature, sec_key: c.secKey },
        rejected: c.rejected,
        legacyRefused: c.refused,
        brownoutRefused: c.brownout,
        lastLegacyAt: c.legacy > 0 ? new Date(c.lastLegacyMs).toISOString() : null,
        legacyByDirection: { incoming: c.legacy - c.legacyOutgoing, outgoing: c.legacyOutgoing },
        legacySdks,
        legacyRoutes: ranked(c.routes),
        legacyKeyIds: ranked(c.keyIds),
      })
      if (c.legacy > 0) {
        legacyUsers.push({
          partnerId,
          count: c.legacy,
          outgoing: c.legacyOutgoing,
          refused: c.refused,
          lastMs: c.lastLegacyMs,
          sdks: legacySdks.map((s) => `${s.sdk} ${s.version} (${s.count})`).join(', '),
        })
      }
    }
    const byReason: Record<string, number> = {}
    for (const [reason, count] of [...this.#byReason].sort(([a], [b]) => (a < b ? -1 : 1)))
      byReason[reason] = count
    return {
      generatedAt: now.toISOString(),
      partners,
      unverified: { events: this.#unverified, byReason },
      evidence: this.#evidence.evidence(nowMs),
      readiness: judgeReadiness(this.#evidence, legacyUsers, nowMs, this.#quietPeriodDays),
    }
  }
}

function newCounts(): PartnerCounts {
  return {
    total: 0,
    signature: 0,
    secKey: 0,
    rejected: 0,
    legacy: 0,
    legacyOutgoing: 0,
    refused: 0,
    brownout: 0,
    lastLegacyMs: -Infinity,
    sdks: null,
    routes: null,
    keyIds: null,
  }
}

function text(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : 'unknown'
}

function bump(map: Map<string, number> | null, value: string): Map<string, number> {
  const counts = map ?? new Map<string, number>()
  const seen = counts.get(value)
  if (seen !== undefined) counts.set(value, seen + 1)
  else if (counts.size < MAX_VALUES) counts.set(value, 1)
  else counts.set(OTHER, (counts.get(OTHER) ?? 0) + 1)
  return counts
}

function ranked(map: Map<string, number> | null): LegacyCount[] {
  if (map === null) return []
  return [...map]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
}

/**
 * Orders partner ids as people read them: all-digit ids by number (`"9"` before `"10"`), then the rest
 * by code point.
 *
 * @internal
 */
function comparePartnerIds(a: string, b: string): number {
  const da = /^\d+$/.test(a)
  const db = /^\d+$/.test(b)
  if (da && db) {
    const na = a.replace(/^0+(?=\d)/, '')
    const nb = b.replace(/^0+(?=\d)/, '')
    if (na.length !== nb.length) return na.length - nb.length
    if (na !== nb) return na < nb ? -1 : 1
  } else if (da !== db) return da ? -1 : 1
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Summarises audit records (an array, any iterable, or an async iterable such as a parsed JSONL stream)
 * into a {@link UsageReport} with a dated verdict: `ready` only when authenticated events span at least
 * the quiet period with no authentic legacy use and no gap inside it.
 *
 * @example
 * ```ts
 * const records: AuditEvent[] = []
 * const verifier = new DualModeVerifier({ partnerId: '085', signature, secKey, audit: (e) => records.push(e) })
 * // … traffic …
 * const report = await summarizeAudit(records, { quietPeriodDays: 30 })
 * if (report.readiness.verdict === 'ready') console.log('legacy can be switched off')
 * else console.log(report.readiness.verdict, report.readiness.readyOn, report.readiness.blockers)
 * ```
 */
export async function summarizeAudit(
  records: Iterable<AuditEvent | AuditGapRecord> | AsyncIterable<AuditEvent | AuditGapRecord>,
  options: SummarizeOptions = {},
): Promise<UsageReport> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigurationError(
      'invalid_options',
      `summarizeAudit: options must be an object { since?, now?, quietPeriodDays? } (got ${describe(options)})`,
    )
  }
  checkKnownKeys(options, SUMMARIZE_OPTION_KEYS, 'summarizeAudit')
  if (options.now !== undefined) checkDateOption(options.now, 'summarizeAudit: now')
  const summary = new AuditSummary(options)
  // An array or other sync iterable is read without a microtask per record.
  if (Symbol.iterator in records) for (const record of records) summary.add(record)
  else for await (const record of records) summary.add(record)
  return summary.report(options.now)
}
