/**
 * The DualModeVerifier with Redis-backed replay and sticky-upgrade state, several instances each with
 * its own client, against a real redis-server.
 */
import { afterAll, beforeAll, expect } from 'vitest'

import {
  DualModeVerifier,
  LegacySecKeyAuth,
  SignatureAuth,
  type FailureReason,
  type VerificationFailure,
  type VerificationResult,
  type VerificationSuccess,
} from '../../src/index.js'
import { RedisReplayStore, RedisUpgradeStore } from '../../src/replay/redis.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { describeRedis, redisLookup, RedisServer } from '../support/redis-server.js'
import {
  clientKinds,
  connectClient,
  connectClients,
  eventually,
  type ClientKind,
  type TestClient,
} from './redis-clients.js'

const keys = createTestKeys({ partnerId: '085' })

function expectOk(result: VerificationResult): VerificationSuccess {
  if (!result.ok) expect.fail(`expected success, got ${result.reason}: ${result.message}`)
  return result
}

function expectFailure(result: VerificationResult, reason: FailureReason): VerificationFailure {
  expect(result.ok).toBe(false)
  expect((result as VerificationFailure).reason).toBe(reason)
  return result as VerificationFailure
}

let serial = 0
/** A signature credential no other test uses (distinct timestamps give distinct signatures). */
async function freshCredential(): Promise<{ signature: string; timestamp: string }> {
  const timestamp = new Date(Date.now() - 1000 - ++serial).toISOString()
  return new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey }).sign({ timestamp })
}

/** A callback body carrying `credential`; `job` makes bodies differ. */
function callback(credential: { signature: string; timestamp: string }, job: number) {
  return { partner_id: keys.partnerId, ...credential, ResultCode: '1012', SmileJobID: `job-${job}` }
}

/** One receiver instance: its own strategy objects, its own Redis client, shared Redis state. */
function instance(
  client: TestClient,
  options: {
    prefix: string
    replayFailure?: 'reject' | 'accept'
    timeoutMs?: number
    sticky?: boolean
    now?: () => number
    freshness?: { maxAgeMs: number; maxFutureMs: number }
  },
): DualModeVerifier {
  const timeoutMs = options.timeoutMs ?? 1000
  return new DualModeVerifier({
    signature: new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey }),
    secKey: new LegacySecKeyAuth({ partnerId: keys.partnerId, apiKey: keys.secKeyApiKey }),
    replay: new RedisReplayStore({ client: client.client, prefix: `${options.prefix}replay:`, timeoutMs }),
    upgradeStore: new RedisUpgradeStore({
      client: client.client,
      prefix: `${options.prefix}upgraded:`,
      timeoutMs,
    }),
    ...(options.replayFailure ? { replayFailure: options.replayFailure } : {}),
    ...(options.sticky ? { policy: { stickyUpgrade: true } } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.freshness ? { freshness: options.freshness } : {}),
  })
}

let prefixes = 0
const freshPrefix = (kind: ClientKind) => `verifier-${kind}-${++prefixes}:`

