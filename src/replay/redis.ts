/**
 * Replay and sticky-upgrade stores on Redis, shared by every instance of a webhook receiver.
 * Pass a connected node-redis (`redis` v4+) or ioredis client; this module imports neither.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto'

import { ConfigurationError } from '../errors.js'
import { checkKnownKeys, describe } from '../option-checks.js'
import type { ReplayOutcome, ReplayStore, UpgradeStore } from './store.js'

/**
 * The part of a Redis client this module uses. A node-redis v4+ client (`createClient()`, also in v4
 * `legacyMode`, or `createCluster()`) and an ioredis client (`new Redis()`, `new Cluster()`) all fit;
 * which one it is, is detected at construction.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * const client: RedisClientLike = await createClient({ url: process.env.REDIS_URL }).connect()
 * ```
 */
export interface RedisClientLike {
  /** `GET key`. */
  get(key: string): unknown
  /** `SET key value [options]`; the option spelling differs between node-redis and ioredis. */
  set(key: string, value: string, ...options: never[]): unknown
}

/**
 * Options of {@link RedisReplayStore}.
 *
 * @example
 * ```ts
 * const options: RedisReplayStoreOptions = { client, prefix: 'webhooks:replay:', timeoutMs: 500 }
 * ```
 */
export interface RedisReplayStoreOptions {
  /** A node-redis v4+ or ioredis client. Connect it before the first request; this store never connects it. */
  client: RedisClientLike
  /** Prepended to every key. Default `smileid:replay:`. */
  prefix?: string
  /**
   * Longest a `remember()` call may take, in milliseconds, before it rejects. Default 1000. A client that
   * queues commands while reconnecting would otherwise hold requests until Redis returns.
   */
  timeoutMs?: number
  /**
   * Called with every error a call rejects with (the verifier only sees that the store failed). Use it
   * to log or count the cause; a hook that throws is ignored. Without it, the first `not_connected` is
   * reported once through `process.emitWarning`.
   */
  onError?: (error: RedisStoreError) => void
}

/**
 * Options of {@link RedisUpgradeStore}.
 *
 * @example
 * ```ts
 * const options: RedisUpgradeStoreOptions = { client, prefix: 'webhooks:upgraded:' }
 * ```
 */
export interface RedisUpgradeStoreOptions {
  /** A node-redis v4+ or ioredis client. Connect it before the first request; this store never connects it. */
  client: RedisClientLike
  /** Prepended to every partner id. Default `smileid:upgraded:`. */
  prefix?: string
  /** Longest a call may take, in milliseconds, before it rejects. Default 1000. */
  timeoutMs?: number
  /** Called with every error a call rejects with, as in {@link RedisReplayStoreOptions.onError}. */
  onError?: (error: RedisStoreError) => void
}

/**
 * What a Redis store has met, for monitoring: a store whose calls fail says so here even though the
 * verifier reports only `replay_check_failed`.
 *
 * @example
 * ```ts
 * const { errors, byCode } = store.stats
 * if (byCode.not_connected > 0) console.error('call client.connect() before serving requests')
 * ```
 */
export interface RedisStoreStats {
  /** Calls that rejected, all codes together. */
  errors: number
  /** Rejected calls per {@link RedisStoreErrorCode}. */
  byCode: Record<RedisStoreErrorCode, number>
  /** Late writes of refused `remember()` calls taken back (replay store only; always 0 for upgrades). */
  lateWritesUndone: number
}

/** Stable codes of {@link RedisStoreError}. */
export type RedisStoreErrorCode = 'not_connected' | 'timeout' | 'command_failed' | 'unexpected_reply'

/**
 * Why a Redis store call rejected: the client is not connected, never was or was closed
 * (`not_connected`: call `client.connect()` first), Redis did not answer in time (`timeout`), the client
 * reported an error (`command_failed`, original in `cause`), or the reply was not one Redis gives
 * (`unexpected_reply`).
 * The verifier turns any of them into `replay_check_failed`. Messages never contain keys or fingerprints.
 *
 * @example
 * ```ts
 * try {
 *   await store.remember(key, fingerprint, 300_000)
 * } catch (error) {
 *   if (error instanceof RedisStoreError) metrics.increment(`redis_${error.code}`)
 * }
 * ```
 */
