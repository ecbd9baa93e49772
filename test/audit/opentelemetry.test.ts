/**
 * The OpenTelemetry audit sink against the real metrics SDK: a MeterProvider with an in-memory exporter.
 */
import { metrics } from '@opentelemetry/api'
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { afterEach, describe, expect, it } from 'vitest'

import {
  ConfigurationError,
  DualModeVerifier,
  LegacySecKeyAuth,
  SignatureAuth,
  type AuditEvent,
} from '../../src/index.js'
import { VERIFICATIONS_COUNTER, openTelemetryAuditSink } from '../../src/audit/opentelemetry.js'
import { createTestKeys } from '../../src/testing/test-keys.js'

const keys = createTestKeys({ partnerId: '085' })
const signer = new SignatureAuth({ partnerId: '085', apiKey: keys.signatureApiKey })
const smile = new LegacySecKeyAuth({ partnerId: '085', privateKey: keys.secKeyPrivateKey })

function sdk() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const provider = new MeterProvider({ readers: [reader] })
  /** The counter's data points as last exported: attributes and value. */
  const points = async () => {
    await reader.forceFlush()
    const exported = exporter.getMetrics().at(-1)
    const metric = exported?.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((m) => m.descriptor.name === VERIFICATIONS_COUNTER)
    return (metric?.dataPoints ?? []).map((point) => ({
      attributes: point.attributes,
      value: point.value as number,
    }))
  }
  return { provider, points, exporter }
}

function verifier(audit: ReturnType<typeof openTelemetryAuditSink>) {
  return new DualModeVerifier({
    signature: new SignatureAuth({ partnerId: '085', apiKey: keys.signatureApiKey }),
    secKey: new LegacySecKeyAuth({ partnerId: '085', apiKey: keys.secKeyApiKey }),
    policy: { legacy: 'warn' },
    audit,
  })
}

const body = async (job: string) => ({ partner_id: '085', ...(await signer.sign()), SmileJobID: job })

afterEach(() => {
  metrics.disable()
})

