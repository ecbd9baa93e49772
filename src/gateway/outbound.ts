/**
 * The outbound gateway: a re-signing forward proxy for legacy apps. An app that still signs with `sec_key`
 * (or sends no credential) points its Smile ID base URL here; each request is re-signed by a
 * `MigratingSigner` (the `signature` scheme, or a percentage rollout picked per job id) and forwarded to
 * the real Smile ID base URL. Smile's answers are relayed unchanged. Requests already signed with
 * `signature` pass through untouched.
 *
 * The listener is a signing service for the partner's account: anyone who can reach it can send requests
 * to Smile ID as the partner. Bind it to loopback or a private network only.
 *
 * @internal
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

import { pathOf } from '../adapters/core.js'
import { readIncomingBody } from '../adapters/incoming.js'
import { partnerKey, readCredentialClaim, readPartnerClaim } from '../claims.js'
import type { AuditEvent } from '../audit/events.js'
import type { MigratingSigner } from '../signer.js'
import type { Scheme } from '../types.js'
import { answerError, forwardableHeaders, recordRequest, relay, type UpstreamPool } from './forward.js'
import type { GatewayLogger } from './log.js'
import type { GatewayMetrics } from './metrics.js'

/** What the app sent: a `sec_key`, a `signature`, or no credential. */
export type AppCredential = Scheme | 'none'

/**
 * The audit record of one outbound request: an {@link AuditEvent} with `direction: 'outgoing'` whose
 * `scheme` is what the app sent (so the usage report counts an app still on `sec_key` as legacy use),
 * plus what the app sent and what was forwarded.
 */
export interface OutboundAuditEvent extends AuditEvent {
  /** The credential the app sent. */
  sent: AppCredential
  /** The scheme of the credential forwarded to Smile ID. */
  forwardedScheme: Scheme
}

/** Options of {@link createOutboundProxy}. */
export interface OutboundProxyOptions {
  /** One signer per partner id as configured; the request's `partner_id` picks one. */
  signers: ReadonlyMap<string, MigratingSigner>
  /** The signer for requests that name no partner (single-partner config), else `undefined`. */
  defaultSigner: MigratingSigner | undefined
  /** The Smile ID base URL. */
  smileBaseUrl: URL
  /** Largest body accepted, in bytes (413 above). */
  maxBodyBytes: number
  /** Smile ID inactivity allowed before 504. */
  timeoutMs: number
  /** Receives one {@link OutboundAuditEvent} per forwarded request. Must not throw (the caller isolates it). */
  audit: (event: OutboundAuditEvent) => void
  /** Names this gateway in the audit records (the inbound verifier's `instance`), or `null`. */
  instance: string | null
  /** Keep-alive connections to the targets. */
  pool: UpstreamPool
  /** Counters. */
  metrics: GatewayMetrics
  /** Log lines. */
  log: GatewayLogger
  /** Clock for durations, milliseconds. */
  clock: () => number
  /** Wall clock for audit times, epoch milliseconds. */
  now: () => number
}

const SIGNATURE_HEADERS = ['smileid-request-signature', 'smileid-timestamp', 'smileid-partner-id']

/**
 * The signer for the partner a request names, found as the verifier finds partners: by the id as
 * configured, then by {@link partnerKey} (`"085"` and `"85"` are one partner; other ids match exactly).
 */
function signerFinder(options: OutboundProxyOptions): (id: string | null) => MigratingSigner | undefined {
  const byKey = new Map<string, MigratingSigner>()
  for (const [id, signer] of options.signers) byKey.set(partnerKey(id), signer)
  return (id) =>
    id === null ? options.defaultSigner : (options.signers.get(id) ?? byKey.get(partnerKey(id)))
}

/** The job id that keeps one job's retries on one scheme under a percentage rollout. */
function jobId(body: Record<string, unknown>): string | undefined {
  const params = body.partner_params
  const fromParams =
    typeof params === 'object' && params !== null ? (params as Record<string, unknown>).job_id : undefined
  const id = fromParams ?? body.job_id
  return typeof id === 'string' && id !== '' ? id : typeof id === 'number' ? String(id) : undefined
}

/**
 * Builds the outbound request handler.
 *
 * @example
 * ```ts
 * const handle = createOutboundProxy({ signers: new Map([['085', signer]]), defaultSigner: signer,
 *   smileBaseUrl: new URL('https://testapi.smileidentity.com'), maxBodyBytes: 1 << 20, timeoutMs: 60_000,
 *   audit: (event) => sink.write(event), instance: 'gateway-1',
 *   pool: createUpstreamPool({ connectTimeoutMs: 30_000 }), metrics: new GatewayMetrics(),
 *   log: jsonLogger(console.log, Date.now), clock: () => performance.now(), now: Date.now })
 * createServer(handle).listen(8788, '127.0.0.1')
 * ```
 */