export class RedisStoreError extends Error {
  /** A stable code to branch on. */
  readonly code: RedisStoreErrorCode

  constructor(code: RedisStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RedisStoreError'
    this.code = code
  }
}

const DEFAULT_REPLAY_PREFIX = 'smileid:replay:'
const DEFAULT_UPGRADE_PREFIX = 'smileid:upgraded:'
const DEFAULT_TIMEOUT_MS = 1000
// setTimeout clamps larger delays to 1 ms, which would turn a long timeout into an instant one.
const MAX_TIMEOUT_MS = 2_147_483_647

/** The commands both stores need, spelled for the detected client. */
interface Commands {
  /** `SET key value PX ttlMs NX`: resolves 'OK' when set, null when the key exists. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<unknown>
  set(key: string, value: string): Promise<unknown>
  get(key: string): Promise<unknown>
  /** False when the client says it is not connected and will not connect by itself (never opened, or closed). */
  isOpen(): boolean
  /** Deletes `key` only while it holds `value` (one atomic script); undefined when the client has no EVAL. */
  deleteIfEqual: ((key: string, value: string) => Promise<unknown>) | undefined
}

/** Compare-and-delete: only the write that put `value` there may take it back. */
const DELETE_IF_EQUAL =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"

type Method = (...args: unknown[]) => unknown

function methodOf(target: unknown, name: string): Method | undefined {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) return undefined
  const value: unknown = (target as Record<string, unknown>)[name]
  return typeof value === 'function' ? (value as Method) : undefined
}

const CLIENT_TEXT = '`client` must be a node-redis (v4+) or ioredis client'

/** The likely slip behind a value that is not a client, named from its shape alone (nothing is printed). */
function clientHint(client: unknown): string {
  if (client === undefined)
    return '; pass { client: createClient({ url }) } (node-redis) or { client: new Redis(url) } (ioredis)'
  if (typeof client === 'string')
    return '; pass a client made from the URL, not the URL: createClient({ url })'
  if (typeof client === 'function')
    return '; pass the client itself (createClient() or new Redis()), not its factory'
  if (typeof client !== 'object' || client === null) return ''
  if (typeof (client as { then?: unknown }).then === 'function') {
    return '; this is a promise: await it first (const client = await createClient().connect())'
  }
  const keys = ['url', 'host', 'port', 'socket', 'password', 'username']
  if (keys.some((key) => key in client)) {
    return '; these look like connection options: pass the client made from them, createClient(options) or new Redis(options)'
  }
  return ' with set() and get() methods'
}

