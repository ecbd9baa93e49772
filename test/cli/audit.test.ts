import { createWriteStream, readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { summarizeAudit, type AuditEvent, type UsageReport } from '../../src/index.js'
import { expectUsageError, json, requireBuild, run, scratch } from './helpers.js'

const files = scratch()
beforeAll(requireBuild)
afterAll(() => files.remove())

const DAY = 86_400_000
/** The CLI reads the real clock: logs are generated relative to it, at noon UTC of each day. */
const TODAY_NOON = Math.floor(Date.now() / DAY) * DAY + DAY / 2
const ago = (days: number, minute = 0) => new Date(TODAY_NOON - days * DAY + minute * 60_000).toISOString()

function event(daysAgo: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    time: ago(daysAgo),
    direction: 'incoming',
    partnerId: '085',
    scheme: 'signature',
    outcome: 'accepted',
    reason: null,
    keyId: 'hmac:0123456789abcdef',
    transport: 'body',
    warnings: [],
    route: '/smile/callback',
    sourceIp: '127.0.0.1',
    source_sdk: null,
    source_sdk_version: null,
    authenticated: true,
    instance: null,
    ...overrides,
  }
}

/** Days `from`…1 ago, one signature event each for partners 085 and 2343. */
function cleanDays(from: number, overrides: Partial<AuditEvent> = {}): AuditEvent[] {
  return Array.from({ length: from }, (_, i) => [
    event(from - i, overrides),
    event(from - i, { partnerId: '2343', ...overrides }),
  ]).flat()
}

const legacy = (daysAgo: number, overrides: Partial<AuditEvent> = {}) =>
  event(daysAgo, {
    scheme: 'sec_key',
    keyId: 'rsa:abcdef',
    source_sdk: 'javascript',
    source_sdk_version: '1.3.0',
    ...overrides,
  })

