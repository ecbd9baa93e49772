/**
 * NestJS guard and parameter decorator (platform-express): verifies Smile ID callbacks before the route
 * handler runs and puts the result on `request.smileIdAuth`.
 *
 * No decorator metadata is needed: the guard is an instance you build with a verifier
 * (`@UseGuards(new SmileIdAuthGuard({ verifier }))`), or a provider you register under your own token, so
 * the library needs neither `emitDecoratorMetadata` nor Nest's injector to find its verifier.
 *
 * @module
 */
import { createParamDecorator, HttpException } from '@nestjs/common'
import type { CanActivate, ExecutionContext } from '@nestjs/common'
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
  BodyOf,
  BodySchema,
  BodySchemaIssue,
  BodySchemaPathSegment,
  BodySchemaResult,
  BodySchemaTypes,
} from './body-schema.js'

declare global {
  // platform-express's request is Express's: the same augmentation as `smileid-auth-shim/express`.
  namespace Express {
    interface Request {
      /** The successful Smile ID verification, set by `SmileIdAuthGuard` before your handler runs. */
      smileIdAuth?: VerificationSuccess
    }
  }
}

/** The request as the guard leaves it for a verified callback: Node's request plus {@link SmileIdAuthRequestFields}. */
export type SmileIdAuthRequest<Body = unknown> = IncomingMessage & SmileIdAuthRequestFields<Body>

/** What the guard sets on the request (platform-express's request has the rest). */
export interface SmileIdAuthRequestFields<Body = unknown> {
  /** The successful verification. Trust its `partnerId`, never the body's. */
  smileIdAuth: VerificationSuccess
  /** The parsed body; the `body` schema's output when one is given. */
  body: Body
}

/** Options of {@link SmileIdAuthGuard}. */
export interface SmileIdAuthGuardOptions extends RequestLimitOptions {
  /** The verifier, usually a `DualModeVerifier`. */
  verifier: RequestVerifier
  /**
   * Checks the body after the credential verified: a body that does not match answers 400
   * `{ error: 'invalid_body' }`; a matching body replaces `request.body` with the schema's output.
   */
  body?: BodySchema | undefined
  /**
   * Turns a refusal into the exception Nest answers with. Default: an `HttpException` whose response is
   * `{ error }` and whose status is the failure's (400, 401, 413 or 503).
   */
  onFailure?: (failure: RequestFailure, context: ExecutionContext) => Error
}

/** What the guard reads and writes on platform-express's request. */
type GuardedRequest = IncomingMessage & {
  body?: unknown
  rawBody?: unknown
  originalUrl?: string
  ip?: string
  smileIdAuth?: VerificationSuccess
}

/**
 * A NestJS guard that verifies the request (either scheme, body or `SmileID-*` headers). A verified request
 * reaches the handler with `request.smileIdAuth` set (read it with {@link SmileIdAuthResult}); a refused one
 * gets 401 `{ error: <reason> }`, 503 `{ error: 'replay_check_failed' }` with `Retry-After`, 400
 * `{ error: 'invalid_json' | 'invalid_body' }` or 413 `{ error: 'body_too_large' }`. Legacy requests get
 * `Deprecation` / `Sunset` headers when the partner's policy has a `legacySunsetAt`.
 *
 * Works with Nest's JSON body parser on (it uses the parsed body, and the exact bytes when the app was
 * created with `rawBody: true`) or off (`bodyParser: false`: the guard reads the body itself, up to `limit`).
 *
 * @example
 * ```ts
 * import { Controller, Post, UseGuards } from '@nestjs/common'
 * import { SmileIdAuthGuard, SmileIdAuthResult } from 'smileid-auth-shim/nestjs'
 * import type { VerificationSuccess } from 'smileid-auth-shim'
 *
 * @Controller('smile')
 * export class CallbackController {
 *   @Post('callback')
 *   @UseGuards(new SmileIdAuthGuard({ verifier }))
 *   handle(@SmileIdAuthResult() auth: VerificationSuccess) {
 *     return { received: true, scheme: auth.scheme }
 *   }
 * }
 * ```
 */
export class SmileIdAuthGuard implements CanActivate {
  readonly #verifier: RequestVerifier
  readonly #limit: number
  readonly #schema: BodySchema | undefined
  readonly #onFailure: SmileIdAuthGuardOptions['onFailure']

  /** @throws `ConfigurationError` (`invalid_options`) without a verifier, with a bad `limit` or `body`. */
  constructor(options: SmileIdAuthGuardOptions) {
    this.#limit = checkAdapterOptions(options?.verifier, options?.limit, 'SmileIdAuthGuard')
    this.#schema = checkBodyOption(options.body, 'SmileIdAuthGuard')
    checkHooks(options, ['onFailure'], 'SmileIdAuthGuard')
    this.#verifier = options.verifier
    this.#onFailure = options.onFailure
  }

  /** Verifies the request; throws the refusal as an `HttpException` (Nest answers it). */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp()
    const req = http.getRequest<GuardedRequest>()
    const res = http.getResponse<ServerResponse>()
    const port = incomingBodyPort(req)
    const verification = await verifyPorts(
      this.#verifier,
      {
        headers: nodeHeaders(req.headers),
        body: port,
        route: pathOf(req.originalUrl || req.url || '/'),
        sourceIp: req.ip ?? req.socket?.remoteAddress,
      },
      this.#limit,
      this.#schema,
    )
    eachHeader(verification.headers, (name, value) => res.setHeader(name, value))
    if (!verification.ok) {
      throw this.#onFailure
        ? this.#onFailure(verification, context)
        : new HttpException(rejectionBody(verification), verification.status)
    }
    req.smileIdAuth = verification.result
    if (port.kind !== 'parsed' || this.#schema !== undefined) req.body = verification.body
    return true
  }
}

/**
 * Parameter decorator: the verification result the {@link SmileIdAuthGuard} put on the request
 * (`VerificationSuccess`), or `undefined` on a route the guard does not cover.
 *
 * @example
 * ```ts
 * import { Controller, Post, UseGuards } from '@nestjs/common'
 * import type { VerificationSuccess } from 'smileid-auth-shim'
 * import { SmileIdAuthGuard, SmileIdAuthResult } from 'smileid-auth-shim/nestjs'
 *
 * @Controller('smile')
 * export class CallbackController {
 *   @Post('callback')
 *   @UseGuards(new SmileIdAuthGuard({ verifier }))
 *   handle(@SmileIdAuthResult() auth: VerificationSuccess) {
 *     return { partner: auth.partnerId }
 *   }
 * }
 * ```
 */
export const SmileIdAuthResult: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext): VerificationSuccess | undefined =>
    context.switchToHttp().getRequest<GuardedRequest>().smileIdAuth,
)
