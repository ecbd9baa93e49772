/**
 * Web implementation of the crypto backend: WebCrypto for HMAC and SHA-256, node-forge (loaded on first
 * RSA use) for PKCS#1 v1.5, which WebCrypto does not offer for encryption. Used on Workers without
 * `nodejs_compat`, in browsers, and anywhere `node:crypto` is absent. No `node:` import, no `Buffer`.
 *
 * @internal
 * @module
 */
import type { CryptoBackend, RsaPrivateKey, RsaPublicKey } from './backend.js'
import { hashBackend } from './web-hash.js'
import {
  forgeRsaPrivateDecrypt,
  forgeRsaPrivateEncrypt,
  forgeRsaPublicDecrypt,
  forgeRsaPublicEncrypt,
  importForgePrivateKey,
  importForgePublicKey,
  type ForgePrivateKey,
  type ForgePublicKey,
} from './forge.js'

interface WebRsaPublicKey extends RsaPublicKey {
  readonly key: ForgePublicKey
}
interface WebRsaPrivateKey extends RsaPrivateKey {
  readonly key: ForgePrivateKey
}

/** The WebCrypto + node-forge backend: {@link hashBackend} plus RSA. */
export const backend: CryptoBackend = {
  ...hashBackend,
  async importRsaPublicKey(key) {
    return { kind: 'rsa-public', size: key.n.length, key: await importForgePublicKey(key) } as WebRsaPublicKey
  },
  async importRsaPrivateKey(key) {
    return {
      kind: 'rsa-private',
      size: key.n.length,
      key: await importForgePrivateKey(key),
    } as WebRsaPrivateKey
  },
  rsaPublicEncrypt(key, data) {
    return forgeRsaPublicEncrypt((key as WebRsaPublicKey).key, data)
  },
  rsaPublicDecrypt(key, data) {
    return forgeRsaPublicDecrypt((key as WebRsaPublicKey).key, data)
  },
  rsaPrivateEncrypt(key, data) {
    return forgeRsaPrivateEncrypt((key as WebRsaPrivateKey).key, data)
  },
  rsaPrivateDecrypt(key, data, messageLength) {
    return forgeRsaPrivateDecrypt((key as WebRsaPrivateKey).key, data, messageLength)
  },
}
