import { createReadStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

import { afterAll, describe, expect, it } from 'vitest'

import { jsonlAuditSink, LegacyUsageTracker, summarizeAudit, type AuditEvent } from '../../src/index.js'
import type { OutboundAuditEvent } from '../../src/gateway/outbound.js'
import { NOW, PARTNER, dualVerifier, secKeyBody, signatureBody } from '../verifier/helpers.js'

const MINUTE = 60_000
const at = (minute: number) => new Date(NOW + minute * MINUTE).toISOString()
const dir = mkdtempSync(join(tmpdir(), 'smileid-report-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function event(overrides: Partial<AuditEvent>): AuditEvent {
  return {
    time: at(0),
    direction: 'incoming',
    partnerId: PARTNER,
    scheme: 'signature',
    outcome: 'accepted',
    reason: null,
    keyId: 'hmac:0000000000000000',
    transport: 'body',
    warnings: [],
    route: null,
    sourceIp: null,
    source_sdk: null,
    source_sdk_version: null,
    authenticated: overrides.outcome !== 'rejected',
    instance: null,
    ...overrides,
  }
}

function repeat(count: number, build: (i: number) => AuditEvent): AuditEvent[] {
  return Array.from({ length: count }, (_, i) => build(i))
}

/** A deterministic shuffle, so that no count depends on the order of the log. */
function shuffle<T>(items: T[], seed = 7): T[] {
  const out = [...items]
  let state = seed
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    const j = state % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/**
 * The generated log. Minutes 0–99 hold every legacy use; from minute 100 on, only signature and refused
 * legacy requests, so a report `since` minute 100 is legacy-free.
 *
 * Partner 085: 40 signature accepted + 5 signature would_reject + 2 outgoing signature = 47 signature;
 *   sec_key accepted: javascript 1.3.0 ×6, python 1.0.2 ×3, no SDK ×1; sec_key would_reject: python 1.0.2 ×2
 *   = 12 sec_key, the last at minute 90; rejected: 4 sec_key (minute 120, after the last legacy use),
 *   3 signature, 2 with no scheme = 9. Total 68.
 * Partner 200: 10 signature accepted, 3 sec_key rejected. Total 13, legacy-free.
 * No partner: 4 rejected missing_credentials.
 */
function generatedLog(): AuditEvent[] {
  return shuffle([
    ...repeat(40, (i) => event({ time: at(i * 5) })),
    ...repeat(5, (i) => event({ time: at(100 + i), outcome: 'would_reject', reason: 'timestamp_expired' })),
    ...repeat(2, (i) => event({ time: at(150 + i), direction: 'outgoing', transport: null })),
    ...repeat(6, (i) =>
      event({
        time: at(10 + i),
        scheme: 'sec_key',
        source_sdk: 'javascript',
        source_sdk_version: '1.3.0',
        warnings: ['legacy_scheme'],
      }),
    ),
    ...repeat(3, (i) =>
      event({ time: at(20 + i), scheme: 'sec_key', source_sdk: 'python', source_sdk_version: '1.0.2' }),
    ),
    event({ time: at(90), scheme: 'sec_key' }),
    ...repeat(2, (i) =>
      event({
        time: at(30 + i),
        scheme: 'sec_key',
        outcome: 'would_reject',
        reason: 'scheme_not_allowed',
        source_sdk: 'python',
        source_sdk_version: '1.0.2',
      }),
    ),
    ...repeat(4, () =>
      event({
        time: at(120),
        scheme: 'sec_key',
        outcome: 'rejected',
        reason: 'scheme_not_allowed',
        keyId: null,
        source_sdk: 'php',
      }),
    ),
    ...repeat(3, (i) =>
      event({ time: at(40 + i * 50), outcome: 'rejected', reason: 'invalid_signature', keyId: null }),
    ),
    ...repeat(2, (i) =>
      event({
        time: at(60 + i * 60),
        scheme: null,
        outcome: 'rejected',
        reason: 'missing_credentials',
        keyId: null,
      }),
    ),
    ...repeat(10, (i) => event({ time: at(i * 20), partnerId: '200' })),
    ...repeat(3, (i) =>
      event({
        time: at(5 + i * 50),
        partnerId: '200',
        scheme: 'sec_key',
        outcome: 'rejected',
        reason: 'scheme_not_allowed',
      }),
    ),
    ...repeat(4, (i) =>
      event({
        time: at(i * 70),
        partnerId: null,
        scheme: null,
        outcome: 'rejected',
        reason: 'missing_credentials',
        transport: null,
      }),
    ),
  ])
}

const GENERATED_AT = new Date(NOW + 1000 * MINUTE)

const legacyDetail = {
  legacyRefused: 0,
  brownoutRefused: 0,
  legacyByDirection: { incoming: 0, outgoing: 0 },
  legacyRoutes: [] as unknown[],
  legacyKeyIds: [] as unknown[],
}

/** Rejected events in the generated log are forged (`authenticated: false`): counted, never a row. */
const FULL_REPORT = {
  generatedAt: GENERATED_AT.toISOString(),
  partners: [
    {
      partnerId: PARTNER,
      total: 59,
      byScheme: { signature: 47, sec_key: 12 },
      rejected: 0,
      lastLegacyAt: at(90),
      legacySdks: [
        { sdk: 'javascript', version: '1.3.0', count: 6 },
        { sdk: 'python', version: '1.0.2', count: 5 },
        { sdk: 'unknown', version: 'unknown', count: 1 },
      ],
      ...legacyDetail,
      legacyByDirection: { incoming: 12, outgoing: 0 },
      legacyRoutes: [{ value: 'unknown', count: 12 }],
      legacyKeyIds: [{ value: 'hmac:0000000000000000', count: 12 }],
    },
    {
      partnerId: '200',
      total: 10,
      byScheme: { signature: 10, sec_key: 0 },
      rejected: 0,
      lastLegacyAt: null,
      legacySdks: [],
      ...legacyDetail,
    },
  ],
  unverified: {
    events: 16,
    byReason: { invalid_signature: 3, missing_credentials: 6, scheme_not_allowed: 7 },
  },
  evidence: {
    events: 69,
    firstEventAt: at(0),
    lastEventAt: at(195),
    daysCovered: 0,
    silentDays: [],
    dropped: 0,
    gaps: [],
    instances: [],
  },
  readiness: {
    verdict: 'not_ready',
    quietPeriodDays: 30,
    readyOn: new Date(NOW + 90 * MINUTE + 30 * 86_400_000).toISOString(),
    legacyFree: false,
    lastLegacyAt: at(90),
    blockers: [
      expect.stringMatching(/^partner 085 still uses legacy sec_key: 12 authentic request/) as string,
      expect.stringMatching(/^the evidence spans 0 day\(s\)/) as string,
    ],
  },
}

async function* asAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve()
    yield item
  }
}

describe('summarizeAudit', () => {
  it('counts a generated log exactly (array input)', async () => {
    const log = generatedLog()
    expect(log).toHaveLength(68 + 13 + 4)
    expect(await summarizeAudit(log, { now: GENERATED_AT })).toEqual(FULL_REPORT)
  })

  it('gives the same report from an async iterable and from any iterable', async () => {
    expect(await summarizeAudit(asAsync(generatedLog()), { now: GENERATED_AT })).toEqual(FULL_REPORT)
    expect(await summarizeAudit(new Set(generatedLog()), { now: GENERATED_AT })).toEqual(FULL_REPORT)
  })

  it('names the SDK versions in the blocker line', async () => {
    const report = await summarizeAudit(generatedLog(), { now: GENERATED_AT })
    const blocker = report.readiness.blockers[0]!
    expect(blocker).toContain('javascript 1.3.0 (6)')
    expect(blocker).toContain('python 1.0.2 (5)')
    expect(blocker).toContain(at(90))
  })

  it('since: ignores earlier events, and the log from minute 100 on is legacy-free', async () => {
    const report = await summarizeAudit(generatedLog(), {
      since: new Date(NOW + 100 * MINUTE),
      now: GENERATED_AT,
    })
    expect(report.partners).toEqual([
      // Accepted signatures at minutes 100..195 (20), 5 would_reject, 2 outgoing.
      { ...FULL_REPORT.partners[1], partnerId: PARTNER, total: 27, byScheme: { signature: 27, sec_key: 0 } },
      // Signature at minutes 100..180 (5 events).
      { ...FULL_REPORT.partners[1], total: 5, byScheme: { signature: 5, sec_key: 0 } },
    ])
    expect(report.evidence.firstEventAt).toBe(at(100))
    expect(report.readiness).toMatchObject({ legacyFree: true, lastLegacyAt: null })
    // Legacy-free, but minutes of evidence are not a 30-day quiet period.
    expect(report.readiness.verdict).toBe('insufficient_evidence')
  })

  it('since: an instant exactly at an event keeps that event', async () => {
    const log = [event({ time: at(10), scheme: 'sec_key' }), event({ time: at(9), scheme: 'sec_key' })]
    const report = await summarizeAudit(log, { since: new Date(NOW + 10 * MINUTE) })
    expect(report.partners[0]!.byScheme.sec_key).toBe(1)
  })

  it('counts would_reject as accepted per scheme; authentic rejections in the row, forged ones apart', async () => {
    const report = await summarizeAudit([
      event({ scheme: 'sec_key', outcome: 'would_reject', reason: 'scheme_not_allowed' }),
      event({ scheme: 'signature', outcome: 'would_reject', reason: 'replayed' }),
      event({ scheme: 'sec_key', outcome: 'rejected', reason: 'invalid_sec_key' }),
      event({ scheme: 'signature', outcome: 'rejected', reason: 'invalid_signature' }),
      event({ scheme: null, outcome: 'rejected', reason: 'malformed_credentials' }),
      // A genuine credential replayed: rejected, authentic, but no legacy use of its own.
      event({ scheme: 'sec_key', outcome: 'rejected', reason: 'replayed', authenticated: true }),
    ])
    expect(report.partners).toEqual([
      {
        partnerId: PARTNER,
        total: 3,
        byScheme: { signature: 1, sec_key: 1 },
        rejected: 1,
        lastLegacyAt: at(0),
        legacySdks: [{ sdk: 'unknown', version: 'unknown', count: 1 }],
        ...legacyDetail,
        legacyByDirection: { incoming: 1, outgoing: 0 },
        legacyRoutes: [{ value: 'unknown', count: 1 }],
        legacyKeyIds: [{ value: 'hmac:0000000000000000', count: 1 }],
      },
    ])
    expect(report.unverified).toEqual({
      events: 3,
      byReason: { invalid_sec_key: 1, invalid_signature: 1, malformed_credentials: 1 },
    })
    expect(report.readiness.legacyFree).toBe(false)
  })

  it('forged legacy refusals do not block readiness; authentic ones do', async () => {
    const forged = await summarizeAudit([
      event({ scheme: 'signature' }),
      event({ scheme: 'sec_key', outcome: 'rejected', reason: 'scheme_not_allowed' }),
    ])
    expect(forged.readiness).toMatchObject({ legacyFree: true, lastLegacyAt: null })
    const authentic = await summarizeAudit(
      [
        event({ scheme: 'signature' }),
        event({ scheme: 'sec_key', outcome: 'rejected', reason: 'scheme_not_allowed', authenticated: true }),
      ],
      { now: GENERATED_AT },
    )
    expect(authentic.readiness).toMatchObject({
      legacyFree: false,
      lastLegacyAt: at(0),
      verdict: 'not_ready',
    })
    expect(authentic.partners[0]).toMatchObject({ legacyRefused: 1, rejected: 1 })
  })

  it('takes the latest legacy time, whatever the order of the log', async () => {
    const report = await summarizeAudit(
      [
        event({ time: at(50), scheme: 'sec_key', partnerId: '1' }),
        event({ time: at(70), scheme: 'sec_key', partnerId: '2' }),
        event({ time: at(60), scheme: 'sec_key', partnerId: '1' }),
        event({ time: at(10), scheme: 'sec_key', partnerId: '2' }),
      ],
      { now: GENERATED_AT },
    )
    expect(report.partners.map((p) => [p.partnerId, p.lastLegacyAt])).toEqual([
      ['1', at(60)],
      ['2', at(70)],
    ])
    expect(report.readiness.lastLegacyAt).toBe(at(70))
    expect(report.readiness.blockers.filter((b) => b.startsWith('partner '))).toHaveLength(2)
  })

  it('ignores events without a readable time', async () => {
    const report = await summarizeAudit([
      event({}),
      event({ time: 'yesterday' }),
      { nonsense: true } as unknown as AuditEvent,
      null as unknown as AuditEvent,
    ])
    expect(report.partners).toHaveLength(1)
    expect(report.partners[0]!.total).toBe(1)
  })

  it('summarises a JSONL audit file written by a verifier, read back line by line', async () => {
    const path = join(dir, 'audit.jsonl')
    const sink = jsonlAuditSink(path)
    const tracker = new LegacyUsageTracker()
    const verifier = dualVerifier({ audit: [sink, tracker], policy: { legacy: 'warn' } })
    for (let i = 0; i < 4; i++)
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW + i) }) })
    for (let i = 0; i < 3; i++) {
      await verifier.verify({
        body: await secKeyBody({
          timestamp: NOW - i,
          fields: { source_sdk: 'java', source_sdk_version: '1.0.1' },
        }),
      })
    }
    await verifier.verify({ body: await signatureBody({ apiKey: 'wrong' }) })
    await sink.close()

    async function* lines(): AsyncGenerator<AuditEvent> {
      for await (const line of createInterface({ input: createReadStream(path) }))
        yield JSON.parse(line) as AuditEvent
    }
    const report = await summarizeAudit(lines(), { now: GENERATED_AT })
    expect(report.partners).toEqual([
      {
        partnerId: PARTNER,
        total: 7,
        byScheme: { signature: 4, sec_key: 3 },
        rejected: 0,
        lastLegacyAt: new Date(NOW).toISOString(),
        legacySdks: [{ sdk: 'java', version: '1.0.1', count: 3 }],
        ...legacyDetail,
        legacyByDirection: { incoming: 3, outgoing: 0 },
        legacyRoutes: [{ value: 'unknown', count: 3 }],
        legacyKeyIds: [expect.objectContaining({ count: 3 }) as unknown],
      },
    ])
    expect(report.unverified).toEqual({ events: 1, byReason: { invalid_signature: 1 } })
    // The in-memory tracker saw the same events.
    expect(tracker.report(GENERATED_AT)).toEqual(report)
  })
})

