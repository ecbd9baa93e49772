/**
 * Outgoing requests to Smile ID during a migration: sign with the legacy `sec_key`, the `signature`, or a
 * percentage rollout between them, and record each signing in the audit trail.
 *
 * @module
 */
import { hashBackend as backend } from '#crypto-hash'
import type { AuditEvent, AuditSink } from './audit/events.js'
import { emitAudit, normalizeSinks } from './audit/dispatch.js'
import { ConfigurationError } from './errors.js'
import type { LegacySecKeyAuth } from './schemes/sec-key.js'
import type { SignatureAuth } from './schemes/signature.js'
import type { Scheme, SecKeyCredentials, SignatureCredentials, Transport } from './types.js'

/**
 * Which scheme {@link MigratingSigner} signs with: always one, or a share of requests on `signature`.
 *
 * With a percentage, a request's routing key (for example the job id) picks its scheme deterministically,
 * so retries of one job keep their scheme; without a key the pick is random. `routingKey` here is the
 * default key, for example the host name to move whole instances at a time.
 */
export type SignerUse = Scheme | SignerRollout

/** A percentage rollout for {@link SignerUse}. */
export interface SignerRollout {
  /** Share of requests signed with `signature`, from 0 to 100 (fractions such as 12.5 are honoured). */
  signaturePercent: number
  /** The routing key used when `sign()` gets none. Default: none, so such requests pick at random. */
  routingKey?: string
}

/** Options of {@link MigratingSigner}. */
export interface MigratingSignerOptions {
  /** The signature scheme, needed when `use` can pick it. */
  signature?: SignatureAuth
  /** The legacy scheme in the partner role (built with `apiKey`), needed when `use` can pick it. */
  secKey?: LegacySecKeyAuth
  /** Which scheme to sign with. */
  use: SignerUse
  /** Sinks for one `outgoing` audit event per signing. */
  audit?: AuditSink | AuditSink[]
  /** Called when an audit sink throws or rejects. Signing is never affected. */
  onAuditError?: (error: unknown, event: AuditEvent) => void
  /** Clock for the audit events, in epoch milliseconds. Default `Date.now`. */
  now?: () => number
}

/** Options of {@link MigratingSigner.sign}, {@link MigratingSigner.signBody} and {@link MigratingSigner.headers}. */
export interface SignerSignOptions {
  /** Picks the scheme deterministically under a percentage rollout, for example the job id. */
  routingKey?: string
  /** The timestamp to sign, echoed exactly. Default now (ISO for `signature`, epoch ms for `sec_key`). */
  timestamp?: string | number | Date
  /** The endpoint the request goes to, for the audit trail (for example `/v1/id_verification`). */
  route?: string
}

/** What {@link MigratingSigner.sign} returns: the scheme it picked and the credential fields. */
export type SignedCredentials = SignedWithSignature | SignedWithSecKey

/** {@link SignedCredentials} of the signature scheme. */
export interface SignedWithSignature {
  /** Always `'signature'`. */
  scheme: 'signature'
  /** The `signature` and `timestamp` fields. */
  credentials: SignatureCredentials
}

/** {@link SignedCredentials} of the legacy scheme. */
export interface SignedWithSecKey {
  /** Always `'sec_key'`. */
  scheme: 'sec_key'
  /** The `sec_key` and `timestamp` fields. */
  credentials: SecKeyCredentials
}

/** A body signed by {@link MigratingSigner.signBody}: the original fields plus the credentials and `partner_id`. */
export type SignedBody<T extends object> = Omit<T, 'signature' | 'sec_key' | 'timestamp' | 'partner_id'> &
  PartnerIdField &
  (SignatureCredentials | SecKeyCredentials)

/** The `partner_id` field {@link MigratingSigner.signBody} adds. */
export interface PartnerIdField {
  /** The partner id of the strategy that signed. */
  partner_id: string
}

/** The `SmileID-*` request headers of the signature scheme. */
export interface SmileIdHeaders {
  /** The partner id. */
  'SmileID-Partner-ID': string
  /** The signature. */
  'SmileID-Request-Signature': string
  /** The signed timestamp. */
  'SmileID-Timestamp': string
  /** Allows spreading into a `HeadersInit` or a plain header object. */
  [name: string]: string
}

/** Rollout resolution: basis points, so fractional percentages such as 12.5 are honoured. */
const BUCKETS = 10_000

/**
 * Signs requests to Smile ID with the scheme a migration calls for: `'sec_key'` (legacy), `'signature'`, or
 * `{ signaturePercent }` to move a share of traffic at a time. Emits one `outgoing` audit event per signing,
 * so the usage report covers both directions.
 *
 * @example
 * ```ts
 * import { LegacySecKeyAuth, MigratingSigner, SignatureAuth } from 'smileid-auth-shim'
 *
 * const signer = new MigratingSigner({
 *   signature: new SignatureAuth({ partnerId: '085', apiKey: process.env.SMILEID_API_KEY! }),
 *   secKey: new LegacySecKeyAuth({ partnerId: '085', apiKey: process.env.SMILEID_SEC_KEY_API_KEY! }),
 *   use: { signaturePercent: 25 },
 * })
 * const body = await signer.signBody({ job_id: 'job-42', id_type: 'NIN' }, { routingKey: 'job-42' })
 * await fetch('https://testapi.smileidentity.com/v1/id_verification', {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify(body),
 * })
 * ```
 */
