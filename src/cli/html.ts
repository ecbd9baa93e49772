/**
 * The audit report as one self-contained HTML file, laid out in the order a person decides: the dated
 * verdict and its evidence, a coverage strip per instance (days with events, silent days, gaps), the
 * legacy share per partner as small multiples (one row of stacked day bars each, so that equal series
 * cannot hide each other), then the SDK table, the partners, refused and unverified counts. Inline CSS
 * and SVG only: no scripts, no external assets. Every text taken from the log is escaped.
 *
 * @internal
 * @module
 */
import type { UsageReport } from '../index.js'
import {
  evidenceLines,
  grouped,
  legacyShare,
  readyOnText,
  verdictHeadline,
  type DayCounts,
  type HtmlData,
} from './report.js'

/** What the HTML report says about its input, besides the report. */
export interface HtmlMeta {
  /** The logs read. */
  sources: readonly string[]
  /** `--since`, when given, as an ISO time. */
  since: string | null
}

const DAY_MS = 86_400_000
/** Partners drawn as small multiples; the rest are in the table. */
const MAX_MULTIPLES = 12
/** Days drawn in a strip; a longer span shows its latest days. */
const MAX_DAYS = 120
const COLOURS = {
  signature: '#9bb7d4',
  secKey: '#c62828',
  refused: '#ef8f00',
  events: '#43a047',
  silent: '#e3e3e3',
  gap: '#c62828',
}

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @example
 * ```ts
 * escapeHtml('<b>085</b>') // '&lt;b&gt;085&lt;/b&gt;'
 * ```
 */
function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  )
}

/**
 * Renders the whole report page.
 *
 * @example
 * ```ts
 * await writeFile('report.html', renderHtml(report, data, { sources: ['audit.jsonl'], since: null }))
 * ```
 */
