import { describe, expect, it } from 'vitest'

import { DualModeVerifier, MemoryReplayStore, type ReplayOutcome, type ReplayStore } from '../../src/index.js'
import {
  NOW,
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

/** A MemoryReplayStore that records every call. */
function spyStore(): ReplayStore & { calls: Array<{ key: string; fingerprint: string; ttlMs: number }> } {
  const inner = new MemoryReplayStore()
  const calls: Array<{ key: string; fingerprint: string; ttlMs: number }> = []
  return {
    calls,
    remember(key, fingerprint, ttlMs) {
      calls.push({ key, fingerprint, ttlMs })
      return inner.remember(key, fingerprint, ttlMs)
    },
  }
}

function failingStore(kind: 'throw' | 'reject'): ReplayStore {
  return {
    remember(): Promise<ReplayOutcome> {
      if (kind === 'throw') throw new Error('connection refused')
      return Promise.reject(new Error('connection refused'))
    },
  }
}

function deeplyNested(depth: number): unknown {
  let value: unknown = 0
  for (let i = 0; i < depth; i++) value = { a: value }
  return value
}

describe('replay: duplicate vs replayed', () => {
  it('accepts the same credential with the same body as a redelivery (duplicate: true)', async () => {
    const verifier = dualVerifier({ replay: new MemoryReplayStore() })
    const body = await signatureBody()
    expect(expectAccepted(await verifier.verify({ body }), 'signature').duplicate).toBe(false)
    const again = expectAccepted(await verifier.verify({ body: structuredClone(body) }), 'signature')
    expect(again.duplicate).toBe(true)
    expect(again.warnings).toEqual([])
  })

  it('rejects the same credential with a different body as replayed', async () => {
    const verifier = dualVerifier({ replay: new MemoryReplayStore() })
    const body = await signatureBody()
    expectAccepted(await verifier.verify({ body }), 'signature')
    const failure = expectRejected(
      await verifier.verify({ body: { ...body, result: { ResultCode: '1013' } } }),
      'replayed',
      'signature',
    )
    expect(failure.partnerId).toBe(PARTNER)
    // The original body is still a redelivery afterwards.
    expect(expectAccepted(await verifier.verify({ body }), 'signature').duplicate).toBe(true)
  })

  it('works the same for sec_key', async () => {
    const verifier = dualVerifier({ replay: new MemoryReplayStore() })
    const body = await secKeyBody()
    expect(expectAccepted(await verifier.verify({ body }), 'sec_key').duplicate).toBe(false)
    expect(expectAccepted(await verifier.verify({ body }), 'sec_key').duplicate).toBe(true)
    expectRejected(await verifier.verify({ body: { ...body, job_id: 'job-2' } }), 'replayed', 'sec_key')
  })

  it('fingerprints the parsed body in its own key order, leaving the credential fields out', async () => {
    const verifier = dualVerifier({ replay: new MemoryReplayStore() })
    const { signature } = await signatureAuth().sign({ timestamp: '1700000000' })
    expectAccepted(
      await verifier.verify({ body: { signature, timestamp: '1700000000', a: 1, b: { y: 2, x: 1 } } }),
      'signature',
    )
    // The credential fields moved, and the timestamp as the JSON number some SDKs send: a redelivery.
    const again = expectAccepted(
      await verifier.verify({ body: { a: 1, timestamp: 1_700_000_000, b: { y: 2, x: 1 }, signature } }),
      'signature',
    )
    expect(again.duplicate).toBe(true)
    // Reordered content is another body (a sender's redelivery repeats its bytes, so its order too).
    expectRejected(
      await verifier.verify({ body: { signature, timestamp: '1700000000', a: 1, b: { x: 1, y: 2 } } }),
      'replayed',
      'signature',
    )
  })

  it('identifies a sec_key by its value without whitespace (Ruby line breaks change nothing)', async () => {
    const verifier = dualVerifier({ replay: new MemoryReplayStore() })
    const body = await secKeyBody()
    expectAccepted(await verifier.verify({ body }), 'sec_key')
    const [rsa, hash] = (body.sec_key as string).split('|')
    const wrapped = `${(rsa!.match(/.{1,60}/g) ?? []).join('\n')}\n|${hash!}`
    expect(
      expectAccepted(await verifier.verify({ body: { ...body, sec_key: wrapped } }), 'sec_key').duplicate,
    ).toBe(true)
    expectRejected(
      await verifier.verify({ body: { ...body, sec_key: wrapped, job_id: 'x' } }),
      'replayed',
      'sec_key',
    )
  })

  it('identifies a header signature the same way', async () => {
    const verifier = dualVerifier({ replay: new MemoryReplayStore() })
    const { signature, timestamp } = await signatureAuth().sign({ timestamp: new Date(NOW) })
    const headers = { 'SmileID-Request-Signature': signature, 'SmileID-Timestamp': timestamp }
    expect(expectAccepted(await verifier.verify({ headers, body: { a: 1 } }), 'signature').duplicate).toBe(
      false,
    )
    expect(expectAccepted(await verifier.verify({ headers, body: { a: 1 } }), 'signature').duplicate).toBe(
      true,
    )
    expectRejected(await verifier.verify({ headers, body: { a: 2 } }), 'replayed', 'signature')
  })

  it('a body naming the partner as "85" instead of "085" is another body: replayed', async () => {
    const verifier = dualVerifier({ replay: new MemoryReplayStore() })
    const body = await signatureBody({ fields: { partner_id: '085' } })
    expectAccepted(await verifier.verify({ body }), 'signature')
    expectRejected(await verifier.verify({ body: { ...body, partner_id: '85' } }), 'replayed', 'signature')
  })

  it('keys replays by the partner the credential belongs to, however a resolver was asked', async () => {
    const config = { signature: signatureAuth(), secKey: secKeyAuth() }
    // A resolver that normalises partner ids, as one backed by a numeric database key would.
    const verifier = new DualModeVerifier({
      partners: (id) => (/^\d+$/.test(id) && Number(id) === 85 ? config : undefined),
      replay: new MemoryReplayStore(),
      now: () => NOW,
    })
    const body = await signatureBody({ fields: { partner_id: '085' } })
    expect(expectAccepted(await verifier.verify({ body }), 'signature').partnerId).toBe(PARTNER)
    // The captured credential under another spelling of the same partner, with a new body.
    const replay = { ...body, partner_id: 85, job_id: 'job-2' }
    expectRejected(await verifier.verify({ body: replay }), 'replayed', 'signature')
  })

  it('decides concurrent deliveries atomically: one new, the rest duplicates or replays', async () => {
    const verifier = dualVerifier({ replay: new MemoryReplayStore() })
    const body = await signatureBody()
    const results = await Promise.all([1, 2, 3, 4].map(() => verifier.verify({ body })))
    expect(results.map((r) => (r.ok ? r.duplicate : r.reason)).sort()).toEqual([false, true, true, true])
    const other = await signatureBody({ timestamp: new Date(NOW + 1) })
    const mixed = await Promise.all([
      verifier.verify({ body: other }),
      verifier.verify({ body: { ...other, job_id: 'job-2' } }),
    ])
    expect(mixed.map((r) => r.ok).sort()).toEqual([false, true])
    expectRejected(
      mixed.find((r) => !r.ok)!,
      'replayed',
      'signature',
    )
  })

  it('does not remember requests that failed before the replay check', async () => {
    const store = spyStore()
    const verifier = dualVerifier({ replay: store })
    expectRejected(
      await verifier.verify({ body: await signatureBody({ apiKey: 'wrong' }) }),
      'invalid_signature',
      'signature',
    )
    expectRejected(
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW - 10 * MINUTE) }) }),
      'timestamp_expired',
      'signature',
    )
    expect(store.calls).toHaveLength(0)
  })

  it('sends a hashed credential, never the credential itself, to the store', async () => {
    const store = spyStore()
    const verifier = dualVerifier({ replay: store })
    const signed = await signatureBody()
    const legacy = await secKeyBody()
    expectAccepted(await verifier.verify({ body: signed }), 'signature')
    expectAccepted(await verifier.verify({ body: legacy }), 'sec_key')
    expect(store.calls).toHaveLength(2)
    expect(store.calls[0]!.key).toMatch(/^signature:085:[0-9a-f]{64}$/)
    expect(store.calls[1]!.key).toMatch(/^sec_key:085:[0-9a-f]{64}$/)
    for (const call of store.calls) expect(call.fingerprint).toMatch(/^[0-9a-f]{64}$/)
    const printed = JSON.stringify(store.calls)
    expect(printed).not.toContain(signed.signature as string)
    expect(printed).not.toContain((legacy.sec_key as string).split('|')[0]!)
  })
})

