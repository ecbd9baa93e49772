/**
 * A request refused with `replay_check_failed` leaves no replay entry behind (issue 12, defect 4): the
 * clients' offline queues send a SET whose caller gave up once Redis answers again, and its retry must
 * then be new, not a duplicate of a callback nobody accepted. Real redis-server, both clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { DualModeVerifier, SignatureAuth, type VerificationResult } from '../../src/index.js'
import { RedisReplayStore, RedisStoreError } from '../../src/replay/redis.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { describeRedis, redisLookup, RedisServer } from '../support/redis-server.js'
import { clientKinds, connectClient, sleep, type TestClient } from './redis-clients.js'

const keys = createTestKeys({ partnerId: '085' })
const signer = new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey })

let serial = 0
async function callback(job: string): Promise<Record<string, unknown>> {
  const timestamp = new Date(Date.now() - 1000 - ++serial).toISOString()
  return {
    partner_id: keys.partnerId,
    ...(await signer.sign({ timestamp })),
    ResultCode: '1012',
    SmileJobID: job,
  }
}

function reasonOf(result: VerificationResult): string {
  return result.ok ? (result.duplicate ? 'duplicate' : 'new') : result.reason
}

let prefixes = 0
function receiver(client: TestClient) {
  const prefix = `late-${client.kind}-${++prefixes}:`
  const store = new RedisReplayStore({ client: client.client, prefix, timeoutMs: 300 })
  const verifier = new DualModeVerifier({
    signature: new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey }),
    replay: store,
  })
  return { prefix, store, verifier }
}

/** Retries a delivery the way a sender does after a 503, until the store answers (bounded). */
async function retryUntilAnswered(deliver: () => Promise<VerificationResult>): Promise<VerificationResult> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const result = await deliver()
    if (result.ok || result.reason !== 'replay_check_failed') return result
    await sleep(50)
  }
  throw new Error('the store never answered again')
}

/** Waits until no key under `prefix` is left (the undo is asynchronous), bounded. */
async function keysUnder(client: TestClient, prefix: string): Promise<string[]> {
  return client.keys(`${prefix}*`)
}

describeRedis('RedisReplayStore: a refused request leaves no entry behind (real redis-server)', (test) => {
  let server: RedisServer | undefined
  beforeAll(async () => {
    if (redisLookup.found) server = await RedisServer.launch(redisLookup.path)
  })
  afterAll(async () => {
    await server?.dispose()
  })

  for (const kind of clientKinds) {
    test(`${kind}: SIGSTOP during a request → replay_check_failed; after SIGCONT its retry is new, then a duplicate`, async () => {
      const client = await connectClient(kind, server!.url)
      try {
        const { prefix, verifier } = receiver(client)
        const body = await callback('stalled')
        server!.pause()
        let refused: VerificationResult
        try {
          refused = await verifier.verify({ body })
        } finally {
          server!.resume()
        }
        expect(reasonOf(refused)).toBe('replay_check_failed')
        // Smile retries at once, before the late SET's undo has necessarily run.
        const retry = await retryUntilAnswered(() => verifier.verify({ body }))
        expect(reasonOf(retry)).toBe('new')
        // The store works again: a redelivery is a duplicate, another body a replay.
        expect(reasonOf(await verifier.verify({ body }))).toBe('duplicate')
        expect(reasonOf(await verifier.verify({ body: { ...body, SmileJobID: 'forged' } }))).toBe('replayed')
        expect(await keysUnder(client, prefix)).toHaveLength(1)
      } finally {
        client.close()
      }
    }, 20_000)

    test(`${kind}: SIGSTOP, refusal, SIGCONT: the late SET is taken back even with no retry`, async () => {
      const client = await connectClient(kind, server!.url)
      try {
        const { prefix, verifier } = receiver(client)
        const body = await callback('stalled-no-retry')
        server!.pause()
        let refused: VerificationResult
        try {
          refused = await verifier.verify({ body })
        } finally {
          server!.resume()
        }
        expect(reasonOf(refused)).toBe('replay_check_failed')
        let left: string[] = []
        for (let i = 0; i < 100; i++) {
          left = await keysUnder(client, prefix)
          if (left.length === 0) break
          await sleep(20)
        }
        expect(left).toEqual([])
      } finally {
        client.close()
      }
    }, 20_000)

    test(`${kind}: redis-server killed during a request, restarted: the queued SET lands, is undone, the retry is new`, async () => {
      const client = await connectClient(kind, server!.url)
      try {
        const { prefix, verifier } = receiver(client)
        const body = await callback('killed')
        await server!.stop()
        const refused = await verifier.verify({ body })
        expect(reasonOf(refused)).toBe('replay_check_failed')
        await server!.start()
        const retry = await retryUntilAnswered(() => verifier.verify({ body }))
        expect(reasonOf(retry)).toBe('new')
        expect(reasonOf(await verifier.verify({ body }))).toBe('duplicate')
        expect(await keysUnder(client, prefix)).toHaveLength(1)
      } finally {
        client.close()
      }
    }, 30_000)

    test(`${kind}: the undo never deletes another writer's entry`, async () => {
      const stalled = await connectClient(kind, server!.url)
      const other = await connectClient(kind, server!.url)
      try {
        const prefix = `late-other-${kind}-${++prefixes}:`
        const slow = new RedisReplayStore({ client: stalled.client, prefix, timeoutMs: 200 })
        const fast = new RedisReplayStore({ client: other.client, prefix, timeoutMs: 2000 })
        server!.pause()
        let outcome: unknown
        try {
          outcome = await slow.remember('signature:085:k', 'fp-a', 60_000).catch((error: unknown) => error)
        } finally {
          server!.resume()
        }
        expect(outcome).toBeInstanceOf(RedisStoreError)
        // The stalled SET reached Redis first (it was sent first), so it holds the key until undone; the
        // other instance then wins the key for itself and its entry survives the undo.
        const answer = await retryRemember(() => fast.remember('signature:085:k', 'fp-b', 60_000))
        expect(answer).toBe('new')
        await sleep(100)
        await expect(fast.remember('signature:085:k', 'fp-b', 60_000)).resolves.toBe('duplicate')
        await expect(slow.remember('signature:085:k', 'fp-a', 60_000)).resolves.toBe('conflict')
      } finally {
        stalled.close()
        other.close()
      }
    }, 20_000)
  }
})

