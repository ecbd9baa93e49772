/**
 * Express middleware (Express 5 and 4): verifies Smile ID callbacks before the route handler runs.
 *
 * @module
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { VerificationSuccess } from '../types.js'
import { readIncomingBody } from './incoming.js'
import {
  checkAdapterOptions,
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

declare global {
  // Express's own augmentation point, shared by Express 4 and 5 typings.
  namespace Express {
    interface Request {
      /** The successful Smile ID verification, set by `smileIdAuth()` before your handler runs. */
      smileIdAuth?: VerificationSuccess
    }
  }
}

/** Options of {@link smileIdAuth}. */
export interface SmileIdAuthOptions extends RequestLimitOptions {
  /** The verifier, usually a `DualModeVerifier`. */
  verifier: RequestVerifier
  /**
   * Answers a refused request yourself (log it, change the body). Default: `res.status(status).json({ error })`.
   * Call `next()` to let the request through anyway, or `next(error)` to hand it to your error handler.
   */
  onFailure?: (failure: RequestFailure, req: Request, res: Response, next: NextFunction) => void
}

/**
 * Express middleware that verifies the request (either scheme, body or `SmileID-*` headers) and puts the
 * result on `req.smileIdAuth`. Works with or without `express.json()` in front: it uses the parsed body when
 * a parser ran (and a raw body stashed as `req.rawBody`, when present), and otherwise reads the body itself.
 *
 * Answers 401 `{ error: <reason> }` when verification fails, 400 `{ error: 'invalid_json' }` for a body that is
 * not JSON, 413 `{ error: 'body_too_large' }` above `limit` (default 1 MiB). Legacy-authenticated requests get
 * `Deprecation` / `Sunset` response headers when the verifier's policy has a `legacySunsetAt`.
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
 * app.post('/smile/callback', smileIdAuth({ verifier }), (req, res) => {
 *   console.log('job', req.body.SmileJobID, 'via', req.smileIdAuth?.scheme)
 *   res.sendStatus(200)
 * })
 * ```
 * @throws `ConfigurationError` (`invalid_options`) without a verifier or with a bad `limit`.
 */
export function smileIdAuth(options: SmileIdAuthOptions): RequestHandler {
  const limit = checkAdapterOptions(options?.verifier, options?.limit, 'smileIdAuth')
  const { verifier, onFailure } = options

  return (req: Request, res: Response, next: NextFunction): void => {
    const body = bodyPort(req)
    const ports = {
      headers: nodeHeaders(req.headers),
      body,
      route: (req.originalUrl || req.url).split('?')[0],
      sourceIp: req.ip,
    }
    // Express 4 ignores returned promises: errors (a throwing onFailure too) go to next() by hand.
    verifyPorts(verifier, ports, limit)
      .then((verification) => {
        for (const [name, value] of Object.entries(verification.headers)) res.setHeader(name, value)
        if (verification.ok) {
          req.smileIdAuth = verification.result
          // Downstream handlers read the parsed req.body as usual, whoever read the bytes.
          if (body.kind !== 'parsed') req.body = verification.body
          next()
          return
        }
        if (onFailure) onFailure(verification, req, res, next)
        else res.status(verification.status).json(rejectionBody(verification))
      })
      .catch(next)
  }
}

/** A body parser ran when it consumed the stream (body-parser also marks `req._body`). */
function bodyConsumed(req: Request): boolean {
  return (req as { _body?: unknown })._body === true || req.readableEnded
}

function bodyPort(req: Request): BodyPort {
  const stash = (req as { rawBody?: unknown }).rawBody
  const raw = typeof stash === 'string' || stash instanceof Uint8Array ? stash : undefined
  if (bodyConsumed(req)) {
    const parsed: unknown = req.body
    // express.raw() and express.text() leave bytes or text: parse them here.
    if (typeof parsed === 'string' || parsed instanceof Uint8Array) return { kind: 'raw', raw: parsed }
    return { kind: 'parsed', value: parsed, raw }
  }
  if (raw !== undefined) return { kind: 'raw', raw }
  return { kind: 'stream', read: (max) => readIncomingBody(req, max) }
}
