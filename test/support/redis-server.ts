/**
 * Private `redis-server` processes for the Redis integration tests: found on PATH (or at
 * `SMILEID_REDIS_SERVER`), started on a free loopback port with persistence off, stopped and restarted
 * mid-test. {@link describeRedis} decides what happens when the binary is missing.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

import { describe, it, type TestFunction } from 'vitest'

/** Where `redis-server` is, or why it cannot be used. */
export type RedisServerLookup = { found: true; path: string } | { found: false; reason: string }

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/**
 * Finds `redis-server`: `SMILEID_REDIS_SERVER` if set (a path), else the first match on PATH.
 *
 * @example
 * ```ts
 * const lookup = findRedisServer()
 * if (!lookup.found) console.warn(lookup.reason)
 * ```
 */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): RedisServerLookup {
  const override = env['SMILEID_REDIS_SERVER']
  if (override !== undefined && override !== '') {
    return isExecutable(override)
      ? { found: true, path: override }
      : { found: false, reason: `SMILEID_REDIS_SERVER=${override} is not an executable file` }
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, 'redis-server')
    if (isExecutable(candidate)) return { found: true, path: candidate }
  }
  return {
    found: false,
    reason: 'redis-server is not on PATH (install it with .ci/redis.sh, or `apt-get install redis-server`)',
  }
}

/** Whether a missing `redis-server` must fail the run (`.ci/run` sets `SMILEID_REQUIRE_REDIS=1`). */
export const redisRequired = process.env['SMILEID_REQUIRE_REDIS'] === '1'

/** The lookup done once per test file. */
export const redisLookup = findRedisServer()

/** Registers one Redis test; inside {@link describeRedis} it is `it`, or a skip that names the reason. */
export type RedisTest = (name: string, fn: TestFunction, timeoutMs?: number) => void

/**
 * A `describe` whose tests need a real `redis-server`. Without one, each test is registered as skipped
 * with the reason in its name and one warning lists them, so `npm test` says plainly what did not run
 * and why; under `SMILEID_REQUIRE_REDIS=1` (set by `.ci/run`) the block is one failing test instead.
 *
 * @example
 * ```ts
 * describeRedis('RedisReplayStore on a real server', (test) => {
 *   test('first writer wins', async () => { … })
 * })
 * ```
 */
export function describeRedis(name: string, factory: (test: RedisTest) => void): void {
  if (redisLookup.found) {
    describe(name, () => factory((testName, fn, timeoutMs) => it(testName, fn, timeoutMs)))
    return
  }
  const reason = redisLookup.reason
  if (redisRequired) {
    describe(name, () => {
      it('redis-server is available (required by SMILEID_REQUIRE_REDIS=1)', () => {
        throw new Error(`Redis integration tests cannot run: ${reason}`)
      })
    })
    return
  }
  describe(name, () => {
    const notRun: string[] = []
    factory((testName, fn) => {
      notRun.push(testName)
      it.skip(`${testName} [NOT RUN: ${reason}]`, fn)
    })
    console.warn(
      `[redis] NOT RUN: ${notRun.length} test(s) of "${name}": ${reason}\n` +
        notRun.map((testName) => `  - ${testName}`).join('\n') +
        '\n  (SMILEID_REQUIRE_REDIS=1 makes a missing redis-server fail the run.)',
    )
  })
}

/** A free TCP port on 127.0.0.1, found by letting the OS pick one and releasing it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))))
    })
  })
}

/** Resolves true when a `PING` on `port` is answered with `+PONG`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let answer = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1')
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'))
    })
  })
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const running = new Set<ChildProcess>()
// A crashed test run must not leave our servers behind; only our own children are killed.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/**
 * One private `redis-server` on 127.0.0.1 with persistence off. `stop()` and `start()` may be called any
 * number of times; the port stays the same so clients can reconnect.
 *
 * @example
 * ```ts
 * const server = await RedisServer.launch(lookup.path)
 * const client = await createClient({ url: server.url }).connect()
 * await server.stop()
 * ```
 */
export class RedisServer {
  readonly port: number
  readonly #binary: string
  readonly #dir: string
  #child: ChildProcess | undefined
  #output = ''

  private constructor(binary: string, port: number, dir: string) {
    this.#binary = binary
    this.port = port
    this.#dir = dir
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Whether the server process is running. */
  get running(): boolean {
    return this.#child !== undefined
  }

  /** Starts a server on a free port, retrying with another port if one is taken in the meantime. */
  static async launch(binary: string): Promise<RedisServer> {
    let lastError: unknown
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = new RedisServer(binary, await freePort(), mkdtempSync(join(tmpdir(), 'smileid-redis-')))
      try {
        await server.start()
        return server
      } catch (error) {
        lastError = error
        await server.dispose()
      }
    }
    throw lastError
  }

  /** Starts the process (again) and resolves once it answers `PING`. */
  async start(): Promise<void> {
    if (this.#child) return
    this.#output = ''
    // prettier-ignore
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.#dir, '--daemonize', 'no', '--logfile', '', '--loglevel', 'warning',
    ]
    const child = spawn(this.#binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.#child = child
    running.add(child)
    const collect = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString('utf8')).slice(-4000)
    }
    child.stdout?.on('data', collect)
    child.stderr?.on('data', collect)
    let exited = false
    child.once('exit', () => {
      exited = true
      running.delete(child)
      if (this.#child === child) this.#child = undefined
    })
    for (let waited = 0; waited < 10_000; waited += 50) {
      if (exited) break
      if (await ping(this.port)) return
      await sleep(50)
    }
    await this.stop()
    throw new Error(`redis-server did not start on port ${this.port}:\n${this.#output}`)
  }

  /** Stops the process and resolves once it has exited. */
  async stop(): Promise<void> {
    const child = this.#child
    if (!child) return
    this.#child = undefined
    if (child.exitCode !== null || child.signalCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      // SIGKILL: an abrupt loss, like a crashed or unreachable Redis; nothing to persist anyway.
      child.kill('SIGKILL')
    })
  }

  /**
   * Freezes the process (SIGSTOP): connections stay open and commands are accepted by the kernel but not
   * answered, like a Redis stalled by a long command or a paused VM. {@link RedisServer.resume} thaws it.
   */
  pause(): void {
    if (!this.#child?.kill('SIGSTOP')) throw new Error('redis-server is not running')
  }

  /** Thaws a paused process (SIGCONT); it then answers everything it was sent meanwhile. */
  resume(): void {
    if (!this.#child?.kill('SIGCONT')) throw new Error('redis-server is not running')
  }

  /** Stops the process and removes its working directory. */
  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.#dir, { recursive: true, force: true })
  }
}
