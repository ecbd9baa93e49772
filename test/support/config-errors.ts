/**
 * Helpers for the configuration-message tests: run a constructor (or a call) with a bad option and check
 * the `ConfigurationError` it throws, its code, and the words its message must carry.
 */
import { expect } from 'vitest'
import { ConfigurationError, type ConfigurationErrorCode } from '../../src/errors.js'

/** Every documented `ConfigurationErrorCode`; the `satisfies` below fails to compile if the union grows. */
export const CONFIGURATION_ERROR_CODES = [
  'invalid_partner_id',
  'missing_key',
  'invalid_api_key',
  'invalid_private_key',
  'invalid_options',
] as const satisfies readonly ConfigurationErrorCode[]

type Missing = Exclude<ConfigurationErrorCode, (typeof CONFIGURATION_ERROR_CODES)[number]>
// A code added to the union but not to the list above is a compile error here.
const exhaustive: Missing extends never ? true : never = true
void exhaustive

/** What a bad option must produce. `includes` are substrings the message must contain, in any order. */
export interface ExpectedConfigError {
  code?: ConfigurationErrorCode
  includes: readonly string[]
  excludes?: readonly string[]
}

/** The error `run` throws (synchronously or as a rejected promise), or a failed assertion. */
export async function caught(run: () => unknown): Promise<unknown> {
  try {
    await run()
  } catch (error) {
    return error
  }
  return expect.fail('expected a ConfigurationError, but nothing was thrown')
}

/** Asserts that `run` throws a `ConfigurationError` with the code and the message parts expected. */
export async function expectConfigError(run: () => unknown, expected: ExpectedConfigError): Promise<void> {
  const error = await caught(run)
  expect(error).toBeInstanceOf(ConfigurationError)
  const { code, message, name } = error as ConfigurationError
  expect(name).toBe('ConfigurationError')
  expect(code).toBe(expected.code ?? 'invalid_options')
  for (const part of expected.includes) expect(message).toContain(part)
  for (const part of expected.excludes ?? []) expect(message).not.toContain(part)
}
