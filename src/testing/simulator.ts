/**
 * A stand-in for Smile ID's servers: signs callbacks as Smile signs them, checks a partner's outgoing
 * requests in either scheme, and can listen on loopback to receive real HTTP requests.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readIncomingBody } from '../adapters/incoming.js'
import { readClaim, samePartner } from '../claims.js'
import { ConfigurationError } from '../errors.js'
import { LegacySecKeyAuth } from '../schemes/sec-key.js'
import { SignatureAuth } from '../schemes/signature.js'
import type { FreshnessOptions, Scheme, VerificationResult } from '../types.js'
import type { TestKeys } from './test-keys.js'
import { warnIfProduction } from './production-warning.js'

warnIfProduction()

/** A preset outcome for {@link SmileServerSimulator.callbackBody}. */
export type CallbackOutcome = 'approved' | 'rejected'

/** Options of {@link SmileServerSimulator.callbackBody}. */
export interface CallbackBodyOptions {
  /** The scheme to sign with, as Smile ID would for a partner on that scheme. */
  scheme: Scheme
  /**
   * The job result: a preset (`'approved'`, the default, or `'rejected'`), or fields merged over the
   * approved result (for example `{ ResultCode: '1022' }` or `{ source_sdk: 'python' }`). The credential
   * fields are always the simulator's own.
   */
  result?: CallbackOutcome | Record<string, unknown>
  /**
   * The timestamp to sign, echoed exactly. Default now: an ISO string for `signature`, epoch
   * milliseconds (a number) for `sec_key`, as Smile ID sends them.
   */
  timestamp?: string | number | Date
}

/** The partner's job parameters as a callback echoes them. */
export interface CallbackPartnerParams {
  /** The partner's job id. */
  job_id: string
  /** The partner's user id. */
  user_id: string
  /** Smile ID's job type number (5 is Enhanced KYC). */
  job_type: number
}

/** A callback body as Smile ID posts it. Unknown extra fields are allowed. */
export interface SmileCallbackBody {
  /** Per-action outcomes of the job. */
  Actions: Record<string, string>
  /** Confidence of the match, as a string of digits. */
  ConfidenceValue: string
  /** Smile ID's result code, for example `"1012"`. */
  ResultCode: string
  /** Smile ID's text for the result code. */
  ResultText: string
  /** The job's result type. */
  ResultType: string
  /** Smile ID's job id: ten digits. */
  SmileJobID: string
  /** The partner's own job parameters, echoed back. */
  PartnerParams: CallbackPartnerParams
  /** The partner the callback is for. */
  partner_id: string
  /** What sent the job. */
  source_sdk: string
  /** Version of {@link SmileCallbackBody.source_sdk}. */
  source_sdk_version: string
  /** The signed timestamp: an ISO string (`signature`) or epoch milliseconds (`sec_key`). */
  timestamp: string | number
  /** Present when signed with the `signature` scheme. */
  signature?: string
  /** Present when signed with the legacy `sec_key` scheme. */
  sec_key?: string
  /** Anything a `result` override adds. */
  [field: string]: unknown
}

/** Options of {@link SmileServerSimulator}. */
export interface SmileServerSimulatorOptions {
  /** The simulator's clock in epoch milliseconds (default `Date.now`): used for default timestamps and freshness. */
  now?: () => number
  /**
   * The freshness window applied by {@link SmileServerSimulator.verifyPartnerRequest}; default 5 minutes each
   * way; `false` turns it off.
   */
  freshness?: Omit<FreshnessOptions, 'now'> | false
  /** Largest request body {@link SmileServerSimulator.listen} accepts, in bytes. Default 1 MiB. */
  limit?: number
  /**
   * How many received requests {@link SmileServerSimulator.requests} keeps; the oldest are dropped first.
   * Default 100. `0` keeps none; `Infinity` keeps every one (only for a test that bounds its own traffic).
   */
  maxRequests?: number
  /**
   * How many body bytes (as received) {@link SmileServerSimulator.requests} keeps in all; the oldest requests
   * are dropped first, but the newest is always kept. Default 16 MiB; `Infinity` for no byte bound.
   */
  maxRequestBytes?: number
}

