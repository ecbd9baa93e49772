/**
 * The current Smile ID scheme: `signature = base64(HMAC-SHA256(apiKey, timestamp + partnerId + "sid_request"))`.
 *
 * @module
 */
import { hashBackend as defaultBackend } from '#crypto-hash'
import type { HashBackend, HmacKey } from '../crypto/backend.js'
import { ConfigurationError } from '../errors.js'
import { describe } from '../option-checks.js'
import { constantTimeEqual } from '../encoding.js'
import { rsaKeyKind, SWAPPED_KEY_HINTS } from '../key-parsing.js'
import { readInstant } from '../timestamps.js'
import type {
  AuthStrategy,
  SignatureCredentials,
  SignOptions,
  VerificationResult,
  VerifyOptions,
} from '../types.js'
import {
  MAX_SIGNATURE_LENGTH,
  checkPartnerId,
  credentialObject,
  failure,
  readTimestampField,
  settle,
  signTimestamp,
  success,
  VERIFY_NOW,
} from './common.js'

/** Options of {@link SignatureAuth}. */
export interface SignatureAuthOptions {
  /** The partner id exactly as the portal shows it, for example `"085"`: it is signed verbatim. */
  partnerId: string
  /**
   * The signature API key, or a list during a key rotation: the first signs, every one verifies,
   * and `keyId` in the result says which matched.
   */
  apiKey: string | readonly string[]
  /** @internal Overrides the crypto implementation (tests and benchmarks). */
  backend?: HashBackend
}

/**
 * A signature is exactly 32 bytes in standard padded base64: 43 characters and one `=`. Checked with a
 * loop rather than a regex: it runs on every request.
 */
function isSignatureShape(text: string): boolean {
  if (text.length !== 44 || text.charCodeAt(43) !== 61) return false
  for (let i = 0; i < 43; i++) {
    const code = text.charCodeAt(i)
    // A–Z, a–z, 0–9, '+', '/'
    if (!(
      (code >= 65 && code <= 90) ||
      (code >= 97 && code <= 122) ||
      (code >= 48 && code <= 57) ||
      code === 43 ||
      code === 47
    )) {
      return false
    }
  }
  return true
}
const SUFFIX = 'sid_request'

interface PreparedKey {
  key: HmacKey | Promise<HmacKey>
  id: string | Promise<string>
}

/**
 * Signs and verifies the `signature` scheme for one partner.
 *
 * The received timestamp is HMACed byte for byte, never re-serialised, so every spelling an official SDK
 * sends verifies. A JSON-number timestamp is checked as `String(n)` and, with a `timestamp_coerced`
 * warning, as the ISO string Node SDK 3.x signs for numbers. Only canonical 44-character padded base64
 * is accepted as a signature, compared in constant time.
 *
 * @example
 * ```ts
 * import { SignatureAuth } from 'smileid-auth-shim'
 *
 * const auth = new SignatureAuth({ partnerId: '085', apiKey: process.env.SMILEID_API_KEY! })
 * const { signature, timestamp } = await auth.sign()
 * const result = await auth.verify({ signature, timestamp })
 * if (result.ok) console.log(result.scheme, result.keyId) // 'signature', 'hmac:…'
 * ```
 * @see {@link LegacySecKeyAuth} for the legacy scheme, {@link DualModeVerifier} to accept both.
 */
export class SignatureAuth implements AuthStrategy<SignatureCredentials> {
  /** Always `'signature'`. */
  readonly scheme = 'signature' as const
  /** The partner id as configured. */
  readonly partnerId: string
  readonly #backend: HashBackend
  readonly #keys: PreparedKey[]

