/**
 * Who a request's partner is: the configured partner (single-partner mode), partner records, or a
 * resolver; and the sticky-upgrade cache that remembers which partners have moved to signature.
 *
 * @module
 */
import { partnerKey, samePartner } from '../claims.js'
import { ConfigurationError } from '../errors.js'
import type { UpgradeStore } from '../replay/store.js'
import { VERIFY_NOW, type VerifiesNow } from '../schemes/common.js'
import type {
  AuthStrategy,
  Scheme,
  SecKeyCredentials,
  SignatureCredentials,
  VerificationResult,
} from '../types.js'
import { resolvePolicy, type MigrationPolicy, type ResolvedPolicy } from './policy.js'
import type { MaybePromise } from './step.js'

/** The keys of one partner, and optionally its own policy. */
export interface PartnerConfig {
  /** Verifies the `signature` scheme (a {@link SignatureAuth}). */
  signature?: AuthStrategy<SignatureCredentials>
  /** Verifies the legacy `sec_key` scheme (a {@link LegacySecKeyAuth}). */
  secKey?: AuthStrategy<SecKeyCredentials>
  /** Overrides the verifier's policy for this partner. */
  policy?: MigrationPolicy
}

/** Looks a partner up, for platforms that serve several partner ids (keys may come from a secret store). */
export type PartnerResolver = (
  partnerId: string,
) => PartnerConfig | undefined | Promise<PartnerConfig | undefined>

/**
 * A strategy's verification of a credential, without options: synchronous where the strategy's crypto is
 * (the library's strategies on node:crypto), a promise otherwise.
 *
 * @internal
 */
export type CryptoCheck = (credentials: unknown) => MaybePromise<VerificationResult>

/**
 * A partner as the pipeline uses it: its canonical id, a crypto check per configured scheme, its policy.
 *
 * @internal
 */
export interface ResolvedPartner {
  id: string
  signature: CryptoCheck | undefined
  secKey: CryptoCheck | undefined
  policy: ResolvedPolicy
}

/**
 * The partner part of the verifier's options.
 *
 * @internal
 */
export interface PartnerOptions extends PartnerConfig {
  partnerId?: string
  partners?: Record<string, PartnerConfig> | PartnerResolver
}

/**
 * The partners a verifier serves, looked up by the id a request claims. Configured partners are indexed
 * by their configured id and by {@link partnerKey} of it, so every spelling of a known id and every
 * unknown id costs one or two hash lookups, whatever the number of partners.
 *
 * @internal
 */
export class Partners {
  readonly #single: ResolvedPartner | undefined
  readonly #records: Map<string, ResolvedPartner> | undefined
  readonly #resolver: PartnerResolver | undefined
  readonly #base: ResolvedPolicy
  /** Resolvers usually return cached configs: each config object is resolved once. */
  readonly #resolved = new WeakMap<PartnerConfig, ResolvedPartner>()

  /** @throws {@link ConfigurationError} for a missing, mixed or unusable partner configuration. */
  constructor(options: PartnerOptions, base: ResolvedPolicy) {
    this.#base = base
    const single =
      options.signature !== undefined || options.secKey !== undefined || options.partnerId !== undefined
    if (single && options.partners !== undefined) {
      throw new ConfigurationError(
        'invalid_options',
        'give either partnerId/signature/secKey or partners, not both',
      )
    }
    if (single) {
      const id = options.partnerId ?? options.signature?.partnerId ?? options.secKey?.partnerId
      this.#single = resolvePartner(id!, options, base, 'options')
    } else if (typeof options.partners === 'function') {
      this.#resolver = options.partners
    } else if (typeof options.partners === 'object' && options.partners !== null) {
      this.#records = partnerRecords(options.partners, base)
    } else {
      throw new ConfigurationError('missing_key', 'give a signature or secKey strategy, or partners')
    }
  }

  /** `true` when partners come from a resolver (their policies are only known per request). */
  get resolves(): boolean {
    return this.#resolver !== undefined
  }