/** Options of {@link SmileServerSimulator.verifyPartnerRequest}. */
export interface VerifyPartnerRequestOptions {
  /** The request headers, when the partner may have sent the `SmileID-*` signature headers. */
  headers?: Headers | Record<string, string | readonly string[] | undefined>
}

/** One request received by {@link SmileServerSimulator.listen}. */
export interface SimulatedRequest {
  /** HTTP method. */
  method: string
  /** Path and query, as requested. */
  url: string
  /** Request headers, lowercase names. */
  headers: Record<string, string>
  /** The parsed JSON body, or `undefined` when the body was empty or not JSON. */
  body: unknown
  /** How the simulator judged the request's credentials. */
  result: VerificationResult
  /** The status code the simulator answered with. */
  status: number
}

/** Where a listening simulator can be reached. */
export interface SimulatorAddress {
  /** Base URL, for example `http://127.0.0.1:49152`. */
  url: string
  /** The port chosen by the operating system. */
  port: number
}

const DEFAULT_WINDOW_MS = 300_000
const DEFAULT_LIMIT = 1024 * 1024
const DEFAULT_MAX_REQUESTS = 100
const DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024

/** The body Smile ID answers with when a request's credentials are refused (error 2205). */
const UNAUTHORIZED = { code: '2205', error: 'You are not authorized to do that.' }

/**
 * Plays Smile ID's side of both schemes for tests: signs callbacks (type-1 sec_key from the private key,
 * or the HMAC signature with an ISO timestamp), checks partner requests (type-2 sec_key decrypted with the
 * private key, or the signature in the body or the `SmileID-*` headers), and optionally serves HTTP on
 * 127.0.0.1, answering 200 for valid credentials and 401 with a 2205 error otherwise.
 *
 * @example
 * ```ts
 * import { createTestKeys, SmileServerSimulator } from 'smileid-auth-shim/testing'
 *
 * const smile = new SmileServerSimulator(createTestKeys())
 * const body = await smile.callbackBody({ scheme: 'sec_key', result: 'rejected' })
 * await fetch('http://127.0.0.1:3000/smile/callback', {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify(body),
 * })
 *
 * const { url } = await smile.listen() // point the code under test at `url`
 * // … then inspect smile.requests[0].result.scheme
 * await smile.close()
 * ```
 */
export class SmileServerSimulator {
  /** The partner the simulator serves. */
  readonly partnerId: string
  /**
   * The latest requests received over HTTP since {@link SmileServerSimulator.listen}, oldest first. Bounded
   * by `maxRequests` (default 100) and `maxRequestBytes` (default 16 MiB of bodies): older requests are
   * dropped and counted in {@link SmileServerSimulator.droppedRequests}, so a long-running test or demo does
   * not grow without limit.
   */
  readonly requests: SimulatedRequest[] = []
  readonly #signature: SignatureAuth
  readonly #secKey: LegacySecKeyAuth
  readonly #now: () => number
  readonly #freshness: Omit<FreshnessOptions, 'now'> | false
  readonly #limit: number
  readonly #maxRequests: number
  readonly #maxRequestBytes: number
  /** Body bytes of each entry of `requests`, in the same order. */
  readonly #requestBytes: number[] = []
  #retainedBytes = 0
  #dropped = 0
  #server: Server | undefined
  #jobCounter = 0

  /** @throws `ConfigurationError` when the keys cannot be used (for example a non-digit partner id). */
  constructor(keys: TestKeys, options: SmileServerSimulatorOptions = {}) {
    if (typeof keys !== 'object' || keys === null) {
      throw new ConfigurationError(
        'invalid_options',
        'SmileServerSimulator needs the keys from createTestKeys()',
      )
    }
    this.partnerId = keys.partnerId
    this.#signature = new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey })
    // Server role: type-1 signing for callbacks, type-2 decryption for partner requests, as Smile ID does.
    this.#secKey = new LegacySecKeyAuth({ partnerId: keys.partnerId, privateKey: keys.secKeyPrivateKey })
    this.#now = options.now ?? Date.now
    this.#freshness =
      options.freshness === false
        ? false
        : { maxAgeMs: DEFAULT_WINDOW_MS, maxFutureMs: DEFAULT_WINDOW_MS, ...options.freshness }
    this.#limit = options.limit ?? DEFAULT_LIMIT
    this.#maxRequests = bound(options.maxRequests, DEFAULT_MAX_REQUESTS, 'maxRequests')
    this.#maxRequestBytes = bound(options.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES, 'maxRequestBytes')
  }

