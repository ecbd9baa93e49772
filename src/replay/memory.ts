/**
 * In-process replay and upgrade stores: right for a single instance. Several instances behind a load
 * balancer need shared state (`smileid-auth-shim/redis`).
 *
 * @module
 */
import { ConfigurationError } from '../errors.js'
import { checkKnownKeys, describe } from '../option-checks.js'
import type { ReplayOutcome, ReplayStore, UpgradeStore } from './store.js'

const MEMORY_OPTION_KEYS = ['maxEntries', 'now'] as const

/** Options of {@link MemoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /**
   * At most this many credentials are remembered. Past the bound, the partner holding the most entries
   * loses its oldest one. Default 100 000.
   */
  maxEntries?: number
  /** Clock in epoch milliseconds, for tests. Default `Date.now`. */
  now?: () => number
}

/**
 * What a {@link MemoryReplayStore} holds and has had to give up.
 *
 * @example
 * ```ts
 * if (store.stats.evicted > 0) console.warn('replay store too small', store.stats)
 * ```
 */
export interface MemoryReplayStoreStats {
  /** Credentials remembered now (expired ones may still count until swept). */
  entries: number
  /** Partners (partitions) holding at least one entry. */
  partitions: number
  /**
   * Entries evicted before they expired, to stay within `maxEntries`. Each one is a credential that could
   * be replayed once more within its window: above zero, `maxEntries` is too small for the traffic.
   */
  evicted: number
}

/** One remembered credential, on two intrusive lists: the store's insertion order and its partner's. */
interface Entry {
  readonly key: string
  readonly fingerprint: string
  readonly expiresAt: number
  readonly partition: Partition
  older: Entry | undefined
  newer: Entry | undefined
  partitionOlder: Entry | undefined
  partitionNewer: Entry | undefined
}

/** The entries of one partner, oldest first, and where the partition sits among those of equal size. */
interface Partition {
  readonly name: string
  size: number
  oldest: Entry | undefined
  newest: Entry | undefined
  /** Index in `#bySize.get(size)`, for O(1) removal. */
  slot: number
}

/** Credentials a {@link MemoryReplayStore} remembers at most unless `maxEntries` says otherwise. */
export const DEFAULT_MAX_ENTRIES = 100_000

const EVICTION_WARNING =
  'MemoryReplayStore evicted a credential before it expired because maxEntries was reached: that ' +
  'credential can be replayed again within its window. Raise maxEntries above the requests received per ' +
  'freshness window, or use a shared store. (Reported once per store; see store.stats.evicted.)'

/** Warns through `process.emitWarning` where there is one (Node, Bun, Deno), else `console.warn`. */
function warnOnce(message: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (message: string, options?: object) => void } })
    .process
  if (typeof proc?.emitWarning === 'function') {
    proc.emitWarning(message, { type: 'SmileIdReplayWarning', code: 'SMILEID_REPLAY_EVICTION' })
  } else {
    console.warn(message)
  }
}

/**
 * The partner a replay key belongs to. The verifier builds keys as `scheme:partnerId:credentialHash`
 * (the hash is hex, the scheme has no colon), so the partner is what lies between the first and the last
 * colon, whatever its spelling. Keys without that shape share one partition.
 */
function partitionOf(key: string): string {
  const first = key.indexOf(':')
  const last = key.lastIndexOf(':')
  return first >= 0 && first < last ? key.slice(first + 1, last) : ''
}

