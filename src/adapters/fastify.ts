/**
 * Fastify plugin: verifies Smile ID callbacks in a `preValidation` hook.
 *
 * @module
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { VerificationSuccess } from '../types.js'
import type { BodySchema } from './body-schema.js'
import {
  checkAdapterOptions,
  checkBodyOption,
  checkHooks,
  eachHeader,
  nodeHeaders,
  rejectionBody,
  verifyPorts,
  type BodyPort,
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

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The successful Smile ID verification, set by the `smileIdAuth` plugin on the routes it covers
     * (a request that fails verification never reaches the handler); `undefined` elsewhere.
     */
    smileIdAuth?: VerificationSuccess
  }
}

/** Options of the {@link smileIdAuth} plugin. */
export interface SmileIdAuthPluginOptions extends RequestLimitOptions {
  /** The verifier, usually a `DualModeVerifier`. */
  verifier: RequestVerifier
  /**
   * Checks the body after the credential verified: a body that does not match answers 400
   * `{ error: 'invalid_body' }`; a matching body replaces `request.body` with the schema's output. Fastify
   * types a route's body through the route's generic: `scope.post<{ Body: BodyOf<typeof schema> }>(…)`.
   */
  body?: BodySchema | undefined
  /**
   * Answers a refused request yourself. Default: `reply.code(status).send({ error })`. It must send a reply.
   */
  onFailure?: (failure: RequestFailure, request: FastifyRequest, reply: FastifyReply) => void | Promise<void>
}

/**
 * Fastify plugin that verifies every request of the scope that registers it (either scheme, body or
 * `SmileID-*` headers) and puts the result on `request.smileIdAuth`. Like a `fastify-plugin` plugin it is
 * not encapsulated: its hook covers the routes of the registering scope, so register it inside the scope
 * that holds your Smile ID routes.
 *
 * Fastify parses the JSON itself: a body that is not JSON gets Fastify's 400 (`FST_ERR_CTP_INVALID_JSON_BODY`)
 * and a body over Fastify's `bodyLimit` its 413 (`FST_ERR_CTP_BODY_TOO_LARGE`). With `limit`, the plugin sets
 * that `bodyLimit` on the scope's routes that have none. Failed verification answers 401 `{ error: <reason> }`,
 * an unreachable replay store 503 `{ error: 'replay_check_failed' }` with `Retry-After`, and a verified body
 * that fails the `body` schema 400 `{ error: 'invalid_body' }`. Legacy-authenticated requests get
 * `Deprecation` / `Sunset` headers when the partner's policy has a `legacySunsetAt`.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { smileIdAuth } from 'smileid-auth-shim/fastify'
 *
 * const app = Fastify()
 * await app.register(async (scope) => {
 *   await scope.register(smileIdAuth, { verifier })
 *   scope.post('/smile/callback', async (request) => {
 *     request.log.info({ scheme: request.smileIdAuth?.scheme }, 'Smile ID callback')
 *     return { ok: true }
 *   })
 * })
 * ```
 * @throws `ConfigurationError` (`invalid_options`) at registration, without a verifier, with a bad `limit` or
 * `body`.
 */
export const smileIdAuth: FastifyPluginAsync<SmileIdAuthPluginOptions> = async (fastify, options) => {
  const limit = checkAdapterOptions(options?.verifier, options?.limit, 'smileIdAuth')
  const schema = checkBodyOption(options.body, 'smileIdAuth')
  checkHooks(options, ['onFailure'], 'smileIdAuth')
  const { verifier, onFailure } = options

  if (!fastify.hasRequestDecorator('smileIdAuth')) fastify.decorateRequest('smileIdAuth', undefined)
  if (options.limit !== undefined) {
    fastify.addHook('onRoute', (route) => {
      route.bodyLimit ??= limit
    })
  }

  // preValidation: after Fastify parsed the body, before schema validation spends time on a forged request.
  fastify.addHook('preValidation', async (request, reply) => {
    const ports = {
      headers: nodeHeaders(request.headers),
      body: bodyPort(request),
      route: request.routeOptions.url,
      sourceIp: request.ip,
    }
    const verification = await verifyPorts(verifier, ports, limit, schema)
    eachHeader(verification.headers, (name, value) => void reply.header(name, value))
    if (verification.ok) {
      request.smileIdAuth = verification.result
      if (schema !== undefined) request.body = verification.body
      return
    }
    if (!onFailure) return reply.code(verification.status).send(rejectionBody(verification))
    await onFailure(verification, request, reply)
    return reply
  })
}

// What fastify-plugin does, without depending on it: no encapsulation, and a readable name in errors.
Object.assign(smileIdAuth, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'smileid-auth-shim',
})

function bodyPort(request: FastifyRequest): BodyPort {
  // A raw-body plugin (for example fastify-raw-body) leaves the exact bytes on request.rawBody.
  const stash = (request as { rawBody?: unknown }).rawBody
  const raw = typeof stash === 'string' || stash instanceof Uint8Array ? stash : undefined
  const parsed: unknown = request.body
  if (typeof parsed === 'string' || parsed instanceof Uint8Array) return { kind: 'raw', raw: parsed }
  return { kind: 'parsed', value: parsed, raw }
}
