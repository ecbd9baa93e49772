/**
 * The inbound gateway: a verifying reverse proxy for Smile ID callbacks. Each request is verified by the
 * one shared flow of the adapters (size limit, JSON, `DualModeVerifier`); only an authenticated request
 * reaches the upstream, with its original body bytes and the `SmileID-Auth-*` result headers (copies
 * sent by the client are removed first, so the upstream can trust them).
 *
 * @internal
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

import { nodeHeaders, pathOf, verifyPorts, type RequestVerifier } from '../adapters/core.js'
import { readIncomingBody } from '../adapters/incoming.js'
import type { VerificationSuccess } from '../types.js'
import { answerError, forwardableHeaders, recordRequest, relay, type UpstreamPool } from './forward.js'
import type { GatewayLogger } from './log.js'
import type { GatewayMetrics } from './metrics.js'

/** The result headers the gateway adds for the upstream, lowercase. Client-sent `smileid-auth-*` are removed. */
export const AUTH_HEADERS = {
  scheme: 'smileid-auth-scheme',
  partnerId: 'smileid-auth-partner-id',
  keyId: 'smileid-auth-key-id',
  warnings: 'smileid-auth-warnings',
  duplicate: 'smileid-auth-duplicate',
} as const

const AUTH_PREFIX = 'smileid-auth-'

/** Client-sent result headers are never forwarded (one function for every request, not a closure each). */
const isAuthHeader = (name: string): boolean => name.startsWith(AUTH_PREFIX)

/** Options of {@link createInboundProxy}. */
export interface InboundProxyOptions {
  /** The verifier (a `DualModeVerifier`). */
  verifier: RequestVerifier
  /** Where requests that match no route go; `undefined`: 404 `no_route`. */
  upstream: URL | undefined
  /** Per-path upstreams, most specific first: a route matches its path and everything below it. */
  routes: ReadonlyArray<{ path: string; upstream: URL }>
  /** Largest body accepted, in bytes (413 above). */
  maxBodyBytes: number
  /** Upstream inactivity allowed before 504. */
  upstreamTimeoutMs: number
  /** `Retry-After` seconds on a 503 (replay store unreachable). */
  retryAfterSeconds: number
  /** Keep-alive connections to the targets. */
  pool: UpstreamPool
  /** Counters. */
  metrics: GatewayMetrics
  /** Log lines. */
  log: GatewayLogger
  /** Clock for durations (`performance.now` style, milliseconds). */
  clock: () => number
}

/** Finds the upstream for a path: the longest matching route, else the default upstream. */
export function routeFor(
  path: string,
  routes: ReadonlyArray<{ path: string; upstream: URL }>,
  fallback: URL | undefined,
): URL | undefined {
  for (const route of routes) {
    const base = route.path.endsWith('/') ? route.path.slice(0, -1) : route.path
    if (path === route.path || path === base || path.startsWith(`${base}/`)) return route.upstream
  }
  return fallback
}

/**
 * Builds the inbound request handler.
 *
 * @example
 * ```ts
 * const handle = createInboundProxy({ verifier, upstream: new URL('http://127.0.0.1:3000'), routes: [],
 *   maxBodyBytes: 1 << 20, upstreamTimeoutMs: 30_000, retryAfterSeconds: 5,
 *   pool: createUpstreamPool({ connectTimeoutMs: 30_000 }),
 *   metrics: new GatewayMetrics(), log: jsonLogger(console.log, Date.now), clock: () => performance.now() })
 * createServer(handle).listen(8787)
 * ```
 */
export function createInboundProxy(
  options: InboundProxyOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { verifier, metrics, log, clock } = options
  return async (req, res) => {
    const started = clock()
    const url = req.url ?? '/'
    const path = pathOf(url)
    let status = 0
    let scheme: string | null = null
    let reason: string | null = null
    let partnerId: string | null = null
    try {
      const upstream = routeFor(path, options.routes, options.upstream)
      if (upstream === undefined) {
        status = 404
        answerError(res, 404, 'no_route')
        return
      }
      let bytes: Uint8Array = new Uint8Array(0)
      const verification = await verifyPorts(
        verifier,
        {
          headers: nodeHeaders(req.headers),
          body: {
            kind: 'stream',
            read: async (limit) => {
              const read = await readIncomingBody(req, limit)
              if (read.ok) bytes = read.bytes
              return read
            },
          },
          route: path,
          sourceIp: req.socket.remoteAddress,
        },
        options.maxBodyBytes,
      )
      scheme = verification.result.scheme
      if (!verification.ok) {
        reason = verification.error
        // A refused request's partner id is whatever the client wrote: bounded before it reaches a log line.
        partnerId = verification.result.partnerId?.slice(0, 64) ?? null
        metrics.verification(scheme, 'rejected', verification.error)
        if (verification.result.reason === 'replay_check_failed') {
          // The replay store could not be asked: nothing was decided, the sender should retry.
          status = 503
          answerError(res, 503, 'replay_check_failed', { 'retry-after': String(options.retryAfterSeconds) })
        } else {
          status = verification.status
          answerError(res, status, verification.error)
        }
        return
      }
      const result = verification.result
      partnerId = result.partnerId
      metrics.verification(scheme, 'accepted', null)
      const headers = forwardableHeaders(req, isAuthHeader)
      setAuthHeaders(headers, result)
      const remote = req.socket.remoteAddress
      if (remote !== undefined) {
        const prior = req.headers['x-forwarded-for']
        headers['x-forwarded-for'] = prior === undefined || prior === '' ? remote : `${prior}, ${remote}`
      }
      if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host
      headers['x-forwarded-proto'] = 'encrypted' in req.socket ? 'https' : 'http'
      const relayed = await relay(
        options.pool,
        {
          target: upstream,
          path: url,
          method: req.method ?? 'POST',
          headers,
          body: bytes,
          timeoutMs: options.upstreamTimeoutMs,
          responseHeaders: verification.headers,
        },
        res,
      )
      status = relayed.status
      reason = relayed.reason
    } catch {
      // Not reachable by request content (verify never throws); still answer rather than hang.
      status = 502
      reason = 'gateway_error'
      answerError(res, 502, 'gateway_error')
    } finally {
      recordRequest(metrics, log, 'inbound', clock() - started, {
        method: req.method,
        path,
        status,
        scheme,
        reason,
        partnerId,
      })
    }
  }
}

/** The `SmileID-Auth-*` headers for an authenticated request. */
export function authHeaders(result: VerificationSuccess): Record<string, string> {
  return setAuthHeaders({}, result)
}

/** Writes the `SmileID-Auth-*` headers into `headers` (no intermediate object per request). */
function setAuthHeaders<T extends Record<string, string | string[]>>(
  headers: T,
  result: VerificationSuccess,
): T {
  const out = headers as Record<string, string | string[]>
  out[AUTH_HEADERS.scheme] = result.scheme
  out[AUTH_HEADERS.partnerId] = result.partnerId
  out[AUTH_HEADERS.keyId] = result.keyId
  out[AUTH_HEADERS.warnings] = result.warnings.join(', ')
  out[AUTH_HEADERS.duplicate] = result.duplicate ? 'true' : 'false'
  return headers
}
