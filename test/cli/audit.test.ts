import { createWriteStream, readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { summarizeAudit, type AuditEvent, type UsageReport } from '../../src/index.js'
import { expectUsageError, json, requireBuild, run, scratch } from './helpers.js'

const files = scratch()
beforeAll(requireBuild)
afterAll(() => files.remove())

function event(
  time: string,
  partnerId: string | null,
  scheme: AuditEvent['scheme'],
  outcome: AuditEvent['outcome'],
  sdk?: string,
): AuditEvent {
  return {
    time,
    direction: 'incoming',
    partnerId,
    scheme,
    outcome,
    reason:
      outcome === 'rejected' ? 'invalid_signature' : outcome === 'would_reject' ? 'timestamp_expired' : null,
    keyId: outcome === 'rejected' ? null : 'hmac:0123456789abcdef',
    transport: 'body',
    warnings: [],
    route: '/smile/callback',
    sourceIp: '127.0.0.1',
    source_sdk: sdk ?? null,
    source_sdk_version: sdk === undefined ? null : '1.3.0',
    authenticated: outcome !== 'rejected',
    instance: null,
  }
}

/** A known mix over three days: 085 still sends some legacy, 2343 is on signature only. */
const EVENTS: AuditEvent[] = [
  ...Array.from({ length: 6 }, (_, i) =>
    event(`2025-03-0${1 + (i % 3)}T10:00:0${i}.000Z`, '085', 'signature', 'accepted'),
  ),
  ...Array.from({ length: 3 }, (_, i) =>
    event(`2025-03-0${1 + i}T11:00:00.000Z`, '085', 'sec_key', 'accepted', 'javascript'),
  ),
  event('2025-03-03T12:00:00.000Z', '085', 'sec_key', 'would_reject', 'javascript'),
  event('2025-03-02T12:00:00.000Z', '085', 'signature', 'rejected'),
  event('2025-03-02T12:00:01.000Z', '085', null, 'rejected'),
  ...Array.from({ length: 4 }, (_, i) =>
    event(`2025-03-0${1 + (i % 3)}T09:00:00.000Z`, '2343', 'signature', 'accepted'),
  ),
]
const LOG = [
  ...EVENTS.slice(0, 8).map((e) => JSON.stringify(e)),
  '',
  'this line is not JSON',
  '{"unrelated":"object"}',
  ...EVENTS.slice(8).map((e) => JSON.stringify(e)),
].join('\n')

describe('audit', () => {
  it('--format json prints the UsageReport with the counts of the log, skipping foreign lines', async () => {
    const path = files.file('audit.jsonl', LOG + '\n')
    const result = await run(['audit', path, '--format', 'json'])
    expect(result.code, result.stderr).toBe(0)
    const report = json<UsageReport>(result)
    expect(report.partners).toEqual([
      {
        partnerId: '085',
        total: 12,
        byScheme: { signature: 6, sec_key: 4 },
        rejected: 2,
        lastLegacyAt: '2025-03-03T12:00:00.000Z',
        legacySdks: [{ sdk: 'javascript', version: '1.3.0', count: 4 }],
      },
      {
        partnerId: '2343',
        total: 4,
        byScheme: { signature: 4, sec_key: 0 },
        rejected: 0,
        lastLegacyAt: null,
        legacySdks: [],
      },
    ])
    expect(report.readiness.legacyFree).toBe(false)
    expect(report.readiness.blockers).toHaveLength(1)
    expect(report.readiness.blockers[0]).toMatch(/^partner 085:/)
    // The same as the library's own summary of these events.
    const expected = await summarizeAudit(EVENTS)
    expect({ ...report, generatedAt: null }).toEqual({ ...expected, generatedAt: null })
    expect(result.stderr).toBe('audit: skipped 2 line(s) that are not audit events\n')
  })

  it('reads several files and stdin (-) as one log', async () => {
    const first = files.file(
      'a.jsonl',
      EVENTS.slice(0, 5)
        .map((e) => JSON.stringify(e))
        .join('\n'),
    )
    const rest =
      EVENTS.slice(5)
        .map((e) => JSON.stringify(e))
        .join('\r\n') + '\r\n'
    const result = await run(['audit', first, '-', '--format', 'json'], { input: rest })
    expect(result.code, result.stderr).toBe(0)
    expect(json<UsageReport>(result).partners.map((p) => p.total)).toEqual([12, 4])
  })

  it('--since keeps only recent events (an ISO date, or a duration back from now)', async () => {
    const path = files.file('since.jsonl', LOG)
    const report = json<UsageReport>(await run(['audit', path, '--format', 'json', '--since', '2025-03-03']))
    expect(report.partners.map((p) => [p.partnerId, p.total])).toEqual([
      ['085', 4],
      ['2343', 1],
    ])
    const now = Date.now()
    const recent = [
      event(new Date(now - 40 * 86_400_000).toISOString(), '085', 'sec_key', 'accepted'),
      event(new Date(now - 86_400_000).toISOString(), '085', 'signature', 'accepted'),
    ]
    const relative = files.file('relative.jsonl', recent.map((e) => JSON.stringify(e)).join('\n'))
    const last30 = json<UsageReport>(await run(['audit', relative, '--format', 'json', '--since', '30d']))
    expect(last30.partners[0]?.byScheme).toEqual({ signature: 1, sec_key: 0 })
    expect(last30.readiness.legacyFree).toBe(true)
  })

  it('prints a table with the readiness verdict by default', async () => {
    const result = await run(['audit', files.file('table.jsonl', LOG)])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^partner +total +signature +sec_key +rejected +legacy share/)
    expect(result.stdout).toMatch(/^085 +12 +6 +4 +2 +40%/m)
    expect(result.stdout).toMatch(/^Not ready: the legacy sec_key scheme is still in use/m)
  })

  it('--format html --out writes one self-contained page with an inline <svg> chart and the verdict', async () => {
    const hostile = event(
      '2025-03-01T08:00:00.000Z',
      '<img src=x onerror=alert(1)>',
      'sec_key',
      'accepted',
      '"><script>',
    )
    const path = files.file('html.jsonl', LOG + '\n' + JSON.stringify(hostile))
    const out = `${files.dir}/report.html`
    const result = await run(['audit', path, '--format', 'html', '--out', out])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/audit: wrote .*report\.html \(17 events\)/)
    const html = readFileSync(out, 'utf8')
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).toMatch(/<svg [^>]*viewBox=/)
    expect(html).toContain('</svg>')
    expect(html.match(/<polyline /g)?.length).toBeGreaterThanOrEqual(2)
    expect(html).toContain('Not ready.')
    // Self-contained and inert: no scripts, no external assets; text from the log is escaped.
    expect(html).not.toMatch(/<script|<link|<img|<[^>]+\s(?:src|href)=|url\(/i)
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;')
  })

  it('says "Ready" in the HTML when no legacy request was accepted', async () => {
    const path = files.file(
      'ready.jsonl',
      EVENTS.filter((e) => e.scheme !== 'sec_key')
        .map((e) => JSON.stringify(e))
        .join('\n'),
    )
    const result = await run(['audit', path, '--format', 'html'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Ready to switch legacy off.')
    expect(result.stdout).toContain('<svg')
  })

  it('streams: a 32 MB log is summarised by a process whose heap is capped at 16 MB, with --progress on stderr', async () => {
    const path = `${files.dir}/big.jsonl`
    const line =
      JSON.stringify(event('2025-03-01T10:00:00.000Z', '085', 'signature', 'accepted', 'javascript')) + '\n'
    const stream = createWriteStream(path)
    const chunk = line.repeat(1000)
    for (let i = 0; i < 100; i++)
      if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()))
    await new Promise<void>((resolve) => stream.end(() => resolve()))
    const result = await run(['audit', path, '--format', 'json', '--progress'], {
      nodeFlags: ['--max-old-space-size=16'],
    })
    expect(result.code, result.stderr.slice(0, 500)).toBe(0)
    expect(json<UsageReport>(result).partners[0]).toMatchObject({ partnerId: '085', total: 100_000 })
    expect(result.stderr).toMatch(/^audit: read 100000 events from \d+\.\d MB in /m)
  })

  it('usage errors exit 2: no file, a missing file, a bad --since', async () => {
    expectUsageError(await run(['audit']), /give at least one audit log/)
    expectUsageError(await run(['audit', `${files.dir}/missing.jsonl`]), /missing\.jsonl: no such file/)
    expectUsageError(
      await run(['audit', files.file('x.jsonl', ''), '--since', 'last tuesday']),
      /--since must be/,
    )
  })
})
