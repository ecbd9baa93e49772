/**
 * The migration verdict with an injected clock: never greener than its evidence. Each case builds the
 * records of a scenario and checks verdict, readyOn, blockers and the evidence block.
 */
import { describe, expect, it } from 'vitest'

import {
  LegacyUsageTracker,
  summarizeAudit,
  type AuditEvent,
  type AuditGapRecord,
  type UsageReport,
} from '../../src/index.js'
import { expectConfigurationError } from '../support/assertions.js'

const DAY = 86_400_000
/** The report's clock: noon UTC, so "N days ago" never straddles midnight by accident. */
const NOW = Date.parse('2026-03-31T12:00:00.000Z')
const ago = (days: number) => new Date(NOW - days * DAY).toISOString()
const now = new Date(NOW)

function event(daysAgo: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    time: ago(daysAgo),
    direction: 'incoming',
    partnerId: '085',
    scheme: 'signature',
    outcome: 'accepted',
    reason: null,
    keyId: 'hmac:0000000000000000',
    transport: 'body',
    warnings: [],
    route: '/smile/callback',
    sourceIp: null,
    source_sdk: null,
    source_sdk_version: null,
    authenticated: true,
    instance: null,
    ...overrides,
  }
}

/** One signature event a day from `fromDaysAgo` down to 1 day ago. */
function daily(fromDaysAgo: number, overrides: Partial<AuditEvent> = {}): AuditEvent[] {
  return Array.from({ length: fromDaysAgo }, (_, i) => event(fromDaysAgo - i, overrides))
}

function gap(fromDaysAgo: number, toDaysAgo: number, dropped = 12): AuditGapRecord {
  return {
    kind: 'gap',
    from: ago(fromDaysAgo),
    to: ago(toDaysAgo),
    dropped,
    instance: 'web-1',
    reason: 'ENOSPC',
  }
}

const legacy = (daysAgo: number, overrides: Partial<AuditEvent> = {}) =>
  event(daysAgo, {
    scheme: 'sec_key',
    keyId: 'rsa:abc',
    source_sdk: 'php',
    source_sdk_version: '1.0.0',
    ...overrides,
  })

const summarize = (records: Array<AuditEvent | AuditGapRecord>, quietPeriodDays?: number) =>
  summarizeAudit(records, { now, ...(quietPeriodDays === undefined ? {} : { quietPeriodDays }) })