/** Tells node-redis from ioredis by shape, so that neither package has to be importable here. */
function commandsFor(client: unknown, owner: string): Commands {
  const invalid = () =>
    new ConfigurationError(
      'invalid_options',
      `${owner}: ${CLIENT_TEXT} (got ${describeClient(client)})${clientHint(client)}`,
    )
  if (
    client === null ||
    typeof client !== 'object' ||
    typeof (client as { then?: unknown }).then === 'function'
  ) {
    throw invalid()
  }
  const record = client as Record<string, unknown>
  const call = (target: object, name: string, args: unknown[]) =>
    Promise.resolve((methodOf(target, name) as Method).apply(target, args))

  // ioredis (Redis and Cluster): positional tokens; `call` and a string `status` exist only there.
  if (methodOf(client, 'call') && typeof record['status'] === 'string') {
    if (!methodOf(client, 'set') || !methodOf(client, 'get')) throw invalid()
    if (record['status'] === 'end') {
      // 'end' never comes back: every request would fail as not_connected, so say it now.
      throw new ConfigurationError(
        'invalid_options',
        `${owner}: the ioredis client is closed for good (status 'end', after quit() or disconnect()): pass an open ` +
          'client, and close it only after the store is no longer used',
      )
    }
    return {
      setIfAbsent: (key, value, ttlMs) => call(client, 'set', [key, value, 'PX', ttlMs, 'NX']),
      set: (key, value) => call(client, 'set', [key, value]),
      get: (key) => call(client, 'get', [key]),
      // 'wait' (lazyConnect) connects on the first command; 'end' is closed for good (quit/disconnect).
      isOpen: () => record['status'] !== 'end',
      deleteIfEqual: methodOf(client, 'eval')
        ? (key, value) => call(client, 'eval', [DELETE_IF_EQUAL, 1, key, value])
        : undefined,
    }
  }

  // node-redis v4 legacyMode keeps callback commands on the client and the promise API on `.v4`.
  const promiseApi = typeof record['v4'] === 'object' && record['v4'] !== null ? record['v4'] : client
  if (typeof record['isOpen'] === 'boolean' && methodOf(promiseApi, 'set') && methodOf(promiseApi, 'get')) {
    return {
      // v4 reads only NX/PX; v5+ prefers condition/expiration and may drop NX/PX. Both spellings keep
      // the write conditional on every version: an unconditional SET would make every request 'new'.
      setIfAbsent: (key, value, ttlMs) =>
        call(promiseApi, 'set', [
          key,
          value,
          { NX: true, PX: ttlMs, condition: 'NX', expiration: { type: 'PX', value: ttlMs } },
        ]),
      set: (key, value) => call(promiseApi, 'set', [key, value]),
      get: (key) => call(promiseApi, 'get', [key]),
      // node-redis never connects by itself: a client not yet connect()ed, or closed, rejects every command.
      isOpen: () => record['isOpen'] === true,
      deleteIfEqual: methodOf(promiseApi, 'eval')
        ? (key, value) => call(promiseApi, 'eval', [DELETE_IF_EQUAL, { keys: [key], arguments: [value] }])
        : undefined,
    }
  }
  throw invalid()
}

function describeClient(client: unknown): string {
  if (
    typeof client === 'object' &&
    client !== null &&
    typeof (client as { then?: unknown }).then === 'function'
  ) {
    return 'a promise'
  }
  return describe(client)
}

function prefixOption(value: unknown, fallback: string, owner: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string') {
    throw new ConfigurationError(
      'invalid_options',
      `${owner}: \`prefix\` must be a string such as '${fallback}' (got ${describe(value)})`,
    )
  }
  return value
}

function timeoutOption(value: unknown, owner: string): number {
  if (value === undefined) return DEFAULT_TIMEOUT_MS
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_MS) {
    throw new ConfigurationError(
      'invalid_options',
      `${owner}: \`timeoutMs\` must be a positive number of milliseconds up to ${MAX_TIMEOUT_MS} ` +
        `(default ${DEFAULT_TIMEOUT_MS}) (got ${describe(value)})${timeoutHint(value)}`,
    )
  }
  return value
}

function timeoutHint(value: unknown): string {
  if (typeof value === 'string') return '; pass a number of milliseconds, not a string'
  if (typeof value === 'number' && value > MAX_TIMEOUT_MS)
    return '; that is longer than a timer can wait (about 24.8 days)'
  if (value === 0) return '; a store call needs some time: leave timeoutMs out for the default'
  return ''
}

const STORE_OPTION_KEYS = ['client', 'prefix', 'timeoutMs', 'onError'] as const

function readOptions(options: unknown, owner: string): Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigurationError(
      'invalid_options',
      `${owner}: options must be an object { client, prefix?, timeoutMs?, onError? } (got ${describe(options)})`,
    )
  }
  const record = options as Record<string, unknown>
  // A client passed bare (new RedisReplayStore(client)) has set/get where the options should be.
  if (!('client' in record) && typeof record['set'] === 'function' && typeof record['get'] === 'function') {
    throw new ConfigurationError(
      'invalid_options',
      `${owner}: pass the client inside the options, new ${owner}({ client }), not the client itself`,
    )
  }
  checkKnownKeys(record, STORE_OPTION_KEYS, owner)
  return record
}