  /**
   * @throws {@link ConfigurationError} `invalid_partner_id` or `missing_key` for an empty or non-string
   * partner id or API key; `invalid_api_key` for an RSA key (PEM, base64 of PEM or DER, JWK), which is
   * the legacy scheme's key.
   */
  constructor(options: SignatureAuthOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError(
        'invalid_options',
        `SignatureAuth needs an options object { partnerId, apiKey } (got ${describe(options)})`,
      )
    }
    this.partnerId = checkPartnerId(options.partnerId)
    const apiKeys: readonly unknown[] = Array.isArray(options.apiKey) ? options.apiKey : [options.apiKey]
    // The portal shows this key next to the RSA "API Key for Sec Key"; an RSA key here would make every
    // callback fail as invalid_signature, so it is caught now, by shape, naming the likely swap.
    for (const key of apiKeys) {
      const kind = rsaKeyKind(key)
      if (kind !== null) {
        throw new ConfigurationError(
          'invalid_api_key',
          kind === 'private'
            ? SWAPPED_KEY_HINTS.privateAsSignatureKey
            : SWAPPED_KEY_HINTS.publicAsSignatureKey,
        )
      }
    }
    if (apiKeys.length === 0 || apiKeys.some((key) => typeof key !== 'string' || key.length === 0)) {
      throw new ConfigurationError(
        'missing_key',
        'apiKey must be a non-empty string or a non-empty list of them',
      )
    }
    this.#backend = options.backend ?? defaultBackend
    this.#keys = (apiKeys as string[]).map((secret) => prepareKey(this.#backend, secret))
  }

  /** Signs with the first API key. The timestamp defaults to `new Date().toISOString()`. */
  async sign(options?: SignOptions): Promise<SignatureCredentials> {
    const timestamp = String(
      signTimestamp(
        options?.timestamp,
        () => new Date().toISOString(),
        (date) => date.toISOString(),
      ),
    )
    const prepared = this.#keys[0]!
    const signature = await this.#backend.hmacSha256Base64(
      await prepared.key,
      timestamp + this.partnerId + SUFFIX,
    )
    return { signature, timestamp }
  }

  /**
   * Verifies `{ signature, timestamp }`. Checks freshness only when `options.freshness` is given.
   * Never throws: bad input yields `{ ok: false, reason }`.
   */
  async verify(credentials: unknown, options?: VerifyOptions): Promise<VerificationResult> {
    return this[VERIFY_NOW](credentials, options)
  }

  /** @internal {@link SignatureAuth.verify}, synchronous wherever the crypto backend is (node:crypto). */
  [VERIFY_NOW](
    credentials: unknown,
    options?: VerifyOptions,
  ): VerificationResult | Promise<VerificationResult> {
    const read = credentialObject(credentials, 'signature', this.partnerId)
    if (!read.ok) return read.failure
    const { fields } = read
    const { signature } = fields
    if (signature === undefined || signature === null || signature === '') {
      return failure('signature', 'missing_credentials', 'signature is missing', this.partnerId)
    }
    if (
      typeof signature !== 'string' ||
      signature.length > MAX_SIGNATURE_LENGTH ||
      !isSignatureShape(signature)
    ) {
      return failure(
        'signature',
        'malformed_credentials',
        'signature must be 44 characters of standard padded base64',
        this.partnerId,
      )
    }
    const ts = readTimestampField(fields.timestamp, 'signature', this.partnerId)
    if (!ts.ok) return ts.failure
    const timestamp = ts.value
    const match = this.#match(signature, String(timestamp))
    return match instanceof Promise
      ? match.then((keyId) => this.#conclude(keyId, signature, timestamp, options))
      : this.#conclude(match, signature, timestamp, options)
  }

  #conclude(
    keyId: string | null,
    signature: string,
    timestamp: string | number,
    options: VerifyOptions | undefined,
  ): VerificationResult | Promise<VerificationResult> {
    if (keyId !== null) {
      return success('signature', this.partnerId, timestamp, readInstant(timestamp), keyId, [], options)
    }
    // A number is what JSON gave us: after its JS spelling, try the ISO form Node SDK 3.x signs for numbers.
    const date = typeof timestamp === 'number' ? new Date(timestamp) : null
    if (date === null || Number.isNaN(date.getTime())) {
      return failure('signature', 'invalid_signature', 'signature does not match', this.partnerId)
    }
    const finish = (coercedKeyId: string | null): VerificationResult =>
      coercedKeyId === null
        ? failure('signature', 'invalid_signature', 'signature does not match', this.partnerId)
        : success(
            'signature',
            this.partnerId,
            timestamp,
            { ms: date.getTime(), naive: false },
            coercedKeyId,
            ['timestamp_coerced'],
            options,
          )
    const coerced = this.#match(signature, date.toISOString())
    return coerced instanceof Promise ? coerced.then(finish) : finish(coerced)
  }

  /** The keyId of the first key whose HMAC matches, or `null`; synchronous on a synchronous backend. */
  #match(signature: string, timestamp: string): string | null | Promise<string | null> {
    const message = timestamp + this.partnerId + SUFFIX
    for (let i = 0; i < this.#keys.length; i++) {
      const prepared = this.#keys[i]!
      const key = prepared.key
      if (key instanceof Promise) return this.#matchAsync(signature, message, i)
      const mac = this.#backend.hmacSha256Base64(key, message)
      if (typeof mac !== 'string') return this.#matchAsync(signature, message, i)
      if (constantTimeEqual(mac, signature)) return prepared.id
    }
    return null
  }

  async #matchAsync(signature: string, message: string, from: number): Promise<string | null> {
    for (let i = from; i < this.#keys.length; i++) {
      const prepared = this.#keys[i]!
      const mac = await this.#backend.hmacSha256Base64(await prepared.key, message)
      if (constantTimeEqual(mac, signature)) return prepared.id
    }
    return null
  }
}

/** Imports a key once and derives its public id: a short, domain-separated hash of the secret. */
function prepareKey(backend: HashBackend, secret: string): PreparedKey {
  const prepared = {} as PreparedKey
  prepared.key = settle(backend.importHmacKey(secret), (key) => (prepared.key = key))
  const digest = backend.sha256Hex(`smileid-auth-shim/key-id/${secret}`)
  prepared.id =
    typeof digest === 'string'
      ? `hmac:${digest.slice(0, 16)}`
      : settle(
          digest.then((hex) => `hmac:${hex.slice(0, 16)}`),
          (id) => (prepared.id = id),
        )
  return prepared
}
