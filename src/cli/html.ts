/**
 * The audit report as one self-contained HTML file: inline CSS, an inline `<svg>` chart of the legacy
 * share per day per partner, the partner table and the readiness verdict. No scripts, no external assets.
 * Every text taken from the log (partner ids, SDK names) is escaped: audit logs record what requests claimed.
 *
 * @internal
 * @module
 */
import type { UsageReport } from '../index.js'
import { legacyShare, type DailyShare } from './report.js'

/** What the HTML report says about its input, besides the report. */
export interface HtmlMeta {
  /** The log files read. */
  sources: readonly string[]
  /** Events counted. */
  events: number
  /** `--since`, when given, as an ISO time. */
  since: string | null
}

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#17becf',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
]
const MAX_SERIES = PALETTE.length

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @example
 * ```ts
 * escapeHtml('<b>085</b>') // '&lt;b&gt;085&lt;/b&gt;'
 * ```
 */
export function escapeHtml(text: string): string {
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
 * await writeFile('report.html', renderHtml(report, daily, { sources: ['audit.jsonl'], events: 1200, since: null }))
 * ```
 */
export function renderHtml(report: UsageReport, daily: DailyShare, meta: HtmlMeta): string {
  const { readiness } = report
  const verdict = readiness.legacyFree
    ? `<p class="verdict ready"><strong>Ready to switch legacy off.</strong> No request in these events was accepted with the legacy sec_key scheme.</p>`
    : `<div class="verdict blocked"><p><strong>Not ready.</strong> The legacy sec_key scheme is still in use (last at ${escapeHtml(readiness.lastLegacyAt ?? 'unknown')}).</p><ul>${readiness.blockers.map((b) => `<li>${escapeHtml(b)}</li>`).join('')}</ul></div>`
  const rows = report.partners
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.partnerId)}</td><td class="n">${p.total}</td><td class="n">${p.byScheme.signature}</td><td class="n">${p.byScheme.sec_key}</td><td class="n">${p.rejected}</td><td class="n">${legacyShare(p.byScheme.signature, p.byScheme.sec_key)}</td><td>${escapeHtml(p.lastLegacyAt ?? '-')}</td><td>${escapeHtml(p.legacySdks.map((s) => `${s.sdk} ${s.version} (${s.count})`).join(', ') || '-')}</td></tr>`,
    )
    .join('\n')
  const scope = [
    `${meta.events} event${meta.events === 1 ? '' : 's'} from ${meta.sources.map(escapeHtml).join(', ')}`,
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
<title>Smile ID authentication: legacy usage report</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; color: #222; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: 0.25rem; }
.scope { color: #666; margin-top: 0; }
.verdict { padding: 0.75rem 1rem; border-radius: 6px; }
.verdict p { margin: 0; }
.ready { background: #e8f5e9; border: 1px solid #66bb6a; }
.blocked { background: #fdecea; border: 1px solid #e57373; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
th, td { text-align: left; padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5rem 0; }
figcaption { color: #666; font-size: 0.9rem; }
svg text { font: 12px system-ui, sans-serif; fill: #444; }
</style>
</head>
<body>
<h1>Legacy sec_key usage</h1>
<p class="scope">${scope}</p>
${verdict}
<figure>
${renderChart(daily)}
<figcaption>Share of accepted requests that used the legacy sec_key scheme, per UTC day and partner.</figcaption>
</figure>
<table>
<thead><tr><th>partner</th><th>total</th><th>signature</th><th>sec_key</th><th>rejected</th><th>legacy share</th><th>last legacy</th><th>legacy SDKs</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`
}

const DAY_MS = 86_400_000

/**
 * An inline SVG line chart: x = day, y = legacy share (0–100 %), one line per partner.
 *
 * @example
 * ```ts
 * const svg = renderChart(daily) // '<svg xmlns="http://www.w3.org/2000/svg" …'
 * ```
 */
export function renderChart(daily: DailyShare): string {
  const width = 760
  const height = 300
  const left = 48
  const right = 150
  const top = 16
  const bottom = 40
  const plotW = width - left - right
  const plotH = height - top - bottom
  const partners = daily
    .partners()
    .map((id) => ({ id, days: daily.days(id) }))
    .sort((a, b) => legacyTotal(b.days) - legacyTotal(a.days) || (a.id < b.id ? -1 : 1))
  const shown = partners.slice(0, MAX_SERIES)
  const allDays = shown.flatMap((p) => p.days.map(([day]) => Date.parse(day)))
  const open = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Legacy share per day per partner">`
  if (allDays.length === 0) {
    return `${open}<text x="${width / 2}" y="${height / 2}" text-anchor="middle">No accepted requests in these events.</text></svg>`
  }
  const first = Math.min(...allDays)
  const last = Math.max(...allDays)
  const span = Math.max(last - first, DAY_MS)
  const x = (ms: number) => (last === first ? left + plotW / 2 : left + ((ms - first) / span) * plotW)
  const y = (share: number) => top + plotH - share * plotH

  const parts: string[] = [open]
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const ty = y(tick).toFixed(1)
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${ty}" y2="${ty}" stroke="#e5e5e5"/>`)
    parts.push(
      `<text x="${left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${tick * 100}%</text>`,
    )
  }
  const labels = last === first ? [first] : [first, first + (last - first) / 2, last]
  for (const ms of labels) {
    const day = new Date(Math.round(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10)
    parts.push(`<text x="${x(ms).toFixed(1)}" y="${height - bottom + 18}" text-anchor="middle">${day}</text>`)
  }
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#999"/>`)
  parts.push(
    `<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#999"/>`,
  )

  shown.forEach((partner, index) => {
    const colour = PALETTE[index % PALETTE.length]
    const points = partner.days.map(([day, counts]) => {
      const share = counts.sec_key / (counts.sec_key + counts.signature)
      return { px: x(Date.parse(day)), py: y(share), day, counts, share }
    })
    if (points.length > 1) {
      const path = points.map((p) => `${p.px.toFixed(1)},${p.py.toFixed(1)}`).join(' ')
      parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${path}"/>`)
    }
    for (const p of points) {
      const label = `partner ${partner.id}, ${p.day}: ${Math.round(p.share * 100)}% legacy (${p.counts.sec_key} sec_key, ${p.counts.signature} signature)`
      parts.push(
        `<circle cx="${p.px.toFixed(1)}" cy="${p.py.toFixed(1)}" r="3" fill="${colour}"><title>${escapeHtml(label)}</title></circle>`,
      )
    }
    const ly = top + 8 + index * 18
    parts.push(`<rect x="${left + plotW + 16}" y="${ly - 5}" width="10" height="10" fill="${colour}"/>`)
    parts.push(
      `<text x="${left + plotW + 32}" y="${ly}" dominant-baseline="middle">${escapeHtml(truncate(partner.id, 16))}</text>`,
    )
  })
  if (partners.length > shown.length) {
    const ly = top + 8 + shown.length * 18
    parts.push(
      `<text x="${left + plotW + 16}" y="${ly}" dominant-baseline="middle">+${partners.length - shown.length} more</text>`,
    )
  }
  parts.push('</svg>')
  return parts.join('\n')
}

function legacyTotal(days: ReadonlyArray<[string, { sec_key: number }]>): number {
  return days.reduce((sum, [, counts]) => sum + counts.sec_key, 0)
}

function truncate(text: string, size: number): string {
  return text.length <= size ? text : `${text.slice(0, size - 1)}…`
}