/** Redis replies are strings, or Buffers when the client is set to return them. */
function text(reply: unknown, command: string): string | null {
  if (reply === null) return null
  if (typeof reply === 'string') return reply
  if (reply instanceof Uint8Array) return Buffer.from(reply).toString('utf8')
  throw new RedisStoreError('unexpected_reply', `Redis ${command} gave an unexpected reply`)
}

const NOT_CONNECTED_HINT =
  'the Redis client is not connected (never connected, or closed): call `await client.connect()` before ' +
  'the first request (node-redis), and do not quit() or disconnect() a client a store still uses'

/** node-redis and ioredis say "not connected" in their own words; all mean the same to a store. */
function isClosedError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  return (
    error.name === 'ClientClosedError' ||
    error.message === 'The client is closed' ||
    error.message === 'Connection is closed.' ||
    error.message.includes('enableOfflineQueue options is false')
  )
}

/** Counts a store's failures and hands each one to the `onError` hook. */
class Health {
  readonly stats: RedisStoreStats = {
    errors: 0,
    byCode: { not_connected: 0, timeout: 0, command_failed: 0, unexpected_reply: 0 },
    lateWritesUndone: 0,
  }
  readonly #onError: ((error: RedisStoreError) => void) | undefined
  #warned = false

  snapshot(): RedisStoreStats {
    return { ...this.stats, byCode: { ...this.stats.byCode } }
  }

  constructor(onError: unknown, owner: string) {
    if (onError !== undefined && typeof onError !== 'function') {
      throw new ConfigurationError(
        'invalid_options',
        `${owner}: \`onError\` must be a function (error) => void (got ${describe(onError)})`,
      )
    }
    this.#onError = onError as ((error: RedisStoreError) => void) | undefined
  }

  report(error: RedisStoreError): void {
    this.stats.errors++
    this.stats.byCode[error.code]++
    if (this.#onError !== undefined) {
      try {
        this.#onError(error)
      } catch {
        // A failing hook must not turn a store failure into something else.
      }
    } else if (error.code === 'not_connected' && !this.#warned) {
      // The one failure that never heals by itself: say so once even without a hook.
      this.#warned = true
      const proc = (globalThis as { process?: { emitWarning?: (m: string, o?: object) => void } }).process
      if (typeof proc?.emitWarning === 'function') {
        proc.emitWarning(error.message, { type: 'SmileIdRedisWarning', code: 'SMILEID_REDIS_NOT_CONNECTED' })
      } else console.warn(error.message)
    }
  }
}

/**
 * Runs one store call under a deadline. A client that is not connected fails at once as
 * `not_connected`; client errors become `command_failed`. A late command is not cancelled (clients
 * cannot un-send it, and their offline queues send it once Redis is back): the replay store undoes a
 * late write itself, see {@link RedisReplayStore}. Every rejection is counted and reported.
 */
function withDeadline<T>(
  commands: Commands,
  health: Health,
  timeoutMs: number,
  what: string,
  run: () => Promise<T>,
): Promise<T> {
  const call = new Promise<T>((resolve, reject) => {
    if (!commands.isOpen()) {
      reject(new RedisStoreError('not_connected', `Redis ${what} failed: ${NOT_CONNECTED_HINT}`))
      return
    }
    const timer = setTimeout(() => {
      reject(new RedisStoreError('timeout', `Redis did not answer ${what} within ${timeoutMs} ms`))
    }, timeoutMs)
    // The deadline alone must not keep a process alive that has nothing else to do (Deno timers are numbers).
    if (typeof timer === 'object') timer.unref()
    run().then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(
          error instanceof RedisStoreError
            ? error
            : isClosedError(error)
              ? new RedisStoreError('not_connected', `Redis ${what} failed: ${NOT_CONNECTED_HINT}`, {
                  cause: error,
                })
              : new RedisStoreError('command_failed', `Redis ${what} failed`, { cause: error }),
        )
      },
    )
  })
  call.then(undefined, (error: RedisStoreError) => health.report(error))
  return call
}

