/**
 * What both proxies share: hop-by-hop header rules, sending a request to a target with a deadline, and
 * relaying the answer. Node only (node:http / node:https).
 *
 * @internal
 * @module
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

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
 * Headers the gateway sets itself on a forwarded request, and `Expect`: the body was read in full before
 * forwarding, so a `100-continue` handshake with the target has nothing left to decide.
 */
const RECOMPUTED = new Set(['host', 'content-length', 'expect'])

/** Outgoing request headers: lowercase names, repeated headers as arrays. */
export type OutgoingHeaders = Record<string, string | string[]>

/**
 * Copies request headers for forwarding: drops hop-by-hop headers (and those the `Connection` header
 * names), `Host` and `Content-Length` (set by the caller), and every header `drop` matches.
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

function connectionNamed(value: string | undefined): ReadonlySet<string> {
  // Fast path: no allocation for the values keep-alive clients send on every request.
  if (value === undefined) return NAMED_NONE
  if (value === 'keep-alive' || value === 'Keep-Alive') return NAMED_KEEP_ALIVE
  if (value === 'close') return NAMED_CLOSE
  const named = new Set<string>()
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase()
    if (name !== '') named.add(name)
  }
  return named
}

/** How a forwarded request ended when no response was relayed. */
export type ForwardFailure = 'unreachable' | 'timeout'

/** Keep-alive agents for both protocols, reused across requests. */
export interface Agents {
  /** For http:// targets. */
  http: HttpAgent
  /** For https:// targets. */
  https: HttpsAgent
  /** Closes every pooled socket. */
  destroy(): void
}

/** Creates keep-alive agents. */
export function createAgents(): Agents {
  const http = new HttpAgent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, noDelay: true })
  const https = new HttpsAgent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, noDelay: true })
  return {
    http,
    https,
    destroy() {
      http.destroy()
      https.destroy()
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
  /** Headers, without hop-by-hop ones. */
  headers: OutgoingHeaders
  /** The body bytes (possibly empty). */
  body: Uint8Array
  /** Socket inactivity allowed before the target counts as timed out. */
  timeoutMs: number
  /** Extra headers for the relayed response, set unless the target set them. */
  responseHeaders?: Record<string, string>
}

/** Joins a target's base path and a request path, so that `http://app/base` + `/cb` is `/base/cb`. */
export function targetPath(target: URL, path: string): string {
  const base = target.pathname.endsWith('/') ? target.pathname.slice(0, -1) : target.pathname
  return base + (path.startsWith('/') ? path : `/${path}`)
}

/**
 * Sends the request and relays the response to `res` as it arrives (status, headers without hop-by-hop
 * ones, body streamed). Resolves with the relayed status, or the failure when nothing was relayed: the
 * caller then answers 502 or 504. A target that breaks off mid-response destroys the client connection,
 * so the client sees the truncation instead of a short body that looks complete.
 */
export function forward(
  agents: Agents,
  request: ForwardRequest,
  res: ServerResponse,
): Promise<{ ok: true; status: number } | { ok: false; failure: ForwardFailure }> {
  return new Promise((resolve) => {
    const secure = request.target.protocol === 'https:'
    // A flat [name, value, …] list: node:http writes it as given, without building and validating a
    // header map first (the names are already lowercase and checked, they came from the parser).
    const headers = flatHeaders(request.headers)
    headers.push('host', request.target.host)
    // A body-less GET or HEAD carries no Content-Length, as the client sent it.
    if (request.body.length !== 0 || (request.method !== 'GET' && request.method !== 'HEAD')) {
      headers.push('content-length', String(request.body.length))
    }
    const send = secure ? httpsRequest : httpRequest
    let settled = false
    const finish = (value: { ok: true; status: number } | { ok: false; failure: ForwardFailure }) => {
      if (settled) return
      settled = true
      resolve(value)
    }
    const upstream = send({
      protocol: request.target.protocol,
      hostname: request.target.hostname,
      port: request.target.port === '' ? undefined : request.target.port,
      method: request.method,
      path: targetPath(request.target, request.path),
      headers,
      agent: secure ? agents.https : agents.http,
    })
    upstream.setTimeout(request.timeoutMs, () => {
      upstream.destroy(new Error('upstream timeout'))
      if (!res.headersSent) finish({ ok: false, failure: 'timeout' })
      else res.destroy()
    })
    upstream.on('error', () => {
      if (!res.headersSent) finish({ ok: false, failure: 'unreachable' })
      else res.destroy()
    })
    upstream.on('response', (answer) => {
      const named = connectionNamed(answer.headers.connection)
      const out: string[] = []
      const raw = answer.rawHeaders
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const name = raw[i]!.toLowerCase()
        if (HOP_BY_HOP.has(name) || named.has(name)) continue
        out.push(name, raw[i + 1]!)
      }
      const extra = request.responseHeaders
      if (extra !== undefined) {
        for (const name in extra) if (!listed(out, name)) out.push(name, extra[name]!)
      }
      const status = answer.statusCode ?? 502
      res.writeHead(status, out)
      answer.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) {
          answer.pause()
          res.once('drain', () => answer.resume())
        }
      })
      answer.on('end', () => {
        res.end()
        finish({ ok: true, status })
      })
      answer.on('aborted', () => res.destroy())
      answer.on('error', () => res.destroy())
    })
    // The client went away before the answer was relayed: stop the forwarded request too.
    res.on('close', () => {
      if (!res.writableFinished) {
        upstream.destroy()
        finish({ ok: true, status: res.headersSent ? res.statusCode : 499 })
      }
    })
    upstream.end(request.body)
  })
}

/**
 * {@link forward}, answering the failures itself: 504 `upstream_timeout` when the target went quiet, 502
 * `upstream_unreachable` when it could not be reached. Resolves with the status the client got and the
 * failure reason (`null` when the target's response was relayed), for the request log.
 */
export async function relay(
  agents: Agents,
  request: ForwardRequest,
  res: ServerResponse,
): Promise<{ status: number; reason: 'upstream_timeout' | 'upstream_unreachable' | null }> {
  const outcome = await forward(agents, request, res)
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

/** Flattens a header map into `[name, value, …]`, a repeated header once per value. */
function flatHeaders(headers: OutgoingHeaders): string[] {
  const out: string[] = []
  for (const name in headers) {
    const value = headers[name]!
    if (typeof value === 'string') out.push(name, value)
    else for (const item of value) out.push(name, item)
  }
  return out
}

/** Whether a flat header list names `name` (lowercase). */
function listed(flat: readonly string[], name: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return true
  return false
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
