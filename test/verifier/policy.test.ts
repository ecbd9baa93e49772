import { describe, expect, it } from 'vitest'

import {
  DualModeVerifier,
  MemoryReplayStore,
  MemoryUpgradeStore,
  type UpgradeStore,
} from '../../src/index.js'
import {
  NOW,
  OTHER_API_KEY,
  OTHER_PARTNER,
  PARTNER,
  dualVerifier,
  expectAccepted,
  expectRejected,
  recordingSink,
  secKeyAuth,
  secKeyBody,
  signatureAuth,
  signatureBody,
  testClock,
} from './helpers.js'

const MINUTE = 60_000
const SUNSET = new Date(NOW + 60 * MINUTE)

describe('migration policy: legacy accept / warn / reject', () => {
  it("accepts sec_key without a warning under 'accept' (the default)", async () => {
    for (const policy of [{}, { legacy: 'accept' as const }]) {
      const result = expectAccepted(
        await dualVerifier({ policy }).verify({ body: await secKeyBody() }),
        'sec_key',
      )
      expect(result.warnings).toEqual([])
    }
  })

  it("accepts sec_key with a legacy_scheme warning under 'warn'", async () => {
    const verifier = dualVerifier({ policy: { legacy: 'warn' } })
    const result = expectAccepted(await verifier.verify({ body: await secKeyBody() }), 'sec_key')
    expect(result.warnings).toEqual(['legacy_scheme'])
    const signature = expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
    expect(signature.warnings).toEqual([])
  })

  it("rejects sec_key as scheme_not_allowed under 'reject', and still accepts signature", async () => {
    const verifier = dualVerifier({ policy: { legacy: 'reject' } })
    const failure = expectRejected(
      await verifier.verify({ body: await secKeyBody() }),
      'scheme_not_allowed',
      'sec_key',
    )
    expect(failure.partnerId).toBe(PARTNER)
    expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
  })

  it('refuses by policy before any crypto: a forged sec_key is scheme_not_allowed, not invalid_sec_key', async () => {
    const body = await secKeyBody()
    const forged = {
      ...body,
      sec_key: (body.sec_key as string).replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
    }
    expectRejected(
      await dualVerifier({ policy: { legacy: 'reject' } }).verify({ body: forged }),
      'scheme_not_allowed',
      'sec_key',
    )
  })

  it('applies a per-partner policy over the verifier policy', async () => {
    const verifier = new DualModeVerifier({
      partners: {
        [PARTNER]: { signature: signatureAuth(), secKey: secKeyAuth() },
        [OTHER_PARTNER]: {
          signature: signatureAuth(OTHER_PARTNER, OTHER_API_KEY),
          secKey: secKeyAuth(OTHER_PARTNER),
          policy: { legacy: 'reject' },
        },
      },
      policy: { legacy: 'warn' },
      now: () => NOW,
    })
    const ours = expectAccepted(
      await verifier.verify({ body: await secKeyBody({ fields: { partner_id: PARTNER } }) }),
      'sec_key',
    )
    expect(ours.warnings).toEqual(['legacy_scheme'])
    expectRejected(
      await verifier.verify({
        body: await secKeyBody({ partnerId: OTHER_PARTNER, fields: { partner_id: OTHER_PARTNER } }),
      }),
      'scheme_not_allowed',
      'sec_key',
    )
  })
})

describe('migration policy: legacySunsetAt', () => {
  it('accepts sec_key before the sunset, with a legacy_scheme warning', async () => {
    for (const legacySunsetAt of [SUNSET, SUNSET.toISOString()]) {
      const clock = testClock(SUNSET.getTime() - 1)
      const verifier = dualVerifier({ policy: { legacySunsetAt }, now: clock.now })
      const body = await secKeyBody({ timestamp: clock.now() })
      const result = expectAccepted(await verifier.verify({ body }), 'sec_key')
      expect(result.warnings).toEqual(['legacy_scheme'])
    }
  })

  it('rejects sec_key as scheme_not_allowed from the sunset instant on, using the injected clock', async () => {
    const clock = testClock(SUNSET.getTime() - 1)
    const verifier = dualVerifier({ policy: { legacySunsetAt: SUNSET.toISOString() }, now: clock.now })
    expectAccepted(await verifier.verify({ body: await secKeyBody({ timestamp: clock.now() }) }), 'sec_key')

    clock.set(SUNSET.getTime())
    expectRejected(
      await verifier.verify({ body: await secKeyBody({ timestamp: clock.now() }) }),
      'scheme_not_allowed',
      'sec_key',
    )
    clock.advance(24 * 60 * MINUTE)
    expectRejected(
      await verifier.verify({ body: await secKeyBody({ timestamp: clock.now() }) }),
      'scheme_not_allowed',
      'sec_key',
    )
    // The signature scheme is unaffected by the sunset.
    expectAccepted(
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(clock.now()) }) }),
      'signature',
    )
  })

  it('a sunset in the past rejects at once even under legacy: accept', async () => {
    const verifier = dualVerifier({ policy: { legacy: 'accept', legacySunsetAt: new Date(NOW - 1) } })
    expectRejected(await verifier.verify({ body: await secKeyBody() }), 'scheme_not_allowed', 'sec_key')
  })
})

