/**
 * The test kit holds private keys and a server that accepts what it signs: it has no business in a
 * production process. Loading it under `NODE_ENV=production` warns once per process, through
 * `process.emitWarning`, so that the mistake shows in the logs without breaking a process that
 * deliberately runs tests with that setting.
 *
 * @module
 */

/** The stable `code` of the warning emitted when the test kit is loaded under `NODE_ENV=production`. */
export const TEST_KIT_IN_PRODUCTION = 'SMILEID_TESTKIT_IN_PRODUCTION'

/**
 * The environment variable that silences the warning when loading the test kit in production mode is
 * legitimate (a staging smoke test, for example). Any non-empty value other than `0` silences it.
 */
export const TEST_KIT_ALLOW_PRODUCTION_ENV = 'SMILEID_TESTKIT_ALLOW_PRODUCTION'

// Shared through the global registry, so that two copies of the package in one process (a CommonJS
// bundle and the ESM build, or duplicated node_modules) still warn only once.
const WARNED = Symbol.for('smileid-auth-shim.testing.production-warning')

interface WarningProcess {
  env?: Record<string, string | undefined>
  emitWarning?: (warning: string, options: { type: string; code: string; detail?: string }) => void
}

/**
 * Warns once per process when the test kit is loaded under `NODE_ENV=production`. Called by the test
 * kit's modules when they load; returns whether it warned this time. Never throws: a runtime without
 * `process` gets no warning.
 *
 * @param target - the process to read and warn on; default `globalThis.process`.
 * @example
 * ```ts
 * // NODE_ENV=production node app.js, where app.js imports 'smileid-auth-shim/testing', prints:
 * // (node:1234) [SMILEID_TESTKIT_IN_PRODUCTION] SmileIdTestKitWarning: smileid-auth-shim/testing was loaded with NODE_ENV=production …
 * warnIfProduction() // false: warned already, or not in production
 * ```
 */
export function warnIfProduction(
  target: WarningProcess | undefined = (globalThis as { process?: WarningProcess }).process,
): boolean {
  try {
    const registry = globalThis as Record<symbol, unknown>
    if (registry[WARNED] === true || target === undefined) return false
    const env = target.env ?? {}
    if (env.NODE_ENV !== 'production') return false
    const allow = env[TEST_KIT_ALLOW_PRODUCTION_ENV]
    if (allow !== undefined && allow !== '' && allow !== '0') return false
    if (typeof target.emitWarning !== 'function') return false
    registry[WARNED] = true
    target.emitWarning(
      'smileid-auth-shim/testing was loaded with NODE_ENV=production. It creates private keys and a ' +
        'simulated Smile ID server that accepts what it signs; production code must not import it.',
      {
        type: 'SmileIdTestKitWarning',
        code: TEST_KIT_IN_PRODUCTION,
        detail:
          `If this is deliberate, set ${TEST_KIT_ALLOW_PRODUCTION_ENV}=1 to silence this warning, ` +
          `or run node with --disable-warning=${TEST_KIT_IN_PRODUCTION}.`,
      },
    )
    return true
  } catch {
    // A frozen or exotic process object must not stop the test kit from loading.
    return false
  }
}
