/**
 * Express middleware (Express 5 and 4): verifies Smile ID callbacks before the route handler runs.
 *
 * The declarations import nothing from `express` or `@types/express`: the middleware is typed over the
 * parts of Node's request and response it uses, which Express's own types extend, so this entry
 * type-checks with or without `@types/express` installed.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { VerificationSuccess } from '../types.js'
import type { BodySchema } from './body-schema.js'
import { incomingBodyPort } from './incoming.js'
import {
  checkAdapterOptions,
  checkBodyOption,
  checkHooks,
  eachHeader,
  nodeHeaders,
  pathOf,
  rejectionBody,
  verifyPorts,
  type RequestFailure,
  type RequestLimitOptions,
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
  BodySchema,
  BodySchemaIssue,
  BodySchemaPathSegment,
  BodySchemaResult,
  BodySchemaTypes,
} from './body-schema.js'

declare global {
  // Express's own augmentation point, shared by Express 4 and 5 typings.
  namespace Express {
    interface Request {
      /** The successful Smile ID verification, set by `smileIdAuth()` before your handler runs. */
      smileIdAuth?: VerificationSuccess
    }
  }
}

/**
 * The parts of an Express request the middleware reads and writes (Express's `Request` has them all): Node's
 * `IncomingMessage` plus {@link ExpressRequestFields}.
 */
export type ExpressRequest<Body = any> = IncomingMessage & ExpressRequestFields<Body>

/** What Express adds to Node's request, as far as the middleware uses it. */
export interface ExpressRequestFields<Body = any> {
  /** The parsed body; the middleware sets it when no body parser ran. */
  body: Body
  /** The URL as first received, before any router rewrote `url`. */
  originalUrl?: string | undefined
  /** The client address, as Express computes it. */
  ip?: string | undefined
  /** Set by the middleware for a verified request. */
  smileIdAuth?: VerificationSuccess | undefined
}

/** The parts of an Express response the middleware uses: Node's `ServerResponse` plus `status()`. */
export type ExpressResponse = ServerResponse & ExpressResponseFields

/** What Express adds to Node's response, as far as the middleware uses it. */
export interface ExpressResponseFields {
  /** Sets the status; Express returns the response. */
  status(code: number): ExpressJsonSender
}

/** What `res.status()` returns, as far as the middleware uses it. */
export interface ExpressJsonSender {
  /** Sends `body` as JSON. */
  json(body: unknown): unknown
}

/** Express's `next`. */
export type ExpressNext = (error?: unknown) => void

/**
 * The middleware {@link smileIdAuth} returns. Its `Body` parameter types `req.body` in the route handler that
 * follows it: the `body` schema's output, or `any` (Express's own default) without one.
 */
export type SmileIdAuthMiddleware<Body = any> = (
  req: ExpressRequest<Body>,
  res: ExpressResponse,
  next: ExpressNext,
) => void

/** `req.body`'s type for a `body` option: the schema's output, or Express's `any` without a schema. */
export type ExpressBodyOf<S> = S extends BodySchema<infer Output> ? Output : any

/** Options of {@link smileIdAuth}. */
export interface SmileIdAuthOptions<
  S extends BodySchema | undefined = undefined,
> extends RequestLimitOptions {
  /** The verifier, usually a `DualModeVerifier`. */
  verifier: RequestVerifier
  /**
   * Checks the body after the credential verified: a body that does not match answers 400
   * `{ error: 'invalid_body' }`; a matching body replaces `req.body` with the schema's output, typed.
   */
  body?: S
  /**
   * Answers a refused request yourself (log it, change the body). Default: `res.status(status).json({ error })`.
   * Call `next()` to let the request through anyway, or `next(error)` to hand it to your error handler.
   */
  onFailure?: (failure: RequestFailure, req: ExpressRequest, res: ExpressResponse, next: ExpressNext) => void
}

/**
 * Express middleware that verifies the request (either scheme, body or `SmileID-*` headers) and puts the
 * result on `req.smileIdAuth`. Works with or without `express.json()` in front: it uses the parsed body when
 * a parser ran (and a raw body stashed as `req.rawBody`, when present), and otherwise reads the body itself.
 *
 * Answers 401 `{ error: <reason> }` when verification fails, 503 `{ error: 'replay_check_failed' }` with
 * `Retry-After` when the replay store is unreachable, 400 `{ error: 'invalid_json' }` for a body that is not
 * JSON, 400 `{ error: 'invalid_body' }` for a verified body that fails the `body` schema, 413
 * `{ error: 'body_too_large' }` above `limit` (default 1 MiB). Legacy-authenticated requests get
 * `Deprecation` / `Sunset` response headers when the partner's policy has a `legacySunsetAt`.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { DualModeVerifier, SignatureAuth } from 'smileid-auth-shim'
 * import { smileIdAuth } from 'smileid-auth-shim/express'
 *
 * const verifier = new DualModeVerifier({
 *   partnerId: '085',
 *   signature: new SignatureAuth({ partnerId: '085', apiKey: process.env.SMILEID_API_KEY! }),
 * })
 * const app = express()
 * app.post('/smile/callback', smileIdAuth({ verifier, body: enhancedKycCallbackSchema }), (req, res) => {
 *   console.log('job', req.body.SmileJobID, 'via', req.smileIdAuth?.scheme) // req.body: EnhancedKycCallback
 *   res.sendStatus(200)
 * })
 * ```
 * (`enhancedKycCallbackSchema` from `smileid-auth-shim/schemas`.)
 * @throws `ConfigurationError` (`invalid_options`) without a verifier, with a bad `limit` or `body`.
 */
export function smileIdAuth<S extends BodySchema | undefined = undefined>(
  options: SmileIdAuthOptions<S>,
): SmileIdAuthMiddleware<ExpressBodyOf<S>> {
  const limit = checkAdapterOptions(options?.verifier, options?.limit, 'smileIdAuth')
  const schema = checkBodyOption(options.body, 'smileIdAuth')
  checkHooks(options, ['onFailure'], 'smileIdAuth')
  const { verifier, onFailure } = options

  return (req: ExpressRequest, res: ExpressResponse, next: ExpressNext): void => {
    const body = incomingBodyPort(req)
    const ports = {
      headers: nodeHeaders(req.headers),
      body,
      route: pathOf(req.originalUrl || req.url || '/'),
      sourceIp: req.ip,
    }
    // Express 4 ignores returned promises: errors (a throwing onFailure too) go to next() by hand.
    verifyPorts(verifier, ports, limit, schema)
      .then((verification) => {
        eachHeader(verification.headers, (name, value) => res.setHeader(name, value))
        if (verification.ok) {
          req.smileIdAuth = verification.result
          // Downstream handlers read the parsed req.body as usual, whoever read the bytes; with a schema,
          // its output (which may differ from the parsed JSON when the schema transforms).
          if (body.kind !== 'parsed' || schema !== undefined) req.body = verification.body
          next()
          return
        }
        if (onFailure) onFailure(verification, req, res, next)
        else res.status(verification.status).json(rejectionBody(verification))
      })
      .catch(next)
  }
}
