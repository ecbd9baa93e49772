/**
 * Fetch API adapter (`Request` in, `Response` out): Hono, Next.js route handlers, Cloudflare Workers, Bun,
 * Deno. Web APIs only, no `node:` import.
 *
 * @module
 */
import { ConfigurationError } from '../errors.js'
import { describe } from '../option-checks.js'
import type { VerificationSuccess } from '../types.js'
import type { BodyOf, BodySchema, BodySchemaOptions } from './body-schema.js'
import { readWebBody, withHeaders } from './web.js'
import {
  bodyAlreadyRead,
  checkAdapterOptions,
  checkBodyOption,
  checkHooks,
  pathOfUrl,
  rejectionBody,
  verifyPorts,
  webHeaders,
  type RequestFailure,
  type RequestLimitOptions,
  type RequestVerification,
  type RequestVerifier,
} from './core.js'

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
  BodySchemaOptions,
  BodySchemaPathSegment,
  BodySchemaResult,
  BodySchemaTypes,
} from './body-schema.js'

/** Options of {@link verifyRequest}. */
export interface VerifyRequestOptions<S extends BodySchema | undefined = undefined>
  extends RequestLimitOptions, BodySchemaOptions<S> {
  /**
   * The client address for the audit trail. The Fetch API does not expose it; pass what your platform
   * gives (for example `request.headers.get('cf-connecting-ip')` behind Cloudflare).
   */
  sourceIp?: string
}

/** Options of {@link withSmileIdAuth}. */
export interface WithSmileIdAuthOptions<S extends BodySchema | undefined = undefined>
  extends RequestLimitOptions, BodySchemaOptions<S> {
  /** Answers a refused request yourself. Default: JSON `{ error }` with the failure's status. */
  onFailure?: (failure: RequestFailure, request: Request) => Response | Promise<Response>
  /** Reads the client address for the audit trail from the request (see {@link VerifyRequestOptions.sourceIp}). */
  sourceIp?: (request: Request) => string | null | undefined
}

/**
 * What a handler wrapped by {@link withSmileIdAuth} receives besides the request. `Body` is the `body`
 * schema's output, `unknown` without a schema.
 */
export interface SmileIdAuthContext<Body = unknown> {
  /** The successful verification. */
  auth: VerificationSuccess
  /** The parsed JSON body: read it here, the request's own body stream is consumed. */
  body: Body
}

/**
 * Verifies a Fetch API `Request` and returns `{ result, body }` plus the `status` and `error` to answer with
 * and the `headers` to add. Reads the body (which consumes it: pass `request.clone()` if you need it again),
 * up to `limit` bytes (default 1 MiB). Never throws on what a caller sends.
 *
 * @example
 * ```ts
 * import { verifyRequest } from 'smileid-auth-shim/fetch'
 *
 * export async function POST(request: Request): Promise<Response> {
 *   const { ok, result, body, status, error } = await verifyRequest(verifier, request)
 *   if (!ok) return Response.json({ error }, { status })
 *   console.log('callback via', result.scheme, body)
 *   return new Response(null, { status: 204 })
 * }
 * ```
 * A request whose body was already read resolves to a 500 `body_already_read` rejection (read the body
 * through `verifyRequest`, or pass `request.clone()`).
 * @throws `ConfigurationError` (`invalid_options`), as a rejected promise, without a verifier or with a bad
 * `limit` or `body`: options, checked before any request is read.
 */
export async function verifyRequest<S extends BodySchema | undefined = undefined>(
  verifier: RequestVerifier,
  request: Request,
  options: VerifyRequestOptions<S> = {},
): Promise<RequestVerification<BodyOf<S>>> {
  const limit = checkAdapterOptions(verifier, options.limit, 'verifyRequest')
  const schema = checkBodyOption(options.body, 'verifyRequest')
  return verify(verifier, request, limit, options.sourceIp, schema) as Promise<RequestVerification<BodyOf<S>>>
}

/**
 * Wraps a Fetch API handler: the handler runs only for verified requests and receives `{ auth, body }`.
 * Refused requests get 401 `{ error: <reason> }`, 503 `{ error: 'replay_check_failed' }` with `Retry-After`,
 * 400 `{ error: 'invalid_json' }`, 400 `{ error: 'invalid_body' }` (a verified body that fails the `body`
 * schema) or 413 `{ error: 'body_too_large' }`. With `{ body: schema }` the handler's `body` is the schema's
 * typed output. Responses to legacy-authenticated requests get `Deprecation` / `Sunset` headers when the
 * partner's policy has a `legacySunsetAt`. Extra arguments (a Worker's `env` and `ctx`, a Next.js route
 * context) are passed through.
 *
 * @example
 * ```ts
 * import { withSmileIdAuth } from 'smileid-auth-shim/fetch'
 *
 * export default {
 *   fetch: withSmileIdAuth(verifier, (request, { auth, body }) => {
 *     return Response.json({ received: true, scheme: auth.scheme })
 *   }),
 * }
 * ```
 * @throws `ConfigurationError` (`invalid_options`) at once, without a verifier or with a bad `limit`.
 */
export function withSmileIdAuth<Args extends unknown[], S extends BodySchema | undefined = undefined>(
  verifier: RequestVerifier,
  handler: (
    request: Request,
    context: SmileIdAuthContext<BodyOf<S>>,
    ...args: Args
  ) => Response | Promise<Response>,
  options: WithSmileIdAuthOptions<S> = {},
): (request: Request, ...args: Args) => Promise<Response> {
  const limit = checkAdapterOptions(verifier, options.limit, 'withSmileIdAuth')
  if (typeof handler !== 'function')
    throw new ConfigurationError(
      'invalid_options',
      `withSmileIdAuth needs a handler (request, context) => Response as its second argument (got ${describe(handler)})`,
    )
  const schema = checkBodyOption(options.body, 'withSmileIdAuth')
  checkHooks(options, ['onFailure', 'sourceIp'], 'withSmileIdAuth')
  const { onFailure, sourceIp } = options

  return async (request, ...args) => {
    const verification = await verify(verifier, request, limit, sourceIp?.(request) ?? undefined, schema)
    if (!verification.ok) {
      return onFailure ? onFailure(verification, request) : rejectionResponse(verification)
    }
    const body = verification.body as BodyOf<S>
    const response = await handler(request, { auth: verification.result, body }, ...args)
    return withHeaders(response, verification.headers)
  }
}

/**
 * The standard response for a refused request: JSON `{ error }` with its status (400, 401, 413 or 503) and its headers (`Retry-After` on a 503).
 *
 * @example
 * ```ts
 * const verification = await verifyRequest(verifier, request)
 * if (!verification.ok) return rejectionResponse(verification)
 * ```
 */
export function rejectionResponse(failure: RequestFailure): Response {
  return new Response(JSON.stringify(rejectionBody(failure)), {
    status: failure.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...failure.headers },
  })
}

function verify(
  verifier: RequestVerifier,
  request: Request,
  limit: number,
  sourceIp: string | undefined,
  schema: BodySchema | undefined,
): Promise<RequestVerification> {
  // Something before us read the body: a bug in the receiving app, answered, never thrown per request.
  if (request.bodyUsed) return Promise.resolve(bodyAlreadyRead())
  // Request.url is always an absolute, serialised URL: its path is read from the text, not parsed again.
  const route = pathOfUrl(request.url)
  return verifyPorts(
    verifier,
    {
      headers: webHeaders(request.headers),
      body: { kind: 'stream', read: (max) => readWebBody(request, max) },
      route,
      sourceIp,
    },
    limit,
    schema,
  )
}