const DAY = 86_400_000

/** What the outbound gateway writes for one forwarded request (src/gateway/outbound.ts). */
function forwarded(
  overrides: Partial<OutboundAuditEvent> & Pick<OutboundAuditEvent, 'sent'>,
): OutboundAuditEvent {
  const { sent } = overrides
  return {
    ...event({
      direction: 'outgoing',
      scheme: sent === 'none' ? null : sent,
      keyId: null,
      warnings: sent === 'signature' ? [] : ['resigned_as_signature'],
      route: '/v1/id_verification',
    }),
    forwardedScheme: 'signature',
    ...overrides,
  }
}

describe('legacyByDirection', () => {
  it("splits one partner's authentic legacy requests into incoming and outgoing", async () => {
    const report = await summarizeAudit(
      [
        // Incoming legacy: accepted, would_reject, refused by policy.
        ...repeat(4, (i) => event({ time: at(i), scheme: 'sec_key' })),
        event({ time: at(5), scheme: 'sec_key', outcome: 'would_reject', reason: 'scheme_not_allowed' }),
        event({
          time: at(6),
          scheme: 'sec_key',
          outcome: 'rejected',
          reason: 'scheme_not_allowed',
          authenticated: true,
        }),
        // Outgoing legacy: apps behind the gateway still sending sec_key, and a MigratingSigner's sec_key.
        ...repeat(2, (i) => forwarded({ time: at(10 + i), sent: 'sec_key' })),
        event({ time: at(20), direction: 'outgoing', scheme: 'sec_key', keyId: null }),
        // Not legacy use in either direction.
        forwarded({ time: at(30), sent: 'signature' }),
        forwarded({ time: at(31), sent: 'none' }),
        event({ time: at(32), direction: 'outgoing' }),
        event({
          time: at(33),
          scheme: 'sec_key',
          outcome: 'rejected',
          reason: 'replayed',
          authenticated: true,
        }),
        event({ time: at(34), direction: 'outgoing', scheme: 'sec_key', authenticated: false }),
      ],
      { now: GENERATED_AT },
    )
    expect(report.partners).toHaveLength(1)
    const partner = report.partners[0]!
    expect(partner.legacyByDirection).toEqual({ incoming: 6, outgoing: 3 })
    // The split adds up to what the other legacy fields count.
    expect(partner).toMatchObject({
      byScheme: { signature: 2, sec_key: 8 },
      legacyRefused: 1,
      lastLegacyAt: at(20),
      legacySdks: [{ sdk: 'unknown', version: 'unknown', count: 9 }],
      legacyRoutes: [
        { value: 'unknown', count: 7 },
        { value: '/v1/id_verification', count: 2 },
      ],
    })
    expect(report.unverified.events).toBe(1)
    expect(report.readiness.blockers[0]).toMatch(
      /^partner 085 still uses legacy sec_key: 9 authentic request\(s\) \(1 refused by policy or brownout\), last at .*; 6 incoming, 3 outgoing \(your app still signs outgoing requests with sec_key, through MigratingSigner or the outbound gateway\)$/,
    )
  })

  it('outgoing-only legacy still blocks readiness, exactly as the same use incoming does', async () => {
    const clean = repeat(45, (i) => event({ time: new Date(NOW - (45 - i) * DAY).toISOString() }))
    const now = new Date(NOW)
    const legacyAt = (days: number) => new Date(NOW - days * DAY).toISOString()
    for (const days of [5, 40]) {
      const outgoing = await summarizeAudit(
        [...clean, forwarded({ time: legacyAt(days), sent: 'sec_key' })],
        { now },
      )
      const incoming = await summarizeAudit([...clean, event({ time: legacyAt(days), scheme: 'sec_key' })], {
        now,
      })
      expect(outgoing.partners[0]!.legacyByDirection).toEqual({ incoming: 0, outgoing: 1 })
      expect(incoming.partners[0]!.legacyByDirection).toEqual({ incoming: 1, outgoing: 0 })
      const { blockers: outgoingBlockers, ...outgoingVerdict } = outgoing.readiness
      const { blockers: incomingBlockers, ...incomingVerdict } = incoming.readiness
      expect(outgoingVerdict).toEqual(incomingVerdict)
      expect(outgoingVerdict).toMatchObject({ legacyFree: false, lastLegacyAt: legacyAt(days) })
      expect(outgoingBlockers).toHaveLength(incomingBlockers.length)
      if (days === 5) {
        expect(outgoing.readiness.verdict).toBe('not_ready')
        expect(outgoingBlockers[0]).toContain('; 0 incoming, 1 outgoing (your app still signs outgoing')
        // Incoming-only use keeps the blocker line it always had.
        expect(incomingBlockers).toEqual([
          `partner 085 still uses legacy sec_key: 1 authentic request(s), last at ${legacyAt(5)}; SDKs: unknown unknown (1)`,
        ])
      } else expect(outgoing.readiness.verdict).toBe('ready')
    }
  })

  it('counts records without a direction (logs written before the field) as incoming', async () => {
    const old = (overrides: Partial<AuditEvent>) => {
      const { direction: _, ...rest } = event(overrides)
      return rest as AuditEvent
    }
    const report = await summarizeAudit(
      [
        old({ time: at(1), scheme: 'sec_key' }),
        old({
          time: at(2),
          scheme: 'sec_key',
          outcome: 'rejected',
          reason: 'scheme_not_allowed',
          authenticated: true,
        }),
        old({ time: at(3) }),
        forwarded({ time: at(4), sent: 'sec_key' }),
      ],
      { now: GENERATED_AT },
    )
    expect(report.partners[0]).toMatchObject({
      byScheme: { signature: 1, sec_key: 2 },
      legacyRefused: 1,
      legacyByDirection: { incoming: 2, outgoing: 1 },
    })
  })

  it('is zero in both directions for a partner without legacy use', async () => {
    const report = await summarizeAudit([event({}), forwarded({ sent: 'signature' })], { now: GENERATED_AT })
    expect(report.partners[0]!.legacyByDirection).toEqual({ incoming: 0, outgoing: 0 })
  })
})

describe('LegacyUsageTracker.report()', () => {
  it('equals summarizeAudit over the same events', async () => {
    const tracker = new LegacyUsageTracker()
    for (const e of generatedLog()) tracker.write(e)
    expect(tracker.report(GENERATED_AT)).toEqual(FULL_REPORT)
    expect(tracker.report(GENERATED_AT)).toEqual(await summarizeAudit(generatedLog(), { now: GENERATED_AT }))
  })
})
