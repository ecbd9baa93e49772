/**
 * Real node-redis and ioredis clients for the Redis integration tests, behind one small shape so each
 * test runs against both.
 */
import { Redis } from 'ioredis'
import { createClient } from 'redis'

import type { RedisClientLike } from '../../src/replay/redis.js'

/** The client libraries the stores accept. */
export type ClientKind = 'node-redis' | 'ioredis'

/** Both kinds, for `describe.each` / loops. */
export const clientKinds: readonly ClientKind[] = ['node-redis', 'ioredis']

/** A connected client plus the raw commands tests use to look behind the store. */
export interface TestClient {
  readonly kind: ClientKind
  /** What the stores are given. */
  readonly client: RedisClientLike
  /** Milliseconds to live of `key` (`PTTL`): -2 when absent. */
  pttl(key: string): Promise<number>
  /** `GET key`. */
  get(key: string): Promise<string | null>
  /** Keys matching `pattern` (`KEYS`, fine on a private test server). */
  keys(pattern: string): Promise<string[]>
  /** Disconnects without waiting for the server (which may be down). */
  close(): void
}

// Reconnect quickly so that recovery after a restart does not wait for long back-off steps.
const reconnectDelay = (attempt: number) => Math.min(attempt * 50, 200)

/**
 * Connects a client of `kind` to `url`. Connection errors are collected, not thrown: node-redis emits
 * them as events and an unhandled 'error' event would crash the worker while the server is down.
 */
export async function connectClient(kind: ClientKind, url: string): Promise<TestClient> {
  if (kind === 'node-redis') {
    const client = createClient({ url, socket: { reconnectStrategy: reconnectDelay } })
    client.on('error', () => {})
    await client.connect()
    return {
      kind,
      client,
      pttl: (key) => client.pTTL(key),
      get: (key) => client.get(key),
      keys: (pattern) => client.keys(pattern),
      close: () => client.destroy(),
    }
  }
  const client = new Redis(url, { lazyConnect: true, retryStrategy: reconnectDelay })
  client.on('error', () => {})
  await client.connect()
  return {
    kind,
    client,
    pttl: (key) => client.pttl(key),
    get: (key) => client.get(key),
    keys: (pattern) => client.keys(pattern),
    close: () => client.disconnect(),
  }
}

/** Connects `count` separate clients of `kind` (separate connections, like separate instances). */
export function connectClients(kind: ClientKind, url: string, count: number): Promise<TestClient[]> {
  return Promise.all(Array.from({ length: count }, () => connectClient(kind, url)))
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Calls `attempt` until it resolves, pausing between tries; gives up with the last error after `tries`.
 * Used to wait for a client to reconnect after a restart without asserting how long that takes.
 */
export async function eventually<T>(attempt: () => Promise<T>, tries = 200, pauseMs = 50): Promise<T> {
  let lastError: unknown
  for (let i = 0; i < tries; i++) {
    try {
      return await attempt()
    } catch (error) {
      lastError = error
      await sleep(pauseMs)
    }
  }
  throw lastError
}
