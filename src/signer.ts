/**
 * Outgoing requests to Smile ID during a migration: sign with the legacy `sec_key`, the `signature`, or a
 * percentage rollout between them, and record each signing in the audit trail.
 *
 * @module
 */
import { hashBackend as backend } from '#crypto-hash'
import type { AuditEvent, AuditSink } from './audit/events.js'
import { isDigitPartnerId, samePartner } from './claims.js'
import { emitAudit, normalizeSinks } from './audit/dispatch.js'
import { ConfigurationError } from './errors.js'
import { checkKnownKeys, describe } from './option-checks.js'
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
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      fail(`MigratingSigner needs an options object { use, signature?, secKey? } (got ${describe(options)})`)
    }
    checkKnownKeys(options, SIGNER_OPTION_KEYS, 'MigratingSigner')
    const { signature, secKey, use } = options
    if (signature !== undefined && !isStrategy(signature, 'signature')) {
      fail(
        `MigratingSigner: signature must be a SignatureAuth (got ${strategyText(signature)})${strategyHint(signature, 'signature')}`,
      )
    }
    if (secKey !== undefined && !isStrategy(secKey, 'sec_key')) {
      fail(
        `MigratingSigner: secKey must be a LegacySecKeyAuth (got ${strategyText(secKey)})${strategyHint(secKey, 'secKey')}`,
      )
    }
    if (secKey?.role === 'server') {
      // A private-key strategy signs type-1 values, which Smile ID cannot decrypt: a request would fail later.
      fail(
        'MigratingSigner: secKey must be in the partner role: build LegacySecKeyAuth with apiKey (the public key), not privateKey',
      )
    }
    if (
      signature !== undefined &&
      secKey !== undefined &&
      !samePartner(signature.partnerId, secKey.partnerId)
    ) {
      // Partner ids are not secrets, and seeing both is what tells a typo from two different accounts.
      fail(
        `MigratingSigner: signature and secKey are for different partner ids (${partnerText(signature.partnerId)} and ` +
          `${partnerText(secKey.partnerId)}); one signer signs for one partner`,
      )
    }

    let percent: number
    let defaultKey: string | undefined
    if (use === 'signature') percent = 100
    else if (use === 'sec_key') percent = 0
    else if (typeof use === 'object' && use !== null && !Array.isArray(use)) {
      checkKnownKeys(use, ROLLOUT_KEYS, 'MigratingSigner use')
      percent = checkPercent((use as Partial<SignerRollout>).signaturePercent)
      const routingKey: unknown = (use as Partial<SignerRollout>).routingKey
      if (routingKey !== undefined && (typeof routingKey !== 'string' || routingKey === '')) {
        fail(
          `MigratingSigner: use.routingKey must be a non-empty string (got ${describe(routingKey)})` +
            (typeof routingKey === 'number' ? `; pass String(${String(routingKey)})` : ''),
        )
      }
      defaultKey = routingKey
    } else {
      fail(`MigratingSigner: ${useMessage(use)}`)
    }
    if (percent > 0 && signature === undefined) {
      fail(
        `MigratingSigner: use can pick the signature scheme (${describeUse(use)}), but no signature strategy is ` +
          "configured: add signature: new SignatureAuth({ partnerId, apiKey }), or set use: 'sec_key'",
      )
    }
    if (percent < 100 && secKey === undefined) {
      fail(
        `MigratingSigner: use can pick the sec_key scheme (${describeUse(use)}), but no secKey strategy is ` +
          "configured: add secKey: new LegacySecKeyAuth({ partnerId, apiKey }), or set use: 'signature'",
      )
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      fail(
        `MigratingSigner: now must be a function returning epoch milliseconds, such as () => Date.now() ` +
          `(got ${describe(options.now)})`,
      )
    }
    checkSinks(options.audit)
    if (options.onAuditError !== undefined && typeof options.onAuditError !== 'function') {
      fail(
        `MigratingSigner: onAuditError must be a function (error, event) => void (got ${describe(options.onAuditError)})`,
      )
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
    const signed = await this.#sign(await this.schemeFor(checkSignOptions(options, 'sign')), options)
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
      fail(
        `MigratingSigner.signBody needs a plain object body (got ${describe(body)})` +
          (typeof body === 'string' ? '; pass the object, not its JSON text' : ''),
      )
    }
    const signed = await this.#sign(await this.schemeFor(checkSignOptions(options, 'signBody')), options)
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
    checkSignOptions(options, 'headers')
    if (this.#signature === undefined) {
      fail(
        'MigratingSigner.headers() needs the signature scheme (headers exist only for it): configure a signature ' +
          'strategy, or send the sec_key credentials in the body with signBody()',
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

function checkSignOptions(options: SignerSignOptions, method: string): string | undefined {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail(
      `MigratingSigner.${method} options must be an object { routingKey?, timestamp?, route? } (got ${describe(options)})` +
        (typeof options === 'string' ? '; pass { routingKey } rather than the key itself' : ''),
    )
  }
  const routingKey: unknown = options.routingKey
  if (routingKey !== undefined && typeof routingKey !== 'string') {
    fail(
      `MigratingSigner.${method}: routingKey must be a string (got ${describe(routingKey)})` +
        (typeof routingKey === 'number' ? `; pass String(${String(routingKey)})` : ''),
    )
  }
  return routingKey
}

function fail(message: string): never {
  throw new ConfigurationError('invalid_options', message)
}

/** Every option of `MigratingSigner`, for the unknown-option check and its "did you mean" hint. */
const SIGNER_OPTION_KEYS = ['signature', 'secKey', 'use', 'audit', 'onAuditError', 'now'] as const
const ROLLOUT_KEYS = ['signaturePercent', 'routingKey'] as const
const USE_TEXT = "'signature', 'sec_key' or { signaturePercent: 0–100 }"

/** Digit partner ids are shown (they are not secrets); anything else only by its length, as it could be a key. */
function partnerText(partnerId: string): string {
  return isDigitPartnerId(partnerId) ? `"${partnerId}"` : describe(partnerId)
}

function useMessage(use: unknown): string {
  if (use === undefined) return `use is missing: it must be ${USE_TEXT}`
  let hint = ''
  if (typeof use === 'string') {
    const lower = use.toLowerCase().replace(/[\s-]/g, '_')
    if (lower === 'signature' || lower.startsWith('sig')) hint = "; did you mean 'signature'?"
    else if (lower === 'sec_key' || lower === 'seckey' || lower.startsWith('sec') || lower === 'legacy')
      hint = "; did you mean 'sec_key'?"
    else if (/^\d+(\.\d+)?\s*%?$/.test(use.trim()))
      hint = `; for a rollout pass { signaturePercent: ${parseFloat(use)} }`
  } else if (typeof use === 'number') hint = `; for a rollout pass { signaturePercent: ${String(use)} }`
  return `use must be ${USE_TEXT} (got ${describe(use)})${hint}`
}

function describeUse(use: unknown): string {
  if (typeof use === 'string') return `'${use}'`
  const percent = (use as Partial<SignerRollout>).signaturePercent
  return `signaturePercent ${String(percent)}`
}

function checkPercent(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 100) return value
  const base = `MigratingSigner: use.signaturePercent must be a number from 0 to 100, a percentage (50 is half of the requests, 0.5 is one in 200)`
  if (value === undefined) fail(`${base}; it is missing`)
  let hint = ''
  if (typeof value === 'string') {
    if (/^\s*\d+(\.\d+)?\s*%?\s*$/.test(value))
      hint = `; pass the number ${String(parseFloat(value))}, not a string`
  } else if (typeof value === 'number' && value > 100)
    hint = '; it is a percentage: 100 already means every request'
  else if (typeof value === 'number' && value < 0) hint = '; 0 already means no request'
  return fail(`${base} (got ${describe(value)})${hint}`)
}

