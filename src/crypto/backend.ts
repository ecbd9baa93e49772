/**
 * The small internal interface behind which runtime-specific crypto sits. Two implementations:
 * `node.ts` (node:crypto, the fast path) and `portable.ts` (WebCrypto + node-forge, for Workers,
 * browsers, Deno and Bun without Node APIs). The package `imports` map (`#crypto`) picks one by
 * runtime condition, so a Worker bundle never references `node:crypto`.
 *
 * Not part of the public API.
 *
 * @internal
 * @module
 */

/** RSA key material as big-endian unsigned integers (the JWK fields, undecoded). */
export interface RsaPublicComponents {
  n: Uint8Array
  e: Uint8Array
}

/** RSA private key material (PKCS#1 RSAPrivateKey fields). */
export interface RsaPrivateComponents extends RsaPublicComponents {
  d: Uint8Array
  p: Uint8Array
  q: Uint8Array
  dp: Uint8Array
  dq: Uint8Array
  qi: Uint8Array
}

/** An imported HMAC key, opaque to callers. */
export interface HmacKey {
  readonly kind: 'hmac'
}

/** An imported RSA public key, opaque to callers. */
export interface RsaPublicKey {
  readonly kind: 'rsa-public'
  /** Modulus length in bytes. */
  readonly size: number
}

/** An imported RSA private key, opaque to callers. */
export interface RsaPrivateKey {
  readonly kind: 'rsa-private'
  /** Modulus length in bytes. */
  readonly size: number
}

/** Values that are synchronous on Node and asynchronous on Web crypto. */
export type MaybePromise<T> = T | Promise<T>

/**
 * HMAC and SHA-256: all the `signature` scheme and the verifier need. Kept apart from RSA so a
 * signature-only bundle (a Worker) never pulls in node-forge.
 */
export interface HashBackend {
  /** `node` or `web`: which implementation this is (reported by tests and benchmarks). */
  readonly name: 'node' | 'web'
  /** Imports an HMAC-SHA256 key from the API key string's UTF-8 bytes. */
  importHmacKey(secret: string): MaybePromise<HmacKey>
  /** `base64(HMAC-SHA256(key, utf8(message)))`, standard padded base64. */
  hmacSha256Base64(key: HmacKey, message: string): MaybePromise<string>
  /** Lowercase hex SHA-256 of `utf8(message)` (or of the bytes given). */
  sha256Hex(message: string | Uint8Array): MaybePromise<string>
  /** Decodes canonical standard padded base64, as `fromBase64` in `encoding.ts` does; `null` otherwise. */
  decodeBase64(text: string): Uint8Array | null
}

/** PKCS#1 v1.5 RSA in both directions, for the legacy `sec_key` scheme. */
export interface RsaBackend {
  /** Imports an RSA public key. */
  importRsaPublicKey(key: RsaPublicComponents): MaybePromise<RsaPublicKey>
  /** Imports an RSA private key. */
  importRsaPrivateKey(key: RsaPrivateComponents): MaybePromise<RsaPrivateKey>
  /** PKCS#1 v1.5 type-2 encryption with the public key (partner → Smile sec_key). */
  rsaPublicEncrypt(key: RsaPublicKey, data: Uint8Array): MaybePromise<Uint8Array>
  /** Removes PKCS#1 v1.5 type-1 padding with the public key; `null` on any failure. */
  rsaPublicDecrypt(key: RsaPublicKey, data: Uint8Array): MaybePromise<Uint8Array | null>
  /** PKCS#1 v1.5 type-1 "private encrypt" without DigestInfo (Smile → partner sec_key). */
  rsaPrivateEncrypt(key: RsaPrivateKey, data: Uint8Array): MaybePromise<Uint8Array>
  /**
   * Removes PKCS#1 v1.5 type-2 padding with the private key, expecting a message of `messageLength`
   * bytes; `null` on any failure, uniformly.
   */
  rsaPrivateDecrypt(
    key: RsaPrivateKey,
    data: Uint8Array,
    messageLength: number,
  ): MaybePromise<Uint8Array | null>
}

/** A complete backend: hashing and RSA. */
export interface CryptoBackend extends HashBackend, RsaBackend {}