const jsonl = (events: readonly unknown[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n'

/** 45 clean days, legacy 5 days ago from 085, forged traffic, and foreign lines. */
const MIXED: AuditEvent[] = [
  ...cleanDays(45),
  legacy(20),
  legacy(5),
  legacy(4, { outcome: 'rejected', reason: 'scheme_not_allowed', keyId: null, warnings: ['brownout'] }),
  event(3, { partnerId: 'forged', outcome: 'rejected', reason: 'invalid_signature', authenticated: false }),
]
const MIXED_LOG = [
  jsonl(MIXED.slice(0, 30)).trimEnd(),
  '',
  'this line is not JSON',
  '{"unrelated":"object"}',
  jsonl(MIXED.slice(30)),
].join('\n')

describe('audit: the verdict is the exit code', () => {
  it('--format json: the UsageReport of the library, verdict and evidence first; not ready → exit 1', async () => {
    const result = await run(['audit', files.file('mixed.jsonl', MIXED_LOG), '--format', 'json'])
    expect(result.code, result.stderr).toBe(1)
    const report = json<UsageReport>(result)
    expect(Object.keys(report).slice(0, 2)).toEqual(['readiness', 'evidence'])
    expect(report.readiness.verdict).toBe('not_ready')
    expect(report.partners.map((p) => p.partnerId)).toEqual(['085', '2343'])
    expect(report.partners[0]).toMatchObject({
      byScheme: { signature: 45, sec_key: 2 },
      legacyRefused: 1,
      brownoutRefused: 1,
      legacySdks: [{ sdk: 'javascript', version: '1.3.0', count: 3 }],
    })
    expect(report.unverified).toEqual({ events: 1, byReason: { invalid_signature: 1 } })
    const expected = await summarizeAudit(MIXED, { now: new Date(report.generatedAt) })
    expect(report).toEqual(expected)
    expect(result.stderr).toBe('audit: skipped 2 line(s) that are not audit records\n')
  })

  it('exit 0 when ready: 45 clean days', async () => {
    const result = await run(['audit', files.file('clean.jsonl', jsonl(cleanDays(45)))])
    expect(result.code, result.stdout).toBe(0)
    expect(result.stdout).toMatch(/^READY: no authentic legacy sec_key use for 30 days/)
  })

  it('exit 3 for insufficient evidence: an empty log, a file that is no audit log, --since in the future, a short span', async () => {
    const empty = await run(['audit', files.file('empty.jsonl', '')])
    expect(empty.code).toBe(3)
    expect(empty.stdout).toMatch(/^INSUFFICIENT EVIDENCE:/)
    expect(empty.stdout).toMatch(/^Ready on: unknown/m)
    const foreign = await run(['audit', files.file('package.json', readFileSync('package.json', 'utf8'))])
    expect(foreign.code).toBe(3)
    expect(foreign.stderr).toMatch(/skipped \d+ line/)
    const future = await run(['audit', files.file('c2.jsonl', jsonl(cleanDays(45))), '--since', '2099-01-01'])
    expect(future.code).toBe(3)
    const short = await run(['audit', files.file('short.jsonl', jsonl(cleanDays(10))), '--json'])
    expect(short.code).toBe(3)
    expect(json<UsageReport>(short).readiness.blockers[0]).toMatch(/^the evidence spans 10 day/)
  })

  it('--quiet-period moves the verdict: legacy 40 days ago is ready at 30d, not ready at 60d', async () => {
    const path = files.file('q.jsonl', jsonl([...cleanDays(70), legacy(40)]))
    expect((await run(['audit', path])).code).toBe(0)
    expect((await run(['audit', path, '--quiet-period', '30d'])).code).toBe(0)
    expect((await run(['audit', path, '--quiet-period', '60d'])).code).toBe(1)
    expect((await run(['audit', path, '--quiet-period', '60'])).code).toBe(1)
    const weeks = json<UsageReport>(await run(['audit', path, '--quiet-period', '9w', '--json']))
    expect(weeks.readiness.quietPeriodDays).toBe(63)
  })

  it('usage errors exit 2: no input, a missing file, bad --since, --quiet-period and --format', async () => {
    expectUsageError(await run(['audit']), /give at least one audit log/)
    expectUsageError(await run(['audit', `${files.dir}/missing.jsonl`]), /missing\.jsonl: no such file/)
    const path = files.file('x.jsonl', '')
    expectUsageError(await run(['audit', path, '--since', 'last tuesday']), /--since must be/)
    expectUsageError(await run(['audit', path, '--quiet-period', 'a month']), /--quiet-period must be/)
    expectUsageError(await run(['audit', path, '--quiet-period', '12h']), /--quiet-period must be/)
    expectUsageError(
      await run(['audit', path, '--quiet-period', '5000d']),
      /--quiet-period is at most 3650 days/,
    )
    expectUsageError(
      await run(['audit', path, '--format', 'pdf']),
      /--format must be one of table, text, json, html/,
    )
    expectUsageError(await run(['audit', path, '-', '-']), /stdin \(-\) can be read only once/)
  })
})

describe('audit: every format opens with the verdict, readyOn and the evidence', () => {
  it('table (and --format text, the same): verdict, Ready on, Evidence, blockers, then partners', async () => {
    const path = files.file('t.jsonl', MIXED_LOG)
    const table = await run(['audit', path])
    const text = await run(['audit', path, '--format', 'text'])
    const undated = (out: string) => out.replace(/covered up to [^)]+/, '')
    expect(undated(text.stdout)).toBe(undated(table.stdout))
    const lines = table.stdout.split('\n')
    expect(lines[0]).toMatch(/^NOT READY: authentic legacy sec_key use inside the 30-day quiet period$/)
    expect(lines[1]).toBe(
      `Ready on: ${new Date(Date.parse(ago(4)) + 30 * DAY).toISOString()}, if no legacy request, gap or silent instance comes before`,
    )
    expect(lines[2]).toMatch(/^Evidence: 93 authenticated event\(s\) from /)
    expect(table.stdout).toMatch(
      /^ {10}1 unverified request\(s\), not evidence and no partner row \(invalid_signature 1\)$/m,
    )
    expect(table.stdout).toMatch(
      /^Blockers:\n {2}- partner 085 still uses legacy sec_key: 3 authentic request\(s\) \(1 refused/m,
    )
    expect(table.stdout).toMatch(/^partner +total +signature +sec_key +refused +legacy share/m)
    expect(table.stdout).toMatch(/^085 +48 +45 +2 +1 +4\.3%/m)
    expect(table.stdout).toMatch(
      /^partner +total +signature +sec_key +refused +legacy share +legacy in\/out +last legacy +legacy SDKs$/m,
    )
    expect(table.stdout).toMatch(/^085 +48 +45 +2 +1 +4\.3% +3 \/ 0 +\S+ +javascript 1\.3\.0 \(3\)$/m)
    expect(table.stdout).toMatch(/^2343 +45 +45 +0 +0 +0% +- +- +-$/m)
  })

  it('--json is --format json', async () => {
    const path = files.file('j.jsonl', MIXED_LOG)
    const a = json<UsageReport>(await run(['audit', path, '--json']))
    const b = json<UsageReport>(await run(['audit', path, '--format', 'json']))
    expect({ ...a, generatedAt: null }).toEqual({ ...b, generatedAt: null })
  })

  it('html: one self-contained page, verdict and evidence before anything else, text from the log escaped', async () => {
    const hostile = legacy(2, { partnerId: '<img src=x onerror=alert(1)>', source_sdk: '"><script>' })
    const path = files.file('h.jsonl', MIXED_LOG + JSON.stringify(hostile) + '\n')
    const out = `${files.dir}/report.html`
    const result = await run(['audit', path, '--format', 'html', '--out', out])
    expect(result.code, result.stderr).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(
      /audit: wrote .*report\.html \(94 authenticated events, verdict not_ready\)/,
    )
    const html = readFileSync(out, 'utf8')
    expect(html).toMatch(/^<!doctype html>/)
    const body = html.slice(html.indexOf('<body>'))
    const order = [
      'NOT READY',
      'Ready on:',
      'authenticated event(s) from',
      'Coverage per instance',
      'Legacy share per partner',
      'SDKs still on legacy',
      'Partners',
      'Unverified requests',
    ]
    const positions = order.map((text) => body.indexOf(text))
    expect(positions.every((p) => p > 0)).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    expect(html.match(/<svg /g)?.length).toBe(2)
    // Self-contained and inert: no scripts, no external assets; text from the log is escaped.
    expect(html).not.toMatch(/<script|<link|<img|<[^>]+\s(?:src|href)=|url\(/i)
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(html).toContain('&quot;&gt;&lt;script&gt;')
  })

  it('html says READY for a clean log, with thousands separators and partners in numeric order', async () => {
    const many = [
      ...cleanDays(40),
      ...Array.from({ length: 1200 }, (_, i) => event(1 + (i % 30), { partnerId: '10', route: `/r${i}` })),
      event(1, { partnerId: '9' }),
    ]
    const result = await run(['audit', files.file('ready.jsonl', jsonl(many)), '--format', 'html'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('<strong>READY</strong>')
    expect(result.stdout).toContain('1,200')
    const table = result.stdout.slice(result.stdout.indexOf('<h2>Partners</h2>'))
    const order = ['<td>9</td>', '<td>10</td>', '<td>085</td>', '<td>2343</td>'].map((cell) =>
      table.indexOf(cell),
    )
    expect(order.every((p) => p > 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
  })
})

/** What the outbound gateway writes for one request it forwarded for an app (src/gateway/outbound.ts). */
const forwarded = (daysAgo: number, sent: 'sec_key' | 'signature' | 'none') => ({
  ...event(daysAgo, {
    direction: 'outgoing',
    scheme: sent === 'none' ? null : sent,
    keyId: null,
    route: '/v1/id_verification',
    source_sdk: 'php',
    source_sdk_version: '2.0.0',
    warnings: sent === 'signature' ? [] : ['resigned_as_signature'],
  }),
  sent,
  forwardedScheme: 'signature',
})

/** A line from before records had `direction` and `authenticated`: a verification, accepted. */
function oldLine(daysAgo: number, overrides: Partial<AuditEvent> = {}): Record<string, unknown> {
  const { direction: _direction, authenticated: _authenticated, ...line } = legacy(daysAgo, overrides)
  return line
}

/** 45 clean days; partner 085: 2 incoming legacy, 1 more in an old line, 3 outgoing through the gateway. */
const DIRECTIONS_LOG = jsonl([
  ...cleanDays(45),
  legacy(6),
  legacy(5, { outcome: 'rejected', reason: 'scheme_not_allowed', keyId: null }),
  oldLine(4),
  forwarded(3, 'sec_key'),
  forwarded(2, 'sec_key'),
  forwarded(2, 'signature'),
  forwarded(2, 'none'),
  forwarded(1, 'sec_key'),
])

describe('audit: legacy use per direction', () => {
  it('--json: legacyByDirection per partner; old lines without a direction count as incoming', async () => {
    const result = await run(['audit', files.file('directions.jsonl', DIRECTIONS_LOG), '--json'])
    expect(result.code, result.stderr).toBe(1)
    const report = json<UsageReport>(result)
    expect(report.readiness.verdict).toBe('not_ready')
    expect(report.partners.map((p) => [p.partnerId, p.legacyByDirection])).toEqual([
      ['085', { incoming: 3, outgoing: 3 }],
      ['2343', { incoming: 0, outgoing: 0 }],
    ])
    // Every legacy field counts both directions, as before.
    expect(report.partners[0]).toMatchObject({
      byScheme: { signature: 46, sec_key: 5 },
      legacyRefused: 1,
      lastLegacyAt: ago(1),
      legacySdks: [
        { sdk: 'javascript', version: '1.3.0', count: 3 },
        { sdk: 'php', version: '2.0.0', count: 3 },
      ],
    })
    expect(report.readiness.lastLegacyAt).toBe(ago(1))
    expect(report.readiness.blockers).toEqual([
      expect.stringMatching(
        /^partner 085 still uses legacy sec_key: 6 authentic request\(s\) \(1 refused by policy or brownout\), .*; 3 incoming, 3 outgoing \(your app still signs outgoing requests with sec_key, through MigratingSigner or the outbound gateway\)$/,
      ),
    ])
  })

  it('outgoing-only legacy use blocks as before, and the blocker says it comes from your app', async () => {
    const path = files.file('outgoing.jsonl', jsonl([...cleanDays(45), forwarded(3, 'sec_key')]))
    const result = await run(['audit', path, '--json'])
    expect(result.code).toBe(1)
    const report = json<UsageReport>(result)
    expect(report.partners[0]!.legacyByDirection).toEqual({ incoming: 0, outgoing: 1 })
    expect(report.readiness.blockers[0]).toContain('; 0 incoming, 1 outgoing (your app still signs outgoing')
    // Signature from the app, or no credential at all: forwarded signed, no legacy use.
    const clean = files.file(
      'outgoing-clean.jsonl',
      jsonl([...cleanDays(45), forwarded(3, 'signature'), forwarded(2, 'none')]),
    )
    expect((await run(['audit', clean])).code).toBe(0)
  })

  it('table: the legacy in/out column and its legend; blockers name the outgoing use', async () => {
    const result = await run(['audit', files.file('directions-table.jsonl', DIRECTIONS_LOG)])
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(
      /^ {2}- partner 085 still uses legacy sec_key: 6 authentic request\(s\) .*; 3 incoming, 3 outgoing \(your app still signs outgoing requests with sec_key, through MigratingSigner or the outbound gateway\)$/m,
    )
    expect(result.stdout).toMatch(
      /^085 +53 +46 +5 +1 +9\.8% +3 \/ 3 +\S+ +javascript 1\.3\.0 \(3\), php 2\.0\.0 \(3\)$/m,
    )
    expect(result.stdout).toMatch(/^2343 +45 +45 +0 +0 +0% +- +- +-$/m)
    expect(result.stdout).toMatch(
      /^legacy in\/out: incoming = callbacks and responses verified here; outgoing = requests your app sent \(MigratingSigner, outbound gateway\)$/m,
    )
    // Without legacy use, no legend.
    const clean = await run(['audit', files.file('directions-clean.jsonl', jsonl(cleanDays(45)))])
    expect(clean.code).toBe(0)
    expect(clean.stdout).not.toContain('legacy in/out:')
  })

  it('html: legacy incoming and outgoing columns in the partner table', async () => {
    const result = await run([
      'audit',
      files.file('directions-html.jsonl', DIRECTIONS_LOG),
      '--format',
      'html',
    ])
    expect(result.code).toBe(1)
    const partners = result.stdout.slice(result.stdout.indexOf('<h2>Partners</h2>'))
    expect(partners).toContain(
      '<th class="n">legacy share</th><th class="n">legacy incoming</th><th class="n">legacy outgoing</th><th>last legacy</th>',
    )
    expect(partners).toMatch(
      /<tr><td>085<\/td>(?:<td class="n">[^<]*<\/td>){7}<td class="n">3<\/td><td class="n">3<\/td><td class="t">/,
    )
    expect(partners).toMatch(
      /<tr><td>2343<\/td>(?:<td class="n">[^<]*<\/td>){7}<td class="n">0<\/td><td class="n">0<\/td><td class="t">-<\/td>/,
    )
    expect(partners).toContain('"legacy outgoing": requests your app still signs with sec_key')
  })
})

describe('audit: text from requests is inert in a terminal', () => {
  it('escape sequences in a partner id, SDK, instance and reason reach the table only as visible escapes', async () => {
    const evil = '085\u001b[2K\u001b[1A\rREADY\u202e'
    const events = [
      ...cleanDays(40),
      legacy(2, { partnerId: evil, source_sdk: 'js\u001b]0;owned\u0007', instance: 'web\u001b[31m-1' }),
      event(1, { instance: 'web\u001b[31m-1' }),
    ]
    const result = await run(['audit', files.file('evil.jsonl', jsonl(events))])
    expect(result.code).toBe(1)
    // Not a terminal: no colour codes either, so no ESC, BEL, CR or bidi override at all.
    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/)
    expect(result.stdout).toContain('085\\x1b[2K\\x1b[1A\\x0dREADY\\u202e')
    expect(result.stdout).toContain('js\\x1b]0;owned\\x07')
    expect(result.stdout).toContain('web\\x1b[31m-1')
    expect(result.stdout.split('\n')[0]).toMatch(/^NOT READY:/)
  })
})

describe('audit: memory stays bounded whatever the log holds', () => {
  it(
    '120 000 forged partner ids in a ~40 MB log summarise under --max-old-space-size=16',
    { timeout: 60_000 },
    async () => {
      const path = `${files.dir}/forged.jsonl`
      const stream = createWriteStream(path)
      const base = event(1, {
        outcome: 'rejected',
        reason: 'invalid_signature',
        keyId: null,
        authenticated: false,
      })
      const template = JSON.stringify({
        ...base,
        partnerId: 'PARTNER',
        route: `/smile/callback/${'x'.repeat(40)}`,
      })
      let bytes = 0
      for (let chunk = 0; chunk < 120; chunk++) {
        const lines: string[] = []
        for (let i = 0; i < 1000; i++)
          lines.push(template.replace('PARTNER', `forged-${chunk}-${i}-${'p'.repeat(12)}`))
        const text = lines.join('\n') + '\n'
        bytes += text.length
        if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()))
      }
      stream.write(jsonl(cleanDays(40)))
      await new Promise<void>((resolve) => stream.end(() => resolve()))
      expect(bytes).toBeGreaterThan(38 * 1024 * 1024)
      const result = await run(['audit', path, '--json', '--progress'], {
        nodeFlags: ['--max-old-space-size=16'],
      })
      expect(result.code, result.stderr.slice(0, 500)).toBe(0)
      const report = json<UsageReport>(result)
      expect(report.partners.map((p) => p.partnerId)).toEqual(['085', '2343'])
      expect(report.unverified.events).toBe(120_000)
      expect(result.stderr).toMatch(/^audit: read 120080 records from \d+\.\d MB in /m)
    },
  )
})
