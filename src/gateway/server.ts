/**
 * Runs the gateway: builds the verifier, signers, stores and audit sink from a loaded config, serves the
 * inbound and outbound listeners, answers `/healthz`, `/readyz` and `/metrics`, and shuts down gracefully.
 *
 * @internal
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'

import { pathOf } from '../adapters/core.js'
import type { AuditSink } from '../audit/events.js'
import { jsonlAuditSink, type JsonlAuditSink } from '../audit/sinks.js'
import { DEFAULT_MAX_ENTRIES, MemoryReplayStore } from '../replay/memory.js'
import { RedisReplayStore, RedisUpgradeStore, type RedisClientLike } from '../replay/redis.js'
import type { ReplayStore, UpgradeStore } from '../replay/store.js'
import { MigratingSigner } from '../signer.js'
import { DualModeVerifier, type DualModeVerifierOptions, type PartnerConfig } from '../verifier/dual-mode.js'
import { GatewayConfigError, type GatewayConfig } from './config.js'
import { answerError, createUpstreamPool, type UpstreamPool } from './forward.js'
import { createInboundProxy } from './inbound.js'
import type { GatewayLogger } from './log.js'
import { GatewayMetrics } from './metrics.js'
import { createOutboundProxy, type OutboundAuditEvent } from './outbound.js'

/** How often a filling in-memory replay store is reported. */
const EVICTION_LOG_INTERVAL_MS = 10_000

/**
 * A full in-memory store evicts unexpired credentials, which can then be replayed: says so in the log, at
 * most every `intervalMs`, with the count since the last line (the store itself warns once, on stderr).
 * The timer does not keep the process alive; clear it on shutdown.
 */
function watchEvictions(
  store: MemoryReplayStore,
  maxEntries: number,
  log: GatewayLogger,
  intervalMs = EVICTION_LOG_INTERVAL_MS,
): ReturnType<typeof setInterval> {
  let logged = 0
  const timer = setInterval(() => {
    const { evicted } = store.stats
    if (evicted === logged) return
    log('warn', 'replay store full', {
      evicted: evicted - logged,
      evictedTotal: evicted,
      maxEntries,
      hint: 'evicted credentials can be replayed within their window: raise replay.memory.maxEntries above the callbacks received per freshness window, or use replay.redis',
    })
    logged = evicted
  }, intervalMs)
  timer.unref()
  return timer
}

/** Options of {@link startGateway}. */
export interface StartGatewayOptions {
  /** Log lines (JSON). */
  log: GatewayLogger
  /** Wall clock, epoch milliseconds. Default `Date.now`. */
  now?: () => number
  /** How often a filling in-memory replay store is reported in the log. Default 10 s. */
  reportIntervalMs?: number
}

/** A running gateway. */
export interface RunningGateway {
  /** The inbound listener's address, when configured. */
  readonly inbound: { host: string; port: number } | undefined
  /** The outbound listener's address, when configured. */
  readonly outbound: { host: string; port: number; tls: boolean } | undefined
  /** `true` when every configured dependency (Redis) is reachable and the gateway is not shutting down. */
  ready(): boolean
  /**
   * Graceful shutdown: stop accepting, let in-flight requests finish (up to `shutdownTimeoutMs`, then
   * their connections are closed), flush the audit sink, disconnect Redis.
   */
  close(): Promise<void>
  /** Reopens the JSONL audit file by its path, after log rotation moved it (SIGHUP in the CLI). */
  reopenAudit(): Promise<void>
}

/**
 * The OpenTelemetry audit sink, loaded only when the config asks for it: `@opentelemetry/api` is an
 * optional peer, and a gateway without it must still start.
 */
async function openTelemetrySink(): Promise<AuditSink> {
  try {
    const { openTelemetryAuditSink } = await import('../audit/opentelemetry.js')
    return openTelemetryAuditSink()
  } catch (error) {
    throw new GatewayConfigError(
      'audit.opentelemetry',
      `needs the @opentelemetry/api package installed beside smileid-auth-shim (${errorCode(error)})`,
    )
  }
}

