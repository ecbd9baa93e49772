/**
 * Assertions shared by the test suites.
 */
import { expect } from 'vitest'

import { ConfigurationError } from '../../src/errors.js'

/** Calls `build` and returns the ConfigurationError it must throw, after checking its code. */
export function expectConfigurationError(
  build: () => unknown,
  code: ConfigurationError['code'],
): ConfigurationError {
  let caught: unknown
  try {
    build()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(ConfigurationError)
  expect((caught as ConfigurationError).code).toBe(code)
  return caught as ConfigurationError
}

/** Everything a logger could print for a value: JSON, and for errors their message, stack and causes. */
export function printable(value: unknown): string {
  const parts: string[] = []
  let current: unknown = value
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    parts.push(JSON.stringify(current) ?? '')
    if (current instanceof Error) {
      parts.push(current.message, String(current.stack))
      current = current.cause
    } else {
      current = undefined
    }
  }
  return parts.join('\n')
}
