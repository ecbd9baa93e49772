/**
 * The legacy Smile ID scheme: `sec_key = base64(RSA-PKCS1-v1_5(key, ascii(hash))) + "|" + hash`, with
 * `hash = sha256hex(String(parseInt(partnerId, 10)) + ":" + timestamp)`.
 *
 * @module
 */
import { backend as defaultBackend } from '#crypto'
import type { CryptoBackend, RsaPrivateKey, RsaPublicComponents, RsaPublicKey } from '../crypto/backend.js'
import { ConfigurationError } from '../errors.js'
import { constantTimeEqual, constantTimeEqualAscii, toBase64, toBase64Url, utf8 } from '../encoding.js'
import { parsePrivateKey, parsePublicKey, type RsaJwk } from '../keys.js'
import { readInstant } from '../timestamps.js'
import type {
  AuthStrategy,
  SecKeyCredentials,
  SignOptions,
  VerificationResult,
  VerifyOptions,
} from '../types.js'
import {
  MAX_SEC_KEY_LENGTH,
  checkDigitPartnerId,
  credentialObject,
  failure,
  readTimestampField,
  settle,
  signTimestamp,
  success,
  VERIFY_NOW,
} from './common.js'

/** Options of {@link LegacySecKeyAuth}: give `apiKey` (partner role) or `privateKey` (Smile server or mock role). */
export type LegacySecKeyAuthOptions =
  | {
      /** The partner id, digits only (`"085"` is hashed as `85`). */
      partnerId: string
      /**
       * The portal's "API Key for Sec Key": an RSA public key as base64 of an SPKI or PKCS#1 PEM, base64 of
       * DER SPKI, raw PEM, or a JWK. Spaces and line breaks anywhere are ignored.
       */
      apiKey: string | RsaJwk
      /** Not used in the partner role. */
      privateKey?: undefined
      /** @internal Overrides the crypto implementation (tests and benchmarks). */
      backend?: CryptoBackend
    }
  | {
      /** The partner id, digits only. */
      partnerId: string
      /** An RSA private key: PKCS#1 or PKCS#8 PEM (or base64 of one), or a JWK. For servers and test mocks. */
      privateKey: string | RsaJwk
      /** Not used in the server role. */
      apiKey?: undefined
      /** @internal Overrides the crypto implementation (tests and benchmarks). */
      backend?: CryptoBackend
    }

const WHITESPACE = /[\r\n\t ]/g
const HAS_WHITESPACE = /[\r\n\t ]/

/** The RSA half may carry MIME line breaks (Ruby SDKs); removed only when present. */
function withoutLineBreaks(text: string): string {
  return HAS_WHITESPACE.test(text) ? text.replace(WHITESPACE, '') : text
}

/** The hash half: exactly 64 lowercase hex digits (a loop, not a regex: this runs on every request). */
function isLowerHex64(text: string): boolean {
  if (text.length !== 64) return false
  for (let i = 0; i < 64; i++) {
    const code = text.charCodeAt(i)
    if (!((code >= 48 && code <= 57) || (code >= 97 && code <= 102))) return false
  }
  return true
}
const HASH_LENGTH = 64

/**
 * Signs and verifies the legacy `sec_key` scheme for one partner.
 *
 * Partner role (`apiKey`, the public key): `sign()` makes partner → Smile values (type-2 public-key
 * encryption, randomized); `verify()` checks Smile → partner values (type-1, deterministic) from callbacks
 * and job-status responses. Server role (`privateKey`): the reverse, for Smile simulators and tests.
 *
 * A value is valid only when the decrypted block, the recomputed hash and the hash half are all equal,
 * compared in constant time. Timestamps may be seconds, milliseconds or strings, hashed as received.
 *
 * @example
 * ```ts
 * import { LegacySecKeyAuth } from 'smileid-auth-shim'
 *
 * const legacy = new LegacySecKeyAuth({ partnerId: '085', apiKey: process.env.SMILEID_SEC_KEY_API_KEY! })
 * const outgoing = await legacy.sign() // { sec_key, timestamp: 1700000000000 }
 * const result = await legacy.verify({ sec_key: callback.sec_key, timestamp: callback.timestamp })
 * if (result.ok) console.log('legacy callback from Smile ID', result.keyId)
 * ```
 * @see {@link SignatureAuth}, the scheme to migrate to.
 */
