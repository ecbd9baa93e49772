/**
 * The usage report as terminal text (used by `audit` and `demo`): the dated verdict and its evidence
 * first, then the partners. Also the per-day and per-instance data that only the HTML page draws, kept
 * apart so that a table or JSON run never pays for it.
 *
 * @internal
 * @module
 */
import type { AuditEvent, AuditGapRecord, PartnerUsage, UsageReport } from '../index.js'
import type { Output } from './context.js'
import { paint, table } from './style.js'
import { terminalSafe } from './terminal-text.js'

const DAY_MS = 86_400_000

/** Accepted requests of one partner on one UTC day, per scheme, and authentic legacy refusals. */
export interface DayCounts {
  signature: number
  sec_key: number
  refused: number
}

// Bounds: the page draws at most this many partners and instances, the rest are counted.
const MAX_PARTNERS = 1000
const MAX_INSTANCES = 200

/**
 * What the HTML page draws beyond the report: per partner and UTC day, authenticated requests per scheme;
 * per instance, the days it wrote events. Memory grows with partners × days, never with events.
 *
 * @example
 * ```ts
 * const data = new HtmlData(null)
 * for (const record of records) data.add(record)
 * data.days('085') // [[20148, { signature: 10, sec_key: 2, refused: 0 }], …]
 * ```
 */
export class HtmlData {
  readonly #partners = new Map<string, Map<number, DayCounts>>()
  readonly #instances = new Map<string, Set<number>>()
  readonly #sinceMs: number

  constructor(sinceMs: number | null) {
    this.#sinceMs = sinceMs ?? -Infinity
  }

