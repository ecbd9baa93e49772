/**
 * The storage interfaces behind replay protection and sticky upgrades. Implemented in memory
 * (`MemoryReplayStore`, `MemoryUpgradeStore`) and on Redis (`smileid-auth-shim/redis`).
 *
 * @module
 */

/**
 * What a {@link ReplayStore} answers for a credential:
 * - `new`: first time seen; the fingerprint is now remembered.
 * - `duplicate`: seen before with the same body fingerprint (a redelivery).
 * - `conflict`: seen before with a different body fingerprint (a replay).
 */
export type ReplayOutcome = 'new' | 'duplicate' | 'conflict'

/**
 * Remembers credentials for a while so that a captured credential cannot be reused.
 * Must be atomic: of concurrent first calls for one key, exactly one sees `new`.
 */
export interface ReplayStore {
  /**
   * Records `fingerprint` under `key` for `ttlMs` milliseconds unless the key is already present.
   * Rejects (throws) when the store cannot be reached; the verifier turns that into `replay_check_failed`.
   */
  remember(key: string, fingerprint: string, ttlMs: number): Promise<ReplayOutcome>
}

/**
 * Remembers which partners have authenticated with the `signature` scheme, for the verifier's
 * `stickyUpgrade` policy: once upgraded, a partner's `sec_key` requests are refused.
 */
export interface UpgradeStore {
  /** Records that `partnerId` has used the signature scheme. */
  markUpgraded(partnerId: string): Promise<void>
  /** Whether `partnerId` has used the signature scheme. */
  isUpgraded(partnerId: string): Promise<boolean>
}