describe("migration policy: mode 'observe' vs 'enforce'", () => {
  it('enforce (the default) rejects what the policy refuses; observe accepts with would_reject:<reason>', async () => {
    const enforce = recordingSink()
    const enforcing = dualVerifier({ policy: { legacy: 'reject', mode: 'enforce' }, audit: enforce.sink })
    expectRejected(await enforcing.verify({ body: await secKeyBody() }), 'scheme_not_allowed', 'sec_key')
    expect(enforce.events[0]).toMatchObject({
      outcome: 'rejected',
      reason: 'scheme_not_allowed',
      scheme: 'sec_key',
    })

    const observe = recordingSink()
    const observing = dualVerifier({ policy: { legacy: 'reject', mode: 'observe' }, audit: observe.sink })
    const result = expectAccepted(await observing.verify({ body: await secKeyBody() }), 'sec_key')
    expect(result.warnings).toEqual(['would_reject:scheme_not_allowed'])
    expect(observe.events[0]).toMatchObject({
      outcome: 'would_reject',
      reason: 'scheme_not_allowed',
      scheme: 'sec_key',
      warnings: ['would_reject:scheme_not_allowed'],
    })
  })

  it('observe records a sunset refusal as would_reject', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({
      policy: { mode: 'observe', legacySunsetAt: new Date(NOW - 1) },
      audit: sink,
    })
    const result = expectAccepted(await verifier.verify({ body: await secKeyBody() }), 'sec_key')
    expect(result.warnings).toContain('would_reject:scheme_not_allowed')
    expect(events[0]).toMatchObject({ outcome: 'would_reject', reason: 'scheme_not_allowed' })
  })

  it('observe turns freshness failures into warnings', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ policy: { mode: 'observe' }, audit: sink })
    const expired = expectAccepted(
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW - 10 * MINUTE) }) }),
      'signature',
    )
    expect(expired.warnings).toEqual(['would_reject:timestamp_expired'])
    const future = expectAccepted(
      await verifier.verify({ body: await secKeyBody({ timestamp: NOW + 10 * MINUTE }) }),
      'sec_key',
    )
    expect(future.warnings).toEqual(['would_reject:timestamp_in_future'])
    expect(events.map((e) => [e.outcome, e.reason])).toEqual([
      ['would_reject', 'timestamp_expired'],
      ['would_reject', 'timestamp_in_future'],
    ])

    // The same requests are rejected in enforce mode.
    const enforcing = dualVerifier()
    expectRejected(
      await enforcing.verify({ body: await signatureBody({ timestamp: new Date(NOW - 10 * MINUTE) }) }),
      'timestamp_expired',
      'signature',
    )
    expectRejected(
      await enforcing.verify({ body: await secKeyBody({ timestamp: NOW + 10 * MINUTE }) }),
      'timestamp_in_future',
      'sec_key',
    )
  })

  it('observe turns replay failures into warnings', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({
      policy: { mode: 'observe' },
      replay: new MemoryReplayStore(),
      audit: sink,
    })
    const body = await signatureBody()
    expectAccepted(await verifier.verify({ body }), 'signature')
    const replayed = expectAccepted(
      await verifier.verify({ body: { ...body, job_id: 'other' } }),
      'signature',
    )
    expect(replayed.warnings).toEqual(['would_reject:replayed'])

    const failing = dualVerifier({
      policy: { mode: 'observe' },
      replay: { remember: () => Promise.reject(new Error('store down')) },
      audit: sink,
    })
    const unchecked = expectAccepted(await failing.verify({ body }), 'signature')
    expect(unchecked.warnings).toEqual(['would_reject:replay_check_failed'])
    expect(events.map((e) => [e.outcome, e.reason])).toEqual([
      ['accepted', null],
      ['would_reject', 'replayed'],
      ['would_reject', 'replay_check_failed'],
    ])
  })

  it('observe keeps the first would-reject reason for the audit and warns about each', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ policy: { mode: 'observe', legacy: 'reject' }, audit: sink })
    const result = expectAccepted(
      await verifier.verify({ body: await secKeyBody({ timestamp: NOW - 10 * MINUTE }) }),
      'sec_key',
    )
    expect(result.warnings).toEqual(['would_reject:scheme_not_allowed', 'would_reject:timestamp_expired'])
    expect(events[0]).toMatchObject({ outcome: 'would_reject', reason: 'scheme_not_allowed' })
  })

  it('observe still rejects cryptographic failures', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ policy: { mode: 'observe', legacy: 'reject' }, audit: sink })
    expectRejected(
      await verifier.verify({ body: await signatureBody({ apiKey: 'wrong-key' }) }),
      'invalid_signature',
      'signature',
    )
    const body = await secKeyBody()
    const tampered = {
      ...body,
      sec_key: (body.sec_key as string).replace(/[0-9a-f]$/, (c) => (c === '0' ? '1' : '0')),
    }
    expectRejected(await verifier.verify({ body: tampered }), 'invalid_sec_key', 'sec_key')
    expectRejected(
      await verifier.verify({ body: { signature: 'short', timestamp: '2023-11-14T22:13:20Z' } }),
      'malformed_credentials',
      'signature',
    )
    expect(events.map((e) => [e.outcome, e.reason, e.scheme])).toEqual([
      ['rejected', 'invalid_signature', 'signature'],
      ['rejected', 'invalid_sec_key', 'sec_key'],
      ['rejected', 'malformed_credentials', 'signature'],
    ])
  })
})

