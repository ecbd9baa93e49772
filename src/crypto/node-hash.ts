/**
 * node:crypto HMAC and SHA-256: the hot path of the signature scheme and the verifier on Node, Bun,
 * Deno and Workers with `nodejs_compat`. Synchronous, so verification needs no promise per request.
 *
 * @internal
 * @module
 */
import * as nodeCrypto from 'node:crypto'
import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import type { HashBackend, HmacKey } from './backend.js'

/**
 * `crypto.hash` (Node ≥ 20.12) digests in one call, about half the cost of a `createHash()` object per
 * request. Read from the namespace, not imported by name, so a runtime whose node:crypto lacks it (older
 * Bun or Deno) still links this module and falls back to `createHash`.
 */
const oneShot = (nodeCrypto as { hash?: typeof nodeCrypto.hash }).hash
const sha256Hex: (message: string | Uint8Array) => string =
  typeof oneShot === 'function'
    ? (message) => oneShot('sha256', message, 'hex')
    : (message) => {
        const hash = createHash('sha256')
        return (typeof message === 'string' ? hash.update(message, 'utf8') : hash.update(message)).digest(
          'hex',
        )
      }

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
  sha256Hex,
  decodeBase64(text) {
    // Buffer forgives url-safe characters, whitespace, missing padding and spare bits; encoding the result
    // again and comparing refuses every one of those, as the portable decoder does.
    const bytes = Buffer.from(text, 'base64')
    return bytes.toString('base64') === text ? bytes : null
  },
}