export class MigratingSigner {
  /** The partner id, from the configured strategies. */
  readonly partnerId: string
  readonly #signature: SignatureAuth | undefined
  readonly #secKey: LegacySecKeyAuth | undefined
  readonly #percent: number
  readonly #defaultKey: string | undefined
  readonly #sinks: AuditSink[]
  readonly #onAuditError: (error: unknown, event: AuditEvent) => void
  readonly #now: () => number

  /** @throws `ConfigurationError` (`invalid_options`) when `use` names a scheme that is not configured, and for bad options. */
  constructor(options: MigratingSignerOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('invalid_options', 'MigratingSigner needs { use, signature?, secKey? }')
    }
    const { signature, secKey, use } = options
    if (signature !== undefined && !isStrategy(signature, 'signature')) {
      throw new ConfigurationError('invalid_options', 'signature must be a SignatureAuth')
    }
    if (secKey !== undefined && !isStrategy(secKey, 'sec_key')) {
      throw new ConfigurationError('invalid_options', 'secKey must be a LegacySecKeyAuth')
    }
    if (secKey?.role === 'server') {
      // A private-key strategy signs type-1 values, which Smile ID cannot decrypt: a request would fail later.
      throw new ConfigurationError(
        'invalid_options',
        'secKey must be in the partner role: build LegacySecKeyAuth with apiKey (the public key), not privateKey',
      )
    }
    if (
      signature !== undefined &&
      secKey !== undefined &&
      !samePartner(signature.partnerId, secKey.partnerId)
    ) {
      throw new ConfigurationError('invalid_options', 'signature and secKey are for different partner ids')
    }

