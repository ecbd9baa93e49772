/**
 * In-process replay and upgrade stores: right for a single instance. Several instances behind a load
 * balancer need shared state (`smileid-auth-shim/redis`).
 *
 * @module
 */
import { ConfigurationError } from '../errors.js'
import type { ReplayOutcome, ReplayStore, UpgradeStore } from './store.js'

/** Options of {@link MemoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /** At most this many credentials are remembered; the oldest are evicted first. Default 100 000. */
  maxEntries?: number
  /** Clock in epoch milliseconds, for tests. Default `Date.now`. */
  now?: () => number
}

interface Entry {
  key: string
  fingerprint: string
  expiresAt: number
}

/** Past this many consumed slots, the eviction queue drops its consumed prefix. */
const COMPACT_AFTER = 1024

/**
 * A bounded in-memory {@link ReplayStore}. Entries expire after their TTL (the verifier's freshness
 * window) and the oldest are evicted once `maxEntries` is reached, so memory stays bounded under any load.
 * An eviction before expiry forgets a credential early: size the bound above the requests you receive
 * per freshness window.
 *
 * @example
 * ```ts
 * const verifier = new DualModeVerifier({ partnerId: '085', signature, replay: new MemoryReplayStore() })
 * ```
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #entries = new Map<string, Entry>()
  /**
   * Entries oldest first, for eviction. A separate queue because V8 leaves deleted Map slots in place until
   * it rehashes, so evicting by iterating the Map from its oldest end skips ever more holes: at the bound,
   * each insert cost grew with the number of evictions (300 000 inserts at the default bound took tens of seconds).
   */
  #order: Array<Entry | undefined> = []
  #head = 0
  readonly #maxEntries: number
  readonly #now: () => number

  constructor(options: MemoryReplayStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 100_000
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new ConfigurationError('invalid_options', 'maxEntries must be a positive integer')
    }
    this.#maxEntries = maxEntries
    this.#now = options.now ?? Date.now
  }

  /** How many credentials are remembered now (expired ones may still count until swept). */
  get size(): number {
    return this.#entries.size
  }

  /** {@inheritDoc ReplayStore.remember} */
  remember(key: string, fingerprint: string, ttlMs: number): Promise<ReplayOutcome> {
    const now = this.#now()
    const entry = this.#entries.get(key)
    if (entry !== undefined && entry.expiresAt > now) {
      return Promise.resolve(entry.fingerprint === fingerprint ? 'duplicate' : 'conflict')
    }
    // An expired entry is replaced: its old queue slot no longer matches and is skipped when reached.
    const fresh: Entry = { key, fingerprint, expiresAt: now + ttlMs }
    this.#entries.set(key, fresh)
    this.#order.push(fresh)
    this.#evict(now)
    return Promise.resolve('new')
  }

  /** Drops expired entries at the old end, then the oldest while over the bound. */
  #evict(now: number): void {
    const order = this.#order
    while (this.#head < order.length) {
      const oldest = order[this.#head]!
      const live = this.#entries.get(oldest.key) === oldest
      if (live && this.#entries.size <= this.#maxEntries && oldest.expiresAt > now) break
      if (live) this.#entries.delete(oldest.key)
      order[this.#head++] = undefined
    }
    if (this.#head > COMPACT_AFTER && this.#head * 2 > order.length) {
      this.#order = order.slice(this.#head)
      this.#head = 0
    }
  }
}

/**
 * An in-memory {@link UpgradeStore} for the `stickyUpgrade` policy on a single instance.
 *
 * @example
 * ```ts
 * const verifier = new DualModeVerifier({
 *   partnerId: '085', signature, secKey,
 *   policy: { stickyUpgrade: true }, upgradeStore: new MemoryUpgradeStore(),
 * })
 * ```
 */
export class MemoryUpgradeStore implements UpgradeStore {
  readonly #upgraded = new Set<string>()

  /** {@inheritDoc UpgradeStore.markUpgraded} */
  markUpgraded(partnerId: string): Promise<void> {
    this.#upgraded.add(partnerId)
    return Promise.resolve()
  }

  /** {@inheritDoc UpgradeStore.isUpgraded} */
  isUpgraded(partnerId: string): Promise<boolean> {
    return Promise.resolve(this.#upgraded.has(partnerId))
  }
}
