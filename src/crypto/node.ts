/**
 * node:crypto implementation of the crypto backend: the fast path on Node, and on Bun, Deno and
 * Workers with `nodejs_compat`. Keys become cached `KeyObject`s at import.
 *
 * Node ≥ 20 (OpenSSL 3) refuses `privateDecrypt` with PKCS#1 v1.5 padding (CVE-2023-46809), so the
 * server-role type-2 decryption goes to node-forge, loaded only when a private key is used.
 *
 * @internal
 * @module
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  privateEncrypt,
  publicDecrypt,
  publicEncrypt,
  type KeyObject,
} from 'node:crypto'
import type {
  CryptoBackend,
  RsaPrivateComponents,
  RsaPrivateKey,
  RsaPublicComponents,
  RsaPublicKey,
} from './backend.js'
import { toBase64Url } from '../encoding.js'
import { hashBackend } from './node-hash.js'
import { forgeRsaPrivateDecrypt, importForgePrivateKey, type ForgePrivateKey } from './forge.js'

interface NodeRsaPublicKey extends RsaPublicKey {
  readonly key: KeyObject
}
interface NodeRsaPrivateKey extends RsaPrivateKey {
  readonly key: KeyObject
  readonly components: RsaPrivateComponents
  forge?: Promise<ForgePrivateKey>
}

const PKCS1 = constants.RSA_PKCS1_PADDING

function publicJwk(key: RsaPublicComponents) {
  return { kty: 'RSA', n: toBase64Url(key.n), e: toBase64Url(key.e) }
}

/** The node:crypto backend: {@link hashBackend} plus RSA. */
export const backend: CryptoBackend = {
  ...hashBackend,
  importRsaPublicKey(key) {
    const keyObject = createPublicKey({ key: publicJwk(key), format: 'jwk' })
    return { kind: 'rsa-public', size: key.n.length, key: keyObject } as NodeRsaPublicKey
  },
  importRsaPrivateKey(key) {
    const jwk = {
      ...publicJwk(key),
      d: toBase64Url(key.d),
      p: toBase64Url(key.p),
      q: toBase64Url(key.q),
      dp: toBase64Url(key.dp),
      dq: toBase64Url(key.dq),
      qi: toBase64Url(key.qi),
    }
    const keyObject = createPrivateKey({ key: jwk, format: 'jwk' })
    return { kind: 'rsa-private', size: key.n.length, key: keyObject, components: key } as NodeRsaPrivateKey
  },
  rsaPublicEncrypt(key, data) {
    return publicEncrypt({ key: (key as NodeRsaPublicKey).key, padding: PKCS1 }, data)
  },
  rsaPublicDecrypt(key, data) {
    try {
      return publicDecrypt({ key: (key as NodeRsaPublicKey).key, padding: PKCS1 }, data)
    } catch {
      return null
    }
  },
  rsaPrivateEncrypt(key, data) {
    return privateEncrypt({ key: (key as NodeRsaPrivateKey).key, padding: PKCS1 }, data)
  },
  async rsaPrivateDecrypt(key, data, messageLength) {
    const k = key as NodeRsaPrivateKey
    k.forge ??= importForgePrivateKey(k.components)
    return forgeRsaPrivateDecrypt(await k.forge, data, messageLength)
  },
}
