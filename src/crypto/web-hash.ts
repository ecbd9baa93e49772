/**
 * WebCrypto HMAC and SHA-256, for runtimes without node:crypto (Workers without `nodejs_compat`,
 * browsers). No `node:` import, no `Buffer`, no node-forge.
 *
 * @internal
 * @module
 */
import type { HashBackend, HmacKey } from './backend.js'
import { fromBase64, toBase64, toHex, utf8 } from '../encoding.js'

interface WebHmacKey extends HmacKey {
  readonly key: CryptoKey
}

/** The WebCrypto hashing backend. */
export const hashBackend: HashBackend = {
  name: 'web',
  async importHmacKey(secret) {
    const key = await crypto.subtle.importKey('raw', utf8(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ])
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
  decodeBase64: fromBase64,
}
