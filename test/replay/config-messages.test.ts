/**
 * Every replay and upgrade store option mistake: the code, what was given, what is allowed, and the
 * likely slip. Real node-redis and ioredis clients are built but never connected: no server is needed.
 */
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, describe, expect, it } from 'vitest'
import { MemoryReplayStore } from '../../src/replay/memory.js'
import { RedisReplayStore, RedisUpgradeStore } from '../../src/replay/redis.js'
import { expectConfigError } from '../support/config-errors.js'

const nodeRedis = createClient({ url: 'redis://127.0.0.1:1' })
const closedIoredis = new Redis({ lazyConnect: true, port: 1 })
closedIoredis.disconnect()
afterAll(() => {
  closedIoredis.disconnect()
})

const CLIENT = '`client` must be a node-redis (v4+) or ioredis client'

describe('MemoryReplayStore option messages', () => {
  const MAX =
    'MemoryReplayStore: maxEntries must be a positive whole number of remembered credentials (default 100000)'
  it.each([
    { name: 'zero', options: { maxEntries: 0 }, includes: [MAX, '(got the number 0)'] },
    {
      name: 'a fraction',
      options: { maxEntries: 2.5 },
      includes: [MAX, '(got the number 2.5); round it, for example 3'],
    },
    { name: 'a string', options: { maxEntries: '1000' }, includes: [MAX, 'pass a number, not a string'] },
    { name: 'Infinity', options: { maxEntries: Infinity }, includes: [MAX, '(got the number Infinity)'] },
    {
      name: 'a mistyped option',
      options: { maxEntires: 10 },
      includes: ['unknown option in MemoryReplayStore: maxEntires (did you mean maxEntries?)'],
    },
    {
      name: 'a fixed time for now',
      options: { now: new Date() },
      includes: ['MemoryReplayStore: now must be a function returning epoch milliseconds', '(got a Date)'],
    },
    {
      name: 'not an object',
      options: 1000,
      includes: ['MemoryReplayStore: options must be an object', 'the number 1000'],
    },
  ])('$name', async ({ options, includes }) => {
    await expectConfigError(() => new MemoryReplayStore(options as never), {
      code: 'invalid_options',
      includes,
    })
  })

  it('still accepts its defaults and a valid bound', () => {
    expect(new MemoryReplayStore().stats.entries).toBe(0)
    expect(new MemoryReplayStore({ maxEntries: 1 }).size).toBe(0)
  })
})

describe.each([
  { owner: 'RedisReplayStore', make: (options: unknown) => new RedisReplayStore(options as never) },
  { owner: 'RedisUpgradeStore', make: (options: unknown) => new RedisUpgradeStore(options as never) },
])('$owner option messages', ({ owner, make }) => {
  it.each([
    {
      name: 'no options',
      options: undefined,
      includes: [
        `${owner}: options must be an object { client, prefix?, timeoutMs?, onError? } (got undefined)`,
      ],
    },
    {
      name: 'the client passed bare',
      options: nodeRedis,
      includes: [`pass the client inside the options, new ${owner}({ client })`],
    },
    {
      name: 'no client',
      options: {},
      includes: [`${owner}: ${CLIENT} (got undefined)`, 'createClient({ url })', 'new Redis(url)'],
    },
    {
      name: 'a URL for the client',
      options: { client: 'redis://user:hunter2-password@cache:6379' },
      includes: [CLIENT, '(got a string of 40 characters)', 'not the URL'],
      excludes: ['hunter2'],
    },
    {
      name: 'the factory for the client',
      options: { client: createClient },
      includes: [CLIENT, '(got a function)', 'not its factory'],
    },
    {
      name: 'an unawaited connect()',
      options: { client: Promise.resolve(nodeRedis) },
      includes: [CLIENT, '(got a promise)', 'await it first'],
    },
    {
      name: 'connection options for the client',
      options: { client: { url: 'redis://cache:6379' } },
      includes: [CLIENT, 'these look like connection options', 'createClient(options)'],
    },
    {
      name: 'some other object',
      options: { client: { query: () => undefined } },
      includes: [CLIENT, '(got an object) with set() and get() methods'],
    },
    {
      name: 'an ioredis client already closed',
      options: { client: closedIoredis },
      includes: [`${owner}: the ioredis client is closed for good (status 'end'`, 'pass an open client'],
    },
    {
      name: 'a numeric prefix',
      options: { client: nodeRedis, prefix: 7 },
      includes: [`${owner}: \`prefix\` must be a string such as 'smileid:`, '(got the number 7)'],
    },
    {
      name: 'a timeout as text',
      options: { client: nodeRedis, timeoutMs: '2s' },
      includes: ['`timeoutMs` must be a positive number of milliseconds up to 2147483647', 'not a string'],
    },
    {
      name: 'a zero timeout',
      options: { client: nodeRedis, timeoutMs: 0 },
      includes: ['`timeoutMs` must be a positive number', '(got the number 0)', 'leave timeoutMs out'],
    },
    {
      name: 'a timeout beyond a timer',
      options: { client: nodeRedis, timeoutMs: 2 ** 32 },
      includes: ['`timeoutMs` must be', 'longer than a timer can wait'],
    },
    {
      name: 'onError not a function',
      options: { client: nodeRedis, onError: 'log' },
      includes: [`${owner}: \`onError\` must be a function (error) => void (got "log")`],
    },
    {
      name: 'a mistyped option',
      options: { client: nodeRedis, timeout: 100 },
      includes: [`unknown option in ${owner}: timeout (did you mean timeoutMs?)`],
    },
  ])('$name', async ({ options, includes, excludes }) => {
    await expectConfigError(() => make(options), {
      code: 'invalid_options',
      includes,
      excludes: excludes ?? [],
    })
  })

  it('accepts a node-redis client that is not connected yet (connect() may come after construction)', () => {
    expect(() => make({ client: nodeRedis })).not.toThrow()
  })
})