export function renderHtml(report: UsageReport, data: HtmlData, meta: HtmlMeta): string {
  const { readiness } = report
  const head = verdictHeadline(report)
  const klass =
    readiness.verdict === 'ready' ? 'ready' : readiness.verdict === 'not_ready' ? 'blocked' : 'unsure'
  const blockers =
    readiness.blockers.length === 0
      ? ''
      : `<ul class="blockers">${readiness.blockers.map((b) => `<li>${escapeHtml(b)}</li>`).join('')}</ul>`
  const [first, ...rest] = evidenceLines(report)
  const scope = [
    `${meta.sources.length} log${meta.sources.length === 1 ? '' : 's'}: ${meta.sources.map(escapeHtml).join(', ')}`,
    meta.since === null ? null : `since ${escapeHtml(meta.since)}`,
    `generated ${escapeHtml(report.generatedAt)}`,
  ]
    .filter((part) => part !== null)
    .join(' · ')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Smile ID authentication: legacy switch-off report</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; color: #222; margin: 2rem auto; max-width: 62rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: 0.25rem; }
h2 { font-size: 1.1rem; margin: 2rem 0 0.5rem; }
.scope { color: #666; margin-top: 0; font-size: 0.9rem; }
.verdict { padding: 0.9rem 1.1rem; border-radius: 6px; border: 1px solid; }
.verdict .head { font-size: 1.25rem; margin: 0; }
.verdict p { margin: 0.3rem 0 0; }
.ready { background: #e8f5e9; border-color: #66bb6a; }
.blocked { background: #fdecea; border-color: #e57373; }
.unsure { background: #fff8e1; border-color: #ffb300; }
.blockers { margin: 0.2rem 0 0; padding-left: 1.2rem; }
.evidence { margin: 0.2rem 0 0; padding-left: 1.2rem; color: #333; }
.label { font-weight: 600; margin: 0.75rem 0 0 !important; font-size: 0.85rem; text-transform: uppercase; letter-spacing: 0.04em; color: #555; }
td.t { white-space: nowrap; }
table { border-collapse: collapse; width: 100%; margin-top: 0.5rem; }
.wide { overflow-x: auto; }
th, td { text-align: left; padding: 0.3rem 0.45rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { font-weight: 600; background: #fafafa; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; font-size: 0.9rem; margin: 0.25rem 0; }
.key span { display: inline-block; width: 0.8rem; height: 0.8rem; margin: 0 0.3rem 0 0.8rem; vertical-align: -0.1rem; }
svg { display: block; }
svg text { font: 12px system-ui, sans-serif; fill: #444; }
</style>
</head>
<body>
<h1>Legacy sec_key switch-off report</h1>
<p class="scope">${scope}</p>
<div class="verdict ${klass}">
<p class="head"><strong>${head.label}</strong>: ${escapeHtml(head.text)}.</p>
<p><strong>Ready on:</strong> ${escapeHtml(readyOnText(report))}.</p>
${blockers === '' ? '' : `<p class="label">Blockers</p>${blockers}`}
<p class="label">Evidence</p>
<ul class="evidence">
<li>${escapeHtml(first ?? '')}</li>
${rest.map((line) => `<li>${escapeHtml(line)}</li>`).join('\n')}
</ul>
</div>
<h2>Coverage per instance</h2>
<p class="note">One cell per UTC day, from the first authenticated event to the report.<span class="key"><span style="background:${COLOURS.events}"></span>events<span style="background:${COLOURS.silent}"></span>silent day<span style="background:${COLOURS.gap}"></span>dropped events (gap)</span></p>
${renderCoverage(report, data)}
<h2>Legacy share per partner</h2>
<p class="note">One row per partner, one bar per UTC day (full height = all authenticated requests that day).<span class="key"><span style="background:${COLOURS.secKey}"></span>sec_key accepted<span style="background:${COLOURS.refused}"></span>sec_key refused (authentic)<span style="background:${COLOURS.signature}"></span>signature</span></p>
${renderMultiples(report, data)}
<h2>SDKs still on legacy</h2>
${renderSdkTable(report)}
<h2>Partners</h2>
${renderPartnerTable(report)}
<h2>Unverified requests</h2>
${renderUnverified(report)}
</body>
</html>
`
}

/** The day range every strip shares: from the first event's day (at most MAX_DAYS back) to `now`'s day. */
function dayRange(report: UsageReport): { first: number; last: number } | null {
  if (report.evidence.firstEventAt === null) return null
  const last = Math.floor(Date.parse(report.generatedAt) / DAY_MS)
  const first = Math.max(Math.floor(Date.parse(report.evidence.firstEventAt) / DAY_MS), last - MAX_DAYS + 1)
  return first > last ? { first: last, last } : { first, last }
}

function dayLabel(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10)
}

/** A strip of day cells for each instance (or one for the whole log when no instance is named). */
function renderCoverage(report: UsageReport, data: HtmlData): string {
  const range = dayRange(report)
  if (range === null) return '<p class="note">No authenticated event: nothing to draw.</p>'
  const named = report.evidence.instances.map((i) => i.instance)
  const rows = named.length > 0 ? named : ['(all events)']
  const silent = new Set(report.evidence.silentDays)
  const gapDays = (instance: string | null) => {
    const days = new Set<number>()
    for (const gap of report.evidence.gaps) {
      if (instance !== null && gap.instance !== null && gap.instance !== instance) continue
      const from = Math.floor(Date.parse(gap.from) / DAY_MS)
      const to = Math.floor(Date.parse(gap.to) / DAY_MS)
      for (let d = Math.max(from, range.first); d <= Math.min(to, range.last); d++) days.add(d)
    }
    return days
  }
  const count = range.last - range.first + 1
  const labelW = 150
  const cell = Math.max(3, Math.min(14, Math.floor(780 / count)))
  const rowH = 18
  const width = labelW + count * cell + 10
  const height = rows.length * rowH + 24
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Days with audit events per instance">`,
  ]
  rows.forEach((name, index) => {
    const y = index * rowH
    const days = named.length > 0 ? data.instanceDays(name) : null
    const gaps = gapDays(named.length > 0 ? name : null)
    parts.push(
      `<text x="${labelW - 8}" y="${y + 12}" text-anchor="end">${escapeHtml(truncate(name, 22))}</text>`,
    )
    for (let d = range.first; d <= range.last; d++) {
      const label = dayLabel(d)
      const hasEvents = days === null ? !silent.has(label) && d < range.last : days.has(d)
      const today = d === range.last && (days === null || !days.has(d))
      const colour = gaps.has(d)
        ? COLOURS.gap
        : hasEvents
          ? COLOURS.events
          : today
            ? '#f5f5f5'
            : COLOURS.silent
      const state = gaps.has(d)
        ? 'dropped events'
        : hasEvents
          ? 'events'
          : today
            ? 'today, no event yet'
            : 'silent'
      parts.push(
        `<rect x="${labelW + (d - range.first) * cell}" y="${y + 2}" width="${cell - 1}" height="${rowH - 5}" fill="${colour}"><title>${escapeHtml(`${name}, ${label}: ${state}`)}</title></rect>`,
      )
    }
  })
  const axisY = rows.length * rowH + 14
  parts.push(`<text x="${labelW}" y="${axisY}">${dayLabel(range.first)}</text>`)
  parts.push(
    `<text x="${labelW + count * cell}" y="${axisY}" text-anchor="end">${dayLabel(range.last)}</text>`,
  )
  parts.push('</svg>')
  return parts.join('\n')
}

/** Small multiples: one row of stacked day bars per partner, partners with legacy use first. */
function renderMultiples(report: UsageReport, data: HtmlData): string {
  const range = dayRange(report)
  const partners = report.partners
    .filter((p) => p.byScheme.signature + p.byScheme.sec_key + p.legacyRefused > 0)
    .map((p) => ({ p, legacy: p.byScheme.sec_key + p.legacyRefused }))
    .sort((a, b) => b.legacy - a.legacy)
  if (range === null || partners.length === 0)
    return '<p class="note">No authenticated partner traffic: nothing to draw.</p>'
  const shown = partners
    .slice(0, MAX_MULTIPLES)
    .sort((a, b) => (b.legacy > 0 ? 1 : 0) - (a.legacy > 0 ? 1 : 0))
  const count = range.last - range.first + 1
  const labelW = 150
  const shareW = 100
  const cell = Math.max(3, Math.min(14, Math.floor(720 / count)))
  const rowH = 34
  const width = labelW + count * cell + shareW
  const height = shown.length * rowH + 20
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Legacy share per day, one row per partner">`,
  ]
  shown.forEach(({ p }, index) => {
    const top = index * rowH
    const barH = rowH - 8
    parts.push(
      `<text x="${labelW - 8}" y="${top + barH / 2 + 4}" text-anchor="end">partner ${escapeHtml(truncate(p.partnerId, 14))}</text>`,
    )
    parts.push(
      `<line x1="${labelW}" x2="${labelW + count * cell}" y1="${top + barH}" y2="${top + barH}" stroke="#bbb"/>`,
    )
    for (const [day, counts] of data.days(p.partnerId)) {
      if (day < range.first || day > range.last) continue
      const total = counts.signature + counts.sec_key + counts.refused
      if (total === 0) continue
      const x = labelW + (day - range.first) * cell
      let y = top + barH
      for (const [value, colour] of [
        [counts.sec_key, COLOURS.secKey],
        [counts.refused, COLOURS.refused],
        [counts.signature, COLOURS.signature],
      ] as Array<[number, string]>) {
        if (value === 0) continue
        const h = (value / total) * barH
        y -= h
        parts.push(
          `<rect x="${x}" y="${y.toFixed(1)}" width="${cell - 1}" height="${h.toFixed(1)}" fill="${colour}"/>`,
        )
      }
      parts.push(
        `<rect x="${x}" y="${top}" width="${cell - 1}" height="${barH}" fill="transparent"><title>${escapeHtml(dayTitle(p.partnerId, day, counts))}</title></rect>`,
      )
    }
    const share = legacyShare(p.byScheme.signature, p.byScheme.sec_key)
    parts.push(
      `<text x="${labelW + count * cell + 8}" y="${top + barH / 2 + 4}">${escapeHtml(share)} legacy</text>`,
    )
  })
  const axisY = shown.length * rowH + 12
  parts.push(`<text x="${labelW}" y="${axisY}">${dayLabel(range.first)}</text>`)
  parts.push(
    `<text x="${labelW + count * cell}" y="${axisY}" text-anchor="end">${dayLabel(range.last)}</text>`,
  )
  parts.push('</svg>')
  const more =
    partners.length > shown.length
      ? `<p class="note">${grouped(partners.length - shown.length)} more partner(s) in the table below.</p>`
      : ''
  return parts.join('\n') + more
}

function dayTitle(partnerId: string, day: number, c: DayCounts): string {
  return `partner ${partnerId}, ${dayLabel(day)}: ${grouped(c.sec_key)} sec_key accepted, ${grouped(c.refused)} sec_key refused, ${grouped(c.signature)} signature`
}

function renderSdkTable(report: UsageReport): string {
  const rows = report.partners.flatMap((p) =>
    p.legacySdks.map(
      (s) =>
        `<tr><td>${escapeHtml(p.partnerId)}</td><td>${escapeHtml(s.sdk)}</td><td>${escapeHtml(s.version)}</td><td class="n">${grouped(s.count)}</td><td class="t">${shortTime(p.lastLegacyAt)}</td></tr>`,
    ),
  )
  if (rows.length === 0) return '<p class="note">No authentic legacy request in these records.</p>'
  return `<table>
<thead><tr><th>partner</th><th>source_sdk</th><th>version</th><th class="n">legacy requests</th><th>partner's last legacy use</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`
}

function renderPartnerTable(report: UsageReport): string {
  if (report.partners.length === 0) return '<p class="note">No authenticated partner traffic.</p>'
  const rows = report.partners.map(
    (p) =>
      `<tr><td>${escapeHtml(p.partnerId)}</td><td class="n">${grouped(p.total)}</td><td class="n">${grouped(p.byScheme.signature)}</td><td class="n">${grouped(p.byScheme.sec_key)}</td><td class="n">${grouped(p.legacyRefused)}</td><td class="n">${grouped(p.brownoutRefused)}</td><td class="n">${grouped(p.rejected)}</td><td class="n">${legacyShare(p.byScheme.signature, p.byScheme.sec_key)}</td><td class="n">${grouped(p.legacyByDirection.incoming)}</td><td class="n">${grouped(p.legacyByDirection.outgoing)}</td><td class="t">${shortTime(p.lastLegacyAt)}</td></tr>`,
  )
  // Eleven columns: on a narrow window the table scrolls inside the page instead of widening it.
  return `<div class="wide"><table>
<thead><tr><th>partner</th><th class="n">total</th><th class="n">signature</th><th class="n">sec_key</th><th class="n">legacy refused</th><th class="n">in brownout</th><th class="n">rejected</th><th class="n">legacy share</th><th class="n">legacy incoming</th><th class="n">legacy outgoing</th><th>last legacy</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table></div>
<p class="note">Counts are authenticated requests only. "legacy refused": genuine sec_key requests refused by policy or a brownout — those clients break at switch-off. "legacy incoming": callbacks and responses verified here that still carry sec_key (fixed on the sender's side); "legacy outgoing": requests your app still signs with sec_key (through MigratingSigner or the outbound gateway).</p>`
}

function renderUnverified(report: UsageReport): string {
  const u = report.unverified
  if (u.events === 0)
    return '<p class="note">None: every request in these records carried a credential that verified.</p>'
  const rows = Object.entries(u.byReason)
    .sort(([, a], [, b]) => b - a)
    .map(([reason, count]) => `<tr><td>${escapeHtml(reason)}</td><td class="n">${grouped(count)}</td></tr>`)
  return `<p class="note">${grouped(u.events)} request(s) whose credential did not verify. They are counted here only: never a partner row, never evidence, never a blocker.</p>
<table>
<thead><tr><th>reason</th><th class="n">requests</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`
}

/** `2026-10-17 10:41 UTC`: an ISO time as a person reads it in a table. */
function shortTime(iso: string | null): string {
  if (iso === null) return '-'
  const ms = Date.parse(iso)
  return Number.isFinite(ms)
    ? `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`
    : escapeHtml(iso)
}

function truncate(text: string, size: number): string {
  return text.length <= size ? text : `${text.slice(0, size - 1)}…`
}
