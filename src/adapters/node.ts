/**
 * node:http adapter: verify an `IncomingMessage`, then answer yourself.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readIncomingBody } from './incoming.js'
import {
  checkAdapterOptions,
  nodeHeaders,
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

/** Options of {@link verifyIncomingMessage}. */
export interface VerifyIncomingMessageOptions extends RequestLimitOptions {}

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
export async function verifyIncomingMessage(
  verifier: RequestVerifier,
  req: IncomingMessage,
  options: VerifyIncomingMessageOptions = {},
): Promise<RequestVerification> {
  const limit = checkAdapterOptions(verifier, options.limit, 'verifyIncomingMessage')
  return verifyPorts(
    verifier,
    {
      headers: nodeHeaders(req.headers),
      body: { kind: 'stream', read: (max) => readIncomingBody(req, max) },
      route: (req.url ?? '/').split('?')[0],
      sourceIp: req.socket.remoteAddress,
    },
    limit,
  )
}

/**
 * Sends the standard answer to a refused request: its status (400, 401 or 413) and JSON `{ error }`.
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