describe('migration policy: stickyUpgrade', () => {
  it('refuses sec_key once the partner has authenticated with signature', async () => {
    const verifier = dualVerifier({ policy: { stickyUpgrade: true } })
    expectAccepted(await verifier.verify({ body: await secKeyBody() }), 'sec_key')
    expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
    const failure = expectRejected(
      await verifier.verify({ body: await secKeyBody() }),
      'scheme_not_allowed',
      'sec_key',
    )
    expect(failure.partnerId).toBe(PARTNER)
    // Signature keeps working.
    expectAccepted(
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW + 1) }) }),
      'signature',
    )
  })

  it('does not upgrade on a failed signature', async () => {
    const verifier = dualVerifier({ policy: { stickyUpgrade: true } })
    expectRejected(
      await verifier.verify({ body: await signatureBody({ apiKey: 'wrong' }) }),
      'invalid_signature',
      'signature',
    )
    expectAccepted(await verifier.verify({ body: await secKeyBody() }), 'sec_key')
  })

  it('is off by default: sec_key is still accepted after a signature', async () => {
    const verifier = dualVerifier()
    expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
    expectAccepted(await verifier.verify({ body: await secKeyBody() }), 'sec_key')
  })

  it('is per partner', async () => {
    const verifier = new DualModeVerifier({
      partners: {
        [PARTNER]: { signature: signatureAuth(), secKey: secKeyAuth() },
        [OTHER_PARTNER]: {
          signature: signatureAuth(OTHER_PARTNER, OTHER_API_KEY),
          secKey: secKeyAuth(OTHER_PARTNER),
        },
      },
      policy: { stickyUpgrade: true },
      now: () => NOW,
    })
    const ours = { fields: { partner_id: PARTNER } }
    const theirs = { partnerId: OTHER_PARTNER, fields: { partner_id: OTHER_PARTNER } }
    expectAccepted(await verifier.verify({ body: await signatureBody(ours) }), 'signature')
    expectRejected(await verifier.verify({ body: await secKeyBody(ours) }), 'scheme_not_allowed', 'sec_key')
    // The other partner has not upgraded: its sec_key still passes.
    expectAccepted(await verifier.verify({ body: await secKeyBody(theirs) }), 'sec_key')
    expectAccepted(
      await verifier.verify({ body: await signatureBody({ ...theirs, apiKey: OTHER_API_KEY }) }),
      'signature',
    )
    expectRejected(await verifier.verify({ body: await secKeyBody(theirs) }), 'scheme_not_allowed', 'sec_key')
  })

  it('applies only to partners whose policy asks for it', async () => {
    const verifier = new DualModeVerifier({
      partners: {
        [PARTNER]: { signature: signatureAuth(), secKey: secKeyAuth(), policy: { stickyUpgrade: true } },
        [OTHER_PARTNER]: {
          signature: signatureAuth(OTHER_PARTNER, OTHER_API_KEY),
          secKey: secKeyAuth(OTHER_PARTNER),
        },
      },
      now: () => NOW,
    })
    const theirs = { partnerId: OTHER_PARTNER, fields: { partner_id: OTHER_PARTNER } }
    expectAccepted(
      await verifier.verify({ body: await signatureBody({ ...theirs, apiKey: OTHER_API_KEY }) }),
      'signature',
    )
    expectAccepted(await verifier.verify({ body: await secKeyBody(theirs) }), 'sec_key')
    const ours = { fields: { partner_id: PARTNER } }
    expectAccepted(await verifier.verify({ body: await signatureBody(ours) }), 'signature')
    expectRejected(await verifier.verify({ body: await secKeyBody(ours) }), 'scheme_not_allowed', 'sec_key')
  })

  it('is remembered in the upgrade store, shared between verifier instances', async () => {
    const upgradeStore = new MemoryUpgradeStore()
    const first = dualVerifier({ policy: { stickyUpgrade: true }, upgradeStore })
    const second = dualVerifier({ policy: { stickyUpgrade: true }, upgradeStore })
    expectAccepted(await first.verify({ body: await signatureBody() }), 'signature')
    await expect(upgradeStore.isUpgraded(PARTNER)).resolves.toBe(true)
    expectRejected(await second.verify({ body: await secKeyBody() }), 'scheme_not_allowed', 'sec_key')
  })

  it('observe mode: a signature request that only passed as would_reject does not upgrade the partner', async () => {
    const verifier = dualVerifier({ policy: { stickyUpgrade: true, mode: 'observe' } })
    const stale = expectAccepted(
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW - 3_600_000) }) }),
      'signature',
    )
    expect(stale.warnings).toContain('would_reject:timestamp_expired')
    const legacy = expectAccepted(await verifier.verify({ body: await secKeyBody() }), 'sec_key')
    expect(legacy.warnings).not.toContain('would_reject:scheme_not_allowed')
  })

  it('observe mode reports a sticky refusal as would_reject', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ policy: { stickyUpgrade: true, mode: 'observe' }, audit: sink })
    expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
    const result = expectAccepted(await verifier.verify({ body: await secKeyBody() }), 'sec_key')
    expect(result.warnings).toEqual(['would_reject:scheme_not_allowed'])
    expect(events[1]).toMatchObject({
      outcome: 'would_reject',
      reason: 'scheme_not_allowed',
      scheme: 'sec_key',
    })
  })

  it('fails closed when the upgrade store cannot be read (replay_check_failed), unless told to accept', async () => {
    const broken: UpgradeStore = {
      markUpgraded: () => Promise.reject(new Error('down')),
      isUpgraded: () => Promise.reject(new Error('down')),
    }
    const closed = dualVerifier({ policy: { stickyUpgrade: true }, upgradeStore: broken })
    expectRejected(await closed.verify({ body: await secKeyBody() }), 'replay_check_failed', 'sec_key')
    // A failed markUpgraded never breaks a signature request.
    expectAccepted(await closed.verify({ body: await signatureBody() }), 'signature')

    // replayFailure governs the replay store only; the upgrade store has its own option (upgradeFailure).
    const replayOpen = dualVerifier({
      policy: { stickyUpgrade: true },
      upgradeStore: broken,
      replayFailure: 'accept',
    })
    expectRejected(await replayOpen.verify({ body: await secKeyBody() }), 'replay_check_failed', 'sec_key')

    const open = dualVerifier({
      policy: { stickyUpgrade: true },
      upgradeStore: broken,
      upgradeFailure: 'accept',
    })
    const result = expectAccepted(await open.verify({ body: await secKeyBody() }), 'sec_key')
    expect(result.warnings).toEqual(['upgrade_unchecked'])
  })
})