describe('readiness verdict', () => {
  it('empty log: insufficient_evidence, no readyOn, a blocker that says why', async () => {
    const report = await summarize([])
    expect(report.readiness).toEqual({
      verdict: 'insufficient_evidence',
      quietPeriodDays: 30,
      readyOn: null,
      legacyFree: true,
      lastLegacyAt: null,
      blockers: [expect.stringMatching(/^no authenticated event/) as string],
    })
    expect(report.evidence).toEqual({
      events: 0,
      firstEventAt: null,
      lastEventAt: null,
      daysCovered: 0,
      silentDays: [],
      dropped: 0,
      gaps: [],
      instances: [],
    })
    expect(report.unverified).toEqual({ events: 0, byReason: {} })
  })

  it('short span (10 days of clean traffic): insufficient_evidence, ready on first event + 30 days', async () => {
    const report = await summarize(daily(10))
    expect(report.readiness.verdict).toBe('insufficient_evidence')
    expect(report.readiness.readyOn).toBe(new Date(NOW - 10 * DAY + 30 * DAY).toISOString())
    expect(report.readiness.blockers).toEqual([
      expect.stringMatching(/^the evidence spans 10 day\(s\) since .*less than the 30-day quiet period/),
    ])
    expect(report.evidence).toMatchObject({
      events: 10,
      daysCovered: 10,
      firstEventAt: ago(10),
      lastEventAt: ago(1),
    })
  })

  it('span exactly the quiet period is ready; one millisecond short is not', async () => {
    const exact = await summarizeAudit([event(30)], { now })
    expect(exact.readiness.verdict).toBe('ready')
    expect(exact.readiness.readyOn).toBe(now.toISOString())
    const short = await summarizeAudit([event(30)], { now: new Date(NOW - 1) })
    expect(short.readiness.verdict).toBe('insufficient_evidence')
  })

  it('45 days of clean traffic: ready, readyOn in the past, no blockers', async () => {
    const report = await summarize(daily(45))
    expect(report.readiness).toEqual({
      verdict: 'ready',
      quietPeriodDays: 30,
      readyOn: new Date(NOW - 45 * DAY + 30 * DAY).toISOString(),
      legacyFree: true,
      lastLegacyAt: null,
      blockers: [],
    })
    expect(report.evidence.silentDays).toEqual([])
  })

  it('a gap inside the quiet period: insufficient_evidence until 30 days after the gap ends', async () => {
    const report = await summarize([...daily(60), gap(12, 11)])
    expect(report.readiness.verdict).toBe('insufficient_evidence')
    expect(report.readiness.readyOn).toBe(new Date(NOW - 11 * DAY + 30 * DAY).toISOString())
    expect(report.readiness.blockers).toEqual([expect.stringMatching(/^audit events were dropped inside/)])
    expect(report.evidence.dropped).toBe(12)
    expect(report.evidence.gaps).toEqual([{ from: ago(12), to: ago(11), dropped: 12, instance: 'web-1' }])
  })

  it('a gap before the quiet period is listed but does not block', async () => {
    const report = await summarize([...daily(60), gap(50, 45, 3)])
    expect(report.readiness.verdict).toBe('ready')
    expect(report.readiness.readyOn).toBe(new Date(NOW - 45 * DAY + 30 * DAY).toISOString())
    expect(report.evidence.dropped).toBe(3)
    expect(report.evidence.gaps).toHaveLength(1)
  })

  it('legacy 10 days ago: not_ready, naming the partner and its SDK, ready 30 days after it', async () => {
    const report = await summarize([...daily(60), legacy(10)])
    expect(report.readiness.verdict).toBe('not_ready')
    expect(report.readiness.legacyFree).toBe(false)
    expect(report.readiness.lastLegacyAt).toBe(ago(10))
    expect(report.readiness.readyOn).toBe(new Date(NOW - 10 * DAY + 30 * DAY).toISOString())
    expect(report.readiness.blockers).toEqual([
      `partner 085 still uses legacy sec_key: 1 authentic request(s), last at ${ago(10)}; SDKs: php 1.0.0 (1)`,
    ])
    expect(report.partners[0]).toMatchObject({
      legacySdks: [{ sdk: 'php', version: '1.0.0', count: 1 }],
      legacyRoutes: [{ value: '/smile/callback', count: 1 }],
      legacyKeyIds: [{ value: 'rsa:abc', count: 1 }],
    })
  })

  it('legacy 40 days ago with a 30-day quiet period: ready, though not legacy-free', async () => {
    const report = await summarize([...daily(60), legacy(40)])
    expect(report.readiness).toMatchObject({
      verdict: 'ready',
      legacyFree: false,
      lastLegacyAt: ago(40),
      readyOn: new Date(NOW - 40 * DAY + 30 * DAY).toISOString(),
      blockers: [],
    })
    // The same records with a 60-day quiet period: not ready.
    expect((await summarize([...daily(60), legacy(40)], 60)).readiness.verdict).toBe('not_ready')
  })

  it('refused-authentic legacy (policy and brownout) blocks: those clients break at switch-off', async () => {
    const report = await summarize([
      ...daily(60),
      legacy(5, { outcome: 'rejected', reason: 'scheme_not_allowed', keyId: null }),
      legacy(4, { outcome: 'rejected', reason: 'scheme_not_allowed', warnings: ['brownout'], keyId: null }),
    ])
    expect(report.readiness.verdict).toBe('not_ready')
    expect(report.readiness.blockers[0]).toMatch(
      /2 authentic request\(s\) \(2 refused by policy or brownout\)/,
    )
    expect(report.partners[0]).toMatchObject({
      byScheme: { signature: 60, sec_key: 0 },
      rejected: 2,
      legacyRefused: 2,
      brownoutRefused: 1,
      lastLegacyAt: ago(4),
      legacyKeyIds: [{ value: 'unknown', count: 2 }],
    })
  })

  it('would_reject legacy (observe mode) blocks too', async () => {
    const report = await summarize([
      ...daily(60),
      legacy(3, { outcome: 'would_reject', reason: 'scheme_not_allowed' }),
    ])
    expect(report.readiness.verdict).toBe('not_ready')
  })

  it('1 000 unverified partner ids: no row, no blocker, no evidence, the verdict does not move', async () => {
    const forged = Array.from({ length: 1000 }, (_, i) =>
      legacy(i % 60, {
        partnerId: `forged-${i}`,
        outcome: i % 2 === 0 ? 'rejected' : 'would_reject',
        reason: i % 2 === 0 ? 'invalid_sec_key' : 'scheme_not_allowed',
        authenticated: false,
        instance: `evil-${i}`,
      }),
    )
    const clean = await summarize(daily(45))
    const attacked = await summarize([...daily(45), ...forged])
    expect(attacked.partners).toEqual(clean.partners)
    expect(attacked.readiness).toEqual(clean.readiness)
    expect(attacked.evidence).toEqual(clean.evidence)
    expect(attacked.unverified).toEqual({
      events: 1000,
      byReason: { invalid_sec_key: 500, scheme_not_allowed: 500 },
    })
    // Forged traffic alone cannot open a span either.
    const onlyForged = await summarize(forged)
    expect(onlyForged.readiness.verdict).toBe('insufficient_evidence')
    expect(onlyForged.partners).toEqual([])
    expect(onlyForged.evidence.events).toBe(0)
  })

  it('a log that stopped before the quiet period proves nothing: insufficient_evidence, no readyOn', async () => {
    const report = await summarize(daily(90).slice(0, 40))
    expect(report.evidence.lastEventAt).toBe(ago(51))
    expect(report.readiness).toMatchObject({ verdict: 'insufficient_evidence', readyOn: null })
    expect(report.readiness.blockers).toEqual([
      expect.stringMatching(/^no authenticated event inside the 30-day quiet period/),
    ])
  })

  it('lists silent days inside the span (complete UTC days only) without deciding on them', async () => {
    const records = daily(40).filter((e) => e.time !== ago(20) && e.time !== ago(21))
    const report = await summarize(records)
    expect(report.evidence.silentDays).toEqual([ago(21).slice(0, 10), ago(20).slice(0, 10)])
    expect(report.readiness.verdict).toBe('ready')
  })

  it('lists instances; one that stopped reporting inside the quiet period is a blocker naming it', async () => {
    const report = await summarize([
      ...daily(45, { instance: 'web-1' }),
      ...daily(45, { instance: 'web-2' }).slice(0, 35),
    ])
    expect(report.evidence.instances).toEqual([
      { instance: 'web-1', events: 45, firstEventAt: ago(45), lastEventAt: ago(1) },
      { instance: 'web-2', events: 35, firstEventAt: ago(45), lastEventAt: ago(11) },
    ])
    expect(report.readiness.verdict).toBe('insufficient_evidence')
    expect(report.readiness.blockers).toEqual([
      expect.stringMatching(/^instance web-2 stopped reporting at /),
    ])
    expect(report.readiness.readyOn).toBe(new Date(NOW - 11 * DAY + 30 * DAY).toISOString())
    // An instance retired before the quiet period is history, not a blocker.
    const retired = await summarize([
      ...daily(45, { instance: 'web-1' }),
      ...daily(45, { instance: 'old' }).slice(0, 5),
    ])
    expect(retired.readiness.verdict).toBe('ready')
  })

  it('since: records before it are ignored, gaps that ended before it too', async () => {
    const report = await summarizeAudit([...daily(60), legacy(50), gap(55, 52)], {
      now,
      since: new Date(NOW - 40 * DAY),
    })
    expect(report.readiness).toMatchObject({ verdict: 'ready', legacyFree: true })
    expect(report.evidence).toMatchObject({ events: 40, dropped: 0, gaps: [] })
  })

  it('refuses a quiet period that is not a number of days', async () => {
    await expect(summarizeAudit([], { quietPeriodDays: -1 })).rejects.toMatchObject({
      code: 'invalid_options',
    })
    expectConfigurationError(() => new LegacyUsageTracker({ quietPeriodDays: Number.NaN }), 'invalid_options')
  })

  it('sorts partners numerically', async () => {
    const report = await summarize(['10', '9', '085', 'abc', '100'].map((id) => event(1, { partnerId: id })))
    expect(report.partners.map((p) => p.partnerId)).toEqual(['9', '10', '085', '100', 'abc'])
  })
})

