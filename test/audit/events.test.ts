import { hostname } from 'node:os'

import { describe, expect, it } from 'vitest'

import { DualModeVerifier, LegacyUsageTracker, type AuditEvent } from '../../src/index.js'
import {
  NOW,
  NOW_ISO,
  PARTNER,
  dualVerifier,
  expectAccepted,
  expectRejected,
  recordingSink,
  secKeyAuth,
  secKeyBody,
  settle,
  signatureAuth,
  signatureBody,
} from '../verifier/helpers.js'

const CONTEXT = { route: '/smile/callback', sourceIp: '203.0.113.9' }

describe('audit events from the verifier', () => {
  it('emits one event with the documented fields for an accepted signature', async () => {
    const { events, sink } = recordingSink()
    const body = await signatureBody({
      fields: { partner_id: PARTNER, source_sdk: 'python', source_sdk_version: '2.1.0' },
    })
    const result = expectAccepted(await dualVerifier({ audit: sink }).verify({ body }, CONTEXT), 'signature')
    expect(events).toEqual([
      {
        time: NOW_ISO,
        direction: 'incoming',
        partnerId: PARTNER,
        scheme: 'signature',
        outcome: 'accepted',
        reason: null,
        keyId: result.keyId,
        transport: 'body',
        warnings: [],
        route: '/smile/callback',
        sourceIp: '203.0.113.9',
        source_sdk: 'python',
        source_sdk_version: '2.1.0',
        authenticated: true,
        instance: hostname(),
      } satisfies AuditEvent,
    ])
  })

  it('records a legacy request with its warnings and the SDK it declares', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ audit: sink, policy: { legacy: 'warn' } })
    const body = await secKeyBody({ fields: { source_sdk: 'ruby', source_sdk_version: '1.0.4' } })
    const result = expectAccepted(await verifier.verify({ body }, CONTEXT), 'sec_key')
    expect(events).toEqual([
      {
        time: NOW_ISO,
        direction: 'incoming',
        partnerId: PARTNER,
        scheme: 'sec_key',
        outcome: 'accepted',
        reason: null,
        keyId: result.keyId,
        transport: 'body',
        warnings: ['legacy_scheme'],
        route: '/smile/callback',
        sourceIp: '203.0.113.9',
        source_sdk: 'ruby',
        source_sdk_version: '1.0.4',
        authenticated: true,
        instance: hostname(),
      },
    ])
  })

  it('records a rejection with its reason and no keyId', async () => {
    const { events, sink } = recordingSink()
    const body = await signatureBody({ apiKey: 'wrong-key', fields: { source_sdk: 'node' } })
    expectRejected(
      await dualVerifier({ audit: sink }).verify({ body }, CONTEXT),
      'invalid_signature',
      'signature',
    )
    expect(events).toEqual([
      {
        time: NOW_ISO,
        direction: 'incoming',
        partnerId: PARTNER,
        scheme: 'signature',
        outcome: 'rejected',
        reason: 'invalid_signature',
        keyId: null,
        transport: 'body',
        warnings: [],
        route: '/smile/callback',
        sourceIp: '203.0.113.9',
        source_sdk: 'node',
        source_sdk_version: null,
        authenticated: false,
        instance: hostname(),
      },
    ])
  })

  it('records a header request with transport headers', async () => {
    const { events, sink } = recordingSink()
    const { signature, timestamp } = await signatureAuth().sign({ timestamp: new Date(NOW) })
    const headers = new Headers({ 'SmileID-Request-Signature': signature, 'SmileID-Timestamp': timestamp })
    expectAccepted(await dualVerifier({ audit: sink }).verify({ headers, body: {} }), 'signature')
    expect(events[0]).toMatchObject({ transport: 'headers', scheme: 'signature', outcome: 'accepted' })
  })

  it('records requests without credentials and garbage requests, with null where nothing is known', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ audit: sink })
    expectRejected(await verifier.verify({ body: { partner_id: PARTNER } }), 'missing_credentials', null)
    expectRejected(await verifier.verify(null as never, CONTEXT), 'missing_credentials', null)
    expect(events).toEqual([
      {
        time: NOW_ISO,
        direction: 'incoming',
        partnerId: PARTNER,
        scheme: null,
        outcome: 'rejected',
        reason: 'missing_credentials',
        keyId: null,
        transport: null,
        warnings: [],
        route: null,
        sourceIp: null,
        source_sdk: null,
        source_sdk_version: null,
        authenticated: false,
        instance: hostname(),
      },
      {
        time: NOW_ISO,
        direction: 'incoming',
        partnerId: null,
        scheme: null,
        outcome: 'rejected',
        reason: 'missing_credentials',
        keyId: null,
        transport: null,
        warnings: [],
        route: '/smile/callback',
        sourceIp: '203.0.113.9',
        source_sdk: null,
        source_sdk_version: null,
        authenticated: false,
        instance: hostname(),
      },
    ])
  })

  it('takes only strings from the body for source_sdk fields, and caps their length', async () => {
    const { events, sink } = recordingSink()
    const body = await signatureBody({
      fields: { source_sdk: { evil: true }, source_sdk_version: 'v'.repeat(10_000) },
    })
    await dualVerifier({ audit: sink }).verify({ body }, { route: 'r'.repeat(10_000) })
    expect(events[0]!.source_sdk).toBeNull()
    expect(events[0]!.source_sdk_version!.length).toBeLessThanOrEqual(128)
    expect(events[0]!.route!.length).toBeLessThanOrEqual(128)
  })

  it('emits exactly one event per verify and per verifyOrThrow, accepted or not', async () => {
    const { events, sink } = recordingSink()
    let time = NOW
    const verifier = new DualModeVerifier({
      signature: signatureAuth(),
      secKey: secKeyAuth(),
      audit: sink,
      now: () => time,
    })
    const requests = [
      { body: await signatureBody() },
      { body: await secKeyBody() },
      { body: await signatureBody({ apiKey: 'nope' }) },
      { body: 'not json' },
      {},
    ]
    for (const request of requests) {
      time += 1000
      await verifier.verify(request)
    }
    await verifier.verifyOrThrow(requests[0]!)
    await verifier.verifyOrThrow(requests[2]!).catch(() => undefined)
    expect(events).toHaveLength(requests.length + 2)
    expect(events.map((e) => e.outcome)).toEqual([
      'accepted',
      'accepted',
      'rejected',
      'rejected',
      'rejected',
      'accepted',
      'rejected',
    ])
    // The time is the injected clock's.
    expect(events[0]!.time).toBe(new Date(NOW + 1000).toISOString())
    expect(events[4]!.time).toBe(new Date(NOW + 5000).toISOString())
  })

  it('sends each event to every sink: functions and objects with write', async () => {
    const a = recordingSink()
    const b = recordingSink()
    const usage = new LegacyUsageTracker()
    const verifier = dualVerifier({ audit: [a.sink, { write: b.sink }, usage] })
    await verifier.verify({ body: await secKeyBody() })
    expect(a.events).toHaveLength(1)
    expect(b.events).toEqual(a.events)
    expect(usage.report().partners[0]!.byScheme).toEqual({ signature: 0, sec_key: 1 })
  })
})

