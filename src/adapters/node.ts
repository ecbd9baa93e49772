/**
 * node:http adapter: verify an `IncomingMessage`, then answer yourself.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { BodyOf, BodySchema, BodySchemaOptions } from './body-schema.js'
import { readIncomingBody } from './incoming.js'
import {
  checkAdapterOptions,
  checkBodyOption,
  nodeHeaders,
  pathOf,
  rejectionBody,
  verifyPorts,
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

/** Options of {@link verifyIncomingMessage}. */
export interface VerifyIncomingMessageOptions<S extends BodySchema | undefined = undefined>
  extends RequestLimitOptions, BodySchemaOptions<S> {}

/**
 * Reads the request body (up to `limit` bytes, default 1 MiB), parses it as JSON and verifies it. Returns
 * `{ result, body }` plus the `status` and `error` to answer a refused request with (see
 * {@link sendRejection}) and the `headers` (`Deprecation` / `Sunset`) to add to an accepted one. Never throws
 * on what a caller sends: an upload that breaks off mid-body is a 400 `body_incomplete` rejection.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { sendRejection, verifyIncomingMessage } from 'smileid-auth-shim/node'
 *
 * createServer(async (req, res) => {
 *   const verification = await verifyIncomingMessage(verifier, req)
 *   if (!verification.ok) return sendRejection(res, verification)
 *   for (const [name, value] of Object.entries(verification.headers)) res.setHeader(name, value)
 *   res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}')
 * }).listen(3000)
 * ```
 * @throws `ConfigurationError` (`invalid_options`) without a verifier or with a bad `limit`.
 */
export async function verifyIncomingMessage<S extends BodySchema | undefined = undefined>(
  verifier: RequestVerifier,
  req: IncomingMessage,
  options: VerifyIncomingMessageOptions<S> = {},
): Promise<RequestVerification<BodyOf<S>>> {
  const limit = checkAdapterOptions(verifier, options.limit, 'verifyIncomingMessage')
  const schema = checkBodyOption(options.body, 'verifyIncomingMessage')
  const verification = await verifyPorts(
    verifier,
    {
      headers: nodeHeaders(req.headers),
      body: { kind: 'stream', read: (max) => readIncomingBody(req, max) },
      route: pathOf(req.url ?? '/'),
      sourceIp: req.socket.remoteAddress,
    },
    limit,
    schema,
  )
  return verification as RequestVerification<BodyOf<S>>
}

/**
 * Sends the standard answer to a refused request: its status (400, 401, 413 or 503) and JSON `{ error }`,
 * with its headers (`Retry-After` on a 503).
 *
 * @example
 * ```ts
 * const verification = await verifyIncomingMessage(verifier, req)
 * if (!verification.ok) return sendRejection(res, verification)
 * ```
 */
export function sendRejection(res: ServerResponse, failure: RequestFailure): void {
  const payload = JSON.stringify(rejectionBody(failure))
  res.writeHead(failure.status, {
    ...failure.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
  })
  res.end(payload)
}
