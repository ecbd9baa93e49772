/**
 * The default audit `instance` on Node: the host name, so that a fleet's logs say which receiver wrote
 * each record. Loaded through the `#instance` import, which Workers and browsers resolve to
 * `instance-web.ts` instead (no `node:` import reaches their bundles).
 *
 * @internal
 * @module
 */
import { hostname } from 'node:os'

/** The host name, or `null` when the platform cannot tell it. */
export function defaultInstance(): string | null {
  try {
    const name = hostname()
    return typeof name === 'string' && name.length > 0 ? name : null
  } catch {
    return null
  }
}