  /** How many received requests were dropped from {@link SmileServerSimulator.requests} to keep it bounded. */
  get droppedRequests(): number {
    return this.#dropped
  }

  /** Base URL while listening, else `undefined`. */
  get url(): string | undefined {
    const address = this.#server?.address()
    return address && typeof address === 'object' ? `http://127.0.0.1:${address.port}` : undefined
  }

  /**
   * A callback body signed as Smile ID signs it, with realistic result fields.
   *
   * @example
   * ```ts
   * const body = await smile.callbackBody({ scheme: 'signature', result: { ResultCode: '1013' } })
   * ```
   */
  async callbackBody(options: CallbackBodyOptions): Promise<SmileCallbackBody> {
    const { scheme } = options
    if (scheme !== 'signature' && scheme !== 'sec_key') {
      throw new ConfigurationError('invalid_options', 'scheme must be "signature" or "sec_key"')
    }
    const credentials = await this.#sign(scheme, options.timestamp)
    const result = options.result ?? 'approved'
    const fields = typeof result === 'string' ? OUTCOMES[result] : { ...OUTCOMES.approved, ...result }
    if (fields === undefined) {
      throw new ConfigurationError('invalid_options', 'result must be "approved", "rejected" or an object')
    }
    const job = ++this.#jobCounter
    return {
      Actions: { ...APPROVED_ACTIONS },
      ConfidenceValue: '99',
      ResultType: 'ID Verification',
      SmileJobID: String(job).padStart(10, '0'),
      PartnerParams: { job_id: `job-${job}`, user_id: `user-${job}`, job_type: 5 },
      partner_id: this.partnerId,
      source_sdk: 'rest_api',
      source_sdk_version: '1.0.0',
      // A result object may override any field above (source_sdk, for audit tests), never the credentials.
      ...fields,
      ...credentials,
    } as SmileCallbackBody
  }

  /**
   * Checks a partner's outgoing request as Smile ID would: a `signature` (body or `SmileID-*` headers) or a
   * type-2 `sec_key`, for this partner, within the freshness window. What the request claims (scheme,
   * transport, partner) is read by the same reader as `DualModeVerifier`'s: `"085"` and `"85"` name one
   * partner in both schemes, and partner ids that disagree are `malformed_credentials`. Never throws.
   *
   * @example
   * ```ts
   * const result = await smile.verifyPartnerRequest(await signer.signBody({ job_id: 'j1' }))
   * expect(result.ok).toBe(true)
   * ```
   */
  async verifyPartnerRequest(
    body: unknown,
    options: VerifyPartnerRequestOptions = {},
  ): Promise<VerificationResult> {
    // What the request claims is read by the verifier's own reader, so the simulator can never accept a
    // request whose claims DualModeVerifier reads otherwise (conflicting partner ids, "085" vs "85", …).
    let headers: unknown
    try {
      headers = options?.headers
    } catch {
      return fail(null, 'malformed_credentials', 'the request could not be read', null)
    }
    const claim = readClaim(body, headers)
    if (!claim.ok) return fail(claim.scheme, claim.reason, claim.message, claim.partnerId)
    // Smile ID's API needs the partner id on every request; a receiving verifier may default it instead.
    if (claim.partnerId === null) {
      return fail(claim.scheme, 'missing_credentials', 'partner_id is missing', null)
    }
    if (!samePartner(claim.partnerId, this.partnerId)) {
      return fail(claim.scheme, 'unknown_partner', 'the request names another partner', claim.partnerId)
    }
    const verify = this.#freshness === false ? {} : { freshness: { ...this.#freshness, now: this.#now } }
    const strategy = claim.scheme === 'signature' ? this.#signature : this.#secKey
    const result = await strategy.verify(claim.credentials, verify)
    return result.ok && claim.transport === 'headers' ? { ...result, transport: 'headers' } : result
  }

