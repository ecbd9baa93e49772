/**
 * Assertions and fixtures shared by the strategy tests. Nothing here picks a crypto backend: the
 * `#crypto` import is whatever the vitest project aliased it to.
 *
 * @module
 */
import { backend } from '#crypto'
import { expect } from 'vitest'

import type { CryptoBackend } from '../../src/crypto/backend.js'
import type { FailureReason, VerificationResult } from '../../src/index.js'
import type { VerificationFailure, VerificationSuccess, VerifyOptions } from '../../src/types.js'
import { expectConfigurationError, printable } from '../support/assertions.js'
import { expectNoSecrets } from '../support/secrets.js'

/** Asserts a success and narrows to it. */
export function expectOk(result: VerificationResult): VerificationSuccess {
  if (!result.ok) expect.fail(`expected success, got ${result.reason}: ${result.message}`)
  return result
}

/** Asserts a failure with `reason` and narrows to it. */
export function expectFailure(result: VerificationResult, reason: FailureReason): VerificationFailure {
  expect(result.ok).toBe(false)
  expect((result as VerificationFailure).reason).toBe(reason)
  return result as VerificationFailure
}

/** Counts calls into the active backend, to show that inputs over a size cap cost no crypto work. */
export function countingBackend(): { backend: CryptoBackend; calls: () => number; reset: () => void } {
  let calls = 0
  const wrapped = new Proxy(backend, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      // Decoding base64 is parsing, not crypto work: size caps are about keys and RSA.
      if (typeof value !== 'function' || property === 'decodeBase64') return value
      return (...args: unknown[]) => {
        calls++
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return {
    backend: wrapped,
    calls: () => calls,
    reset: () => {
      calls = 0
    },
  }
}

/** Wraps base64 the way Ruby's `Base64.encode64` does: a newline every 60 characters and one at the end. */
export function mimeWrap(base64: string, lineEnd = '\n'): string {
  return (base64.match(/.{1,60}/g) ?? []).join(lineEnd) + lineEnd
}

/** Inserts spaces, tabs and line breaks through a key string, as keys pasted into config files arrive. */
export function sprinkleWhitespace(text: string, every = 17): string {
  const noise = [' ', '\n', '\r\n', '\t', '  ']
  let out = ' \n'
  for (let i = 0; i < text.length; i++) {
    out += text[i]!
    if (i % every === every - 1) out += noise[Math.floor(i / every) % noise.length]!
  }
  return out + '\n '
}

/** The name of the backend this run uses, for test titles. */
export const backendName = backend.name

/** The credential strings in a verify() input that must never be echoed back. */
export function credentialStrings(credentials: unknown): string[] {
  if (typeof credentials !== 'object' || credentials === null) return []
  const fields = credentials as Record<string, unknown>
  return [fields['signature'], fields['sec_key']].filter(
    (value): value is string => typeof value === 'string' && value.trim().length >= 8,
  )
}

/** A strategy as the tests use it. */
interface Verifiable {
  verify(credentials: unknown, options?: VerifyOptions): Promise<VerificationResult>
}

/**
 * Returns a `verify` that also asserts the result prints none of `secrets` nor the credential it was given,
 * so every verification in a test file doubles as a no-secret-in-results check.
 */
export function checkedVerify(secrets: readonly string[]) {
  return async (
    strategy: Verifiable,
    credentials: unknown,
    options?: VerifyOptions,
  ): Promise<VerificationResult> => {
    const result = await strategy.verify(credentials, options)
    expectNoSecrets(result, [...secrets, ...credentialStrings(credentials)])
    return result
  }
}

export { expectConfigurationError as configurationError, expectNoSecrets, printable }
