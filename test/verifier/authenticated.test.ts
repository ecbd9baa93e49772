/**
 * `authenticated` in audit events says whether the credential verified (and was current), whatever the
 * outcome: a policy refusal of sec_key still runs the crypto check, so the audit trail can tell a real
 * legacy client that breaks at switch-off from forged noise. The caller's result is never affected.
 */
import { describe, expect, it } from 'vitest'

import {
  LegacySecKeyAuth,
  MemoryReplayStore,
  MemoryUpgradeStore,
  type AuditEvent,
  type AuthStrategy,
  type DualModeVerifierOptions,
  type SecKeyCredentials,
  type UpgradeStore,
} from '../../src/index.js'
import { createTestKeys } from '../../src/testing/index.js'
import {
  NOW,
  PARTNER,
  dualVerifier,
  expectAccepted,
  expectRejected,
  recordingSink,
  secKeyAuth,
  secKeyBody,
  signatureBody,
} from './helpers.js'

const MINUTE = 60_000

/** Verifies one request with a recording sink and returns the result and its single event. */
async function audited(options: DualModeVerifierOptions, body: Record<string, unknown>) {
  const { events, sink } = recordingSink()
  const result = await dualVerifier({ audit: sink, ...options }).verify({ body })
  expect(events).toHaveLength(1)
  return { result, event: events[0]! }
}

/** Flips one character of the RSA half, keeping the value well-formed. */
function forgeRsaHalf(body: Record<string, unknown>): Record<string, unknown> {
  const secKey = body.sec_key as string
  return { ...body, sec_key: secKey.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }
}

/** Changes the hash half, keeping the RSA half genuine. */
function forgeHashHalf(body: Record<string, unknown>): Record<string, unknown> {
  const secKey = body.sec_key as string
  return { ...body, sec_key: secKey.replace(/[0-9a-f]$/, (c) => (c === '0' ? '1' : '0')) }
}

/** Every way the policy can refuse a sec_key before crypto, each with a verifier set up for it. */
const refusals: Array<[string, () => Promise<DualModeVerifierOptions>]> = [
  ["legacy: 'reject'", () => Promise.resolve({ policy: { legacy: 'reject' } })],
  ['a past legacySunsetAt', () => Promise.resolve({ policy: { legacySunsetAt: new Date(NOW - MINUTE) } })],
  [
    'a brownout window',
    () =>
      Promise.resolve({
        policy: { brownouts: [{ start: new Date(NOW - MINUTE), end: new Date(NOW + MINUTE) }] },
      }),
  ],
  [
    'a sticky upgrade',
    async () => {
      const upgradeStore = new MemoryUpgradeStore()
      await upgradeStore.markUpgraded(PARTNER)
      return { policy: { stickyUpgrade: true }, upgradeStore }
    },
  ],
]

describe('audit authenticated: accepted and observed requests', () => {
  it('is true for an accepted signature and an accepted sec_key', async () => {
    for (const body of [await signatureBody(), await secKeyBody()]) {
      const { result, event } = await audited({}, body)
      expect(result.ok).toBe(true)
      expect(event).toMatchObject({ outcome: 'accepted', authenticated: true })
    }
  })

  it('is true for a genuine sec_key that observe mode lets through as would_reject by policy', async () => {
    for (const [, setup] of refusals) {
      const options = await setup()
      const { result, event } = await audited(
        { ...options, policy: { ...options.policy, mode: 'observe' } },
        await secKeyBody(),
      )
      expect(expectAccepted(result, 'sec_key').warnings).toContain('would_reject:scheme_not_allowed')
      expect(event).toMatchObject({
        outcome: 'would_reject',
        reason: 'scheme_not_allowed',
        authenticated: true,
      })
    }
  })

  it('is false for a forged signature and forged sec_key (rejected by crypto)', async () => {
    const forgedSignature = await audited({}, await signatureBody({ apiKey: 'wrong-key' }))
    expectRejected(forgedSignature.result, 'invalid_signature', 'signature')
    expect(forgedSignature.event.authenticated).toBe(false)

    const forgedSecKey = await audited({}, forgeHashHalf(await secKeyBody()))
    expectRejected(forgedSecKey.result, 'invalid_sec_key', 'sec_key')
    expect(forgedSecKey.event.authenticated).toBe(false)
  })
})

