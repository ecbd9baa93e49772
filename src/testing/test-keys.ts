/**
 * Fresh key material for tests: one signature API key and one sec_key RSA key pair, in the formats the
 * Smile ID portal hands out.
 *
 * @module
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { ConfigurationError } from '../errors.js'
import { warnIfProduction } from './production-warning.js'

// Both entry modules call it (once per process), so that importing either one alone still warns.
warnIfProduction()

/** Keys for one test partner, shaped like the Smile ID portal's credentials. */
export interface TestKeys {
  /** The partner id, for example `"085"`. */
  partnerId: string
  /** The signature scheme's API key (a random secret). */
  signatureApiKey: string
  /** The "API Key for Sec Key": base64 of the SPKI PEM public key, the portal's format. */
  secKeyApiKey: string
  /** The matching RSA private key as a PKCS#8 PEM: what Smile ID holds, here for simulators. */
  secKeyPrivateKey: string
}

/** Options of {@link createTestKeys}. */
export interface CreateTestKeysOptions {
  /** The partner id. Default `"085"`: the leading zero exercises the sec_key rule that hashes `85`. */
  partnerId?: string
  /** RSA modulus length in bits: 1024 (the portal's size, the default) or 2048. */
  modulusLength?: 1024 | 2048
}

/**
 * Makes a fresh test partner: a random signature API key and a new RSA key pair (node:crypto).
 * Never use these keys outside tests.
 *
 * @example
 * ```ts
 * import { createTestKeys, SmileServerSimulator } from 'smileid-auth-shim/testing'
 *
 * const keys = createTestKeys({ partnerId: '2343' })
 * const smile = new SmileServerSimulator(keys)
 * const callback = await smile.callbackBody({ scheme: 'signature' })
 * ```
 * @throws `ConfigurationError` (`invalid_options`) for an empty partner id or an unsupported modulus length.
 */
export function createTestKeys(options: CreateTestKeysOptions = {}): TestKeys {
  const partnerId = options.partnerId ?? '085'
  const modulusLength = options.modulusLength ?? 1024
  if (typeof partnerId !== 'string' || partnerId.length === 0) {
    throw new ConfigurationError('invalid_options', 'partnerId must be a non-empty string')
  }
  if (modulusLength !== 1024 && modulusLength !== 2048) {
    throw new ConfigurationError('invalid_options', 'modulusLength must be 1024 or 2048')
  }
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  return {
    partnerId,
    signatureApiKey: randomBytes(32).toString('hex'),
    secKeyApiKey: Buffer.from(publicKey, 'utf8').toString('base64'),
    secKeyPrivateKey: privateKey,
  }
}