export function createOutboundProxy(
  options: OutboundProxyOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { metrics, log, clock } = options
  const findSigner = signerFinder(options)
  return async (req, res) => {
    const started = clock()
    const url = req.url ?? '/'
    const path = pathOf(url)
    let status = 0
    let reason: string | null = null
    let sent: AppCredential | null = null
    let forwarded: Scheme | null = null
    let partnerId: string | null = null
    try {
      let read
      try {
        read = await readIncomingBody(req, options.maxBodyBytes)
      } catch {
        status = 400
        reason = 'body_incomplete'
        answerError(res, 400, 'body_incomplete')
        return
      }
      if (!read.ok) {
        status = 413
        reason = 'body_too_large'
        answerError(res, 413, 'body_too_large')
        return
      }
      let bytes: Uint8Array = read.bytes
      let body: Record<string, unknown> | undefined
      if (bytes.length > 0) {
        let parsed: unknown
        try {
          parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'))
        } catch {
          parsed = undefined
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          // Smile ID's API takes JSON objects; anything else is not signed on the partner's behalf.
          status = 400
          reason = 'invalid_json'
          answerError(res, 400, 'invalid_json')
          return
        }
        body = parsed as Record<string, unknown>
      }
      // What the app's request claims, by the rules the verifier applies (src/claims.ts): the credential
      // (a sec_key-shaped value in a "signature" field is a sec_key) and the partner, whose every
      // spelling in headers and body must agree. A request that repeats a SmileID header or names two
      // partners is refused, not signed for one of them.
      const credential = readCredentialClaim(body, req.headers)
      const claimed = readPartnerClaim(body, req.headers, credential.ok ? credential.transport : 'body')
      if ((!credential.ok && credential.reason === 'malformed_credentials') || !claimed.ok) {
        status = 400
        reason = 'malformed_credentials'
        answerError(res, 400, reason)
        return
      }
      // A sec_key beside a signature still counts as sec_key here: it is stripped and the request
      // re-signed, so that no sec_key reaches Smile ID through the gateway.
      sent = !credential.ok ? 'none' : credential.both ? 'sec_key' : credential.scheme
      const signer = findSigner(claimed.partnerId)
      if (signer === undefined) {
        status = 400
        reason = claimed.partnerId === null ? 'missing_partner_id' : 'unknown_partner'
        answerError(res, 400, reason)
        return
      }
      partnerId = signer.partnerId
      const headers = forwardableHeaders(req, () => false)
      if (sent === 'signature') {
        // Already on the current scheme: forwarded byte for byte.
        forwarded = 'signature'
      } else if (body !== undefined) {
        for (const name of SIGNATURE_HEADERS) delete headers[name]
        const routingKey = jobId(body)
        const signed = await signer.signBody(body, routingKey === undefined ? {} : { routingKey })
        forwarded = 'signature' in signed ? 'signature' : 'sec_key'
        bytes = Buffer.from(JSON.stringify(signed), 'utf8')
        headers['content-type'] = 'application/json'
      } else {
        // A body-less request (GET): the signature travels in the SmileID-* headers.
        for (const name of SIGNATURE_HEADERS) delete headers[name]
        const signedHeaders = await signer.headers()
        for (const [name, value] of Object.entries(signedHeaders)) headers[name.toLowerCase()] = value
        forwarded = 'signature'
      }
      options.audit({
        time: new Date(options.now()).toISOString(),
        direction: 'outgoing',
        partnerId,
        scheme: sent === 'none' ? null : sent,
        outcome: 'accepted',
        reason: null,
        keyId: null,
        transport: body === undefined ? 'headers' : 'body',
        warnings: sent === forwarded ? [] : [`resigned_as_${forwarded}`],
        route: path,
        sourceIp: req.socket.remoteAddress ?? null,
        source_sdk: typeof body?.source_sdk === 'string' ? body.source_sdk.slice(0, 128) : null,
        source_sdk_version:
          typeof body?.source_sdk_version === 'string' ? body.source_sdk_version.slice(0, 128) : null,
        authenticated: true,
        instance: options.instance,
        sent,
        forwardedScheme: forwarded,
      })
      metrics.outbound(sent, forwarded)
      const relayed = await relay(
        options.pool,
        {
          target: options.smileBaseUrl,
          path: url,
          method: req.method ?? 'POST',
          headers,
          body: bytes,
          timeoutMs: options.timeoutMs,
        },
        res,
      )
      status = relayed.status
      reason = relayed.reason
    } catch {
      status = 502
      reason = 'gateway_error'
      answerError(res, 502, 'gateway_error')
    } finally {
      recordRequest(metrics, log, 'outbound', clock() - started, {
        method: req.method,
        path,
        status,
        sent,
        forwarded,
        reason,
        partnerId,
      })
    }
  }
}
