/**
 * The legacy Smile ID scheme: `sec_key = base64(RSA-PKCS1-v1_5(key, ascii(hash))) + "|" + hash`, with
 * `hash = sha256hex(String(parseInt(partnerId, 10)) + ":" + timestamp)`.
 *
 * @module
 */
import { backend as defaultBackend } from '#crypto'
import type {
  CryptoBackend,
  HashBackend,
  RsaPrivateKey,
  RsaPublicComponents,
  RsaPublicKey,
} from '../crypto/backend.js'
import { ConfigurationError } from '../errors.js'
import { describe } from '../option-checks.js'
import {
  constantTimeDiffs,
  constantTimeEqual,
  constantTimeEqualAscii,
  fromHex,
  toBase64,
  toBase64Url,
  utf8,
} from '../encoding.js'
import { parsePrivateKey, parsePublicKey, rsaThumbprintInput, type RsaJwk } from '../key-parsing.js'
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

/**
 * Options of {@link LegacySecKeyAuth}: give `apiKey` (partner role) or `privateKey` (Smile server or mock
 * role). Either takes one key or, during a key rotation, a list: the first signs, every one verifies, and
 * `keyId` in the result says which matched.
 */
export type LegacySecKeyAuthOptions =
  | {
      /** The partner id, digits only (`"085"` is hashed as `85`). */
      partnerId: string
      /**
       * The portal's "API Key for Sec Key": an RSA public key as base64 of an SPKI or PKCS#1 PEM, base64 of
       * DER SPKI, raw PEM, or a JWK. Spaces and line breaks anywhere are ignored. A list (`[newKey, oldKey]`)
       * during a rotation: the first signs, every one verifies.
       */
      apiKey: string | RsaJwk | ReadonlyArray<string | RsaJwk>
      /** Not used in the partner role. */
      privateKey?: undefined
      /** @internal Overrides the crypto implementation (tests and benchmarks). */
      backend?: CryptoBackend
    }
  | {
      /** The partner id, digits only. */
      partnerId: string
      /**
       * An RSA private key: PKCS#1 or PKCS#8 PEM (or base64 of one), or a JWK. For servers and test mocks.
       * A list during a rotation: the first signs, every one verifies.
       */
      privateKey: string | RsaJwk | ReadonlyArray<string | RsaJwk>
      /** Not used in the server role. */
      apiKey?: undefined
      /** @internal Overrides the crypto implementation (tests and benchmarks). */
      backend?: CryptoBackend
    }

/** One configured key, imported once, with its public id. */
interface PreparedKey<K> {
  /** Modulus length in bytes: an RSA half of any other length was not made with this key. */
  readonly size: number
  key: K | Promise<K>
  /** RFC 7638 thumbprint of the public key. */
  id: string | Promise<string>
}

const WHITESPACE = /[\r\n\t ]/g
const HAS_WHITESPACE = /[\r\n\t ]/

/** 1 at the char codes of `0`–`9` and `a`–`f`. */
const LOWER_HEX = new Uint8Array(128)
for (const c of '0123456789abcdef') LOWER_HEX[c.charCodeAt(0)] = 1

/**
 * The hash half: exactly 64 lowercase hex digits. A branch-free table loop, not a regex or range tests:
 * the digits and letters of a hash come in random order, which defeats branch prediction, and this runs
 * on every request.
 */
function isLowerHex64(text: string): boolean {
  if (text.length !== 64) return false
  let valid = 1
  let high = 0
  for (let i = 0; i < 64; i++) {
    const code = text.charCodeAt(i)
    valid &= LOWER_HEX[code & 0x7f]!
    high |= code
  }
  return valid === 1 && high < 0x80
}
const HASH_LENGTH = 64