/**
 * A bounded in-memory {@link ReplayStore}. Entries expire after their TTL (the verifier's freshness
 * window), so memory stays bounded under any load. Past `maxEntries`, the oldest entry of the partner that
 * holds the most entries is evicted: a partner flooding the store with its own credentials evicts its own,
 * and can never push out another partner's unexpired entry while it holds more entries than that partner.
 * Partners are read from the verifier's replay keys (`scheme:partnerId:credentialHash`). Every eviction of
 * an unexpired entry is counted in {@link MemoryReplayStore.stats} and warned about once. Every operation is
 * O(1).
 *
 * @example
 * ```ts
 * const verifier = new DualModeVerifier({ partnerId: '085', signature, replay: new MemoryReplayStore() })
 * ```
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #entries = new Map<string, Entry>()
  readonly #partitions = new Map<string, Partition>()
  /**
   * Partitions grouped by size. Sizes change by one at a time, so the largest size is tracked exactly
   * without a scan. Swap-remove keeps each group's removal O(1).
   */
  readonly #bySize = new Map<number, Partition[]>()
  #largest = 0
  /**
   * Insertion order across partners, oldest first, for sweeping expired entries. Linked lists rather than
   * iterating the Map from its oldest end: V8 leaves deleted Map slots in place until it rehashes, so that
   * iteration skips ever more holes and each insert at the bound grew costlier with every eviction.
   */
  #oldest: Entry | undefined
  #newest: Entry | undefined
  #evicted = 0
  #warned = false
  readonly #maxEntries: number
  readonly #now: () => number

  constructor(options: MemoryReplayStoreOptions = {}) {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new ConfigurationError(
        'invalid_options',
        `MemoryReplayStore: options must be an object { maxEntries?, now? } (got ${describe(options)})`,
      )
    }
    checkKnownKeys(options, MEMORY_OPTION_KEYS, 'MemoryReplayStore')
    const maxEntries: unknown = options.maxEntries ?? DEFAULT_MAX_ENTRIES
    if (typeof maxEntries !== 'number' || !Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      const hint =
        typeof maxEntries === 'string'
          ? '; pass a number, not a string'
          : typeof maxEntries === 'number' && maxEntries > 0 && Number.isFinite(maxEntries)
            ? `; round it, for example ${String(Math.max(1, Math.round(maxEntries)))}`
            : ''
      throw new ConfigurationError(
        'invalid_options',
        `MemoryReplayStore: maxEntries must be a positive whole number of remembered credentials (default 100000) ` +
          `(got ${describe(maxEntries)})${hint}`,
      )
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new ConfigurationError(
        'invalid_options',
        `MemoryReplayStore: now must be a function returning epoch milliseconds, such as () => Date.now() ` +
          `(got ${describe(options.now)})`,
      )
    }
    this.#maxEntries = maxEntries
    this.#now = options.now ?? Date.now
  }

  /** How many credentials are remembered now (expired ones may still count until swept). */
  get size(): number {
    return this.#entries.size
  }

  /**
   * Counts for monitoring: entries, partitions, and unexpired entries evicted (above zero, `maxEntries`
   * is too small).
   *
   * @example
   * ```ts
   * const { entries, evicted } = store.stats
   * ```
   */
  get stats(): MemoryReplayStoreStats {
    return { entries: this.#entries.size, partitions: this.#partitions.size, evicted: this.#evicted }
  }

  /** {@inheritDoc ReplayStore.remember} */
  remember(key: string, fingerprint: string, ttlMs: number): Promise<ReplayOutcome> {
    const now = this.#now()
    const existing = this.#entries.get(key)
    if (existing !== undefined) {
      if (existing.expiresAt > now) {
        return Promise.resolve(existing.fingerprint === fingerprint ? 'duplicate' : 'conflict')
      }
      this.#remove(existing)
    }
    this.#sweep(now)
    const name = partitionOf(key)
    let partition = this.#partitions.get(name)
    if (partition === undefined) {
      partition = { name, size: 0, oldest: undefined, newest: undefined, slot: -1 }
      this.#partitions.set(name, partition)
    }
    const entry: Entry = {
      key,
      fingerprint,
      expiresAt: now + ttlMs,
      partition,
      older: this.#newest,
      newer: undefined,
      partitionOlder: partition.newest,
      partitionNewer: undefined,
    }
    if (this.#newest === undefined) this.#oldest = entry
    else this.#newest.newer = entry
    this.#newest = entry
    if (partition.newest === undefined) partition.oldest = entry
    else partition.newest.partitionNewer = entry
    partition.newest = entry
    this.#entries.set(key, entry)
    this.#resize(partition, partition.size + 1)
    if (this.#entries.size > this.#maxEntries) this.#evictFromLargest(partition)
    return Promise.resolve('new')
  }

  /** Drops expired entries from the old end of the insertion order. */
  #sweep(now: number): void {
    // With one TTL for all (the verifier's window), insertion order is expiry order; an entry with a longer
    // TTL ahead of shorter ones only delays their sweep, never lets one outlive its own TTL (see remember).
    while (this.#oldest !== undefined && this.#oldest.expiresAt <= now) this.#remove(this.#oldest)
  }

  /**
   * Evicts the oldest entry of the largest partition. On a tie the inserting partner pays, unless its only
   * entry is the one just remembered: a partner's credentials never evict another partner's entry while
   * that partner holds fewer.
   */
  #evictFromLargest(inserting: Partition): void {
    const group = this.#bySize.get(this.#largest)!
    let victim: Partition = group[0]!
    if (inserting.size === this.#largest && inserting.size > 1) victim = inserting
    else if (victim === inserting && group.length > 1) victim = group[1]!
    this.#remove(victim.oldest!)
    this.#evicted++
    if (!this.#warned) {
      this.#warned = true
      warnOnce(EVICTION_WARNING)
    }
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.key)
    if (entry.older === undefined) this.#oldest = entry.newer
    else entry.older.newer = entry.newer
    if (entry.newer === undefined) this.#newest = entry.older
    else entry.newer.older = entry.older
    const partition = entry.partition
    if (entry.partitionOlder === undefined) partition.oldest = entry.partitionNewer
    else entry.partitionOlder.partitionNewer = entry.partitionNewer
    if (entry.partitionNewer === undefined) partition.newest = entry.partitionOlder
    else entry.partitionNewer.partitionOlder = entry.partitionOlder
    this.#resize(partition, partition.size - 1)
    if (partition.size === 0) this.#partitions.delete(partition.name)
  }

  /** Moves a partition to the group of its new size (sizes change by one), keeping `#largest` exact. */
  #resize(partition: Partition, size: number): void {
    const from = partition.size
    if (from > 0) {
      const group = this.#bySize.get(from)!
      const last = group.pop()!
      if (last !== partition) {
        group[partition.slot] = last
        last.slot = partition.slot
      }
      if (group.length === 0) {
        this.#bySize.delete(from)
        if (this.#largest === from) this.#largest = size > from ? size : from - 1
      }
    }
    partition.size = size
    if (size > 0) {
      let group = this.#bySize.get(size)
      if (group === undefined) {
        group = []
        this.#bySize.set(size, group)
      }
      partition.slot = group.length
      group.push(partition)
      if (size > this.#largest) this.#largest = size
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
