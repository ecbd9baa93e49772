/**
 * RSA through node-forge, for what node:crypto cannot do (PKCS#1 v1.5 private decryption on Node ≥ 20)
 * and for runtimes without node:crypto. node-forge is imported lazily, so code paths that never touch
 * RSA never load it.
 *
 * PKCS#1 v1.5 padding is checked here, not by node-forge: the private-key path checks a block of a
 * known shape (the 64 hex characters of a sec_key hash) without early exits and gives one uniform
 * failure (`null`), which narrows, but does not close, the Bleichenbacher/Marvin padding-oracle
 * window inherent to PKCS#1 v1.5 decryption in JavaScript (see docs/security.md).
 *
 * @internal
 * @module
 */
import type { pki } from 'node-forge'
import type { RsaPrivateComponents, RsaPublicComponents } from './backend.js'
import { binaryStringToBytes, bytesToBinaryString, toHex } from '../encoding.js'

type Forge = typeof import('node-forge')

/** The raw RSA primitives node-forge has but does not declare in its types. */
interface RawRsa {
  encrypt(message: string, key: ForgePublicKey | ForgePrivateKey, blockType: number | boolean): string
  decrypt(block: string, key: ForgePublicKey | ForgePrivateKey, pub: boolean, removePadding: false): string
}

function rawRsaOf(forge: Forge): RawRsa {
  return forge.pki.rsa as unknown as RawRsa
}

let forgeModule: Promise<Forge> | undefined

/** Loads node-forge once, on first use. */
function loadForge(): Promise<Forge> {
  forgeModule ??= import('node-forge').then((m) =>
    withWorkingRandom(((m as { default?: Forge }).default ?? m) as Forge),
  )
  return forgeModule
}

/**
 * node-forge takes randomness (for RSA blinding) from `require('crypto')` wherever `process.versions.node`
 * exists; a Worker with `nodejs_compat` has that, while the bundled `crypto` is forge's empty browser stub.
 * There, WebCrypto supplies the bytes instead.
 */
function withWorkingRandom(forge: Forge): Forge {
  try {
    forge.random.getBytesSync(1)
  } catch {
    forge.random.getBytesSync = (count: number) =>
      bytesToBinaryString(crypto.getRandomValues(new Uint8Array(count)))
    forge.random.getBytes = forge.random.getBytesSync as typeof forge.random.getBytes
  }
  return forge
}

/** A node-forge RSA private key. */
export type ForgePrivateKey = pki.rsa.PrivateKey
/** A node-forge RSA public key. */
export type ForgePublicKey = pki.rsa.PublicKey

function bigInt(forge: Forge, bytes: Uint8Array) {
  return new forge.jsbn.BigInteger(toHex(bytes) || '00', 16)
}

/** Builds a node-forge public key from its components. */
export async function importForgePublicKey(key: RsaPublicComponents): Promise<ForgePublicKey> {
  const forge = await loadForge()
  return forge.pki.setRsaPublicKey(bigInt(forge, key.n), bigInt(forge, key.e))
}

/** Builds a node-forge private key from its components. */
export async function importForgePrivateKey(key: RsaPrivateComponents): Promise<ForgePrivateKey> {
  const forge = await loadForge()
  const b = (bytes: Uint8Array) => bigInt(forge, bytes)
  return forge.pki.setRsaPrivateKey(
    b(key.n),
    b(key.e),
    b(key.d),
    b(key.p),
    b(key.q),
    b(key.dp),
    b(key.dq),
    b(key.qi),
  )
}

/** Raw RSA (no padding) with either key; `null` when the input is not a valid block for this key. */
async function rawRsa(
  key: ForgePublicKey | ForgePrivateKey,
  data: Uint8Array,
  pub: boolean,
): Promise<Uint8Array | null> {
  const forge = await loadForge()
  try {
    return binaryStringToBytes(rawRsaOf(forge).decrypt(bytesToBinaryString(data), key, pub, false))
  } catch {
    return null
  }
}

/**
 * Private-key decryption of a PKCS#1 v1.5 type-2 block whose message has `messageLength` bytes.
 * Every check runs whatever the earlier ones found; one `null` for every failure.
 */
export async function forgeRsaPrivateDecrypt(
  key: ForgePrivateKey,
  data: Uint8Array,
  messageLength: number,
): Promise<Uint8Array | null> {
  const block = await rawRsa(key, data, false)
  if (block === null) return null
  const k = block.length
  const separator = k - messageLength - 1
  // EM = 0x00 || 0x02 || PS (≥ 8 non-zero bytes) || 0x00 || M
  let bad = block[0]! | (block[1]! ^ 0x02) | (separator < 10 ? 1 : 0) | (block[separator] ?? 1)
  for (let i = 2; i < separator; i++) bad |= block[i]! === 0 ? 1 : 0
  return bad === 0 ? block.slice(separator + 1) : null
}

/** Public-key decryption of a type-1 ("private encrypt") block; `null` on any failure. */
export async function forgeRsaPublicDecrypt(
  key: ForgePublicKey,
  data: Uint8Array,
): Promise<Uint8Array | null> {
  const block = await rawRsa(key, data, true)
  if (block === null || block[0] !== 0x00 || block[1] !== 0x01) return null
  // EM = 0x00 || 0x01 || PS (≥ 8 bytes of 0xff) || 0x00 || M — public data, no secret to protect.
  let i = 2
  while (i < block.length && block[i] === 0xff) i++
  if (i - 2 < 8 || i >= block.length || block[i] !== 0x00) return null
  return block.slice(i + 1)
}

/** Type-1 "private encrypt" (deterministic), as Smile signs sec_keys for partners. */
export async function forgeRsaPrivateEncrypt(key: ForgePrivateKey, data: Uint8Array): Promise<Uint8Array> {
  const forge = await loadForge()
  return binaryStringToBytes(rawRsaOf(forge).encrypt(bytesToBinaryString(data), key, 0x01))
}

/** Type-2 public-key encryption, padded here with WebCrypto randomness. */
export async function forgeRsaPublicEncrypt(key: ForgePublicKey, data: Uint8Array): Promise<Uint8Array> {
  const forge = await loadForge()
  const k = Math.ceil(key.n.bitLength() / 8)
  if (data.length > k - 11) throw new RangeError('message too long for the RSA key')
  const block = new Uint8Array(k)
  block[1] = 0x02
  const padding = block.subarray(2, k - data.length - 1)
  crypto.getRandomValues(padding)
  for (let i = 0; i < padding.length; i++) {
    while (padding[i] === 0) padding[i] = crypto.getRandomValues(new Uint8Array(1))[0]!
  }
  block.set(data, k - data.length)
  return binaryStringToBytes(rawRsaOf(forge).encrypt(bytesToBinaryString(block), key, true))
}