describe('replay: rawBody fingerprint', () => {
  it('fingerprints the exact bytes when rawBody is given', async () => {
    const verifier = dualVerifier({ replay: new MemoryReplayStore() })
    const body = await signatureBody()
    const raw = JSON.stringify(body)
    expectAccepted(await verifier.verify({ body, rawBody: raw }), 'signature')
    // Same bytes, as a string or as bytes: a redelivery.
    expect(
      expectAccepted(await verifier.verify({ body, rawBody: new TextEncoder().encode(raw) }), 'signature')
        .duplicate,
    ).toBe(true)
    // Same parsed body, other bytes: not the same delivery.
    expectRejected(
      await verifier.verify({ body, rawBody: JSON.stringify(body, null, 2) }),
      'replayed',
      'signature',
    )
  })

  it('uses rawBody alone when no parsed body is given', async () => {
    const verifier = dualVerifier({ replay: new MemoryReplayStore() })
    const raw = JSON.stringify(await signatureBody())
    expectAccepted(await verifier.verify({ rawBody: raw }), 'signature')
    expect(expectAccepted(await verifier.verify({ rawBody: raw }), 'signature').duplicate).toBe(true)
    expectRejected(await verifier.verify({ rawBody: raw + ' ' }), 'replayed', 'signature')
  })
})