describe('LegacyUsageTracker: bounded whatever it is fed', () => {
  it('100 000 forged partner ids never become rows; authentic ones do', () => {
    const tracker = new LegacyUsageTracker()
    for (let i = 0; i < 100_000; i++)
      tracker.write(
        event(1, {
          partnerId: `forged-${i}`,
          outcome: 'rejected',
          reason: 'invalid_signature',
          authenticated: false,
        }),
      )
    tracker.write(event(1))
    const report: UsageReport = tracker.report(now)
    expect(report.partners.map((p) => p.partnerId)).toEqual(['085'])
    expect(report.unverified.events).toBe(100_000)
    expect(Object.keys(report.unverified.byReason)).toEqual(['invalid_signature'])
  })

  it('caps partner rows and per-partner tables even for records claiming to be authenticated', () => {
    const tracker = new LegacyUsageTracker({ quietPeriodDays: 7 })
    for (let i = 0; i < 12_000; i++) tracker.write(legacy(1, { partnerId: String(i), route: `/r/${i}` }))
    for (let i = 0; i < 200; i++)
      tracker.write(legacy(1, { partnerId: '5', route: `/x/${i}`, source_sdk: `sdk${i}` }))
    const report = tracker.report(now)
    expect(report.partners.length).toBeLessThanOrEqual(10_001)
    expect(report.partners.at(-1)!.partnerId).toBe('(other partners)')
    const partner = report.partners.find((p) => p.partnerId === '5')!
    expect(partner.legacyRoutes.length).toBeLessThanOrEqual(51)
    expect(partner.legacyRoutes.find((r) => r.value === '(other)')).toBeDefined()
    expect(report.readiness.quietPeriodDays).toBe(7)
    tracker.reset()
    expect(tracker.report(now).partners).toEqual([])
  })
})