  /** Counts one record (gap records are read from the report itself). */
  add(record: AuditEvent | AuditGapRecord): void {
    if ((record as Partial<AuditGapRecord>).kind === 'gap') return
    const event = record as AuditEvent
    if (event.authenticated !== true) return
    const ms = Date.parse(event.time)
    if (!(ms >= this.#sinceMs)) return
    const day = Math.floor(ms / DAY_MS)
    if (typeof event.instance === 'string') {
      let days = this.#instances.get(event.instance)
      if (days === undefined && this.#instances.size < MAX_INSTANCES)
        this.#instances.set(event.instance, (days = new Set()))
      days?.add(day)
    }
    if (event.scheme !== 'signature' && event.scheme !== 'sec_key') return
    const refused = event.outcome === 'rejected'
    if (refused && !(event.scheme === 'sec_key' && event.reason === 'scheme_not_allowed')) return
    const id = typeof event.partnerId === 'string' ? event.partnerId : '(none)'
    let days = this.#partners.get(id)
    if (days === undefined) {
      if (this.#partners.size >= MAX_PARTNERS) return
      this.#partners.set(id, (days = new Map()))
    }
    let counts = days.get(day)
    if (counts === undefined) days.set(day, (counts = { signature: 0, sec_key: 0, refused: 0 }))
    if (refused) counts.refused++
    else counts[event.scheme]++
  }

  /** The days (epoch day numbers) of one partner, in order. */
  days(partnerId: string): Array<[number, DayCounts]> {
    return [...(this.#partners.get(partnerId) ?? new Map<number, DayCounts>())].sort(([a], [b]) => a - b)
  }

  /** The days (epoch day numbers) an instance wrote events on. */
  instanceDays(instance: string): ReadonlySet<number> {
    return this.#instances.get(instance) ?? new Set()
  }
}

/**
 * Groups digits by thousands: `12345` → `12,345`.
 *
 * @example
 * ```ts
 * grouped(1234567) // '1,234,567'
 * ```
 */
export function grouped(n: number): string {
  const text = String(n)
  return /^\d{4,}$/.test(text) ? text.replace(/\B(?=(\d{3})+$)/g, ',') : text
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
 * A partner's authentic legacy requests as `incoming / outgoing`, or `-` when it has none. Incoming use is
 * fixed on the sender's side; outgoing use is the team's own app still signing with sec_key.
 *
 * @example
 * ```ts
 * legacyDirections({ legacyByDirection: { incoming: 12, outgoing: 3 } }) // '12 / 3'
 * ```
 */
export function legacyDirections(partner: Pick<PartnerUsage, 'legacyByDirection'>): string {
  const { incoming, outgoing } = partner.legacyByDirection
  return incoming + outgoing === 0 ? '-' : `${grouped(incoming)} / ${grouped(outgoing)}`
}

/**
 * The verdict as one headline: what to do, in words.
 *
 * @example
 * ```ts
 * verdictHeadline(report) // 'NOT READY: authentic legacy sec_key use inside the 30-day quiet period'
 * ```
 */
export function verdictHeadline(report: UsageReport): {
  tone: 'green' | 'red' | 'yellow'
  label: string
  text: string
} {
  const days = report.readiness.quietPeriodDays
  switch (report.readiness.verdict) {
    case 'ready':
      return {
        tone: 'green',
        label: 'READY',
        text: `no authentic legacy sec_key use for ${days} days or more: legacy can be switched off`,
      }
    case 'not_ready':
      return {
        tone: 'red',
        label: 'NOT READY',
        text: `authentic legacy sec_key use inside the ${days}-day quiet period`,
      }
    default:
      return {
        tone: 'yellow',
        label: 'INSUFFICIENT EVIDENCE',
        text: `these records cannot show ${days} quiet days: do not switch legacy off on them`,
      }
  }
}

/**
 * When the verdict turns ready, in words.
 *
 * @example
 * ```ts
 * readyOnText(report) // 'ready on 2026-04-30T10:00:00.000Z if no legacy request or gap comes before'
 * ```
 */
export function readyOnText(report: UsageReport): string {
  const { readyOn, verdict } = report.readiness
  if (readyOn === null) return 'unknown: no authenticated event dates it yet'
  if (verdict === 'ready') return `ready since ${readyOn}`
  if (Date.parse(readyOn) <= Date.parse(report.generatedAt))
    return `${readyOn}, once the blockers below are resolved`
  return `${readyOn}, if no legacy request, gap or silent instance comes before`
}

/**
 * The evidence lines shared by every format: span, silent days, drops, instances, unverified.
 *
 * @example
 * ```ts
 * evidenceLines(report) // ['12,345 authenticated events from … to … (45 days covered)', …]
 * ```
 */
export function evidenceLines(report: UsageReport): string[] {
  const e = report.evidence
  const lines: string[] = []
  lines.push(
    e.events === 0
      ? 'no authenticated event'
      : `${grouped(e.events)} authenticated event(s) from ${e.firstEventAt} to ${e.lastEventAt} (${grouped(e.daysCovered)} day(s) covered up to ${report.generatedAt})`,
  )
  if (e.silentDays.length > 0) {
    const shown = e.silentDays.slice(-5).join(', ')
    lines.push(
      `${grouped(e.silentDays.length)} silent day(s) with no event (listed, not decisive): ${e.silentDays.length > 5 ? '…, ' : ''}${shown}`,
    )
  } else if (e.events > 0) lines.push('no silent day')
  lines.push(
    e.dropped === 0 && e.gaps.length === 0
      ? 'no dropped events'
      : `${grouped(e.dropped)} event(s) dropped by the audit sinks in ${grouped(e.gaps.length)} gap(s): missing evidence`,
  )
  lines.push(`${grouped(e.instances.length)} named instance(s)`)
  const u = report.unverified
  const reasons = Object.entries(u.byReason)
    .sort(([, a], [, b]) => b - a)
    .map(([reason, count]) => `${reason} ${grouped(count)}`)
    .join(', ')
  lines.push(
    u.events === 0
      ? 'no unverified request'
      : `${grouped(u.events)} unverified request(s), not evidence and no partner row (${reasons})`,
  )
  return lines
}

/**
 * The report as text: the verdict, readyOn and evidence first, then blockers, instances and partners.
 * Every value that came from a request passes through {@link terminalSafe}.
 *
 * @example
 * ```ts
 * context.stdout.write(renderReportTable(await summarizeAudit(events), context.stdout))
 * ```
 */
export function renderReportTable(report: UsageReport, out: Output): string {
  const head = verdictHeadline(report)
  const parts: string[] = []
  parts.push(`${paint(out, head.tone, `${head.label}:`)} ${head.text}\n`)
  parts.push(`Ready on: ${readyOnText(report)}\n`)
  const evidence = evidenceLines(report)
  parts.push(`Evidence: ${terminalSafe(evidence[0]!)}\n`)
  for (const line of evidence.slice(1)) parts.push(`          ${terminalSafe(line)}\n`)
  if (report.readiness.blockers.length > 0) {
    parts.push('Blockers:\n')
    for (const blocker of report.readiness.blockers) parts.push(`  - ${terminalSafe(blocker)}\n`)
  }
  if (report.evidence.instances.length > 0) {
    parts.push('\n')
    parts.push(
      table(
        ['instance', 'events', 'first event', 'last event'],
        report.evidence.instances.map((i) => [
          terminalSafe(i.instance),
          grouped(i.events),
          i.firstEventAt,
          i.lastEventAt,
        ]),
        ['events'],
      ),
    )
  }
  parts.push('\n')
  if (report.partners.length === 0) parts.push('No authenticated partner traffic.\n')
  else {
    const headers = [
      'partner',
      'total',
      'signature',
      'sec_key',
      'refused',
      'legacy share',
      'legacy in/out',
      'last legacy',
      'legacy SDKs',
    ]
    const rows = report.partners.map((partner) => [
      terminalSafe(partner.partnerId),
      grouped(partner.total),
      grouped(partner.byScheme.signature),
      grouped(partner.byScheme.sec_key),
      grouped(partner.legacyRefused),
      legacyShare(partner.byScheme.signature, partner.byScheme.sec_key),
      legacyDirections(partner),
      partner.lastLegacyAt ?? '-',
      terminalSafe(
        partner.legacySdks.map((sdk) => `${sdk.sdk} ${sdk.version} (${grouped(sdk.count)})`).join(', '),
      ) || '-',
    ])
    parts.push(
      table(headers, rows, ['total', 'signature', 'sec_key', 'refused', 'legacy share', 'legacy in/out']),
    )
    if (report.partners.some((p) => p.legacyByDirection.incoming + p.legacyByDirection.outgoing > 0)) {
      parts.push(
        'legacy in/out: incoming = callbacks and responses verified here; outgoing = requests your app sent (MigratingSigner, outbound gateway)\n',
      )
    }
  }
  return parts.join('')
}
