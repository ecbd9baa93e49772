/**
 * Web implementation of the crypto backend: WebCrypto for HMAC and SHA-256, node-forge (loaded on first
 * RSA use) for PKCS#1 v1.5, which WebCrypto does not offer for encryption. Used on Workers without
 * `nodejs_compat`, in browsers, and anywhere `node:crypto` is absent. No `node:` import, no `Buffer`.
 *
 * @internal
 * @module
 */
import type { CryptoBackend, HmacKey, RsaPrivateKey, RsaPublicKey } from './backend.js'
import { toBase64, toHex, utf8 } from '../encoding.js'
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

interface WebHmacKey extends HmacKey {
  readonly key: CryptoKey
}
interface WebRsaPublicKey extends RsaPublicKey {
  readonly key: ForgePublicKey
}
interface WebRsaPrivateKey extends RsaPrivateKey {
  readonly key: ForgePrivateKey
}

/** The WebCrypto + node-forge backend. */
export const backend: CryptoBackend = {
  name: 'web',
  async importHmacKey(secret) {
    const key = await crypto.subtle.importKey('raw', utf8(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    return { kind: 'hmac', key } as WebHmacKey
  },
  async hmacSha256Base64(key, message) {
    const mac = await crypto.subtle.sign('HMAC', (key as WebHmacKey).key, utf8(message))
    return toBase64(new Uint8Array(mac))
  },
  async sha256Hex(message) {
    const bytes = typeof message === 'string' ? utf8(message) : (message as Uint8Array<ArrayBuffer>)
    return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)))
  },
  async importRsaPublicKey(key) {
    return { kind: 'rsa-public', size: key.n.length, key: await importForgePublicKey(key) } as WebRsaPublicKey
  },
  async importRsaPrivateKey(key) {
    return { kind: 'rsa-private', size: key.n.length, key: await importForgePrivateKey(key) } as WebRsaPrivateKey
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