/** remember() on another instance may first meet the late write (a duplicate or conflict) until it is undone. */
async function retryRemember(call: () => Promise<string>): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const outcome = await call()
    if (outcome === 'new') return outcome
    await sleep(20)
  }
  return 'never new'
}

describe('RedisReplayStore late-write undo (scripted client)', () => {
  function scripted() {
    const calls: Array<{ name: string; args: unknown[] }> = []
    let release: ((reply: unknown) => void) | undefined
    const client = {
      status: 'ready',
      call: () => undefined,
      set: (...args: unknown[]) => {
        calls.push({ name: 'set', args })
        return new Promise((resolve) => (release = resolve))
      },
      get: (...args: unknown[]) => {
        calls.push({ name: 'get', args })
        return Promise.resolve(null)
      },
      eval: (...args: unknown[]) => {
        calls.push({ name: 'eval', args })
        return Promise.resolve(1)
      },
    }
    return { client, calls, land: (reply: unknown) => release?.(reply) }
  }

  it('sends a compare-and-delete with the exact value it wrote when a timed-out SET lands', async () => {
    const { client, calls, land } = scripted()
    const store = new RedisReplayStore({ client, timeoutMs: 20 })
    await expect(store.remember('k', 'fp', 1000)).rejects.toMatchObject({ code: 'timeout' })
    land('OK')
    await sleep(10)
    const written = calls[0]!.args[1] as string
    expect(written).toMatch(/^fp#[A-Za-z0-9_-]{16}$/)
    expect(calls[1]).toEqual({
      name: 'eval',
      args: [expect.stringContaining('DEL'), 1, calls[0]!.args[0], written],
    })
  })

  it('sends nothing when the timed-out SET met an existing key', async () => {
    const { client, calls, land } = scripted()
    const store = new RedisReplayStore({ client, timeoutMs: 20 })
    await expect(store.remember('k', 'fp', 1000)).rejects.toMatchObject({ code: 'timeout' })
    land(null)
    await sleep(10)
    expect(calls.map((call) => call.name)).toEqual(['set'])
  })

  it('tokens differ per call, so one call can never undo another', async () => {
    const values = new Set<string>()
    for (let i = 0; i < 20; i++) {
      const { client, calls, land } = scripted()
      const outcome = new RedisReplayStore({ client }).remember('k', 'fp', 1000)
      land('OK')
      await expect(outcome).resolves.toBe('new')
      values.add(calls[0]!.args[1] as string)
    }
    expect(values.size).toBe(20)
  })
})