  /** The policies of the configured partners (none for a resolver). */
  policies(): ResolvedPolicy[] {
    if (this.#single !== undefined) return [this.#single.policy]
    return [...new Set(this.#records?.values() ?? [])].map((partner) => partner.policy)
  }

  /**
   * The partner a request claims, or `undefined` when it is not served here. A request that names no
   * partner is attributed to the single configured partner. Synchronous except for a resolver.
   */
  find(claimedId: string | null): MaybePromise<ResolvedPartner | undefined> {
    if (this.#single !== undefined) {
      return claimedId === null || samePartner(claimedId, this.#single.id) ? this.#single : undefined
    }
    if (claimedId === null) return undefined
    if (this.#records !== undefined) return this.#configured(claimedId)
    return this.#resolve(claimedId)
  }

  /** The policy of a configured (single or record) partner, by any spelling of its id. */
  configuredPolicy(partnerId: string): ResolvedPolicy | undefined {
    if (this.#single !== undefined) {
      return samePartner(partnerId, this.#single.id) ? this.#single.policy : undefined
    }
    return this.#records === undefined ? undefined : this.#configured(partnerId)?.policy
  }

  /** The configured spelling first (the common case), then the partner's identity: O(1) either way. */
  #configured(id: string): ResolvedPartner | undefined {
    return this.#records!.get(id) ?? this.#records!.get(partnerKey(id))
  }

  async #resolve(claimedId: string): Promise<ResolvedPartner | undefined> {
    try {
      const config = await this.#resolver!(claimedId)
      if (config === undefined || config === null) return undefined
      // Replays, upgrades and audit events belong to the partner the keys are for, whichever spelling of
      // its id the request used ("85" for "085"): keyed by the claimed spelling, a replay passes as "new".
      const strategy = config.signature ?? config.secKey
      const id = typeof strategy?.partnerId === 'string' ? strategy.partnerId : claimedId
      if (!samePartner(claimedId, id)) return undefined
      let partner = this.#resolved.get(config)
      if (partner === undefined || partner.id !== id) {
        partner = resolvePartner(id, config, this.#base, `partner ${claimedId}`)
        this.#resolved.set(config, partner)
      }
      return partner
    } catch {
      // A resolver that fails (secret store down, bad config) cannot vouch for the partner.
      return undefined
    }
  }
}

/**
 * Which partners have authenticated with signature, for `stickyUpgrade`: the store is the memory, and a
 * partner known upgraded in this process is not asked about again.
 *
 * @internal
 */
export class UpgradeCache {
  readonly #store: UpgradeStore
  readonly #known = new Set<string>()

  constructor(store: UpgradeStore) {
    this.#store = store
  }

  /** `true` or `false`, or `null` when the store cannot answer (it threw, rejected, or answered a non-boolean). */
  isUpgraded(partnerId: string): MaybePromise<boolean | null> {
    return this.#known.has(partnerId) ? true : this.#ask(partnerId)
  }

  async #ask(partnerId: string): Promise<boolean | null> {
    try {
      const upgraded: unknown = await this.#store.isUpgraded(partnerId)
      if (upgraded === true) this.#known.add(partnerId)
      return typeof upgraded === 'boolean' ? upgraded : null
    } catch {
      return null
    }
  }

  /** Never affects the signature request that upgrades the partner, whatever the store does. */
  markUpgraded(partnerId: string): void {
    if (this.#known.has(partnerId)) return
    this.#known.add(partnerId)
    const forget = () => void this.#known.delete(partnerId)
    try {
      const pending: unknown = this.#store.markUpgraded(partnerId)
      if (typeof (pending as Promise<void> | undefined)?.then === 'function') {
        ;(pending as Promise<void>).then(undefined, forget)
      }
    } catch {
      forget()
    }
  }
}

/**
 * Resolves partner records, indexed by each configured id and by its {@link partnerKey}. Two records
 * that denote one partner (`'85'` and `'085'`) are a configuration mistake: a captured sec_key would
 * otherwise be accepted once under each, and which record answers would depend on the spelling.
 */
function partnerRecords(
  records: Record<string, PartnerConfig>,
  base: ResolvedPolicy,
): Map<string, ResolvedPartner> {
  const byKey = new Map<string, ResolvedPartner>()
  const index = new Map<string, ResolvedPartner>()
  for (const [id, config] of Object.entries(records)) {
    const partner = resolvePartner(id, config, base, `partners.${id}`)
    const key = partnerKey(id)
    const other = byKey.get(key)
    if (other !== undefined) {
      throw new ConfigurationError(
        'invalid_partner_id',
        `partners ${JSON.stringify(other.id)} and ${JSON.stringify(id)} denote one partner (digit ids are compared without leading zeros, as the sec_key scheme hashes the integer): keep one record`,
      )
    }
    byKey.set(key, partner)
    index.set(key, partner)
    index.set(id, partner)
  }
  if (byKey.size === 0) throw new ConfigurationError('missing_key', 'partners is empty')
  return index
}

function resolvePartner(
  id: string,
  config: PartnerConfig,
  base: ResolvedPolicy,
  what: string,
): ResolvedPartner {
  if (typeof config !== 'object' || config === null) {
    throw new ConfigurationError('invalid_options', `${what} must be an object`)
  }
  if (typeof id !== 'string' || id.length === 0) {
    throw new ConfigurationError('invalid_partner_id', `${what}: partnerId must be a non-empty string`)
  }
  const { signature, secKey } = config
  checkStrategy(signature, 'signature', id, what)
  checkStrategy(secKey, 'sec_key', id, what)
  if (signature === undefined && secKey === undefined) {
    throw new ConfigurationError('missing_key', `${what}: give a signature or secKey strategy`)
  }
  return {
    id,
    signature: cryptoCheck(signature),
    secKey: cryptoCheck(secKey),
    policy: config.policy === undefined ? base : resolvePolicy(config.policy, base, `${what}.policy`),
  }
}

/**
 * The strategy's check, looked up once per partner: the library's strategies expose a verify that is
 * synchronous on node:crypto (see `VERIFY_NOW` in schemes/common.ts), which spares the pipeline a promise;
 * any other strategy is called through its public `verify`.
 */
function cryptoCheck(strategy: AuthStrategy<unknown> | undefined): CryptoCheck | undefined {
  if (strategy === undefined) return undefined
  const now = (strategy as Partial<VerifiesNow>)[VERIFY_NOW]
  return typeof now === 'function'
    ? (credentials) => now.call(strategy, credentials)
    : (credentials) => strategy.verify(credentials)
}

function checkStrategy(
  strategy: AuthStrategy<unknown> | undefined,
  scheme: Scheme,
  id: string,
  what: string,
): void {
  if (strategy === undefined) return
  if (
    typeof strategy !== 'object' ||
    strategy === null ||
    typeof strategy.verify !== 'function' ||
    strategy.scheme !== scheme
  ) {
    const expected = scheme === 'signature' ? 'a SignatureAuth' : 'a LegacySecKeyAuth'
    throw new ConfigurationError(
      'invalid_options',
      `${what}: ${scheme === 'signature' ? 'signature' : 'secKey'} must be ${expected}`,
    )
  }
  if (!samePartner(strategy.partnerId, id)) {
    throw new ConfigurationError(
      'invalid_partner_id',
      `${what}: the ${scheme} strategy is for another partner id`,
    )
  }
}