  /**
   * Serves HTTP on 127.0.0.1 (a free port): every request is checked with
   * {@link SmileServerSimulator.verifyPartnerRequest}, recorded in {@link SmileServerSimulator.requests}, and
   * answered 200 with a signed result in the request's scheme, 401 with Smile ID's 2205 error, 400 for a
   * body that is not JSON, or 413 above the size limit.
   */
  async listen(): Promise<SimulatorAddress> {
    if (this.#server !== undefined)
      throw new ConfigurationError('invalid_options', 'the simulator is already listening')
    const server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500)
        res.end()
      })
    })
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    const { port } = server.address() as AddressInfo
    return { url: `http://127.0.0.1:${port}`, port }
  }

  /** Stops listening and drops open connections. Safe to call when not listening. */
  async close(): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }

  async #sign(scheme: Scheme, timestamp: string | number | Date | undefined) {
    // Smile ID stamps signature callbacks with ISO time and legacy ones with epoch milliseconds.
    const stamp = timestamp ?? (scheme === 'signature' ? new Date(this.#now()).toISOString() : this.#now())
    return scheme === 'signature'
      ? await this.#signature.sign({ timestamp: stamp })
      : await this.#secKey.sign({ timestamp: stamp })
  }

  /** Appends to the history, then drops the oldest entries beyond either bound (the newest stays). */
  #remember(request: SimulatedRequest, bytes: number): void {
    this.requests.push(request)
    this.#requestBytes.push(bytes)
    this.#retainedBytes += bytes
    while (
      this.requests.length > this.#maxRequests ||
      (this.requests.length > 1 && this.#retainedBytes > this.#maxRequestBytes)
    ) {
      this.requests.shift()
      this.#retainedBytes -= this.#requestBytes.shift() ?? 0
      this.#dropped++
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
    }
    let bytes = 0
    const record = (body: unknown, result: VerificationResult, status: number, payload: unknown) => {
      this.#remember(
        { method: req.method ?? 'GET', url: req.url ?? '/', headers, body, result, status },
        bytes,
      )
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(payload))
    }

    const read = await readIncomingBody(req, this.#limit)
    if (!read.ok) {
      return record(undefined, fail(null, 'malformed_credentials', 'the body is too large', null), 413, {
        error: 'request body too large',
      })
    }
    bytes = read.bytes.byteLength
    const raw = new TextDecoder().decode(read.bytes)
    let body: unknown
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw) as unknown
      } catch {
        return record(undefined, fail(null, 'malformed_credentials', 'the body is not JSON', null), 400, {
          error: 'invalid JSON',
        })
      }
    }
    const result = await this.verifyPartnerRequest(body, { headers })
    if (!result.ok) return record(body, result, 401, UNAUTHORIZED)
    // Smile ID signs its responses too (job status, ID API): answer in the scheme the partner used.
    const signed = await this.#sign(result.scheme, undefined)
    const job = ++this.#jobCounter
    return record(body, result, 200, {
      success: true,
      smile_job_id: String(job).padStart(10, '0'),
      partner_id: this.partnerId,
      ...signed,
    })
  }
}

const APPROVED_ACTIONS: Record<string, string> = {
  Verify_ID_Number: 'Verified',
  Return_Personal_Info: 'Returned',
  Human_Review_Compare: 'Not Applicable',
}

const OUTCOMES: Record<CallbackOutcome, Record<string, unknown>> = {
  approved: { ResultCode: '1012', ResultText: 'Valid ID Number', IDType: 'NATIONAL_ID', Country: 'NG' },
  rejected: {
    ResultCode: '1013',
    ResultText: 'Invalid ID Number',
    IDType: 'NATIONAL_ID',
    Country: 'NG',
    Actions: {
      Verify_ID_Number: 'Not Verified',
      Return_Personal_Info: 'Not Returned',
      Human_Review_Compare: 'Not Applicable',
    },
    ConfidenceValue: '0',
  },
}

function fail(
  scheme: Scheme | null,
  reason: Extract<VerificationResult, { ok: false }>['reason'],
  message: string,
  partnerId: string | null,
): VerificationResult {
  return { ok: false, scheme, reason, message, partnerId }
}

function bound(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && value >= 0 && (Number.isSafeInteger(value) || value === Infinity)) {
    return value
  }
  throw new ConfigurationError(
    'invalid_options',
    `${name} must be a non-negative integer or Infinity (default ${fallback})`,
  )
}