describe('openTelemetryAuditSink with the real metrics SDK', () => {
  it('counts each verification with scheme, outcome, reason, legacy, authenticated and the partner', async () => {
    const { provider, points } = sdk()
    const v = verifier(openTelemetryAuditSink({ meter: provider.getMeter('test') }))
    for (let i = 0; i < 3; i++) expect((await v.verify({ body: await body(`s-${i}`) })).ok).toBe(true)
    const legacy = { partner_id: '085', ...(await smile.sign()), SmileJobID: 'legacy' }
    expect((await v.verify({ body: legacy })).ok).toBe(true)
    expect((await v.verify({ body: { SmileJobID: 'nothing' } })).ok).toBe(false)

    const found = await points()
    expect(found).toEqual(
      expect.arrayContaining([
        {
          attributes: {
            'smileid.scheme': 'signature',
            'smileid.outcome': 'accepted',
            'smileid.reason': 'none',
            'smileid.legacy': false,
            'smileid.authenticated': true,
            'smileid.partner_id': '085',
          },
          value: 3,
        },
        {
          attributes: {
            'smileid.scheme': 'sec_key',
            'smileid.outcome': 'accepted',
            'smileid.reason': 'none',
            'smileid.legacy': true,
            'smileid.authenticated': true,
            'smileid.partner_id': '085',
          },
          value: 1,
        },
        {
          attributes: {
            'smileid.scheme': 'none',
            'smileid.outcome': 'rejected',
            'smileid.reason': 'missing_credentials',
            'smileid.legacy': false,
            'smileid.authenticated': false,
          },
          value: 1,
        },
      ]),
    )
    expect(found).toHaveLength(3)
    await provider.shutdown()
  })

  it('a forged request carries no partner id, whichever partner it names: one series for all of them', async () => {
    const { provider, points } = sdk()
    const v = verifier(openTelemetryAuditSink({ meter: provider.getMeter('test') }))
    const forger = new SignatureAuth({ partnerId: '085', apiKey: 'not-the-key' })
    for (let i = 0; i < 50; i++) {
      const forged = { partner_id: '085', ...(await forger.sign()), SmileJobID: `f-${i}` }
      const result = await v.verify({ body: forged })
      expect(!result.ok && result.reason).toBe('invalid_signature')
    }
    // Unknown partners, each named once: no series per name.
    for (let i = 0; i < 50; i++) {
      const result = await v.verify({ body: { partner_id: `9${i}`, ...(await forger.sign()) } })
      expect(result.ok).toBe(false)
    }
    const found = await points()
    for (const point of found) expect(point.attributes).not.toHaveProperty('smileid.partner_id')
    expect(found).toContainEqual({
      attributes: {
        'smileid.scheme': 'signature',
        'smileid.outcome': 'rejected',
        'smileid.reason': 'invalid_signature',
        'smileid.legacy': false,
        'smileid.authenticated': false,
      },
      value: 50,
    })
    expect(found.length).toBeLessThanOrEqual(3)
    await provider.shutdown()
  })

  it('maps events one to one: an authenticated refusal names its partner, would_reject keeps its reason, outgoing is not counted', async () => {
    const { provider, points } = sdk()
    const sink = openTelemetryAuditSink({ meter: provider.getMeter('test') })
    const base: AuditEvent = {
      time: '2026-01-01T00:00:00.000Z',
      direction: 'incoming',
      partnerId: '212',
      scheme: 'sec_key',
      outcome: 'rejected',
      reason: 'scheme_not_allowed',
      keyId: null,
      transport: 'body',
      warnings: [],
      route: null,
      sourceIp: null,
      source_sdk: null,
      source_sdk_version: null,
      authenticated: true,
      instance: null,
    }
    sink.write(base)
    sink.write({ ...base, outcome: 'would_reject', reason: 'timestamp_expired', scheme: 'signature' })
    sink.write({ ...base, direction: 'outgoing', outcome: 'accepted', reason: null })
    expect(await points()).toEqual([
      {
        attributes: {
          'smileid.scheme': 'sec_key',
          'smileid.outcome': 'rejected',
          'smileid.reason': 'scheme_not_allowed',
          'smileid.legacy': true,
          'smileid.authenticated': true,
          'smileid.partner_id': '212',
        },
        value: 1,
      },
      {
        attributes: {
          'smileid.scheme': 'signature',
          'smileid.outcome': 'would_reject',
          'smileid.reason': 'timestamp_expired',
          'smileid.legacy': false,
          'smileid.authenticated': true,
          'smileid.partner_id': '212',
        },
        value: 1,
      },
    ])
    await provider.shutdown()
  })

  it('with no SDK registered, nothing breaks and nothing is counted; an SDK registered later is picked up', async () => {
    metrics.disable()
    const early = openTelemetryAuditSink()
    const v = verifier(early)
    expect((await v.verify({ body: await body('no-sdk') })).ok).toBe(true)
    expect((await v.verify({ body: {} })).ok).toBe(false)

    const { provider, points } = sdk()
    expect(metrics.setGlobalMeterProvider(provider)).toBe(true)
    // A sink made now counts from its first event; the early one within a few hundred events.
    const late = openTelemetryAuditSink()
    expect((await verifier(late).verify({ body: await body('sdk') })).ok).toBe(true)
    const event = (await new Promise<AuditEvent>((resolve) => {
      const capture = new DualModeVerifier({
        signature: new SignatureAuth({ partnerId: '085', apiKey: keys.signatureApiKey }),
        audit: resolve,
      })
      void body('capture').then((b) => capture.verify({ body: b }))
    })) satisfies AuditEvent
    for (let i = 0; i < 300; i++) early.write(event)
    const total = (await points()).reduce((sum, point) => sum + point.value, 0)
    expect(total).toBeGreaterThanOrEqual(1 + 300 - 256)
    expect(total).toBeLessThanOrEqual(301)
    await provider.shutdown()
  })

  it('writing never throws, even for an event that throws; a meter that is not one is refused', async () => {
    const { provider, points } = sdk()
    const sink = openTelemetryAuditSink({ meter: provider.getMeter('test') })
    const hostile = new Proxy({} as AuditEvent, {
      get() {
        throw new Error('getter')
      },
    })
    expect(() => sink.write(hostile)).not.toThrow()
    expect(await points()).toEqual([])
    for (const meter of [{}, 'meter', null]) {
      expect(() => openTelemetryAuditSink({ meter: meter as never })).toThrow(ConfigurationError)
    }
    await provider.shutdown()
  })

  it('keeps at most 64 reasons apart; more share "other" (bounded even for a custom event source)', async () => {
    const { provider, points } = sdk()
    const sink = openTelemetryAuditSink({ meter: provider.getMeter('test') })
    const event: AuditEvent = {
      time: '2026-01-01T00:00:00.000Z',
      direction: 'incoming',
      partnerId: null,
      scheme: null,
      outcome: 'rejected',
      reason: null,
      keyId: null,
      transport: null,
      warnings: [],
      route: null,
      sourceIp: null,
      source_sdk: null,
      source_sdk_version: null,
      authenticated: false,
      instance: null,
    }
    for (let i = 0; i < 200; i++) sink.write({ ...event, reason: `made_up_${i}` as AuditEvent['reason'] })
    const found = await points()
    expect(found.length).toBeLessThanOrEqual(64)
    const other = found.find((p) => p.attributes['smileid.reason'] === 'other')
    expect(other?.value).toBe(200 - 62)
    await provider.shutdown()
  })
})
