/**
 * The default audit `instance` on runtimes without a host name (Workers, browsers): none. Pass the
 * verifier's `instance` option to name one.
 *
 * @internal
 * @module
 */

/** Always `null`: this runtime has no host name to report. */
export function defaultInstance(): string | null {
  return null
}