describeRedis('DualModeVerifier instances sharing a real redis-server', (test) => {
  let server: RedisServer | undefined
  beforeAll(async () => {
    if (redisLookup.found) server = await RedisServer.launch(redisLookup.path)
  })
  afterAll(async () => {
    await server?.dispose()
  })

  for (const kind of clientKinds) {
    test(`${kind}: 4 instances, 400 concurrent deliveries of one credential with different bodies → 1 accepted, 399 replayed; a redelivery of the winner elsewhere is a duplicate`, async () => {
      const clients = await connectClients(kind, server!.url, 4)
      try {
        const prefix = freshPrefix(kind)
        const verifiers = clients.map((client) => instance(client, { prefix }))
        const credential = await freshCredential()
        const results = await Promise.all(
          Array.from({ length: 400 }, (_, i) => verifiers[i % 4]!.verify({ body: callback(credential, i) })),
        )
        const accepted = results.flatMap((result, i) => (result.ok ? [i] : []))
        expect(accepted).toHaveLength(1)
        const winner = accepted[0]!
        expect(expectOk(results[winner]!).duplicate).toBe(false)
        const reasons = results
          .filter((result) => !result.ok)
          .map((result) => (result as VerificationFailure).reason)
        expect(reasons).toHaveLength(399)
        expect(new Set(reasons)).toEqual(new Set(['replayed']))

        // Smile redelivers the winning callback; the load balancer sends it to another instance.
        const redelivery = await verifiers[(winner + 1) % 4]!.verify({ body: callback(credential, winner) })
        expect(expectOk(redelivery).duplicate).toBe(true)
        // A changed body under the same credential is still refused everywhere.
        for (const verifier of verifiers) {
          expectFailure(await verifier.verify({ body: callback(credential, 10_000) }), 'replayed')
        }
      } finally {
        for (const client of clients) client.close()
      }
    })

    test(`${kind}: a replay entry lives for the freshness window, then the credential is accepted again`, async () => {
      const [a, b] = (await connectClients(kind, server!.url, 2)) as [TestClient, TestClient]
      try {
        const prefix = freshPrefix(kind)
        const credential = await freshCredential()
        // The verifiers' clock stays at the credential's time, so only Redis's own expiry can let it back in.
        const now = () => Date.parse(credential.timestamp)
        const freshness = { maxAgeMs: 1500, maxFutureMs: 1500 }
        const first = instance(a, { prefix, now, freshness })
        const second = instance(b, { prefix, now, freshness })
        expectOk(await first.verify({ body: callback(credential, 1) }))
        expectFailure(await second.verify({ body: callback(credential, 2) }), 'replayed')
        // Stored with the window (1500 + 1500 ms) as its TTL, not the 24 h used without freshness.
        const stored = await a.keys(`${prefix}replay:*`)
        expect(stored).toHaveLength(1)
        const pttl = await a.pttl(stored[0]!)
        expect(pttl).toBeGreaterThan(0)
        expect(pttl).toBeLessThanOrEqual(3000)
        await eventually(async () => {
          if ((await a.keys(`${prefix}replay:*`)).length > 0) throw new Error('not expired yet')
        })
        expect(expectOk(await second.verify({ body: callback(credential, 2) })).duplicate).toBe(false)
      } finally {
        a.close()
        b.close()
      }
    })

    test(`${kind}: stickyUpgrade is shared: after a signature request on one instance, sec_key is refused on another`, async () => {
      const [a, b] = (await connectClients(kind, server!.url, 2)) as [TestClient, TestClient]
      try {
        const prefix = freshPrefix(kind)
        const first = instance(a, { prefix, sticky: true })
        const second = instance(b, { prefix, sticky: true })
        const smile = new LegacySecKeyAuth({ partnerId: keys.partnerId, privateKey: keys.secKeyPrivateKey })
        const legacyBody = async (job: number) => ({
          partner_id: keys.partnerId,
          ...(await smile.sign()),
          SmileJobID: `legacy-${job}`,
        })

        expectOk(await second.verify({ body: await legacyBody(1) }))
        expectOk(await first.verify({ body: callback(await freshCredential(), 1) }))
        // markUpgraded is not awaited by the verifier: wait until Redis has it, then ask the other instance.
        const upgrades = new RedisUpgradeStore({ client: b.client, prefix: `${prefix}upgraded:` })
        await eventually(async () => {
          if (!(await upgrades.isUpgraded(keys.partnerId))) throw new Error('not marked yet')
        })
        expectFailure(await second.verify({ body: await legacyBody(2) }), 'scheme_not_allowed')
      } finally {
        a.close()
        b.close()
      }
    })
  }
})

describeRedis('DualModeVerifier when redis-server stops mid-run and comes back', (test) => {
  let server: RedisServer | undefined
  beforeAll(async () => {
    if (redisLookup.found) server = await RedisServer.launch(redisLookup.path)
  })
  afterAll(async () => {
    await server?.dispose()
  })

  for (const kind of clientKinds) {
    test(`${kind}: fail closed (replay_check_failed), or accept with replay_unchecked, then recover`, async () => {
      const target = server!
      const client = await connectClient(kind, target.url)
      try {
        const prefix = freshPrefix(kind)
        const closed = instance(client, { prefix, timeoutMs: 300, sticky: true })
        const open = instance(client, { prefix, timeoutMs: 300, replayFailure: 'accept' })
        const before = await freshCredential()
        expectOk(await closed.verify({ body: callback(before, 1) }))
        expectFailure(await open.verify({ body: callback(before, 2) }), 'replayed')

        await target.stop()
        const during = await freshCredential()
        expectFailure(await closed.verify({ body: callback(during, 1) }), 'replay_check_failed')
        const unchecked = expectOk(await open.verify({ body: callback(during, 2) }))
        expect(unchecked.warnings).toContain('replay_unchecked')
        expect(unchecked.duplicate).toBe(false)
        // stickyUpgrade cannot tell whether legacy is still allowed: a fresh instance fails closed too.
        const smile = new LegacySecKeyAuth({ partnerId: keys.partnerId, privateKey: keys.secKeyPrivateKey })
        const fresh = instance(client, { prefix: freshPrefix(kind), timeoutMs: 300, sticky: true })
        expectFailure(
          await fresh.verify({ body: { partner_id: keys.partnerId, ...(await smile.sign()) } }),
          'replay_check_failed',
        )

        await target.start()
        const after = await freshCredential()
        // Wait for the client to reconnect; each try uses the same body, so a late write of a timed-out try
        // can only make a later try a duplicate, never a replay.
        const recovered = await eventually(async () => {
          const result = await closed.verify({ body: callback(after, 1) })
          if (!result.ok) throw new Error(result.reason)
          return result
        })
        expect(recovered.warnings).not.toContain('replay_unchecked')
        expectFailure(await open.verify({ body: callback(after, 2) }), 'replayed')
        const next = await freshCredential()
        expect(expectOk(await open.verify({ body: callback(next, 1) })).warnings).not.toContain(
          'replay_unchecked',
        )
        expect(expectOk(await closed.verify({ body: callback(next, 1) })).duplicate).toBe(true)
        expectFailure(await closed.verify({ body: callback(next, 2) }), 'replayed')
      } finally {
        client.close()
      }
    })
  }
})
