/**
 * The usage report as a terminal table (used by `audit` and `demo`), and the per-day legacy share that
 * the HTML chart draws.
 *
 * @internal
 * @module
 */
import type { AuditEvent, UsageReport } from '../index.js'
import type { Output } from './context.js'
import { paint, table } from './style.js'

/** Accepted requests of one partner on one UTC day, per scheme. */
export interface DayCounts {
  signature: number
  sec_key: number
}

/**
 * Per-partner, per-day counts of accepted requests (including `would_reject`), the same events that
 * `UsageReport.byScheme` counts. Memory grows with partners × days, never with events.
 *
 * @example
 * ```ts
 * const daily = new DailyShare()
 * for (const event of events) daily.add(event)
 * daily.days('085') // [['2025-03-01', { signature: 10, sec_key: 2 }], …]
 * ```
 */
export class DailyShare {
  readonly #partners = new Map<string, Map<string, DayCounts>>()

  /** Counts one event. */
  add(event: AuditEvent): void {
    if (event.outcome === 'rejected' || (event.scheme !== 'signature' && event.scheme !== 'sec_key')) return
    const ms = Date.parse(event.time)
    if (!Number.isFinite(ms)) return
    const day = new Date(ms).toISOString().slice(0, 10)
    const id = event.partnerId ?? '(none)'
    let days = this.#partners.get(id)
    if (days === undefined) this.#partners.set(id, (days = new Map()))
    let counts = days.get(day)
    if (counts === undefined) days.set(day, (counts = { signature: 0, sec_key: 0 }))
    counts[event.scheme]++
  }

  /** Partner ids with at least one accepted request. */
  partners(): string[] {
    return [...this.#partners.keys()].sort()
  }

  /** The days of one partner, in order. */
  days(partnerId: string): Array<[string, DayCounts]> {
    return [...(this.#partners.get(partnerId) ?? new Map<string, DayCounts>())].sort(([a], [b]) =>
      a < b ? -1 : 1,
    )
  }
}

/**
 * The legacy share of accepted requests, as a percentage string.
 *
 * @example
 * ```ts
 * legacyShare(6, 4) // '40%'
 * ```
 */
export function legacyShare(signature: number, secKey: number): string {
  const total = signature + secKey
  if (total === 0) return '-'
  const share = (secKey / total) * 100
  return `${share < 10 && share > 0 ? share.toFixed(1) : Math.round(share)}%`
}

/**
 * The report as an aligned table with the readiness verdict under it.
 *
 * @example
 * ```ts
 * context.stdout.write(renderReportTable(await summarizeAudit(events), context.stdout))
 * ```
 */
export function renderReportTable(report: UsageReport, out: Output): string {
  const headers = [
    'partner',
    'total',
    'signature',
    'sec_key',
    'rejected',
    'legacy share',
    'last legacy',
    'legacy SDKs',
  ]
  const rows = report.partners.map((partner) => [
    partner.partnerId,
    String(partner.total),
    String(partner.byScheme.signature),
    String(partner.byScheme.sec_key),
    String(partner.rejected),
    legacyShare(partner.byScheme.signature, partner.byScheme.sec_key),
    partner.lastLegacyAt ?? '-',
    partner.legacySdks.map((sdk) => `${sdk.sdk} ${sdk.version} (${sdk.count})`).join(', ') || '-',
  ])
  const body =
    rows.length === 0
      ? 'No audit events.\n'
      : table(headers, rows, ['total', 'signature', 'sec_key', 'rejected', 'legacy share'])
  return `${body}\n${renderReadiness(report, out)}`
}

/**
 * One verdict line, and the blockers when legacy is still in use.
 *
 * @example
 * ```ts
 * context.stdout.write(renderReadiness(report, context.stdout)) // 'Ready: …' or 'Not ready: …'
 * ```
 */
export function renderReadiness(report: UsageReport, out: Output): string {
  const { readiness } = report
  if (readiness.legacyFree) {
    return `${paint(out, 'green', 'Ready:')} no request in these events was accepted with the legacy sec_key scheme.\n`
  }
  return (
    `${paint(out, 'red', 'Not ready:')} the legacy sec_key scheme is still in use (last at ${readiness.lastLegacyAt ?? 'unknown'}).\n` +
    readiness.blockers.map((blocker) => `  - ${blocker}\n`).join('')
  )
}
