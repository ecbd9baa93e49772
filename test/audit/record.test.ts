/**
 * Building the audit event from a decision (src/audit/record.ts): what each field is taken from, the
 * guard over request-supplied objects, the text cap, and the time formatted per instant.
 */
import { describe, expect, it } from 'vitest'

import { AuditRecorder, type AuditedDecision } from '../../src/audit/record.js'

const NOW = 1_700_000_000_000

const accepted: AuditedDecision = {
  result: {
    ok: true,
    scheme: 'signature',
    partnerId: '085',
    timestamp: new Date(NOW).toISOString(),
    issuedAt: new Date(NOW),
    keyId: 'hmac:0123456789abcdef',
    transport: 'headers',
    legacy: false,
    duplicate: false,
    warnings: ['timestamp_naive'],
  },
  outcome: 'accepted',
  wouldReject: null,
  transport: 'headers',
  authenticated: true,
}

const refused: AuditedDecision = {
  result: {
    ok: false,
    scheme: null,
    reason: 'scheme_not_allowed',
    message: 'refused',
    partnerId: '085',
  },
  outcome: 'rejected',
  wouldReject: null,
  transport: 'body',
  auditWarnings: ['brownout'],
}

describe('AuditRecorder.event', () => {
  it('an accepted decision: scheme, key id and warnings from the result, fields from body and context', () => {
    const event = new AuditRecorder('receiver-1').event(
      accepted,
      'signature',
      { source_sdk: 'rest_api', source_sdk_version: '1.0.0' },
      { route: '/callback', sourceIp: '127.0.0.1' },
      NOW,
    )
    expect(event).toEqual({
      time: new Date(NOW).toISOString(),
      direction: 'incoming',
      partnerId: '085',
      scheme: 'signature',
      outcome: 'accepted',
      reason: null,
      keyId: 'hmac:0123456789abcdef',
      transport: 'headers',
      warnings: ['timestamp_naive'],
      route: '/callback',
      sourceIp: '127.0.0.1',
      source_sdk: 'rest_api',
      source_sdk_version: '1.0.0',
      authenticated: true,
      instance: 'receiver-1',
    })
  })

  it('a rejection: the claimed scheme stands in for none, audit warnings, no key id, not authenticated', () => {
    const event = new AuditRecorder(null).event(refused, 'sec_key', undefined, undefined, NOW)
    expect(event).toMatchObject({
      scheme: 'sec_key',
      reason: 'scheme_not_allowed',
      keyId: null,
      warnings: ['brownout'],
      authenticated: false,
      instance: null,
      route: null,
      source_sdk: null,
    })
  })

  it('a throwing context records no route or source IP, and leaves the body fields alone', () => {
    const context = Object.defineProperty({}, 'sourceIp', {
      get: () => {
        throw new Error('getter')
      },
    })
    const event = new AuditRecorder(null).event(
      accepted,
      'signature',
      { source_sdk: 'rest_api', source_sdk_version: '1.0.0' },
      Object.assign(context, { route: '/callback' }),
      NOW,
    )
    expect(event).toMatchObject({
      route: null,
      sourceIp: null,
      source_sdk: 'rest_api',
      source_sdk_version: '1.0.0',
    })
  })

  it('a revoked Proxy as the body records no SDK fields', () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    const event = new AuditRecorder(null).event(accepted, 'signature', proxy, { route: '/cb' }, NOW)
    expect(event).toMatchObject({ route: '/cb', source_sdk: null, source_sdk_version: null })
  })

  it('keeps only text, cut to 128 characters', () => {
    const event = new AuditRecorder(null).event(
      accepted,
      'signature',
      { source_sdk: 'x'.repeat(500), source_sdk_version: 3 },
      { route: ['/a'], sourceIp: null },
      NOW,
    )
    expect(event.source_sdk).toBe('x'.repeat(128))
    expect(event.source_sdk_version).toBeNull()
    expect(event.route).toBeNull()
    expect(event.sourceIp).toBeNull()
  })

  it('formats each instant: a later instant gets its own time', () => {
    const record = new AuditRecorder(null)
    expect(record.event(accepted, null, undefined, undefined, NOW).time).toBe('2023-11-14T22:13:20.000Z')
    expect(record.event(accepted, null, undefined, undefined, NOW + 1).time).toBe('2023-11-14T22:13:20.001Z')
    expect(record.event(accepted, null, undefined, undefined, NOW).time).toBe('2023-11-14T22:13:20.000Z')
  })
})