/** A strategy is an object: say which kind of object, without printing anything in it. */
function strategyText(value: unknown): string {
  if (isStrategy(value, 'sec_key')) return 'a LegacySecKeyAuth'
  if (isStrategy(value, 'signature')) return 'a SignatureAuth'
  return describe(value)
}

function strategyHint(value: unknown, option: 'signature' | 'secKey'): string {
  if (option === 'signature' && isStrategy(value, 'sec_key')) return '; it belongs in secKey'
  if (option === 'secKey' && isStrategy(value, 'signature')) return '; it belongs in signature'
  const make =
    option === 'signature'
      ? 'new SignatureAuth({ partnerId, apiKey })'
      : 'new LegacySecKeyAuth({ partnerId, apiKey })'
  if (typeof value === 'string') return `; pass ${make}, not the key itself`
  if (typeof value === 'object' && value !== null && 'apiKey' in value)
    return `; pass ${make}, not its options`
  return `; pass ${make}`
}

function checkSinks(audit: unknown): void {
  if (audit === undefined) return
  const sinks: unknown[] = Array.isArray(audit) ? audit : [audit]
  sinks.forEach((sink, index) => {
    if (typeof sink === 'function') return
    if (
      typeof sink === 'object' &&
      sink !== null &&
      typeof (sink as { write?: unknown }).write === 'function'
    )
      return
    const at = Array.isArray(audit) ? `audit[${index}]` : 'audit'
    fail(
      `MigratingSigner: ${at} must be an audit sink, a function (event) => void or an object with write(event) ` +
        `(got ${describe(sink)})`,
    )
  })
}

function isStrategy(value: unknown, scheme: Scheme): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { scheme?: unknown }).scheme === scheme &&
    typeof (value as { sign?: unknown }).sign === 'function'
  )
}
