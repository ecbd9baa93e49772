/**
 * Building the library's strategies from CLI keys, with hints for the usual mix-ups: the sec_key RSA
 * public key given as the signature key, or the other way round.
 *
 * @internal
 * @module
 */
import { ConfigurationError, LegacySecKeyAuth, SignatureAuth } from '../index.js'
import { helpHint } from './args.js'
import { UsageError } from './context.js'
import { SEC_KEY_ENV, SIGNATURE_KEY_ENV, type KeySource } from './key-input.js'

/**
 * `true` when `key` parses as an RSA public key, which a signature API key never is.
 *
 * @example
 * ```ts
 * isRsaPublicKey(process.env.SMILEID_SEC_KEY_API_KEY!) // true
 * ```
 */
export function isRsaPublicKey(key: string): boolean {
  try {
    new LegacySecKeyAuth({ partnerId: '1', apiKey: key })
    return true
  } catch {
    return false
  }
}

/**
 * A {@link SignatureAuth} over the given keys (the first signs, every one verifies).
 *
 * @example
 * ```ts
 * const auth = signatureAuth('verify', '085', [{ key, source: 'SMILEID_API_KEY' }])
 * ```
 */
export function signatureAuth(command: string, partnerId: string, keys: readonly KeySource[]): SignatureAuth {
  for (const { key, source } of keys) {
    if (isRsaPublicKey(key)) {
      throw new UsageError(
        `the key from ${source} is an RSA public key: that is the sec_key "API Key for Sec Key", not the signature API key`,
        `pass it as --sec-key-api-key-file or ${SEC_KEY_ENV}`,
      )
    }
  }
  try {
    return new SignatureAuth({ partnerId, apiKey: keys.map(({ key }) => key) })
  } catch (error) {
    throw configurationToUsage(command, error)
  }
}

/**
 * A partner-role {@link LegacySecKeyAuth} from the sec_key API key (an RSA public key).
 *
 * @example
 * ```ts
 * const legacy = secKeyAuth('verify', '085', { key, source: 'SMILEID_SEC_KEY_API_KEY' })
 * ```
 */
export function secKeyAuth(command: string, partnerId: string, key: KeySource): LegacySecKeyAuth {
  try {
    return new LegacySecKeyAuth({ partnerId, apiKey: key.key })
  } catch (error) {
    if (error instanceof ConfigurationError && error.code === 'invalid_api_key') {
      throw new UsageError(
        `the key from ${key.source} is not an RSA public key; the sec_key scheme needs the "API Key for Sec Key"`,
        `the signature API key goes in --api-key-file or ${SIGNATURE_KEY_ENV}`,
      )
    }
    throw configurationToUsage(command, error)
  }
}

/**
 * A server-role {@link LegacySecKeyAuth} from an RSA private key (signs as Smile ID does).
 *
 * @example
 * ```ts
 * const smile = secKeyServerAuth('sign', '085', privateKeyPem)
 * ```
 */
export function secKeyServerAuth(command: string, partnerId: string, privateKey: string): LegacySecKeyAuth {
  try {
    return new LegacySecKeyAuth({ partnerId, privateKey })
  } catch (error) {
    throw configurationToUsage(command, error)
  }
}

/**
 * Turns a {@link ConfigurationError} into a usage error (exit 2); its message never quotes a key.
 *
 * @example
 * ```ts
 * try {
 *   new SignatureAuth({ partnerId, apiKey })
 * } catch (error) {
 *   throw configurationToUsage('sign', error)
 * }
 * ```
 */
export function configurationToUsage(command: string, error: unknown): unknown {
  if (error instanceof ConfigurationError)
    return new UsageError(`${error.message} (${error.code})`, helpHint(command))
  return error
}