/** The part of a node-redis client the gateway uses besides the stores' commands. */
interface RedisConnection extends RedisClientLike {
  readonly isReady: boolean
  connect(): Promise<unknown>
  destroy?(): void
  disconnect?(): Promise<void>
  on(event: string, listener: (...args: unknown[]) => void): unknown
}

async function connectRedis(
  redis: NonNullable<GatewayConfig['redis']>,
  log: GatewayLogger,
  closing: () => boolean,
): Promise<RedisConnection> {
  const { createClient } = await import('redis')
  const client = createClient({
    url: redis.url,
    // Fail commands at once while disconnected, so a request gets 503 instead of waiting for Redis.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 1000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 5), 1000),
    },
  }) as unknown as RedisConnection
  let up: boolean | undefined
  const report = (now: boolean, error?: unknown) => {
    // Our own disconnect at shutdown is not an outage.
    if (up === now || (!now && closing())) return
    up = now
    // The URL may carry a password: log only the host.
    const host = safeHost(redis.url)
    if (now) log('info', 'redis connected', { host })
    else log('warn', 'redis unreachable', { host, error: errorCode(error) })
  }
  client.on('ready', () => report(true))
  client.on('error', (error: unknown) => report(false, error))
  client.on('end', () => report(false))
  // Not awaited: the gateway serves (and says not ready) while Redis is still coming up.
  client.connect().catch((error: unknown) => report(false, error))
  return client
}

function safeHost(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return '(unparseable)'
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code
  if (typeof code === 'string') return code
  return error instanceof Error ? error.name : 'unknown'
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server.address() as AddressInfo)
    })
  })
}

/**
 * Starts the gateway described by `config`.
 *
 * @example
 * ```ts
 * const gateway = await startGateway(loadGatewayConfig('gateway.json', { env: process.env }), {
 *   log: jsonLogger((line) => process.stdout.write(line), Date.now),
 * })
 * process.once('SIGTERM', () => void gateway.close())
 * ```
 */