/** At most 200 characters, like every failure message. */
const OWN_SEC_KEY_HINT =
  'sec_key does not match: the hash half is right, but the RSA half does not open with this public key. ' +
  'Only the private key can check a partner-made sec_key (as sign() makes)'

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
  /** Public keys (partner role) or private keys (server role); the first signs. */
  readonly #keys: Array<PreparedKey<RsaPublicKey>> | Array<PreparedKey<RsaPrivateKey>>

  /**
   * @throws {@link ConfigurationError} `invalid_partner_id` for a non-digit partner id; `missing_key` for no
   * key or an empty list; `invalid_api_key` / `invalid_private_key` for a key that cannot be used (naming
   * the likely swap when it looks like the signature API key); `invalid_options` for both keys at once.
   */
  constructor(options: LegacySecKeyAuthOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError(
        'invalid_options',
        `LegacySecKeyAuth needs an options object { partnerId, apiKey } or { partnerId, privateKey } (got ${describe(options)})`,
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
    this.role = hasPrivateKey ? 'server' : 'partner'
    const option = hasPrivateKey ? 'privateKey' : 'apiKey'
    const given: unknown = hasPrivateKey ? options.privateKey : options.apiKey
    const list: readonly unknown[] = Array.isArray(given) ? given : [given]
    if (list.length === 0 || list.some((key) => key === undefined || key === null || key === '')) {
      throw new ConfigurationError(
        'missing_key',
        `${option} must be a key or a non-empty list of keys (the first signs, every one verifies)`,
      )
    }
    this.#keys = list.map((key, index) => {
      try {
        return hasPrivateKey ? this.#preparePrivate(key) : this.#preparePublic(key)
      } catch (cause) {
        const error =
          cause instanceof ConfigurationError
            ? cause
            : new ConfigurationError(
                hasPrivateKey ? 'invalid_private_key' : 'invalid_api_key',
                'the RSA key was rejected by the crypto implementation',
                { cause },
              )
        if (list.length === 1) throw error
        throw new ConfigurationError(error.code, `${option}[${index}]: ${error.message}`, {
          cause: error.cause,
        })
      }
    }) as Array<PreparedKey<RsaPublicKey>> | Array<PreparedKey<RsaPrivateKey>>
  }

  #preparePublic(input: unknown): PreparedKey<RsaPublicKey> {
    const components = parsePublicKey(input)
    const prepared = { size: components.n.length } as PreparedKey<RsaPublicKey>
    prepared.key = settle(this.#backend.importRsaPublicKey(components), (k) => (prepared.key = k))
    prepared.id = settle(thumbprint(this.#backend, components), (id) => (prepared.id = id))
    return prepared
  }

  #preparePrivate(input: unknown): PreparedKey<RsaPrivateKey> {
    const components = parsePrivateKey(input)
    const prepared = { size: components.n.length } as PreparedKey<RsaPrivateKey>
    prepared.key = settle(this.#backend.importRsaPrivateKey(components), (k) => (prepared.key = k))
    prepared.id = settle(thumbprint(this.#backend, components), (id) => (prepared.id = id))
    return prepared
  }

  /**
   * Partner role: a type-2 encrypted sec_key for Smile. Server role: a deterministic type-1 sec_key as
   * Smile sends to partners. Made with the first key. The timestamp defaults to `Date.now()`
   * (milliseconds, a number).
   */
  async sign(options?: SignOptions): Promise<SecKeyCredentials> {
    const timestamp = signTimestamp(
      options?.timestamp,
      () => Date.now(),
      (date) => date.getTime(),
    )
    const hash = await this.#backend.sha256Hex(this.#hashPrefix + String(timestamp))
    const first = this.#keys[0]!
    const block =
      this.role === 'server'
        ? await this.#backend.rsaPrivateEncrypt((await first.key) as RsaPrivateKey, utf8(hash))
        : await this.#backend.rsaPublicEncrypt((await first.key) as RsaPublicKey, utf8(hash))
    return { sec_key: `${toBase64(block)}|${hash}`, timestamp }
  }

  /**
   * Verifies `{ sec_key, timestamp }`: Smile → partner values in the partner role, partner → Smile values in
   * the server role, with every configured key. Checks freshness only when `options.freshness` is given.
   * Never throws.
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

    // '<base64>|<64 lowercase hex>'. A second '|' fails either the hex check (in the hash half) or the
    // base64 decoder (in the RSA half), so one search is enough.
    const bar = secKey.indexOf('|')
    const hashHalf = secKey.slice(bar + 1)
    const rsaHalf = bar > 0 && isLowerHex64(hashHalf) ? this.#decodeRsaHalf(secKey.slice(0, bar)) : null
    if (rsaHalf === null || rsaHalf.length === 0) {
      return failure(
        'sec_key',
        'malformed_credentials',
        'sec_key must be "<base64>|<64 lowercase hex>"',
        this.partnerId,
      )
    }
    const expected = this.#backend.sha256Hex(this.#hashPrefix + String(timestamp))
    if (expected instanceof Promise) {
      return expected.then((e) => this.#check(e, rsaHalf, hashHalf, timestamp, options))
    }
    return this.#check(expected, rsaHalf, hashHalf, timestamp, options)
  }

  /**
   * Canonical base64, or the same with MIME line breaks (Ruby SDKs). The decoders refuse whitespace, so
   * the usual unwrapped value is decoded at once and only a refused one is searched for line breaks.
   */
  #decodeRsaHalf(text: string): Uint8Array | null {
    return (
      this.#backend.decodeBase64(text) ??
      (HAS_WHITESPACE.test(text) ? this.#backend.decodeBase64(text.replace(WHITESPACE, '')) : null)
    )
  }

  /**
   * Finds the key whose decryption of `block` is the expected hash, then concludes. The first key tried
   * compares both halves in one pass; the hash half is compared whatever the RSA half gave, so no early
   * exit tells which half was wrong.
   */
  #check(
    expected: string,
    block: Uint8Array,
    hashHalf: string,
    timestamp: string | number,
    options: VerifyOptions | undefined,
  ): VerificationResult | Promise<VerificationResult> {
    const keys = this.#keys
    let hashMatches: boolean | null = null
    for (let i = 0; i < keys.length; i++) {
      const prepared = keys[i]!
      if (prepared.size !== block.length) continue
      const decrypted = this.#decrypt(prepared, block)
      if (decrypted instanceof Promise) {
        return this.#checkAsync(expected, block, hashHalf, timestamp, options, i, decrypted)
      }
      let blockMatches: boolean
      if (hashMatches === null) {
        const diffs = constantTimeDiffs(hashHalf, decrypted, expected)
        hashMatches = (diffs & 1) === 0
        blockMatches = (diffs & 2) === 0
      } else {
        blockMatches = decrypted !== null && constantTimeEqualAscii(decrypted, expected)
      }
      if (blockMatches) return this.#conclude(prepared, hashMatches, block, timestamp, options)
    }
    return this.#conclude(
      null,
      hashMatches ?? constantTimeEqual(hashHalf, expected),
      block,
      timestamp,
      options,
    )
  }

  /** {@link #check} from key `from` on, whose decryption `pending` is under way. */
  async #checkAsync(
    expected: string,
    block: Uint8Array,
    hashHalf: string,
    timestamp: string | number,
    options: VerifyOptions | undefined,
    from: number,
    pending: Promise<Uint8Array | null>,
  ): Promise<VerificationResult> {
    const hashMatches = constantTimeEqual(hashHalf, expected)
    const keys = this.#keys
    for (let i = from; i < keys.length; i++) {
      const prepared = keys[i]!
      if (prepared.size !== block.length) continue
      const decrypted = i === from ? await pending : await this.#decrypt(prepared, block)
      if (decrypted !== null && constantTimeEqualAscii(decrypted, expected)) {
        return this.#conclude(prepared, hashMatches, block, timestamp, options)
      }
    }
    return this.#conclude(null, hashMatches, block, timestamp, options)
  }

  #decrypt(
    prepared: PreparedKey<RsaPublicKey> | PreparedKey<RsaPrivateKey>,
    block: Uint8Array,
  ): Uint8Array | null | Promise<Uint8Array | null> {
    const key = prepared.key
    if (this.role === 'server') {
      return key instanceof Promise
        ? key.then((k) => this.#backend.rsaPrivateDecrypt(k as RsaPrivateKey, block, HASH_LENGTH))
        : this.#backend.rsaPrivateDecrypt(key as RsaPrivateKey, block, HASH_LENGTH)
    }
    return key instanceof Promise
      ? key.then((k) => this.#backend.rsaPublicDecrypt(k as RsaPublicKey, block))
      : this.#backend.rsaPublicDecrypt(key as RsaPublicKey, block)
  }

  /** `matched` is the key whose decryption equals the expected hash, or `null` when none does. */
  #conclude(
    matched: PreparedKey<unknown> | null,
    hashMatches: boolean,
    block: Uint8Array,
    timestamp: string | number,
    options: VerifyOptions | undefined,
  ): VerificationResult | Promise<VerificationResult> {
    if (!(hashMatches && matched !== null)) {
      return failure('sec_key', 'invalid_sec_key', this.#mismatch(hashMatches, block), this.partnerId)
    }
    const keyId = matched.id
    return keyId instanceof Promise
      ? keyId.then((id) => this.#succeed(id, timestamp, options))
      : this.#succeed(keyId, timestamp, options)
  }

  /**
   * Why a sec_key did not match. In the partner role, a right hash half (anyone can compute it) with an RSA
   * half of the key's size that no key opens is what a partner-made value looks like, such as one's own
   * `sign()` output: say so, since sec_key is asymmetric. The message holds no part of the value. The
   * server role keeps one answer for every failure: its private-key decryption must not tell a padding
   * error from a wrong hash (see docs/security.md on Bleichenbacher and Marvin).
   */
  #mismatch(hashMatches: boolean, block: Uint8Array): string {
    if (this.role === 'server' || !hashMatches || !this.#keys.some((key) => key.size === block.length)) {
      return 'sec_key does not match'
    }
    return OWN_SEC_KEY_HINT
  }

  #succeed(keyId: string, timestamp: string | number, options: VerifyOptions | undefined) {
    return success('sec_key', this.partnerId, timestamp, readInstant(timestamp), keyId, [], options)
  }
}

/**
 * RFC 7638 thumbprint of a public key (SHA-256, base64url): the same value jose's
 * `calculateJwkThumbprint` gives, computed here so that no JOSE library is loaded to name a key.
 */
function thumbprint(backend: HashBackend, key: RsaPublicComponents): string | Promise<string> {
  const hex = backend.sha256Hex(rsaThumbprintInput(key))
  return typeof hex === 'string' ? toBase64Url(fromHex(hex)) : hex.then((h) => toBase64Url(fromHex(h)))
}
