/**
 * Hono middleware: verifies Smile ID callbacks before the route handler runs, and puts the result in Hono's
 * typed context (`c.get('smileIdAuth')`, `c.get('smileIdBody')`). Web APIs only: it runs wherever Hono runs
 * (Node through `@hono/node-server`, Workers, Bun, Deno).
 *
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { VerificationSuccess } from '../types.js'
import type { BodyOf, BodySchema } from './body-schema.js'
import {
  checkAdapterOptions,
  checkBodyOption,
  checkHooks,
  rejectionBody,
  verifyPorts,
  webHeaders,
  type BodyPort,
  type RequestFailure,
  type RequestLimitOptions,
  type RequestVerifier,
} from './core.js'
import { readWebBody, withHeaders } from './web.js'

export type {
  RequestAccepted,
  RequestErrorCode,
  RequestFailure,
  RequestRejected,
  RequestVerification,
  RequestVerifier,
  SunsetPolicy,
} from './core.js'
export type {
  BodyOf,
  BodySchema,
  BodySchemaIssue,
  BodySchemaPathSegment,
  BodySchemaResult,
  BodySchemaTypes,
} from './body-schema.js'

/** The context variables {@link smileIdAuth} sets, for `c.get(…)`. */
export interface SmileIdAuthVariables<Body = unknown> {
  /** The successful verification. Trust its `partnerId`, never the body's. */
  smileIdAuth: VerificationSuccess
  /**
   * The parsed JSON body (the `body` schema's output when one is given). `c.req.json()` works too: the
   * middleware leaves the bytes in Hono's body cache.
   */
  smileIdBody: Body
}

/** The Hono environment of a route behind {@link smileIdAuth}. */
export interface SmileIdAuthEnv<Body = unknown> {
  /** See {@link SmileIdAuthVariables}. */
  Variables: SmileIdAuthVariables<Body>
}

/** Options of {@link smileIdAuth}. */
export interface SmileIdAuthOptions<
  S extends BodySchema | undefined = undefined,
> extends RequestLimitOptions {
  /** The verifier, usually a `DualModeVerifier`. */
  verifier: RequestVerifier
  /**
   * Checks the body after the credential verified: a body that does not match answers 400
   * `{ error: 'invalid_body' }`; the handler gets the schema's output, typed, as `c.get('smileIdBody')`.
   */
  body?: S
  /** Answers a refused request yourself. Default: `c.json({ error }, status)` with the failure's headers. */
  onFailure?: (failure: RequestFailure, c: Context) => Response | Promise<Response>
  /**
   * Reads the client address for the audit trail; Hono leaves it to the runtime, for example
   * `(c) => getConnInfo(c).remote.address` with `getConnInfo` from `@hono/node-server/conninfo`.
   */
  sourceIp?: (c: Context) => string | null | undefined
}

/**
 * Hono middleware that verifies the request (either scheme, body or `SmileID-*` headers). A verified request
 * reaches the handler with `c.get('smileIdAuth')` (the result) and `c.get('smileIdBody')` (the body), both
 * typed. Refused requests get 401 `{ error: <reason> }`, 503 `{ error: 'replay_check_failed' }` with
 * `Retry-After`, 400 `{ error: 'invalid_json' | 'invalid_body' | 'body_incomplete' }` or 413
 * `{ error: 'body_too_large' }` above `limit` (default 1 MiB). Responses to legacy requests get
 * `Deprecation` / `Sunset` headers when the partner's policy has a `legacySunsetAt`.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { smileIdAuth } from 'smileid-auth-shim/hono'
 *
 * const app = new Hono()
 * app.post('/smile/callback', smileIdAuth({ verifier }), (c) => {
 *   const auth = c.get('smileIdAuth') // VerificationSuccess
 *   return c.json({ received: true, scheme: auth.scheme })
 * })
 * ```
 * @throws `ConfigurationError` (`invalid_options`) at once, without a verifier, with a bad `limit` or `body`.
 */
export function smileIdAuth<S extends BodySchema | undefined = undefined>(
  options: SmileIdAuthOptions<S>,
): MiddlewareHandler<SmileIdAuthEnv<BodyOf<S>>> {
  const limit = checkAdapterOptions(options?.verifier, options?.limit, 'smileIdAuth')
  const schema = checkBodyOption(options.body, 'smileIdAuth')
  checkHooks(options, ['onFailure', 'sourceIp'], 'smileIdAuth')
  const { verifier, onFailure, sourceIp } = options

  return async (c, next) => {
    const verification = await verifyPorts(
      verifier,
      {
        headers: webHeaders(c.req.raw.headers),
        body: bodyPort(c),
        route: c.req.path,
        sourceIp: sourceIp?.(c) ?? undefined,
      },
      limit,
      schema,
    )
    if (!verification.ok) {
      if (onFailure) return onFailure(verification, c)
      return c.json(rejectionBody(verification), verification.status, verification.headers)
    }
    c.set('smileIdAuth', verification.result)
    c.set('smileIdBody', verification.body as BodyOf<S>)
    await next()
    // Assigning c.res makes Hono build a new Response and copy every header: only when the headers could
    // not be set in place (an immutable response), and never for the usual empty set.
    if (hasEntries(verification.headers)) {
      const response = c.res
      const updated = withHeaders(response, verification.headers)
      if (updated !== response) c.res = updated
    }
  }
}

/**
 * The body as Hono holds it: read once by another middleware (then it sits in Hono's cache, whole), or still
 * a stream, read here with the limit and put in the cache so that `c.req.json()` still works downstream.
 */
function bodyPort(c: Context): BodyPort {
  if (hasEntries(c.req.bodyCache) || c.req.raw.bodyUsed) {
    return {
      kind: 'stream',
      read: async (max) => {
        const bytes = new Uint8Array(await c.req.arrayBuffer())
        return bytes.length > max ? { ok: false } : { ok: true, bytes }
      },
    }
  }
  return {
    kind: 'stream',
    read: async (max) => {
      const read = await readWebBody(c.req.raw, max)
      if (read.ok) {
        const bytes = read.bytes
        // The bytes are ours (decoded already): hand their buffer over as it is when they fill it, and copy
        // only a view into a larger buffer. Hono keeps promises in its cache, whatever its type says.
        const buffer =
          bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
            ? (bytes.buffer as ArrayBuffer)
            : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)
        ;(c.req.bodyCache as unknown as { arrayBuffer?: Promise<ArrayBuffer> }).arrayBuffer =
          Promise.resolve(buffer)
      }
      return read
    },
  }
}

/** Whether Hono's body cache holds anything (own keys; no keys array per request). */
function hasEntries(cache: object): boolean {
  for (const key in cache) if (Object.prototype.hasOwnProperty.call(cache, key)) return true
  return false
}
