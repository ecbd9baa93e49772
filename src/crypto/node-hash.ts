/**
 * node:crypto HMAC and SHA-256: the hot path of the signature scheme and the verifier on Node, Bun,
 * Deno and Workers with `nodejs_compat`. Synchronous, so verification needs no promise per request.
 *
 * @internal
 * @module
 */
import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import type { HashBackend, HmacKey } from './backend.js'

interface NodeHmacKey extends HmacKey {
  readonly key: KeyObject
}

/** The node:crypto hashing backend. */
export const hashBackend: HashBackend = {
  name: 'node',
  importHmacKey(secret) {
    return { kind: 'hmac', key: createSecretKey(Buffer.from(secret, 'utf8')) } as NodeHmacKey
  },
  hmacSha256Base64(key, message) {
    return createHmac('sha256', (key as NodeHmacKey).key)
      .update(message, 'utf8')
      .digest('base64')
  },
  sha256Hex(message) {
    const hash = createHash('sha256')
    return (typeof message === 'string' ? hash.update(message, 'utf8') : hash.update(message)).digest('hex')
  },
  decodeBase64(text) {
    // Buffer forgives url-safe characters, whitespace, missing padding and spare bits; encoding the result
    // again and comparing refuses every one of those, as the portable decoder does.
    const bytes = Buffer.from(text, 'base64')
    return bytes.toString('base64') === text ? bytes : null
  },
}