    let percent: number
    let defaultKey: string | undefined
    if (use === 'signature') percent = 100
    else if (use === 'sec_key') percent = 0
    else if (typeof use === 'object' && use !== null) {
      percent = use.signaturePercent
      if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
        throw new ConfigurationError('invalid_options', 'use.signaturePercent must be a number from 0 to 100')
      }
      if (use.routingKey !== undefined && (typeof use.routingKey !== 'string' || use.routingKey === '')) {
        throw new ConfigurationError('invalid_options', 'use.routingKey must be a non-empty string')
      }
      defaultKey = use.routingKey
    } else {
      throw new ConfigurationError(
        'invalid_options',
        'use must be "signature", "sec_key" or { signaturePercent }',
      )
    }
    if (percent > 0 && signature === undefined) {
      throw new ConfigurationError(
        'invalid_options',
        'use can pick the signature scheme, but no signature strategy is configured',
      )
    }
    if (percent < 100 && secKey === undefined) {
      throw new ConfigurationError(
        'invalid_options',
        'use can pick the sec_key scheme, but no secKey strategy is configured',
      )
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new ConfigurationError('invalid_options', 'now must be a function returning epoch milliseconds')
    }

    this.#signature = signature
    this.#secKey = secKey
    this.#percent = percent
    this.#defaultKey = defaultKey
    this.partnerId = (signature ?? secKey)!.partnerId
    this.#sinks = normalizeSinks(options.audit)
    const onAuditError = options.onAuditError
    this.#onAuditError = (error, event) => onAuditError?.(error, event)
    this.#now = options.now ?? Date.now
  }

  /**
   * The scheme a request with this routing key gets: fixed for `'signature'` / `'sec_key'`; under a
   * percentage, from the first 4 bytes of SHA-256 of the key (stable across processes and versions), or
   * random without a key.
   *
   * @example
   * ```ts
   * const scheme = await signer.schemeFor('job-42') // same answer every time for job-42
   * ```
   */
  async schemeFor(routingKey?: string): Promise<Scheme> {
    if (this.#percent >= 100) return 'signature'
    if (this.#percent <= 0) return 'sec_key'
    const key = routingKey ?? this.#defaultKey
    let bucket: number
    if (key === undefined) {
      bucket = Math.floor(Math.random() * BUCKETS)
    } else {
      const hex = await backend.sha256Hex(key)
      bucket = parseInt(hex.slice(0, 8), 16) % BUCKETS
    }
    return bucket < this.#percent * (BUCKETS / 100) ? 'signature' : 'sec_key'
  }

  /**
   * Signs with the scheme picked by {@link MigratingSigner.schemeFor} and returns `{ scheme, credentials }`.
   *
   * @example
   * ```ts
   * const { scheme, credentials } = await signer.sign({ routingKey: jobId })
   * ```
   * @throws `ConfigurationError` (`invalid_options`), as a rejected promise, for options that are not an
   * object or a `routingKey` that is not a string: the caller's own arguments, never a request's content.
   */
  async sign(options: SignerSignOptions = {}): Promise<SignedCredentials> {
    const signed = await this.#sign(await this.schemeFor(checkSignOptions(options)), options)
    this.#emit(signed.scheme, 'body', options, undefined)
    return signed
  }

  /**
   * Returns a copy of `body` with the credential fields of the picked scheme and `partner_id` added. Credential
   * fields of the other scheme left in `body` are removed, so a request never carries both.
   *
   * @example
   * ```ts
   * const request = await signer.signBody({ partner_params: { job_id: 'job-42' } }, { routingKey: 'job-42' })
   * // { partner_params: …, partner_id: '085', signature: '…', timestamp: '2025-…' }
   * ```
   * @throws `ConfigurationError` (`invalid_options`), as a rejected promise, for a body that is not a plain
   * object and for the option mistakes of {@link MigratingSigner.sign}.
   */
  async signBody<T extends object>(body: T, options: SignerSignOptions = {}): Promise<SignedBody<T>> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ConfigurationError('invalid_options', 'signBody needs a plain object body')
    }
    const signed = await this.#sign(await this.schemeFor(checkSignOptions(options)), options)
    const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) }
    delete copy.signature
    delete copy.sec_key
    Object.assign(copy, signed.credentials, { partner_id: this.#partnerFor(signed.scheme) })
    this.#emit(signed.scheme, 'body', options, body as Record<string, unknown>)
    return copy as SignedBody<T>
  }

  /**
   * The `SmileID-Partner-ID`, `SmileID-Request-Signature` and `SmileID-Timestamp` headers. Headers exist only
   * for the signature scheme, so this always signs with it, whatever `use` says.
   *
   * @example
   * ```ts
   * await fetch(url, { method: 'POST', headers: { ...(await signer.headers()), 'content-type': 'application/json' }, body })
   * ```
   * @throws `ConfigurationError` (`invalid_options`), as a rejected promise, when no signature strategy is
   * configured (a setup mistake that shows on the first call), and for the option mistakes of
   * {@link MigratingSigner.sign}.
   */
  async headers(options: SignerSignOptions = {}): Promise<SmileIdHeaders> {
    checkSignOptions(options)
    if (this.#signature === undefined) {
      throw new ConfigurationError(
        'invalid_options',
        'headers() needs the signature scheme: configure a signature strategy',
      )
    }
    const signed = await this.#sign('signature', options)
    this.#emit('signature', 'headers', options, undefined)
    return {
      'SmileID-Partner-ID': this.#signature.partnerId,
      'SmileID-Request-Signature': (signed.credentials as SignatureCredentials).signature,
      'SmileID-Timestamp': String(signed.credentials.timestamp),
    }
  }

  async #sign(scheme: Scheme, options: SignerSignOptions): Promise<SignedCredentials> {
    const signOptions = options.timestamp === undefined ? {} : { timestamp: options.timestamp }
    return scheme === 'signature'
      ? { scheme, credentials: await this.#signature!.sign(signOptions) }
      : { scheme, credentials: await this.#secKey!.sign(signOptions) }
  }

  #partnerFor(scheme: Scheme): string {
    return (scheme === 'signature' ? this.#signature : this.#secKey)!.partnerId
  }

  #emit(
    scheme: Scheme,
    transport: Transport,
    options: SignerSignOptions,
    body: Record<string, unknown> | undefined,
  ) {
    if (this.#sinks.length === 0) return
    const event: AuditEvent = {
      time: new Date(this.#now()).toISOString(),
      direction: 'outgoing',
      partnerId: this.#partnerFor(scheme),
      scheme,
      outcome: 'accepted',
      reason: null,
      keyId: null,
      transport,
      warnings: [],
      route: typeof options.route === 'string' ? options.route : null,
      sourceIp: null,
      source_sdk: typeof body?.source_sdk === 'string' ? body.source_sdk : null,
      source_sdk_version: typeof body?.source_sdk_version === 'string' ? body.source_sdk_version : null,
      authenticated: true,
      instance: null,
    }
    emitAudit(this.#sinks, event, this.#onAuditError)
  }
}

function checkSignOptions(options: SignerSignOptions): string | undefined {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('invalid_options', 'sign options must be an object')
  }
  if (options.routingKey !== undefined && typeof options.routingKey !== 'string') {
    throw new ConfigurationError('invalid_options', 'routingKey must be a string')
  }
  return options.routingKey
}

function isStrategy(value: unknown, scheme: Scheme): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { scheme?: unknown }).scheme === scheme &&
    typeof (value as { sign?: unknown }).sign === 'function'
  )
}

/** `"085"` and `"85"` are the same partner (sec_key hashes the integer); other ids must match exactly. */
function samePartner(a: string, b: string): boolean {
  return a === b || (/^\d{1,15}$/.test(a) && /^\d{1,15}$/.test(b) && Number(a) === Number(b))
}
