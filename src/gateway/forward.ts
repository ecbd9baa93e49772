/**
 * What both proxies share: hop-by-hop header rules, sending a request to a target with a deadline, and
 * relaying the answer. Node only: the listeners are node:http / node:https servers, and requests go out
 * through an undici connection pool (keep-alive, one parser pass per response, no per-request socket
 * timer: the deadlines are undici's own).
 *
 * @internal
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

import { Agent, type Dispatcher } from 'undici'

import type { GatewayLogger } from './log.js'
import type { GatewayDirection, GatewayMetrics } from './metrics.js'

/** RFC 9110 §7.6.1 connection-specific headers: never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/**
 * Headers the gateway sets itself on a forwarded request (`Host` and `Content-Length` come from the target
 * and the body), and `Expect`: the body was read in full before forwarding, so a `100-continue` handshake
 * with the target has nothing left to decide.
 */
const RECOMPUTED = new Set(['host', 'content-length', 'expect'])

/** Outgoing request headers: lowercase names, repeated headers as arrays. */
export type OutgoingHeaders = Record<string, string | string[]>

/**
 * Copies request headers for forwarding: drops hop-by-hop headers (and those the `Connection` header
 * names), `Host` and `Content-Length` (set when the request is sent), and every header `drop` matches.
 */
export function forwardableHeaders(req: IncomingMessage, drop: (name: string) => boolean): OutgoingHeaders {
  const named = connectionNamed(req.headers.connection)
  const out: OutgoingHeaders = {}
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    if (HOP_BY_HOP.has(name) || RECOMPUTED.has(name) || named.has(name) || drop(name)) continue
    const value = raw[i + 1]!
    const existing = out[name]
    if (existing === undefined) out[name] = value
    else if (Array.isArray(existing)) existing.push(value)
    else out[name] = [existing, value]
  }
  return out
}

/** Shared answers for the `Connection` values nearly every request carries; never mutated. */
const NAMED_NONE: ReadonlySet<string> = new Set()
const NAMED_KEEP_ALIVE: ReadonlySet<string> = new Set(['keep-alive'])
const NAMED_CLOSE: ReadonlySet<string> = new Set(['close'])

function connectionNamed(value: string | string[] | undefined): ReadonlySet<string> {
  // Fast path: no allocation for the values keep-alive clients send on every request.
  if (value === undefined) return NAMED_NONE
  if (value === 'keep-alive' || value === 'Keep-Alive') return NAMED_KEEP_ALIVE
  if (value === 'close') return NAMED_CLOSE
  const named = new Set<string>()
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const name = part.trim().toLowerCase()
    if (name !== '') named.add(name)
  }
  return named
}

/** How a forwarded request ended when no response was relayed. */
export type ForwardFailure = 'unreachable' | 'timeout'

/** Keep-alive connections to the targets of one listener, reused across requests. */
export interface UpstreamPool {
  /** The undici dispatcher that holds the connections (one pool per target origin). */
  readonly dispatcher: Dispatcher
  /** Closes every pooled connection; requests still in flight fail. */
  destroy(): void
}

/** Options of {@link createUpstreamPool}. */
export interface UpstreamPoolOptions {
  /** Most milliseconds a new connection (TCP, and TLS for https targets) may take. */
  connectTimeoutMs: number
  /** Most connections held open to one target origin. Default 256. */
  connections?: number
}

/** Creates the keep-alive pool a listener forwards through. */
export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const dispatcher = new Agent({
    connections: options.connections ?? 256,
    // An idle connection is closed after this long, or sooner when the target's Keep-Alive header says so.
    keepAliveTimeout: 30_000,
    connect: { timeout: options.connectTimeoutMs, noDelay: true },
  })
  return {
    dispatcher,
    destroy() {
      dispatcher.destroy().catch(() => undefined)
    },
  }
}

/** What {@link forward} sends. */
export interface ForwardRequest {
  /** Target origin and base path. */
  target: URL
  /** Path and query of the original request, appended to the target's base path. */
  path: string
  /** HTTP method. */
  method: string
  /** Headers, without hop-by-hop ones, `Host` and `Content-Length`. */
  headers: OutgoingHeaders
  /** The body bytes (possibly empty). */
  body: Uint8Array
  /**
   * How long the target may take to answer with its headers, and then the longest silence allowed between
   * two pieces of its body, before it counts as timed out.
   */
  timeoutMs: number
  /** Extra headers for the relayed response, set unless the target set them. */
  responseHeaders?: Record<string, string>
}

/** Joins a target's base path and a request path, so that `http://app/base` + `/cb` is `/base/cb`. */
export function targetPath(target: URL, path: string): string {
  const base = target.pathname.endsWith('/') ? target.pathname.slice(0, -1) : target.pathname
  return base + (path.startsWith('/') ? path : `/${path}`)
}