export async function startGateway(
  config: GatewayConfig,
  options: StartGatewayOptions,
): Promise<RunningGateway> {
  const { log } = options
  const now = options.now ?? Date.now
  const clock = () => performance.now()
  const metrics = new GatewayMetrics()
  // One pool per listener, each with the connect deadline of its own side.
  const pools: UpstreamPool[] = []
  const destroyPools = () => {
    for (const pool of pools) pool.destroy()
  }

  const pooled = (connectTimeoutMs: number): UpstreamPool => {
    const pool = createUpstreamPool({ connectTimeoutMs })
    pools.push(pool)
    return pool
  }

  let audit: JsonlAuditSink | undefined
  if (config.auditJsonl !== undefined) {
    let reported = false
    audit = jsonlAuditSink(config.auditJsonl, {
      onError: (error) => {
        if (reported) return
        reported = true
        log('error', 'audit write failed', { error: errorCode(error) })
      },
    })
  }
  const sinks: AuditSink[] = audit === undefined ? [] : [audit]
  if (config.auditOpenTelemetry) sinks.push(await openTelemetrySink())

  let closing = false
  let redis: RedisConnection | undefined
  let replay: ReplayStore
  let memory: MemoryReplayStore | undefined
  let evictionWatch: ReturnType<typeof setInterval> | undefined
  let upgradeStore: UpgradeStore | undefined
  if (config.redis !== undefined) {
    redis = await connectRedis(config.redis, log, () => closing)
    const storeOptions = {
      client: redis,
      ...(config.redis.timeoutMs === undefined ? {} : { timeoutMs: config.redis.timeoutMs }),
    }
    replay = new RedisReplayStore({
      ...storeOptions,
      ...(config.redis.prefix === undefined ? {} : { prefix: `${config.redis.prefix}replay:` }),
    })
    upgradeStore = new RedisUpgradeStore({
      ...storeOptions,
      ...(config.redis.prefix === undefined ? {} : { prefix: `${config.redis.prefix}upgraded:` }),
    })
  } else {
    const maxEntries = config.memoryMaxEntries ?? DEFAULT_MAX_ENTRIES
    memory = new MemoryReplayStore({ maxEntries })
    replay = memory
    evictionWatch = watchEvictions(memory, maxEntries, log, options.reportIntervalMs)
  }

  const servers: Server[] = []
  let inboundAddress: RunningGateway['inbound']
  let outboundAddress: RunningGateway['outbound']
  const ready = () => !closing && (redis === undefined || redis.isReady)

  const ops = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = pathOf(req.url ?? '/')
    if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      answerError(res, 405, 'method_not_allowed', { allow: 'GET, HEAD' })
      return true
    }
    let status = 200
    let payload: string
    let type = 'application/json; charset=utf-8'
    if (path === '/healthz') {
      payload = JSON.stringify({ status: 'ok' })
    } else if (path === '/readyz') {
      const checks: Record<string, string> = {}
      if (redis !== undefined) checks.redis = redis.isReady ? 'ok' : 'unreachable'
      if (closing) checks.shutdown = 'in_progress'
      status = ready() ? 200 : 503
      payload = JSON.stringify({ status: status === 200 ? 'ready' : 'not_ready', checks })
    } else {
      metrics.redisUp = redis === undefined ? undefined : redis.isReady
      metrics.replayMemory = memory?.stats
      payload = metrics.render()
      type = 'text/plain; version=0.0.4; charset=utf-8'
    }
    res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(payload)) })
    res.end(req.method === 'HEAD' ? undefined : payload)
    return true
  }

  const track =
    (handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>) =>
    (req: IncomingMessage, res: ServerResponse) => {
      if (ops(req, res)) return
      metrics.enter()
      res.once('close', () => metrics.leave())
      // Tell keep-alive clients to go elsewhere once shutdown began.
      if (closing) res.setHeader('connection', 'close')
      handle(req, res).catch(() => answerError(res, 502, 'gateway_error'))
    }

  try {
    if (config.inbound !== undefined) {
      const inbound = config.inbound
      const verifierOptions: DualModeVerifierOptions = {
        instance: config.instance,
        replay,
        audit: sinks,
        onAuditError: (error) => log('error', 'audit sink failed', { error: errorCode(error) }),
      }
      if (config.policy !== undefined) verifierOptions.policy = config.policy
      if (config.freshness !== undefined) verifierOptions.freshness = config.freshness
      if (upgradeStore !== undefined) verifierOptions.upgradeStore = upgradeStore
      if (config.single) {
        const only = [...config.partners.values()][0]!
        verifierOptions.partnerId = only.partnerId
        if (only.signature !== undefined) verifierOptions.signature = only.signature
        if (only.secKey !== undefined) verifierOptions.secKey = only.secKey
      } else {
        const partners: Record<string, PartnerConfig> = {}
        for (const [id, entry] of config.partners) {
          const partner: PartnerConfig = {}
          if (entry.signature !== undefined) partner.signature = entry.signature
          if (entry.secKey !== undefined) partner.secKey = entry.secKey
          if (entry.policy !== undefined) partner.policy = entry.policy
          partners[id] = partner
        }
        verifierOptions.partners = partners
      }
      const verifier = new DualModeVerifier(verifierOptions)
      const handle = createInboundProxy({
        verifier,
        upstream: inbound.upstream,
        routes: inbound.routes,
        maxBodyBytes: inbound.maxBodyBytes,
        upstreamTimeoutMs: inbound.upstreamTimeoutMs,
        retryAfterSeconds: inbound.retryAfterSeconds,
        pool: pooled(inbound.upstreamTimeoutMs),
        metrics,
        log,
        clock,
      })
      const server = createServer(
        {
          requestTimeout: inbound.requestTimeoutMs,
          headersTimeout: Math.min(inbound.requestTimeoutMs, 60_000),
        },
        track(handle),
      )
      servers.push(server)
      const address = await listen(server, inbound.listen.host, inbound.listen.port)
      inboundAddress = { host: address.address, port: address.port }
    }

    if (config.outbound !== undefined) {
      const outbound = config.outbound
      const signers = new Map<string, MigratingSigner>()
      for (const [id, entry] of config.partners) {
        const signerOptions: ConstructorParameters<typeof MigratingSigner>[0] = { use: outbound.use }
        if (entry.signature !== undefined) signerOptions.signature = entry.signature
        if (entry.secKey !== undefined) signerOptions.secKey = entry.secKey
        signers.set(id, new MigratingSigner(signerOptions))
      }
      const emit = (event: OutboundAuditEvent) => {
        for (const sink of sinks) {
          try {
            const pending = typeof sink === 'function' ? sink(event) : sink.write(event)
            if (pending instanceof Promise) pending.catch(() => undefined)
          } catch (error) {
            log('error', 'audit sink failed', { error: errorCode(error) })
          }
        }
      }
      const handle = createOutboundProxy({
        signers,
        defaultSigner: config.single ? [...signers.values()][0] : undefined,
        smileBaseUrl: outbound.smileBaseUrl,
        maxBodyBytes: outbound.maxBodyBytes,
        timeoutMs: outbound.timeoutMs,
        audit: emit,
        instance: config.instance,
        pool: pooled(outbound.timeoutMs),
        metrics,
        log,
        clock,
        now,
      })
      const serverOptions = {
        requestTimeout: outbound.requestTimeoutMs,
        headersTimeout: Math.min(outbound.requestTimeoutMs, 60_000),
      }
      const handler = track(handle)
      const server =
        outbound.tls === undefined
          ? createServer(serverOptions, handler)
          : (createTlsServer(
              { ...serverOptions, cert: outbound.tls.cert, key: outbound.tls.key },
              handler,
            ) as unknown as Server)
      // Without an inbound listener, the operations endpoints live here.
      servers.push(server)
      const address = await listen(server, outbound.listen.host, outbound.listen.port)
      outboundAddress = { host: address.address, port: address.port, tls: outbound.tls !== undefined }
    }
  } catch (error) {
    if (evictionWatch !== undefined) clearInterval(evictionWatch)
    for (const server of servers) server.close()
    destroyPools()
    await audit?.close()
    redis?.destroy?.()
    throw error
  }

  let closed: Promise<void> | undefined
  return {
    inbound: inboundAddress,
    outbound: outboundAddress,
    ready,
    async reopenAudit() {
      await audit?.reopen()
      log('info', 'audit reopened', { path: config.auditJsonl ?? null })
    },
    close() {
      closed ??= (async () => {
        closing = true
        log('info', 'shutting down', { inFlight: metrics.inFlight })
        const stopped = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))
        // Idle keep-alive connections would hold close() open; busy ones are closed as they go idle.
        const sweep = setInterval(() => {
          for (const server of servers) server.closeIdleConnections()
        }, 25)
        const deadline = new Promise<'timeout'>((resolve) =>
          setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs).unref(),
        )
        for (const server of servers) server.closeIdleConnections()
        const outcome = await Promise.race([Promise.all(stopped).then(() => 'drained' as const), deadline])
        clearInterval(sweep)
        if (evictionWatch !== undefined) clearInterval(evictionWatch)
        if (outcome === 'timeout') {
          log('warn', 'shutdown timeout: closing connections still open', { inFlight: metrics.inFlight })
          for (const server of servers) server.closeAllConnections()
          await Promise.all(stopped)
        }
        destroyPools()
        if (audit !== undefined) {
          await audit.close()
          log('info', 'audit flushed', { ...audit.stats })
        }
        if (redis !== undefined) {
          try {
            if (redis.isReady && redis.disconnect !== undefined) await redis.disconnect()
            else redis.destroy?.()
          } catch {
            redis.destroy?.()
          }
        }
        log('info', 'stopped')
      })()
      return closed
    },
  }
}
