import { createHash } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { ConfigurationError } from '../../src/errors.js'
import {
  RedisReplayStore,
  RedisStoreError,
  RedisUpgradeStore,
} from '../../src/replay/redis.js'
import type { ReplayOutcome } from '../../src/replay/store.js'
import { describeRedis, findRedisServer, redisLookup, RedisServer } from '../support/redis-server.js'
import { clientKinds, connectClient, connectClients, eventually, type TestClient } from './redis-clients.js'

/** Expects `promise` to reject with a RedisStoreError of `code`. */
async function expectStoreError(
  promise: Promise<unknown>,
  code: RedisStoreError['code'],
): Promise<RedisStoreError> {
  const error = await promise.then(
    () => expect.fail('expected a rejection'),
    (reason: unknown) => reason,
  )
  expect(error).toBeInstanceOf(RedisStoreError)
  expect((error as RedisStoreError).code).toBe(code)
  return error as RedisStoreError
}

function expectInvalidOptions(build: () => unknown): void {
  let caught: unknown
  try {
    build()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(ConfigurationError)
  expect((caught as ConfigurationError).code).toBe('invalid_options')
}

type Call = { name: 'set' | 'get'; args: unknown[] }

/** A scripted client of either shape: answers come from `replies` in order, calls are recorded. */
function fakeClient(kind: 'node-redis' | 'ioredis' | 'node-redis-legacy', replies: Array<() => unknown>) {
  const calls: Call[] = []
  const answer = (name: Call['name']) =>
    function (this: unknown, ...args: unknown[]) {
      calls.push({ name, args })
      const next = replies.shift()
      if (!next) throw new Error('fake client: no reply scripted')
      return next()
    }
  const commands = { set: answer('set'), get: answer('get') }
  if (kind === 'ioredis') return { calls, client: { ...commands, status: 'ready', call: () => {} } }
  if (kind === 'node-redis') return { calls, client: { ...commands, isOpen: true } }
  const callbackStyle = { set: () => expect.fail('legacy callback API used'), get: () => expect.fail('no') }
  return { calls, client: { ...callbackStyle, isOpen: true, v4: commands } }
}

const ok = () => Promise.resolve('OK')
const nil = () => Promise.resolve(null)
const value = (text: string) => () => Promise.resolve(text)

describe('RedisReplayStore / RedisUpgradeStore options', () => {
  it.each([
    ['no options', undefined],
    ['no client', {}],
    ['a null client', { client: null }],
    ['a string client', { client: 'redis://127.0.0.1' }],
    ['an object without commands', { client: { isOpen: true } }],
    ['get/set without a client shape', { client: { get() {}, set() {} } }],
  ])('refuses %s with invalid_options', (_label, options) => {
    expectInvalidOptions(() => new RedisReplayStore(options as never))
    expectInvalidOptions(() => new RedisUpgradeStore(options as never))
  })

  it.each([
    ['a non-string prefix', { prefix: 42 }],
    ['a zero timeout', { timeoutMs: 0 }],
    ['a negative timeout', { timeoutMs: -5 }],
    ['a NaN timeout', { timeoutMs: Number.NaN }],
    ['an infinite timeout', { timeoutMs: Number.POSITIVE_INFINITY }],
    ['a timeout beyond setTimeout range', { timeoutMs: 2 ** 31 }],
    ['a string timeout', { timeoutMs: '1000' }],
  ])('refuses %s with invalid_options', (_label, extra) => {
    const { client } = fakeClient('node-redis', [])
    expectInvalidOptions(() => new RedisReplayStore({ client, ...extra } as never))
    expectInvalidOptions(() => new RedisUpgradeStore({ client, ...extra } as never))
  })

  it('never puts the credential itself in a Redis key', async () => {
    const { client, calls } = fakeClient('ioredis', [ok])
    const credential = 'signature:085:c2lnbmF0dXJlLXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw=='
    await new RedisReplayStore({ client, prefix: 'p:' }).remember(credential, 'fp', 1000)
    const key = calls[0]?.args[0]
    expect(key).toBe('p:' + createHash('sha256').update(credential).digest('base64url'))
    expect(String(key)).not.toContain('c2lnbmF0dXJl')
  })
})

describe('RedisReplayStore protocol (scripted clients)', () => {
  it('spells SET … PX ttl NX the ioredis way', async () => {
    const { client, calls } = fakeClient('ioredis', [ok])
    await expect(new RedisReplayStore({ client }).remember('k', 'fp', 1500)).resolves.toBe('new')
    expect(calls).toEqual([
      {
        name: 'set',
        // The fingerprint plus a per-call token, so that only this call can take its write back.
        args: [
          expect.stringMatching(/^smileid:replay:/),
          expect.stringMatching(/^fp#[\w-]{16}$/),
          'PX',
          1500,
          'NX',
        ],
      },
    ])
  })

  it('spells SET with both node-redis option forms (v4 and v5+), rounding the TTL up', async () => {
    const { client, calls } = fakeClient('node-redis', [ok])
    await expect(new RedisReplayStore({ client }).remember('k', 'fp', 1499.2)).resolves.toBe('new')
    expect(calls[0]?.args[2]).toEqual({
      NX: true,
      PX: 1500,
      condition: 'NX',
      expiration: { type: 'PX', value: 1500 },
    })
  })

  it('uses the promise API of a node-redis v4 legacyMode client', async () => {
    const { client } = fakeClient('node-redis-legacy', [nil, value('fp')])
    await expect(new RedisReplayStore({ client }).remember('k', 'fp', 1000)).resolves.toBe('duplicate')
  })

  it.each<[string, Array<() => unknown>, ReplayOutcome]>([
    ['SET wins', [ok], 'new'],
    ['SET loses, same fingerprint', [nil, value('fp')], 'duplicate'],
    ['SET loses, same fingerprint with its token', [nil, value('fp#abcdefghijklmnop')], 'duplicate'],
    [
      'SET loses, a fingerprint ending like a token but another',
      [nil, value('fpx#abcdefghijklmnop')],
      'conflict',
    ],
    ['SET loses, other fingerprint', [nil, value('other')], 'conflict'],
    ['the key expires between SET and GET, then SET wins', [nil, nil, ok], 'new'],
    ['the key expires, another writer wins the retry', [nil, nil, nil, value('other')], 'conflict'],
    ['Buffer replies', [() => Promise.resolve(null), () => Promise.resolve(Buffer.from('fp'))], 'duplicate'],
    ['Buffer OK', [() => Promise.resolve(Buffer.from('OK'))], 'new'],
  ])('%s', async (_label, replies, outcome) => {
    const { client } = fakeClient('ioredis', replies)
    await expect(new RedisReplayStore({ client }).remember('k', 'fp', 1000)).resolves.toBe(outcome)
  })

  it('fails closed when the key keeps expiring between SET and GET', async () => {
    const { client } = fakeClient('node-redis', [nil, nil, nil, nil, nil, nil])
    await expectStoreError(new RedisReplayStore({ client }).remember('k', 'fp', 1000), 'unexpected_reply')
  })

  it.each([
    ['a number from SET', [() => Promise.resolve(1)]],
    ['undefined from SET (a callback API)', [() => undefined]],
    ['an odd string from SET', [value('QUEUED')]],
    ['an object from GET', [nil, () => Promise.resolve({})]],
  ])('rejects %s as unexpected_reply', async (_label, replies) => {
    const { client } = fakeClient('node-redis', replies)
    await expectStoreError(new RedisReplayStore({ client }).remember('k', 'fp', 1000), 'unexpected_reply')
  })

  it('passes a client error on as command_failed with the cause', async () => {
    const cause = new Error('READONLY You cannot write against a read only replica.')
    const { client } = fakeClient('ioredis', [() => Promise.reject(cause)])
    const error = await expectStoreError(
      new RedisReplayStore({ client }).remember('k', 'fp', 1000),
      'command_failed',
    )
    expect(error.cause).toBe(cause)
    expect(error.message).not.toContain('fp')
  })

  it('turns a synchronous throw into command_failed', async () => {
    const { client } = fakeClient('node-redis', [
      () => {
        throw new Error('READONLY You cannot write against a read only replica.')
      },
    ])
    await expectStoreError(new RedisReplayStore({ client }).remember('k', 'fp', 1000), 'command_failed')
    // The client's own words for "closed" name the cause instead.
    const closed = fakeClient('node-redis', [
      () => {
        throw new Error('The client is closed')
      },
    ])
    await expectStoreError(
      new RedisReplayStore({ client: closed.client }).remember('k', 'fp', 1000),
      'not_connected',
    )
  })

  it('rejects with timeout when the client never answers', async () => {
    const { client } = fakeClient('ioredis', [() => new Promise(() => {})])
    await expectStoreError(
      new RedisReplayStore({ client, timeoutMs: 20 }).remember('k', 'fp', 1000),
      'timeout',
    )
  })

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects ttlMs %s without calling Redis',
    async (ttl) => {
      const { client, calls } = fakeClient('ioredis', [])
      await expect(new RedisReplayStore({ client }).remember('k', 'fp', ttl)).rejects.toBeInstanceOf(
        RangeError,
      )
      expect(calls).toEqual([])
    },
  )
})

describe('RedisUpgradeStore protocol (scripted clients)', () => {
  it('marks with a plain SET under the prefix and reads with GET', async () => {
    const { client, calls } = fakeClient('node-redis', [ok, value('1'), nil])
    const store = new RedisUpgradeStore({ client, prefix: 'up:' })
    await store.markUpgraded('085')
    await expect(store.isUpgraded('085')).resolves.toBe(true)
    await expect(store.isUpgraded('086')).resolves.toBe(false)
    expect(calls).toEqual([
      { name: 'set', args: ['up:085', '1'] },
      { name: 'get', args: ['up:085'] },
      { name: 'get', args: ['up:086'] },
    ])
  })

  it('rejects with timeout / command_failed instead of hanging or answering false', async () => {
    const hanging = fakeClient('ioredis', [() => new Promise(() => {})]).client
    await expectStoreError(
      new RedisUpgradeStore({ client: hanging, timeoutMs: 20 }).isUpgraded('085'),
      'timeout',
    )
    const failing = fakeClient('ioredis', [() => Promise.reject(new Error('down'))]).client
    await expectStoreError(new RedisUpgradeStore({ client: failing }).markUpgraded('085'), 'command_failed')
  })
})

describe('redis-server lookup (test support)', () => {
  it('finds an executable redis-server on PATH and explains when there is none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smileid-lookup-'))
    try {
      expect(findRedisServer({ PATH: dir })).toEqual({
        found: false,
        reason: expect.stringContaining('PATH'),
      })
      const binary = join(dir, 'redis-server')
      writeFileSync(binary, '#!/bin/sh\n')
      chmodSync(binary, 0o644)
      expect(findRedisServer({ PATH: dir }).found).toBe(false) // not executable
      chmodSync(binary, 0o755)
      expect(findRedisServer({ PATH: `/nonexistent:${dir}` })).toEqual({ found: true, path: binary })
      expect(findRedisServer({ PATH: dir, SMILEID_REDIS_SERVER: join(dir, 'missing') })).toEqual({
        found: false,
        reason: expect.stringContaining('SMILEID_REDIS_SERVER'),
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

// ---------------------------------------------------------------------------------------------------
// Against a real redis-server.

let server: RedisServer | undefined
let testCounter = 0
/** A key no other test uses. */
const freshKey = (label: string) => `signature:085:${label}:${++testCounter}:${Math.random()}`

function realServer(): RedisServer {
  if (!server) throw new Error('redis-server was not started')
  return server
}

describeRedis('RedisReplayStore on a real redis-server', (test) => {
  beforeAll(async () => {
    if (redisLookup.found) server = await RedisServer.launch(redisLookup.path)
  }, 30_000)
  afterAll(async () => {
    await server?.dispose()
  })

  for (const kind of clientKinds) {
    test(`${kind}: new, then duplicate for the same body, conflict for another`, async () => {
      const c = await connectClient(kind, realServer().url)
      try {
        const store = new RedisReplayStore({ client: c.client })
        const key = freshKey('ndc')
        await expect(store.remember(key, 'body-a', 60_000)).resolves.toBe('new')
        await expect(store.remember(key, 'body-a', 60_000)).resolves.toBe('duplicate')
        await expect(store.remember(key, 'body-b', 60_000)).resolves.toBe('conflict')
        // A conflict never overwrites the first writer's fingerprint.
        await expect(store.remember(key, 'body-a', 60_000)).resolves.toBe('duplicate')
      } finally {
        c.close()
      }
    })

    test(`${kind}: stores a hashed key under the prefix with the TTL, never the credential`, async () => {
      const c = await connectClient(kind, realServer().url)
      try {
        const prefix = `t-${kind}-${++testCounter}:`
        const store = new RedisReplayStore({ client: c.client, prefix })
        const key = freshKey('stored')
        await store.remember(key, 'body-a', 60_000)
        const keys = await c.keys(`${prefix}*`)
        expect(keys).toHaveLength(1)
        const [stored] = keys as [string]
        expect(stored).not.toContain('085')
        await expect(c.get(stored)).resolves.toMatch(/^body-a#[\w-]{16}$/)
        const pttl = await c.pttl(stored)
        expect(pttl).toBeGreaterThan(0)
        expect(pttl).toBeLessThanOrEqual(60_000)
      } finally {
        c.close()
      }
    })

    test(`${kind}: an entry expires with its TTL, then the credential is new again`, async () => {
      const c = await connectClient(kind, realServer().url)
      try {
        const prefix = `exp-${kind}-${++testCounter}:`
        const store = new RedisReplayStore({ client: c.client, prefix })
        const key = freshKey('expiry')
        await expect(store.remember(key, 'body-a', 80)).resolves.toBe('new')
        // Wait for Redis itself to drop the key; the test asserts what happens after, not when.
        await eventually(async () => {
          if ((await c.keys(`${prefix}*`)).length > 0) throw new Error('not expired yet')
        })
        await expect(store.remember(key, 'body-b', 60_000)).resolves.toBe('new')
      } finally {
        c.close()
      }
    }, 30_000)

    test(`${kind}: 400 concurrent calls for one key from 4 clients, different bodies → exactly one new`, async () => {
      const clients = await connectClients(kind, realServer().url, 4)
      try {
        const stores = clients.map((c) => new RedisReplayStore({ client: c.client }))
        const key = freshKey('race')
        const outcomes = await Promise.all(
          Array.from({ length: 400 }, (_, i) => stores[i % 4]!.remember(key, `body-${i}`, 60_000)),
        )
        expect(outcomes.filter((o) => o === 'new')).toHaveLength(1)
        expect(outcomes.filter((o) => o === 'conflict')).toHaveLength(399)
        // The stored fingerprint is the winner's: its redelivery is a duplicate, on any client.
        const winner = outcomes.indexOf('new')
        await expect(stores[(winner + 1) % 4]!.remember(key, `body-${winner}`, 60_000)).resolves.toBe(
          'duplicate',
        )
      } finally {
        for (const c of clients) c.close()
      }
    })

    test(`${kind}: 400 concurrent redeliveries of one body → one new, 399 duplicate`, async () => {
      const clients = await connectClients(kind, realServer().url, 4)
      try {
        const stores = clients.map((c) => new RedisReplayStore({ client: c.client }))
        const key = freshKey('redelivery')
        const outcomes = await Promise.all(
          Array.from({ length: 400 }, (_, i) => stores[i % 4]!.remember(key, 'same-body', 60_000)),
        )
        expect(outcomes.filter((o) => o === 'new')).toHaveLength(1)
        expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(399)
      } finally {
        for (const c of clients) c.close()
      }
    })

    test(`${kind}: upgrade store marks a partner for every client`, async () => {
      const [a, b] = (await connectClients(kind, realServer().url, 2)) as [TestClient, TestClient]
      try {
        const prefix = `up-${kind}-${++testCounter}:`
        const first = new RedisUpgradeStore({ client: a.client, prefix })
        const second = new RedisUpgradeStore({ client: b.client, prefix })
        await expect(second.isUpgraded('085')).resolves.toBe(false)
        await first.markUpgraded('085')
        await first.markUpgraded('085')
        await expect(second.isUpgraded('085')).resolves.toBe(true)
        await expect(second.isUpgraded('086')).resolves.toBe(false)
        await expect(a.pttl(`${prefix}085`)).resolves.toBe(-1) // sticky: no expiry
      } finally {
        a.close()
        b.close()
      }
    })

    test(`${kind}: a closed client makes remember reject at once with not_connected`, async () => {
      const c = await connectClient(kind, realServer().url)
      const store = new RedisReplayStore({ client: c.client, timeoutMs: 5_000 })
      c.close()
      const error = await promiseError(store.remember(freshKey('closed'), 'body', 60_000))
      expect(error).toBeInstanceOf(RedisStoreError)
      expect((error as RedisStoreError).code).toBe('not_connected')
    })
  }

  test('node-redis and ioredis instances share one memory: 400 calls from 2 + 2 clients → exactly one new', async () => {
    const url = realServer().url
    const clients = [
      ...(await connectClients('node-redis', url, 2)),
      ...(await connectClients('ioredis', url, 2)),
    ]
    try {
      const stores = clients.map((c) => new RedisReplayStore({ client: c.client }))
      const key = freshKey('mixed')
      const outcomes = await Promise.all(
        Array.from({ length: 400 }, (_, i) => stores[i % 4]!.remember(key, `body-${i}`, 60_000)),
      )
      expect(outcomes.filter((o) => o === 'new')).toHaveLength(1)
      expect(outcomes.filter((o) => o === 'conflict')).toHaveLength(399)
    } finally {
      for (const c of clients) c.close()
    }
  })
})

function promiseError(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  )
}

describeRedis('RedisReplayStore when redis-server goes away and comes back', (test) => {
  let outage: RedisServer | undefined
  beforeAll(async () => {
    if (redisLookup.found) outage = await RedisServer.launch(redisLookup.path)
  }, 30_000)
  afterAll(async () => {
    await outage?.dispose()
  })

  for (const kind of clientKinds) {
    test(`${kind}: remember and the upgrade store reject while Redis is down, and work again after a restart`, async () => {
      const target = outage as RedisServer
      const c = await connectClient(kind, target.url)
      try {
        const replay = new RedisReplayStore({ client: c.client, timeoutMs: 300 })
        const upgrades = new RedisUpgradeStore({ client: c.client, timeoutMs: 300 })
        const before = freshKey('before-outage')
        await expect(replay.remember(before, 'body-a', 60_000)).resolves.toBe('new')

        await target.stop()
        // While reconnecting, clients queue or refuse commands: either way the call settles as a rejection.
        for (const call of [
          replay.remember(freshKey('during-outage'), 'body', 60_000),
          upgrades.isUpgraded('085'),
          upgrades.markUpgraded('085'),
        ]) {
          const error = await promiseError(call)
          expect(error).toBeInstanceOf(RedisStoreError)
          expect(['timeout', 'command_failed']).toContain((error as RedisStoreError).code)
        }

        await target.start()
        const after = freshKey('after-outage')
        await expect(eventually(() => replay.remember(after, 'body-a', 60_000))).resolves.toBe('new')
        await expect(replay.remember(after, 'body-a', 60_000)).resolves.toBe('duplicate')
        await expect(replay.remember(after, 'body-b', 60_000)).resolves.toBe('conflict')
        await upgrades.markUpgraded('085')
        await expect(upgrades.isUpgraded('085')).resolves.toBe(true)
      } finally {
        c.close()
      }
    }, 60_000)
  }
})