export class LegacySecKeyAuth implements AuthStrategy<SecKeyCredentials> {
  /** Always `'sec_key'`. */
  readonly scheme = 'sec_key' as const
  /** The partner id as configured. */
  readonly partnerId: string
  /** `partner` with a public key, `server` with a private key. */
  readonly role: 'partner' | 'server'
  readonly #hashPrefix: string
  readonly #backend: CryptoBackend
  #publicKey: RsaPublicKey | Promise<RsaPublicKey> | undefined
  #privateKey: RsaPrivateKey | Promise<RsaPrivateKey> | undefined
  #keyId: string | Promise<string>
  readonly #size: number

  /** @throws {@link ConfigurationError} for a non-digit partner id or a key that cannot be used. */
  constructor(options: LegacySecKeyAuthOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError(
        'invalid_options',
        'LegacySecKeyAuth needs { partnerId, apiKey } or { partnerId, privateKey }',
      )
    }
    this.partnerId = checkDigitPartnerId(options.partnerId)
    this.#hashPrefix = `${parseInt(this.partnerId, 10)}:`
    this.#backend = options.backend ?? defaultBackend
    const hasApiKey = options.apiKey !== undefined && options.apiKey !== ''
    const hasPrivateKey = options.privateKey !== undefined && options.privateKey !== ''
    if (hasApiKey === hasPrivateKey) {
      throw new ConfigurationError(
        hasApiKey ? 'invalid_options' : 'missing_key',
        'give exactly one of apiKey (partner role, public key) or privateKey (server role)',
      )
    }
    let components: RsaPublicComponents
    try {
      if (hasPrivateKey) {
        const key = parsePrivateKey(options.privateKey)
        components = key
        this.#privateKey = settle(this.#backend.importRsaPrivateKey(key), (k) => (this.#privateKey = k))
      } else {
        components = parsePublicKey(options.apiKey)
        this.#publicKey = settle(this.#backend.importRsaPublicKey(components), (k) => (this.#publicKey = k))
      }
    } catch (cause) {
      if (cause instanceof ConfigurationError) throw cause
      throw new ConfigurationError(
        hasPrivateKey ? 'invalid_private_key' : 'invalid_api_key',
        'the RSA key was rejected by the crypto implementation',
        { cause },
      )
    }
    this.role = hasPrivateKey ? 'server' : 'partner'
    this.#size = components.n.length
    this.#keyId = settle(thumbprint(components), (id) => (this.#keyId = id))
  }

  /**
   * Partner role: a type-2 encrypted sec_key for Smile. Server role: a deterministic type-1 sec_key as
   * Smile sends to partners. The timestamp defaults to `Date.now()` (milliseconds, a number).
   */
  async sign(options?: SignOptions): Promise<SecKeyCredentials> {
    const timestamp = signTimestamp(
      options?.timestamp,
      () => Date.now(),
      (date) => date.getTime(),
    )
    const hash = await this.#hash(timestamp)
    const block =
      this.role === 'server'
        ? await this.#backend.rsaPrivateEncrypt(await this.#privateKey!, utf8(hash))
        : await this.#backend.rsaPublicEncrypt(await this.#publicKey!, utf8(hash))
    return { sec_key: `${toBase64(block)}|${hash}`, timestamp }
  }

  /**
   * Verifies `{ sec_key, timestamp }`: Smile → partner values in the partner role, partner → Smile values in
   * the server role. Checks freshness only when `options.freshness` is given. Never throws.
   */
  async verify(credentials: unknown, options?: VerifyOptions): Promise<VerificationResult> {
    return this[VERIFY_NOW](credentials, options)
  }

  /** @internal {@link LegacySecKeyAuth.verify}, synchronous wherever the crypto backend is (node:crypto). */
  [VERIFY_NOW](
    credentials: unknown,
    options?: VerifyOptions,
  ): VerificationResult | Promise<VerificationResult> {
    const read = credentialObject(credentials, 'sec_key', this.partnerId)
    if (!read.ok) return read.failure
    const { fields } = read
    const secKey = fields.sec_key
    if (secKey === undefined || secKey === null || secKey === '') {
      return failure('sec_key', 'missing_credentials', 'sec_key is missing', this.partnerId)
    }
    if (typeof secKey !== 'string' || secKey.length > MAX_SEC_KEY_LENGTH) {
      return failure(
        'sec_key',
        'malformed_credentials',
        'sec_key must be a string of at most 4096 characters',
        this.partnerId,
      )
    }
    const ts = readTimestampField(fields.timestamp, 'sec_key', this.partnerId)
    if (!ts.ok) return ts.failure
    const timestamp = ts.value

    const bar = secKey.indexOf('|')
    const hashHalf = secKey.slice(bar + 1)
    const rsaHalf =
      bar > 0 && secKey.indexOf('|', bar + 1) === -1
        ? this.#backend.decodeBase64(withoutLineBreaks(secKey.slice(0, bar)))
        : null
    if (rsaHalf === null || rsaHalf.length === 0 || !isLowerHex64(hashHalf)) {
      return failure(
        'sec_key',
        'malformed_credentials',
        'sec_key must be "<base64>|<64 lowercase hex>"',
        this.partnerId,
      )
    }
    const expected = this.#backend.sha256Hex(this.#hashPrefix + String(timestamp))
    const decrypted = rsaHalf.length === this.#size ? this.#decrypt(rsaHalf) : null
    const keyId = this.#keyId
    if (expected instanceof Promise || decrypted instanceof Promise || keyId instanceof Promise) {
      return Promise.all([expected, decrypted, keyId]).then(([e, d, k]) =>
        this.#conclude(e, d, k, hashHalf, timestamp, options),
      )
    }
    return this.#conclude(expected, decrypted, keyId, hashHalf, timestamp, options)
  }

  #decrypt(block: Uint8Array): Uint8Array | null | Promise<Uint8Array | null> {
    if (this.role === 'server') {
      const key = this.#privateKey!
      return key instanceof Promise
        ? key.then((k) => this.#backend.rsaPrivateDecrypt(k, block, HASH_LENGTH))
        : this.#backend.rsaPrivateDecrypt(key, block, HASH_LENGTH)
    }
    const key = this.#publicKey!
    return key instanceof Promise
      ? key.then((k) => this.#backend.rsaPublicDecrypt(k, block))
      : this.#backend.rsaPublicDecrypt(key, block)
  }

  #conclude(
    expected: string,
    decrypted: Uint8Array | null,
    keyId: string,
    hashHalf: string,
    timestamp: string | number,
    options: VerifyOptions | undefined,
  ): VerificationResult {
    // Both comparisons always run: no early exit tells which half was wrong.
    const hashMatches = constantTimeEqual(hashHalf, expected)
    const blockMatches = decrypted !== null && constantTimeEqualAscii(decrypted, expected)
    if (!(hashMatches && blockMatches)) {
      return failure('sec_key', 'invalid_sec_key', 'sec_key does not match', this.partnerId)
    }
    return success('sec_key', this.partnerId, timestamp, readInstant(timestamp), keyId, [], options)
  }

  async #hash(timestamp: string | number): Promise<string> {
    return this.#backend.sha256Hex(this.#hashPrefix + String(timestamp))
  }
}

/** RFC 7638 thumbprint of the public key, through jose (loaded only where RSA keys are used). */
async function thumbprint(key: RsaPublicComponents): Promise<string> {
  const { calculateJwkThumbprint } = await import('jose')
  return calculateJwkThumbprint({ kty: 'RSA', n: toBase64Url(key.n), e: toBase64Url(key.e) }, 'sha256')
}