describe('audit sink failures are isolated', () => {
  it('a sink that throws and one that rejects are counted and reported; verification and other sinks carry on', async () => {
    const good = recordingSink()
    const reported: Array<{ error: unknown; event: AuditEvent }> = []
    const verifier = dualVerifier({
      audit: [
        () => {
          throw new Error('sink exploded')
        },
        () => Promise.reject(new Error('sink rejected')),
        good.sink,
      ],
      onAuditError: (error, event) => reported.push({ error, event }),
    })
    expect(verifier.stats.auditErrors).toBe(0)
    expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
    expectRejected(
      await verifier.verify({ body: await signatureBody({ apiKey: 'x' }) }),
      'invalid_signature',
      'signature',
    )
    await settle()

    expect(good.events).toHaveLength(2)
    expect(verifier.stats.auditErrors).toBe(4)
    expect(reported.map((r) => (r.error as Error).message).sort()).toEqual([
      'sink exploded',
      'sink exploded',
      'sink rejected',
      'sink rejected',
    ])
    expect(reported.map((r) => r.event.outcome).sort()).toEqual([
      'accepted',
      'accepted',
      'rejected',
      'rejected',
    ])
  })

  it('counts failures without an onAuditError handler, and survives a handler that throws', async () => {
    const quiet = dualVerifier({ audit: () => Promise.reject(new Error('down')) })
    expectAccepted(await quiet.verify({ body: await signatureBody() }), 'signature')
    await settle()
    expect(quiet.stats.auditErrors).toBe(1)

    const loud = dualVerifier({
      audit: {
        write: () => {
          throw new Error('down')
        },
      },
      onAuditError: () => {
        throw new Error('handler down too')
      },
    })
    expectAccepted(await loud.verify({ body: await signatureBody() }), 'signature')
    expect(loud.stats.auditErrors).toBe(1)
  })

  it('a sink that never settles does not hold the request', async () => {
    const verifier = dualVerifier({ audit: () => new Promise<void>(() => undefined) })
    expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
    expect(verifier.stats.auditErrors).toBe(0)
  })
})

describe('LegacyUsageTracker', () => {
  it('reports what the verifier saw, per partner and scheme', async () => {
    const usage = new LegacyUsageTracker()
    const verifier = dualVerifier({ audit: usage, policy: { legacy: 'warn' } })
    for (let i = 0; i < 3; i++) {
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW + i) }) })
    }
    for (const version of ['1.3.0', '1.3.0']) {
      await verifier.verify({
        body: await secKeyBody({ fields: { source_sdk: 'javascript', source_sdk_version: version } }),
      })
    }
    await verifier.verify({ body: await secKeyBody({ timestamp: NOW + 1 }) })
    await verifier.verify({ body: await signatureBody({ apiKey: 'wrong' }) })

    const generatedAt = new Date(NOW + 60_000)
    const report = usage.report(generatedAt)
    expect(report.partners).toEqual([
      {
        partnerId: PARTNER,
        // The forged signature is no row of the partner: it is counted as unverified.
        total: 6,
        byScheme: { signature: 3, sec_key: 3 },
        rejected: 0,
        legacyRefused: 0,
        brownoutRefused: 0,
        lastLegacyAt: NOW_ISO,
        legacyByDirection: { incoming: 3, outgoing: 0 },
        legacySdks: [
          { sdk: 'javascript', version: '1.3.0', count: 2 },
          { sdk: 'unknown', version: 'unknown', count: 1 },
        ],
        legacyRoutes: [{ value: 'unknown', count: 3 }],
        legacyKeyIds: [expect.objectContaining({ count: 3 }) as unknown],
      },
    ])
    expect(report.unverified).toEqual({ events: 1, byReason: { invalid_signature: 1 } })
    expect(report.readiness).toMatchObject({
      verdict: 'not_ready',
      legacyFree: false,
      lastLegacyAt: NOW_ISO,
      blockers: [
        expect.stringContaining(PARTNER) as string,
        expect.stringMatching(/^the evidence spans/) as string,
      ],
    })

    usage.reset()
    const empty = usage.report(generatedAt)
    expect(empty.partners).toEqual([])
    expect(empty.readiness).toMatchObject({
      verdict: 'insufficient_evidence',
      legacyFree: true,
      lastLegacyAt: null,
    })
  })
})
