/**
 * Turning audit events into a {@link UsageReport}: who still uses the legacy scheme, from which SDK
 * versions, and whether legacy can be switched off.
 *
 * @module
 */
import type { AuditEvent } from './events.js'

/** Per-partner usage in a {@link UsageReport}. */
export interface PartnerUsage {
  /** The partner id (`"(none)"` for requests that named none). */
  partnerId: string
  /** Every event of this partner. */
  total: number
  /** Requests accepted (including `would_reject`) per scheme, both directions. */
  byScheme: {
    /** Accepted with the signature scheme. */
    signature: number
    /** Accepted with the legacy sec_key scheme. */
    sec_key: number
  }
  /** Every rejection, whatever its scheme. */
  rejected: number
  /** ISO time of the last accepted legacy request, or `null`. */
  lastLegacyAt: string | null
  /** SDKs (from the body's `source_sdk` / `source_sdk_version`) still authenticating with legacy. */
  legacySdks: Array<{
    /** `source_sdk`, or `unknown`. */
    sdk: string
    /** `source_sdk_version`, or `unknown`. */
    version: string
    /** Legacy requests from it. */
    count: number
  }>
}

/** What {@link summarizeAudit} and {@link LegacyUsageTracker.report} return. */
export interface UsageReport {
  /** ISO time the report was made. */
  generatedAt: string
  /** One entry per partner, sorted by partner id. */
  partners: PartnerUsage[]
  /** Whether legacy can be switched off, judged from these events. */
  readiness: {
    /** `true` when no request in these events was accepted with the legacy scheme. */
    legacyFree: boolean
    /** ISO time of the last accepted legacy request across partners, or `null`. */
    lastLegacyAt: string | null
    /** One line per partner still using legacy. Empty when `legacyFree`. */
    blockers: string[]
  }
}

/** Options of {@link summarizeAudit}. */
export interface SummarizeOptions {
  /** Ignore events before this instant. */
  since?: Date
  /** The report's `generatedAt`. Default now. */
  now?: Date
}

interface PartnerCounts {
  total: number
  signature: number
  secKey: number
  rejected: number
  lastLegacyMs: number
  sdks: Map<string, { sdk: string; version: string; count: number }>
}

const NO_PARTNER = '(none)'

/**
 * Incremental counters behind {@link summarizeAudit} and {@link LegacyUsageTracker}.
 *
 * @internal
 */
export class UsageAggregator {
  readonly #partners = new Map<string, PartnerCounts>()
  readonly #sinceMs: number

  constructor(since?: Date) {
    this.#sinceMs = since ? since.getTime() : -Infinity
  }

  /** Counts one event; malformed events are ignored. */
  add(event: AuditEvent): void {
    const timeMs = Date.parse(event.time)
    if (!(timeMs >= this.#sinceMs)) return
    const id = event.partnerId ?? NO_PARTNER
    let counts = this.#partners.get(id)
    if (counts === undefined) {
      counts = { total: 0, signature: 0, secKey: 0, rejected: 0, lastLegacyMs: -Infinity, sdks: new Map() }
      this.#partners.set(id, counts)
    }
    counts.total++
    if (event.outcome === 'rejected') {
      counts.rejected++
      return
    }
    if (event.scheme === 'signature') counts.signature++
    else if (event.scheme === 'sec_key') {
      counts.secKey++
      if (timeMs > counts.lastLegacyMs) counts.lastLegacyMs = timeMs
      const sdk = event.source_sdk ?? 'unknown'
      const version = event.source_sdk_version ?? 'unknown'
      const key = `${sdk}\u0000${version}`
      const entry = counts.sdks.get(key)
      if (entry) entry.count++
      else counts.sdks.set(key, { sdk, version, count: 1 })
    }
  }

  /** The report for everything added so far. */
  report(now: Date = new Date()): UsageReport {
    const partners: PartnerUsage[] = []
    const blockers: string[] = []
    let lastLegacyMs = -Infinity
    for (const [partnerId, c] of [...this.#partners].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const lastLegacyAt = c.secKey > 0 ? new Date(c.lastLegacyMs).toISOString() : null
      const legacySdks = [...c.sdks.values()].sort((a, b) => b.count - a.count)
      partners.push({
        partnerId,
        total: c.total,
        byScheme: { signature: c.signature, sec_key: c.secKey },
        rejected: c.rejected,
        lastLegacyAt,
        legacySdks,
      })
      if (c.secKey > 0) {
        lastLegacyMs = Math.max(lastLegacyMs, c.lastLegacyMs)
        const sdks = legacySdks.map((s) => `${s.sdk} ${s.version} (${s.count})`).join(', ')
        blockers.push(
          `partner ${partnerId}: ${c.secKey} legacy sec_key request(s), last at ${lastLegacyAt}; SDKs: ${sdks}`,
        )
      }
    }
    return {
      generatedAt: now.toISOString(),
      partners,
      readiness: {
        legacyFree: blockers.length === 0,
        lastLegacyAt: Number.isFinite(lastLegacyMs) ? new Date(lastLegacyMs).toISOString() : null,
        blockers,
      },
    }
  }
}

/**
 * Summarises audit events (an array, any iterable, or an async iterable such as a parsed JSONL stream)
 * into a {@link UsageReport}.
 *
 * @example
 * ```ts
 * const tracker: AuditEvent[] = []
 * const verifier = new DualModeVerifier({ partnerId: '085', signature, secKey, audit: (e) => tracker.push(e) })
 * // … traffic …
 * const report = await summarizeAudit(tracker)
 * if (report.readiness.legacyFree) console.log('legacy can be switched off')
 * else console.log(report.readiness.blockers.join('\n'))
 * ```
 */
export async function summarizeAudit(
  events: Iterable<AuditEvent> | AsyncIterable<AuditEvent>,
  options: SummarizeOptions = {},
): Promise<UsageReport> {
  const aggregator = new UsageAggregator(options.since)
  // An array or other sync iterable is read without a microtask per event.
  if (Symbol.iterator in events) for (const event of events) aggregator.add(event)
  else for await (const event of events) aggregator.add(event)
  return aggregator.report(options.now)
}