describe('audit authenticated: sec_key refused by policy still runs the crypto check', () => {
  it.each(refusals)(
    '%s: a genuine sec_key is refused (scheme_not_allowed) and audited as authenticated',
    async (_, setup) => {
      const { result, event } = await audited(await setup(), await secKeyBody())
      const failure = expectRejected(result, 'scheme_not_allowed', 'sec_key')
      expect(failure.partnerId).toBe(PARTNER)
      expect(event).toMatchObject({
        outcome: 'rejected',
        reason: 'scheme_not_allowed',
        scheme: 'sec_key',
        partnerId: PARTNER,
        authenticated: true,
      })
    },
  )

  it.each(refusals)(
    '%s: forged, garbage or wrong-key sec_keys stay scheme_not_allowed and unauthenticated',
    async (_, setup) => {
      const genuine = await secKeyBody()
      const other = createTestKeys({ partnerId: PARTNER })
      const wrongKey = {
        ...genuine,
        ...(await new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: other.secKeyPrivateKey }).sign({
          timestamp: NOW,
        })),
      }
      const candidates = [
        forgeRsaHalf(genuine),
        forgeHashHalf(genuine),
        { ...genuine, sec_key: `${'QUJD'.repeat(43)}==|${'0'.repeat(64)}` },
        { ...genuine, sec_key: 'garbage' },
        wrongKey,
      ]
      for (const body of candidates) {
        const { result, event } = await audited(await setup(), body)
        // The caller's answer is the refusal, exactly as before: crypto runs for the audit only.
        expectRejected(result, 'scheme_not_allowed', 'sec_key')
        expect(event).toMatchObject({
          outcome: 'rejected',
          reason: 'scheme_not_allowed',
          authenticated: false,
        })
      }
    },
  )

  it('stale but genuine: a refused sec_key whose timestamp is outside the window is not authenticated', async () => {
    // Anyone holding an old capture can send it: it proves no live client, and must not block a migration.
    for (const timestamp of [NOW - 10 * MINUTE, NOW + 10 * MINUTE]) {
      const { result, event } = await audited(
        { policy: { legacy: 'reject' } },
        await secKeyBody({ timestamp }),
      )
      expectRejected(result, 'scheme_not_allowed', 'sec_key')
      expect(event.authenticated).toBe(false)
    }
    // With freshness off there is no window: a genuine credential is authenticated.
    const { event } = await audited(
      { policy: { legacy: 'reject' }, freshness: false },
      await secKeyBody({ timestamp: NOW - 10 * MINUTE }),
    )
    expect(event.authenticated).toBe(true)
  })

  it('runs the check through an asynchronous strategy too, and survives one that throws', async () => {
    const real = secKeyAuth()
    const asyncStrategy: AuthStrategy<SecKeyCredentials> = {
      scheme: 'sec_key',
      partnerId: PARTNER,
      sign: (options) => real.sign(options),
      verify: async (credentials) => {
        await Promise.resolve()
        return real.verify(credentials)
      },
    }
    const genuine = await audited({ secKey: asyncStrategy, policy: { legacy: 'reject' } }, await secKeyBody())
    expectRejected(genuine.result, 'scheme_not_allowed', 'sec_key')
    expect(genuine.event.authenticated).toBe(true)

    const forged = await audited(
      { secKey: asyncStrategy, policy: { legacy: 'reject' } },
      forgeHashHalf(await secKeyBody()),
    )
    expect(forged.event.authenticated).toBe(false)

    for (const verify of [
      () => {
        throw new Error('strategy bug')
      },
      () => Promise.reject(new Error('strategy bug')),
      () => Promise.resolve(undefined),
      () => undefined,
    ]) {
      const broken = { ...asyncStrategy, verify } as unknown as AuthStrategy<SecKeyCredentials>
      const { result, event } = await audited(
        { secKey: broken, policy: { legacy: 'reject' } },
        await secKeyBody(),
      )
      expectRejected(result, 'scheme_not_allowed', 'sec_key')
      expect(event.authenticated).toBe(false)
    }
  })

  it('skips the check when nobody reads the audit (no sinks): the refusal costs no crypto', async () => {
    let calls = 0
    const real = secKeyAuth()
    const counting: AuthStrategy<SecKeyCredentials> = {
      scheme: 'sec_key',
      partnerId: PARTNER,
      sign: (options) => real.sign(options),
      verify: (credentials) => {
        calls++
        return real.verify(credentials)
      },
    }
    const quiet = dualVerifier({ secKey: counting, policy: { legacy: 'reject' } })
    expectRejected(await quiet.verify({ body: await secKeyBody() }), 'scheme_not_allowed', 'sec_key')
    expect(calls).toBe(0)
    const { sink } = recordingSink()
    const audited = dualVerifier({ secKey: counting, policy: { legacy: 'reject' }, audit: sink })
    expectRejected(await audited.verify({ body: await secKeyBody() }), 'scheme_not_allowed', 'sec_key')
    expect(calls).toBe(1)
  })

  it('a refused request leaves no replay entry: the same credential is new once legacy is allowed again', async () => {
    const replay = new MemoryReplayStore()
    const body = await secKeyBody()
    const { sink } = recordingSink()
    const refusing = dualVerifier({ policy: { legacy: 'reject' }, replay, audit: sink })
    expectRejected(await refusing.verify({ body }), 'scheme_not_allowed', 'sec_key')
    const allowing = dualVerifier({ replay })
    expect(expectAccepted(await allowing.verify({ body }), 'sec_key').duplicate).toBe(false)
  })
})