/** Separates the fingerprint from the per-call token in a stored value. */
const TOKEN_SEPARATOR = '#'
/** 12 random bytes in base64url: 16 characters. */
const TOKEN_PATTERN = /#[A-Za-z0-9_-]{16}$/
/** Writes awaiting their undo that this instance still recognises when it reads them back. */
const MAX_TRACKED_UNDOS = 10_000
/** An undo that failed (Redis gone again) is retried this many times, this far apart. */
const UNDO_ATTEMPTS = 5
const UNDO_RETRY_MS = 1000

/** The fingerprint part of a stored value; values written before tokens existed are the fingerprint. */
function storedFingerprint(stored: string): string {
  return TOKEN_PATTERN.test(stored) ? stored.slice(0, -17) : stored
}

function isOk(reply: unknown): boolean {
  try {
    return text(reply, 'SET') === 'OK'
  } catch {
    return false
  }
}

/**
 * A {@link ReplayStore} on Redis, for receivers that run more than one instance: every instance sees
 * every credential. Each `remember()` is one atomic `SET key value PX ttl NX` (first writer wins),
 * then a `GET` only when the key already existed, so concurrent deliveries on different instances
 * cannot both be `new`. Keys are `prefix` + SHA-256 of the replay key, so no credential is stored in Redis.
 * A call rejects with {@link RedisStoreError} when Redis fails or does not answer within `timeoutMs`; the
 * verifier then fails closed with `replay_check_failed` unless `replayFailure: 'accept'`.
 *
 * A refused call leaves no entry behind. node-redis and ioredis queue commands while Redis is stalled or
 * reconnecting and send them later, so a `SET` whose caller already gave up can still land: the sender's
 * retry would then be a `duplicate` of a callback nobody accepted. Each call therefore stores its
 * fingerprint with a random token, and when a write it did not report as `new` turns out to have landed
 * (or may have: the client failed it mid-flight), the store deletes the key while it still holds that
 * token (compare-and-delete, one `EVAL`), so a later writer's entry is never touched. A read on the same
 * instance that meets a write awaiting its undo undoes it first.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { DualModeVerifier } from 'smileid-auth-shim'
 * import { RedisReplayStore } from 'smileid-auth-shim/redis'
 *
 * const client = createClient({ url: process.env.REDIS_URL })
 * client.on('error', (error) => console.error('redis', error))
 * await client.connect()
 * const verifier = new DualModeVerifier({ signature, replay: new RedisReplayStore({ client }) })
 * ```
 */
export class RedisReplayStore implements ReplayStore {
  readonly #commands: Commands
  readonly #prefix: string
  readonly #timeoutMs: number
  readonly #health: Health
  /** Redis key → value of a write this instance gave up on and has not undone yet. */
  readonly #undoing = new Map<string, string>()

  /** @throws `ConfigurationError` `invalid_options` when `client`, `prefix`, `timeoutMs` or `onError` is unusable. */
  constructor(options: RedisReplayStoreOptions) {
    const owner = 'RedisReplayStore'
    const record = readOptions(options, owner)
    this.#commands = commandsFor(record['client'], owner)
    this.#prefix = prefixOption(record['prefix'], DEFAULT_REPLAY_PREFIX, owner)
    this.#timeoutMs = timeoutOption(record['timeoutMs'], owner)
    this.#health = new Health(record['onError'], owner)
  }

  /**
   * Failures by code and late writes undone, since construction (a snapshot).
   *
   * @example
   * ```ts
   * setInterval(() => metrics.gauge('replay_store_errors', store.stats.errors), 10_000)
   * ```
   */
  get stats(): RedisStoreStats {
    return this.#health.snapshot()
  }

