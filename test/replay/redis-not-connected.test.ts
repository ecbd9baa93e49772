/**
 * A Redis store whose client was never connected, or was closed (issue 15, item 5): every call fails
 * with `not_connected` and a message that says what to do, the cause reaches `onError` and the stats,
 * and the verifier fails closed. Real node-redis and ioredis clients.
 */
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'

import { ConfigurationError, DualModeVerifier, SignatureAuth } from '../../src/index.js'
import {
  RedisReplayStore,
  RedisStoreError,
  RedisUpgradeStore,
  type RedisClientLike,
} from '../../src/replay/redis.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { describeRedis, redisLookup, RedisServer } from '../support/redis-server.js'
import { connectClient } from './redis-clients.js'

const keys = createTestKeys({ partnerId: '085' })

afterEach(() => {
  vi.restoreAllMocks()
})

async function rejection(promise: Promise<unknown>): Promise<RedisStoreError> {
  const error = await promise.then(
    () => expect.fail('expected a rejection'),
    (reason: unknown) => reason,
  )
  expect(error).toBeInstanceOf(RedisStoreError)
  return error as RedisStoreError
}

function verifierWith(store: RedisReplayStore): DualModeVerifier {
  return new DualModeVerifier({
    signature: new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey }),
    replay: store,
  })
}

async function body(): Promise<Record<string, unknown>> {
  const signer = new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey })
  return { partner_id: keys.partnerId, ...(await signer.sign()), SmileJobID: 'job-1' }
}

describeRedis('Redis stores over a client that is not connected', (test) => {
  let server: RedisServer | undefined
  beforeAll(async () => {
    if (redisLookup.found) server = await RedisServer.launch(redisLookup.path)
  })
  afterAll(async () => {
    await server?.dispose()
  })

  test('node-redis, never connected: not_connected at once, the hook and the stats get the cause, connect() heals it', async () => {
    const client = createClient({ url: server!.url })
    client.on('error', () => {})
    const seen: RedisStoreError[] = []
    const store = new RedisReplayStore({ client, onError: (error) => seen.push(error) })
    const error = await rejection(store.remember('signature:085:k', 'fp', 60_000))
    expect(error.code).toBe('not_connected')
    expect(error.message).toContain('client.connect()')
    expect(seen).toEqual([error])
    expect(store.stats).toMatchObject({ errors: 1, byCode: { not_connected: 1, timeout: 0 } })
    // Through the verifier: refused, and counted again with its cause.
    const result = await verifierWith(store).verify({ body: await body() })
    expect(result.ok).toBe(false)
    expect(!result.ok && result.reason).toBe('replay_check_failed')
    expect(store.stats.byCode.not_connected).toBe(2)
    expect(seen).toHaveLength(2)
    await client.connect()
    try {
      await expect(store.remember('signature:085:k', 'fp', 60_000)).resolves.toBe('new')
      expect(store.stats.errors).toBe(2)
    } finally {
      client.destroy()
    }
  })

  test('node-redis, closed after use: not_connected, for the upgrade store too', async () => {
    const connected = await connectClient('node-redis', server!.url)
    const store = new RedisReplayStore({ client: connected.client, onError: () => {} })
    const upgrades = new RedisUpgradeStore({ client: connected.client, onError: () => {} })
    await expect(store.remember('signature:085:closed', 'fp', 60_000)).resolves.toBe('new')
    connected.close()
    expect((await rejection(store.remember('signature:085:closed', 'fp', 60_000))).code).toBe('not_connected')
    expect((await rejection(upgrades.isUpgraded('085'))).code).toBe('not_connected')
    expect((await rejection(upgrades.markUpgraded('085'))).code).toBe('not_connected')
    expect(upgrades.stats.byCode.not_connected).toBe(2)
  })

  test('ioredis, disconnected: not_connected with the same hint', async () => {
    const connected = await connectClient('ioredis', server!.url)
    const seen: RedisStoreError[] = []
    const store = new RedisReplayStore({ client: connected.client, onError: (error) => seen.push(error) })
    connected.close()
    const error = await rejection(store.remember('signature:085:io', 'fp', 60_000))
    expect(error.code).toBe('not_connected')
    expect(error.message).toContain('client.connect()')
    expect(seen.map((e) => e.code)).toEqual(['not_connected'])
    const result = await verifierWith(store).verify({ body: await body() })
    expect(!result.ok && result.reason).toBe('replay_check_failed')
    expect(store.stats.byCode.not_connected).toBe(2)
  })

  test('ioredis, lazyConnect with the offline queue off, never connected: not_connected (its own words mapped)', async () => {
    const client = new Redis(server!.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    })
    client.on('error', () => {})
    try {
      const store = new RedisReplayStore({ client, onError: () => {} })
      const error = await rejection(store.remember('signature:085:lazy', 'fp', 60_000))
      expect(error.code).toBe('not_connected')
      expect(error.cause).toBeInstanceOf(Error)
    } finally {
      client.disconnect()
    }
  })

  test('ioredis, lazyConnect with its offline queue on: connects by itself on the first call', async () => {
    const client = new Redis(server!.url, { lazyConnect: true })
    client.on('error', () => {})
    try {
      const store = new RedisReplayStore({ client })
      await expect(store.remember('signature:085:lazy-ok', 'fp', 60_000)).resolves.toBe('new')
      expect(store.stats.errors).toBe(0)
    } finally {
      client.disconnect()
    }
  })
})

describe('Redis store error reporting (scripted clients)', () => {
  const closedNodeRedis = () =>
    ({
      isOpen: false,
      set: () => expect.fail('sent a command'),
      get: () => expect.fail('sent a command'),
    }) as RedisClientLike

  it('without a hook, warns once through process.emitWarning for not_connected', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const store = new RedisReplayStore({ client: closedNodeRedis() })
    for (let i = 0; i < 3; i++) await rejection(store.remember('k', 'fp', 1000))
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]![0])).toContain('client.connect()')
    expect(store.stats.byCode.not_connected).toBe(3)
  })

  it('a hook that throws changes nothing: the call still rejects with its own error', async () => {
    const store = new RedisReplayStore({
      client: closedNodeRedis(),
      onError: () => {
        throw new Error('hook failed')
      },
    })
    expect((await rejection(store.remember('k', 'fp', 1000))).code).toBe('not_connected')
  })

  it('counts timeouts and command failures by code', async () => {
    const client = {
      status: 'ready',
      call: () => undefined,
      set: (() => {
        let n = 0
        return () => (n++ === 0 ? new Promise(() => {}) : Promise.reject(new Error('READONLY')))
      })(),
      get: () => Promise.resolve(null),
    }
    const codes: string[] = []
    const store = new RedisReplayStore({ client, timeoutMs: 20, onError: (error) => codes.push(error.code) })
    await rejection(store.remember('k', 'fp', 1000))
    await rejection(store.remember('k2', 'fp', 1000))
    expect(codes).toEqual(['timeout', 'command_failed'])
    expect(store.stats).toMatchObject({
      errors: 2,
      byCode: { timeout: 1, command_failed: 1, not_connected: 0 },
    })
  })

  it('refuses an onError that is not a function', () => {
    for (const onError of ['log', 1, {}]) {
      expect(() => new RedisReplayStore({ client: closedNodeRedis(), onError } as never)).toThrow(
        ConfigurationError,
      )
      expect(() => new RedisUpgradeStore({ client: closedNodeRedis(), onError } as never)).toThrow(
        ConfigurationError,
      )
    }
  })
})