describe('replay: store failures', () => {
  it.each(['throw', 'reject'] as const)(
    'fails closed when the store %ss: replay_check_failed',
    async (kind) => {
      const verifier = dualVerifier({ replay: failingStore(kind) })
      expectRejected(
        await verifier.verify({ body: await signatureBody() }),
        'replay_check_failed',
        'signature',
      )
      expectRejected(await verifier.verify({ body: await secKeyBody() }), 'replay_check_failed', 'sec_key')
    },
  )

  it.each(['throw', 'reject'] as const)(
    "accepts with replay_unchecked under replayFailure: 'accept' (store %ss)",
    async (kind) => {
      const { events, sink } = recordingSink()
      const verifier = dualVerifier({ replay: failingStore(kind), replayFailure: 'accept', audit: sink })
      const result = expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
      expect(result.warnings).toEqual(['replay_unchecked'])
      expect(result.duplicate).toBe(false)
      expect(events[0]).toMatchObject({ outcome: 'accepted', reason: null, warnings: ['replay_unchecked'] })
    },
  )

  it('a store answering something else is a failure of the store, not a silent "new"', async () => {
    for (const answer of ['maybe', undefined, true, null]) {
      const odd: ReplayStore = { remember: () => Promise.resolve(answer as ReplayOutcome) }
      expectRejected(
        await dualVerifier({ replay: odd }).verify({ body: await signatureBody() }),
        'replay_check_failed',
        'signature',
      )
      const open = dualVerifier({ replay: odd, replayFailure: 'accept' })
      expect(
        expectAccepted(await open.verify({ body: await signatureBody() }), 'signature').warnings,
      ).toEqual(['replay_unchecked'])
    }
  })

  it("a body that cannot be fingerprinted cannot slip past the replay check, even with replayFailure: 'accept'", async () => {
    const verifier = dualVerifier({ replay: new MemoryReplayStore(), replayFailure: 'accept' })
    const body = await signatureBody()
    expectAccepted(await verifier.verify({ body }), 'signature')
    // Deep nesting is fingerprinted like any other body: the captured credential with it is a replay.
    const padded = { ...body, result: { ResultCode: '1013' }, pad: deeplyNested(1000) }
    expectRejected(await verifier.verify({ body: padded }), 'replayed', 'signature')
    // A captured credential with a new body that cannot be written as JSON (a cycle, a BigInt).
    const cyclic: Record<string, unknown> = { ...body, result: { ResultCode: '1013' } }
    cyclic['self'] = cyclic
    for (const replay of [cyclic, { ...body, pad: 10n }]) {
      expectRejected(await verifier.verify({ body: replay }), 'replay_check_failed', 'signature')
    }
    // In observe mode it is recorded like any other replay failure.
    const observing = dualVerifier({
      replay: new MemoryReplayStore(),
      replayFailure: 'accept',
      policy: { mode: 'observe' },
    })
    const observed = expectAccepted(await observing.verify({ body: cyclic }), 'signature')
    expect(observed.warnings).toEqual(['would_reject:replay_check_failed'])
    // With rawBody the fingerprint is over the bytes, so depth does not matter.
    const raw = JSON.stringify({ ...body, pad: deeplyNested(1000) })
    expectAccepted(
      await dualVerifier({ replay: new MemoryReplayStore() }).verify({ rawBody: raw }),
      'signature',
    )
  })
})