/** undici's codes for a target that went quiet: while connecting, before its headers, or mid-body. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

type ForwardOutcome = { ok: true; status: number } | { ok: false; failure: ForwardFailure }

/**
 * Sends the request and relays the response to `res` as it arrives (status, headers without hop-by-hop
 * ones, body streamed with back-pressure). Resolves with the relayed status, or the failure when nothing
 * was relayed: the caller then answers 502 or 504. A target that breaks off mid-response destroys the
 * client connection, so the client sees the truncation instead of a short body that looks complete.
 */
export function forward(
  pool: UpstreamPool,
  request: ForwardRequest,
  res: ServerResponse,
): Promise<ForwardOutcome> {
  return new Promise((resolve) => {
    let settled = false
    const finish = (value: ForwardOutcome) => {
      if (settled) return
      settled = true
      resolve(value)
    }
    let controller: Dispatcher.DispatchController | undefined
    let status = 502
    // The client went away before the answer was relayed: stop the forwarded request too.
    res.on('close', () => {
      if (res.writableFinished) return
      // Settled first: the abort below reports back through onResponseError, which must not answer 502.
      finish({ ok: true, status: res.headersSent ? res.statusCode : 499 })
      controller?.abort(new Error('the client closed the connection'))
    })
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started
        if (settled) started.abort(new Error('the client closed the connection'))
      },
      onResponseStart(_, statusCode, headers) {
        // An informational answer (103 Early Hints) comes before the final one: not relayed, the final is.
        if (statusCode < 200) return
        status = statusCode
        const named = connectionNamed(headers.connection)
        const out: string[] = []
        for (const name in headers) {
          if (HOP_BY_HOP.has(name) || named.has(name)) continue
          const value = headers[name]
          if (typeof value === 'string') out.push(name, value)
          else if (Array.isArray(value)) for (const item of value) out.push(name, item)
        }
        const extra = request.responseHeaders
        if (extra !== undefined) {
          for (const name in extra) if (headers[name] === undefined) out.push(name, extra[name]!)
        }
        res.writeHead(statusCode, out)
      },
      onResponseData(paused, chunk) {
        if (!res.write(chunk)) {
          paused.pause()
          res.once('drain', () => paused.resume())
        }
      },
      onResponseEnd() {
        res.end()
        finish({ ok: true, status })
      },
      onResponseError(_, error) {
        if (settled) return
        if (res.headersSent) {
          // Broke off mid-answer: the client must not take a short body for a whole one.
          res.destroy()
          finish({ ok: true, status })
          return
        }
        const code = (error as { code?: unknown }).code
        finish({
          ok: false,
          failure: typeof code === 'string' && TIMEOUT_CODES.has(code) ? 'timeout' : 'unreachable',
        })
      },
    }
    const bodyless = request.body.length === 0 && (request.method === 'GET' || request.method === 'HEAD')
    try {
      // undici adds Host (the target's) and Content-Length (the body's).
      pool.dispatcher.dispatch(
        {
          origin: request.target.origin,
          path: targetPath(request.target, request.path),
          method: request.method as Dispatcher.HttpMethod,
          headers: request.headers,
          // A body-less GET or HEAD carries no Content-Length, as the client sent it.
          body: bodyless ? null : request.body,
          headersTimeout: request.timeoutMs,
          bodyTimeout: request.timeoutMs,
        },
        handler,
      )
    } catch {
      finish({ ok: false, failure: 'unreachable' })
    }
  })
}

/**
 * {@link forward}, answering the failures itself: 504 `upstream_timeout` when the target went quiet, 502
 * `upstream_unreachable` when it could not be reached. Resolves with the status the client got and the
 * failure reason (`null` when the target's response was relayed), for the request log.
 */
export async function relay(
  pool: UpstreamPool,
  request: ForwardRequest,
  res: ServerResponse,
): Promise<{ status: number; reason: 'upstream_timeout' | 'upstream_unreachable' | null }> {
  const outcome = await forward(pool, request, res)
  if (outcome.ok) return { status: outcome.status, reason: null }
  const [status, reason] =
    outcome.failure === 'timeout'
      ? ([504, 'upstream_timeout'] as const)
      : ([502, 'upstream_unreachable'] as const)
  answerError(res, status, reason)
  return { status, reason }
}

/**
 * Records a finished request the same way on both listeners: counted (status and duration) in the
 * metrics, and one `request` log line, `warn` for a 5xx answer. `fields` must be safe to log.
 */
export function recordRequest(
  metrics: GatewayMetrics,
  log: GatewayLogger,
  listener: GatewayDirection,
  ms: number,
  fields: { method: string | undefined; path: string; status: number } & Record<string, unknown>,
): void {
  metrics.request(listener, fields.status, ms / 1000)
  log(fields.status >= 500 ? 'warn' : 'info', 'request', {
    listener,
    ...fields,
    ms: Math.round(ms * 1000) / 1000,
  })
}

/** Answers with a JSON `{ error }` body and the given extra headers. */
export function answerError(
  res: ServerResponse,
  status: number,
  error: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const payload = JSON.stringify({ error })
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
  })
  res.end(payload)
}