  /**
   * Records `fingerprint` under `key` for `ttlMs` unless `key` is already present, and says which case it was.
   *
   * @example
   * ```ts
   * const outcome = await store.remember('signature:085:abc…', bodyFingerprint, 300_000) // 'new'
   * ```
   */
  remember(key: string, fingerprint: string, ttlMs: number): Promise<ReplayOutcome> {
    if (typeof key !== 'string' || typeof fingerprint !== 'string') {
      return Promise.reject(new TypeError('RedisReplayStore.remember: key and fingerprint must be strings'))
    }
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
      return Promise.reject(new RangeError('RedisReplayStore.remember: ttlMs must be a positive number'))
    }
    // PX takes whole milliseconds; rounding up never shortens the window.
    const ttl = Math.ceil(ttlMs)
    const redisKey = this.#prefix + createHash('sha256').update(key).digest('base64url')
    const value = fingerprint + TOKEN_SEPARATOR + randomBytes(12).toString('base64url')
    // Every SET this call sends; once the call is refused, any of them that lands is taken back.
    const sets: Array<Promise<unknown>> = []
    let refused = false
    const call = withDeadline(
      this.#commands,
      this.#health,
      this.#timeoutMs,
      'remember',
      async (): Promise<ReplayOutcome> => {
        // Two rounds cover a key that expires between our SET and GET: the second SET then wins or meets
        // a newer writer. A third is for a write of ours awaiting its undo. More would need two expiries
        // within two round trips; fail closed.
        for (let round = 0; round < 3; round++) {
          // A call that already timed out must not go on writing: nobody would hear its 'new'.
          if (refused) throw new RedisStoreError('timeout', 'Redis call abandoned')
          const pending = this.#commands.setIfAbsent(redisKey, value, ttl)
          sets.push(pending)
          const set = text(await pending, 'SET')
          if (set === 'OK') return 'new'
          if (set !== null)
            throw new RedisStoreError('unexpected_reply', 'Redis SET gave an unexpected reply')
          if (refused) throw new RedisStoreError('timeout', 'Redis call abandoned')
          const stored = text(await this.#commands.get(redisKey), 'GET')
          if (stored === null) continue
          if (stored === this.#undoing.get(redisKey)) {
            // A write of an earlier, refused call on this instance, landed late: take it back and compete again.
            await this.#undo(redisKey, stored, 1)
            continue
          }
          // Fingerprints hash the body, which the sender chose: nothing secret to compare in constant time.
          return storedFingerprint(stored) === fingerprint ? 'duplicate' : 'conflict'
        }
        throw new RedisStoreError('unexpected_reply', 'Redis key kept expiring between SET and GET')
      },
    )
    call.then(undefined, () => {
      refused = true
      for (const pending of sets) {
        pending.then(
          (reply) => {
            if (isOk(reply)) this.#undoLater(redisKey, value)
          },
          // Failed by the client: it may have reached Redis before the connection broke.
          () => this.#undoLater(redisKey, value),
        )
      }
    })
    return call
  }

  #forget(redisKey: string, value: string): void {
    if (this.#undoing.get(redisKey) === value) this.#undoing.delete(redisKey)
  }

  #undoLater(redisKey: string, value: string): void {
    // Only the first pending undo per key is recognised on read; later ones are undone all the same.
    if (!this.#undoing.has(redisKey) && this.#undoing.size < MAX_TRACKED_UNDOS) {
      this.#undoing.set(redisKey, value)
    }
    this.#undo(redisKey, value, UNDO_ATTEMPTS).then(undefined, () => this.#forget(redisKey, value))
  }

  /** Deletes `redisKey` while it holds `value`; retried while Redis is unreachable. */
  async #undo(redisKey: string, value: string, attempts: number): Promise<void> {
    const deleteIfEqual = this.#commands.deleteIfEqual
    if (deleteIfEqual === undefined) {
      this.#forget(redisKey, value)
      throw new RedisStoreError('command_failed', 'the Redis client has no EVAL to undo a late write')
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const deleted: unknown = await deleteIfEqual(redisKey, value)
        if (deleted === 1) this.#health.stats.lateWritesUndone++
        this.#forget(redisKey, value)
        return
      } catch (error) {
        if (attempt >= attempts) {
          throw new RedisStoreError('command_failed', 'Redis could not undo a late write', { cause: error })
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, UNDO_RETRY_MS)
          if (typeof timer === 'object') timer.unref()
        })
      }
    }
  }
}