describe('replay: entry lifetime', () => {
  it('entries live for the freshness window (maxAgeMs + maxFutureMs)', async () => {
    const store = spyStore()
    expectAccepted(await dualVerifier({ replay: store }).verify({ body: await signatureBody() }), 'signature')
    expectAccepted(
      await dualVerifier({ replay: store, freshness: { maxAgeMs: 1000, maxFutureMs: 2000 } }).verify({
        body: await signatureBody({ timestamp: new Date(NOW + 1) }),
      }),
      'signature',
    )
    // replayTtlMs only applies with freshness off.
    expectAccepted(
      await dualVerifier({ replay: store, replayTtlMs: 5000 }).verify({
        body: await signatureBody({ timestamp: new Date(NOW + 2) }),
      }),
      'signature',
    )
    expect(store.calls.map((c) => c.ttlMs)).toEqual([600_000, 3000, 600_000])
  })

  it('entries live replayTtlMs (default 24 h) when freshness is off', async () => {
    const store = spyStore()
    expectAccepted(
      await dualVerifier({ replay: store, freshness: false }).verify({ body: await signatureBody() }),
      'signature',
    )
    expectAccepted(
      await dualVerifier({ replay: store, freshness: false, replayTtlMs: 5000 }).verify({
        body: await signatureBody({ timestamp: new Date(NOW + 1) }),
      }),
      'signature',
    )
    expect(store.calls.map((c) => c.ttlMs)).toEqual([86_400_000, 5000])
  })

  it('a credential is forgotten after replayTtlMs with freshness off', async () => {
    const clock = testClock()
    const verifier = dualVerifier({
      replay: new MemoryReplayStore({ now: clock.now }),
      freshness: false,
      replayTtlMs: 10_000,
      now: clock.now,
    })
    const body = await signatureBody()
    expectAccepted(await verifier.verify({ body }), 'signature')
    clock.advance(9_999)
    expectRejected(await verifier.verify({ body: { ...body, job_id: 'x' } }), 'replayed', 'signature')
    clock.advance(1)
    expect(
      expectAccepted(await verifier.verify({ body: { ...body, job_id: 'x' } }), 'signature').duplicate,
    ).toBe(false)
  })
})