describe('audit authenticated: freshness, replay and store failures', () => {
  it('stale but genuine: expired or future credentials are not authenticated, in enforce and observe mode', async () => {
    const old = await signatureBody({ timestamp: new Date(NOW - 10 * MINUTE) })
    const enforced = await audited({}, old)
    expectRejected(enforced.result, 'timestamp_expired', 'signature')
    expect(enforced.event.authenticated).toBe(false)

    const observed = await audited({ policy: { mode: 'observe' } }, old)
    expect(expectAccepted(observed.result, 'signature').warnings).toEqual(['would_reject:timestamp_expired'])
    expect(observed.event).toMatchObject({ outcome: 'would_reject', authenticated: false })

    const future = await audited(
      { policy: { mode: 'observe' } },
      await secKeyBody({ timestamp: NOW + 10 * MINUTE }),
    )
    expect(future.event).toMatchObject({ outcome: 'would_reject', authenticated: false })
  })

  it('a replay with another body is not authenticated; a redelivery of the same body is', async () => {
    const events: AuditEvent[] = []
    const verifier = dualVerifier({
      replay: new MemoryReplayStore(),
      audit: (event) => void events.push(event),
    })
    const body = await signatureBody()
    expectAccepted(await verifier.verify({ body }), 'signature')
    expect(expectAccepted(await verifier.verify({ body }), 'signature').duplicate).toBe(true)
    expectRejected(await verifier.verify({ body: { ...body, job_id: 'other' } }), 'replayed', 'signature')
    expect(events.map((e) => [e.outcome, e.authenticated])).toEqual([
      ['accepted', true],
      ['accepted', true],
      ['rejected', false],
    ])

    const observing = recordingSink()
    const observer = dualVerifier({
      policy: { mode: 'observe' },
      replay: new MemoryReplayStore(),
      audit: observing.sink,
    })
    await observer.verify({ body })
    await observer.verify({ body: { ...body, job_id: 'other' } })
    expect(observing.events.map((e) => [e.outcome, e.reason, e.authenticated])).toEqual([
      ['accepted', null, true],
      ['would_reject', 'replayed', false],
    ])
  })

  it('a genuine, current request refused because a store is down is authenticated; a forged one is not', async () => {
    const down: UpgradeStore = {
      isUpgraded: () => Promise.reject(new Error('down')),
      markUpgraded: () => Promise.reject(new Error('down')),
    }
    const upgrade = await audited({ policy: { stickyUpgrade: true }, upgradeStore: down }, await secKeyBody())
    expectRejected(upgrade.result, 'replay_check_failed', 'sec_key')
    expect(upgrade.event.authenticated).toBe(true)
    const forgedUpgrade = await audited(
      { policy: { stickyUpgrade: true }, upgradeStore: down },
      forgeHashHalf(await secKeyBody()),
    )
    expectRejected(forgedUpgrade.result, 'replay_check_failed', 'sec_key')
    expect(forgedUpgrade.event.authenticated).toBe(false)

    const replay = await audited(
      { replay: { remember: () => Promise.reject(new Error('down')) } },
      await signatureBody(),
    )
    expectRejected(replay.result, 'replay_check_failed', 'signature')
    expect(replay.event.authenticated).toBe(true)
  })

  it('requests that never reach crypto are not authenticated', async () => {
    for (const body of [{}, { partner_id: PARTNER }, { sec_key: 'x', timestamp: NOW }]) {
      const { result, event } = await audited({}, body)
      expect(result.ok).toBe(false)
      expect(event.authenticated).toBe(false)
    }
  })
})