function partnerIdError(method: string): TypeError {
  return new TypeError(`RedisUpgradeStore.${method}: partnerId must be a string`)
}

/**
 * An {@link UpgradeStore} on Redis for the verifier's `stickyUpgrade` policy, so that a partner seen
 * using `signature` on one instance is refused `sec_key` on all of them. One key per partner
 * (`prefix` + partner id), without expiry. It can share the client of a {@link RedisReplayStore}.
 * Unlike a replay entry, a mark whose caller timed out and that lands later is right, not stale: the
 * verifier marks only partners whose signature request it accepted, so it is not undone.
 *
 * @example
 * ```ts
 * import { RedisReplayStore, RedisUpgradeStore } from 'smileid-auth-shim/redis'
 *
 * const verifier = new DualModeVerifier({
 *   signature,
 *   secKey,
 *   policy: { stickyUpgrade: true },
 *   replay: new RedisReplayStore({ client }),
 *   upgradeStore: new RedisUpgradeStore({ client }),
 * })
 * ```
 */
export class RedisUpgradeStore implements UpgradeStore {
  readonly #commands: Commands
  readonly #prefix: string
  readonly #timeoutMs: number

  readonly #health: Health

  /** @throws `ConfigurationError` `invalid_options` when `client`, `prefix`, `timeoutMs` or `onError` is unusable. */
  constructor(options: RedisUpgradeStoreOptions) {
    const owner = 'RedisUpgradeStore'
    const record = readOptions(options, owner)
    this.#commands = commandsFor(record['client'], owner)
    this.#prefix = prefixOption(record['prefix'], DEFAULT_UPGRADE_PREFIX, owner)
    this.#timeoutMs = timeoutOption(record['timeoutMs'], owner)
    this.#health = new Health(record['onError'], owner)
  }

  /**
   * Failures by code since construction (a snapshot).
   *
   * @example
   * ```ts
   * if (upgrades.stats.byCode.not_connected > 0) console.error('Redis client not connected')
   * ```
   */
  get stats(): RedisStoreStats {
    return this.#health.snapshot()
  }

  /**
   * Records that `partnerId` has authenticated with the signature scheme.
   *
   * @example
   * ```ts
   * await upgrades.markUpgraded('085')
   * ```
   */
  markUpgraded(partnerId: string): Promise<void> {
    if (typeof partnerId !== 'string') return Promise.reject(partnerIdError('markUpgraded'))
    return withDeadline(this.#commands, this.#health, this.#timeoutMs, 'markUpgraded', async () => {
      const reply = text(await this.#commands.set(this.#prefix + partnerId, '1'), 'SET')
      if (reply !== 'OK') throw new RedisStoreError('unexpected_reply', 'Redis SET gave an unexpected reply')
    })
  }

  /**
   * Whether `partnerId` has authenticated with the signature scheme on any instance.
   *
   * @example
   * ```ts
   * if (await upgrades.isUpgraded('085')) console.log('085 no longer sends sec_key')
   * ```
   */
  isUpgraded(partnerId: string): Promise<boolean> {
    if (typeof partnerId !== 'string') return Promise.reject(partnerIdError('isUpgraded'))
    return withDeadline(this.#commands, this.#health, this.#timeoutMs, 'isUpgraded', async () => {
      return text(await this.#commands.get(this.#prefix + partnerId), 'GET') !== null
    })
  }
}
