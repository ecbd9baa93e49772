/**
 * The dual-mode verifier: accepts both schemes during the migration, says which one each request used,
 * applies the migration policy, freshness and replay protection, and audits every decision.
 *
 * Order of work for each request: detect what it claims → resolve the partner → policy (what is allowed)
 * → crypto (is it genuine) → freshness → replay → audit.
 *
 * @module
 */
import { hashBackend as backend } from '#crypto-hash'
import { emitAudit, normalizeSinks, type AuditErrorHandler } from '../audit/dispatch.js'
import type { AuditEvent, AuditOutcome, AuditSink } from '../audit/events.js'
import { fromUtf8 } from '../encoding.js'
import { ConfigurationError, VerificationError } from '../errors.js'
import { MemoryUpgradeStore } from '../replay/memory.js'
import type { ReplayStore, UpgradeStore } from '../replay/store.js'
import { freshnessSchema, parseOptions } from '../schemas.js'
import { failure, VERIFY_NOW, type VerifiesNow } from '../schemes/common.js'
import { checkInstant, DEFAULT_MAX_AGE_MS, DEFAULT_MAX_FUTURE_MS } from '../timestamps.js'
import type {
  AuthStrategy,
  FailureReason,
  Scheme,
  SecKeyCredentials,
  SignatureCredentials,
  Transport,
  VerificationFailure,
  VerificationResult,
  VerificationSuccess,
} from '../types.js'
import { detect, type Claim, type HeadersLike } from './detect.js'
import { legacyRefusal, resolvePolicy, type MigrationPolicy, type ResolvedPolicy } from './policy.js'

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

/** Options of {@link DualModeVerifier}. */
export interface DualModeVerifierOptions {
  /** Single-partner mode: the partner id (defaults to the strategies' partner id). */
  partnerId?: string
  /** Single-partner mode: the signature strategy. */
  signature?: AuthStrategy<SignatureCredentials>
  /** Single-partner mode: the legacy strategy. */
  secKey?: AuthStrategy<SecKeyCredentials>
  /** Multi-partner mode: a record by partner id, or a resolver. Exclusive with the single-partner options. */
  partners?: Record<string, PartnerConfig> | PartnerResolver
  /** The migration policy (per-partner policies are laid over it). */
  policy?: MigrationPolicy
  /** The freshness window; default 5 minutes each way. `false` turns freshness off explicitly. */
  freshness?:
    | {
        /** How old a timestamp may be, in milliseconds. Default 300 000. */
        maxAgeMs?: number
        /** How far ahead of this server's clock a timestamp may be, in milliseconds. Default 300 000. */
        maxFutureMs?: number
      }
    | false
  /** Replay protection. Without a store, a captured credential can be reused within the window. */
  replay?: ReplayStore
  /** When the replay store fails: `reject` (default, `replay_check_failed`) or `accept` with a `replay_unchecked` warning. */
  replayFailure?: 'reject' | 'accept'
  /** How long replay entries live when freshness is off. Default 24 hours. */
  replayTtlMs?: number
  /** Where `stickyUpgrade` remembers upgraded partners. Default: in memory. */
  upgradeStore?: UpgradeStore
  /** Audit sinks: each verification emits one {@link AuditEvent}. */
  audit?: AuditSink | AuditSink[]
  /** Called when an audit sink throws or rejects. Verification is never affected. */
  onAuditError?: (error: unknown, event: AuditEvent) => void
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number
}

/** What {@link DualModeVerifier.verify} reads from a request. */
export interface VerifyRequest {
  /** The parsed JSON body (a string or bytes are parsed as JSON). */
  body?: unknown
  /** Request headers: a plain object, Node `IncomingHttpHeaders` or Fetch `Headers`. */
  headers?: HeadersLike
  /** The raw body as received; when given, the replay fingerprint covers these exact bytes. */
  rawBody?: string | Uint8Array
}

/** Where a request came from, for the audit trail. */
export interface VerifyContext {
  /** The route or endpoint name. */
  route?: string
  /** The client address. */
  sourceIp?: string
}

/** Counters of a verifier. */
export interface VerifierStats {
  /** Audit sink failures isolated so far. */
  auditErrors: number
}

interface ResolvedPartner {
  id: string
  signature: AuthStrategy<SignatureCredentials> | undefined
  secKey: AuthStrategy<SecKeyCredentials> | undefined
  policy: ResolvedPolicy
}

/** What the replay check found; `unfingerprintable` is a body that cannot be fingerprinted (the request's fault). */
type RememberOutcome = 'new' | 'duplicate' | 'conflict' | 'error' | 'unfingerprintable'

/** A request in the pipeline, carried from stage to stage. */
interface Pending {
  claim: Claim
  partner: ResolvedPartner
  strategy: AuthStrategy<unknown>
  body: Record<string, unknown> | undefined
  rawBody: string | Uint8Array | undefined
  nowMs: number
  observe: boolean
  warnings: string[]
  /** The first reason that would have rejected in observe mode. */
  wouldReject: FailureReason | null
}

/** Internal outcome of the pipeline, before auditing. */
interface Decision {
  result: VerificationResult
  outcome: AuditOutcome
  /** The first reason that would have rejected in observe mode. */
  wouldReject: FailureReason | null
  transport: Transport | null
}

const CREDENTIAL_FIELDS = new Set(['signature', 'sec_key', 'timestamp'])
const DEFAULT_REPLAY_TTL_MS = 24 * 60 * 60 * 1000
const MAX_AUDIT_TEXT = 128
const WHITESPACE = /\s+/g

/**
 * Accepts Smile ID callbacks and responses in either scheme while a partner migrates, and reports which
 * scheme each request used.
 *
 * Rules: the request's fields say what it claims; the policy decides what is allowed; then crypto verifies.
 * When a request carries both credentials, the signature alone decides and a failed signature never falls
 * back to sec_key. Freshness (5 minutes each way by default) applies to every timestamp spelling.
 *
 * @example
 * ```ts
 * import { DualModeVerifier, LegacySecKeyAuth, MemoryReplayStore, SignatureAuth, jsonlAuditSink } from 'smileid-auth-shim'
 *
 * const verifier = new DualModeVerifier({
 *   signature: new SignatureAuth({ partnerId: '085', apiKey: process.env.SMILEID_API_KEY! }),
 *   secKey: new LegacySecKeyAuth({ partnerId: '085', apiKey: process.env.SMILEID_SEC_KEY_API_KEY! }),
 *   policy: { legacy: 'warn', legacySunsetAt: '2027-03-31T00:00:00Z' },
 *   replay: new MemoryReplayStore(),
 *   audit: jsonlAuditSink('./smileid-audit.jsonl'),
 * })
 *
 * const result = await verifier.verify({ body: callbackBody, headers: req.headers })
 * if (!result.ok) return res.status(401).json({ error: result.reason })
 * console.log(`authenticated with ${result.scheme}`, result.warnings)
 * ```
 * @see docs/migration-playbook.md for the steps from observe to enforce.
 */
export class DualModeVerifier {
  readonly #single: ResolvedPartner | undefined
  readonly #partners: Map<string, ResolvedPartner> | undefined
  readonly #resolver: PartnerResolver | undefined
  readonly #resolved = new WeakMap<PartnerConfig, ResolvedPartner>()
  readonly #policy: ResolvedPolicy
  readonly #freshness: { maxAgeMs: number; maxFutureMs: number } | false
  readonly #replay: ReplayStore | undefined
  readonly #replayFailure: 'reject' | 'accept'
  readonly #replayTtlMs: number
  readonly #upgrades: UpgradeStore | undefined
  readonly #knownUpgraded = new Set<string>()
  readonly #sinks: AuditSink[]
  readonly #onAuditError: AuditErrorHandler
  readonly #now: () => number
  readonly #stats: VerifierStats = { auditErrors: 0 }
  #auditTimeMs = NaN
  #auditTime = ''

  /** @throws {@link ConfigurationError} with code `invalid_options` or `missing_key` for unusable options. */
  constructor(options: DualModeVerifierOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('invalid_options', 'DualModeVerifier needs options')
    }
    const known = new Set([
      'partnerId',
      'signature',
      'secKey',
      'partners',
      'policy',
      'freshness',
      'replay',
      'replayFailure',
      'replayTtlMs',
      'upgradeStore',
      'audit',
      'onAuditError',
      'now',
    ])
    const unknown = Object.keys(options).filter((key) => !known.has(key))
    if (unknown.length > 0)
      throw new ConfigurationError('invalid_options', `unknown option ${unknown.join(', ')}`)

    this.#policy = resolvePolicy(options.policy)
    const freshness = parseOptions(freshnessSchema, options.freshness ?? {}, 'freshness')
    this.#freshness =
      freshness === false
        ? false
        : {
            maxAgeMs: freshness.maxAgeMs ?? DEFAULT_MAX_AGE_MS,
            maxFutureMs: freshness.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS,
          }

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
      this.#single = resolvePartner(id!, options, this.#policy, 'options')
    } else if (typeof options.partners === 'function') {
      this.#resolver = options.partners
    } else if (typeof options.partners === 'object' && options.partners !== null) {
      this.#partners = new Map()
      for (const [id, config] of Object.entries(options.partners)) {
        this.#partners.set(id, resolvePartner(id, config, this.#policy, `partners.${id}`))
      }
      if (this.#partners.size === 0) throw new ConfigurationError('missing_key', 'partners is empty')
    } else {
      throw new ConfigurationError('missing_key', 'give a signature or secKey strategy, or partners')
    }

    if (options.replay !== undefined && typeof options.replay?.remember !== 'function') {
      throw new ConfigurationError(
        'invalid_options',
        'replay must have a remember(key, fingerprint, ttlMs) method',
      )
    }
    this.#replay = options.replay
    this.#replayFailure = options.replayFailure ?? 'reject'
    if (this.#replayFailure !== 'reject' && this.#replayFailure !== 'accept') {
      throw new ConfigurationError('invalid_options', "replayFailure must be 'reject' or 'accept'")
    }
    this.#replayTtlMs = options.replayTtlMs ?? DEFAULT_REPLAY_TTL_MS
    if (!(this.#replayTtlMs > 0) || !Number.isFinite(this.#replayTtlMs)) {
      throw new ConfigurationError('invalid_options', 'replayTtlMs must be a positive number')
    }
    const sticky =
      this.#policy.stickyUpgrade ||
      [...(this.#partners?.values() ?? []), this.#single].some((partner) => partner?.policy.stickyUpgrade) ||
      this.#resolver !== undefined
    this.#upgrades = options.upgradeStore ?? (sticky ? new MemoryUpgradeStore() : undefined)
    this.#sinks = normalizeSinks(options.audit)
    for (const sink of this.#sinks) {
      if (typeof sink !== 'function' && typeof sink?.write !== 'function') {
        throw new ConfigurationError(
          'invalid_options',
          'each audit sink must be a function or have a write method',
        )
      }
    }
    const onAuditError = options.onAuditError
    this.#onAuditError = (error, event) => {
      this.#stats.auditErrors++
      onAuditError?.(error, event)
    }
    this.#now = options.now ?? Date.now
  }

  /** The verifier-level policy, with defaults applied (adapters read `legacySunsetAt` for `Sunset` headers). */
  get policy(): ResolvedPolicy {
    return this.#policy
  }

  /**
   * The legacy sunset that applies to the partner of a result: its own policy's `legacySunsetAt`, else the
   * verifier's; `null` when none is set or the result is a failure. Adapters put it in `Sunset` headers.
   *
   * @example
   * ```ts
   * const result = await verifier.verify({ body })
   * const sunset = verifier.legacySunsetFor(result) // Date | null
   * ```
   */
  legacySunsetFor(result: VerificationResult): Date | null {
    if (!result.ok) return null
    const partner = this.#single ?? this.#partners?.get(result.partnerId)
    return (partner?.policy ?? this.#policy).legacySunsetAt ?? null
  }

  /** Live counters. */
  get stats(): Readonly<VerifierStats> {
    return this.#stats
  }

  /**
   * Verifies one request. Never throws on what a request contains: every problem is a failure result
   * with a {@link FailureReason}. Emits one audit event.
   */
  verify(request: VerifyRequest, context?: VerifyContext): Promise<VerificationResult> {
    const nowMs = this.#now()
    let decision: Decision | Promise<Decision>
    let body: Record<string, unknown> | undefined
    let claim: Claim | undefined
    try {
      const read = readBody(request)
      if ('failure' in read) {
        decision = reject(read.failure, null)
      } else {
        body = read.body
        const detected = detect(body, request?.headers)
        if ('reason' in detected) {
          decision = reject(
            failure(null, detected.reason, detected.message, partnerText(detected.partnerId)),
            null,
          )
        } else {
          claim = detected
          decision = this.#decide(claim, body, request, nowMs)
        }
      }
    } catch {
      decision = unexpected(claim)
    }
    // The common case (node:crypto, in-memory state) decides synchronously: one promise per request.
    if (decision instanceof Promise) {
      return decision.then(
        (settled) => this.#complete(settled, claim, body, context, nowMs),
        () => this.#complete(unexpected(claim), claim, body, context, nowMs),
      )
    }
    return Promise.resolve(this.#complete(decision, claim, body, context, nowMs))
  }

  #complete(
    decision: Decision,
    claim: Claim | undefined,
    body: Record<string, unknown> | undefined,
    context: VerifyContext | undefined,
    nowMs: number,
  ): VerificationResult {
    if (this.#sinks.length > 0) this.#audit(decision, claim, body, context, nowMs)
    return decision.result
  }

  /** Like {@link DualModeVerifier.verify}, but throws a {@link VerificationError} when the request is rejected. */
  async verifyOrThrow(request: VerifyRequest, context?: VerifyContext): Promise<VerificationSuccess> {
    const result = await this.verify(request, context)
    if (!result.ok) throw new VerificationError(result)
    return result
  }

  /**
   * The pipeline, in stages that continue synchronously unless a stage is asynchronous (a partner resolver,
   * an upgrade or replay store, a WebCrypto strategy).
   */
  #decide(
    claim: Claim,
    body: Record<string, unknown> | undefined,
    request: VerifyRequest,
    nowMs: number,
  ): Decision | Promise<Decision> {
    const claimedId = partnerText(claim.partnerId)
    if (
      claim.partnerId !== undefined &&
      claim.partnerId !== null &&
      claim.partnerId !== '' &&
      claimedId === null
    ) {
      return reject(
        failure(claim.scheme, 'malformed_credentials', 'partner id must be a string or a number', null),
        claim.transport,
      )
    }
    const partner = this.#partner(claimedId)
    return partner instanceof Promise
      ? partner.then((resolved) => this.#withPartner(claim, claimedId, resolved, body, request, nowMs))
      : this.#withPartner(claim, claimedId, partner, body, request, nowMs)
  }

  #withPartner(
    claim: Claim,
    claimedId: string | null,
    partner: ResolvedPartner | undefined,
    body: Record<string, unknown> | undefined,
    request: VerifyRequest,
    nowMs: number,
  ): Decision | Promise<Decision> {
    if (partner === undefined) {
      return reject(
        failure(claim.scheme, 'unknown_partner', 'this partner is not configured here', claimedId),
        claim.transport,
      )
    }
    const strategy = claim.scheme === 'signature' ? partner.signature : partner.secKey
    if (strategy === undefined) {
      return reject(
        failure(
          claim.scheme,
          'scheme_not_allowed',
          `the ${claim.scheme} scheme is not configured for this partner`,
          partner.id,
        ),
        claim.transport,
      )
    }
    const policy = partner.policy
    const state: Pending = {
      claim,
      partner,
      strategy,
      body,
      rawBody: request.rawBody,
      nowMs,
      observe: policy.mode === 'observe',
      warnings: [],
      wouldReject: null,
    }
    if (claim.scheme === 'sec_key' && policy.stickyUpgrade) {
      const known = this.#isUpgraded(partner.id)
      return known instanceof Promise
        ? known.then((upgraded) => this.#afterUpgradeCheck(state, upgraded))
        : this.#afterUpgradeCheck(state, known)
    }
    return this.#afterUpgradeCheck(state, false)
  }

  /** Policy (what is allowed, before any crypto), then crypto. */
  #afterUpgradeCheck(state: Pending, upgraded: boolean | null): Decision | Promise<Decision> {
    const { claim, partner, warnings } = state
    const policy = partner.policy
    if (claim.scheme === 'sec_key') {
      if (upgraded === null) {
        if (this.#replayFailure === 'reject' && !state.observe) {
          return reject(
            failure('sec_key', 'replay_check_failed', 'the upgrade store could not be reached', partner.id),
            claim.transport,
          )
        }
        warnings.push(state.observe ? 'would_reject:replay_check_failed' : 'replay_unchecked')
      }
      const refusal = legacyRefusal(policy, state.nowMs, upgraded === true)
      if (refusal !== null) {
        if (!state.observe) {
          return reject(failure('sec_key', 'scheme_not_allowed', refusal, partner.id), claim.transport)
        }
        state.wouldReject = 'scheme_not_allowed'
        warnings.push('would_reject:scheme_not_allowed')
      }
      if (policy.legacy === 'warn' || policy.legacySunsetAt !== undefined) warnings.push('legacy_scheme')
    }
    if (claim.both) warnings.push('both_credentials_present')

    // Crypto: always enforced, whatever the mode.
    const strategy = state.strategy
    const fast = (strategy as Partial<VerifiesNow>)[VERIFY_NOW]
    const verified =
      fast !== undefined ? fast.call(strategy, claim.credentials) : strategy.verify(claim.credentials)
    return verified instanceof Promise
      ? verified.then((settled) => this.#afterCrypto(state, settled))
      : this.#afterCrypto(state, verified)
  }

  /** Freshness, then the replay check. */
  #afterCrypto(state: Pending, verified: VerificationResult): Decision | Promise<Decision> {
    const { claim, partner, warnings } = state
    if (!verified.ok) return reject({ ...verified, partnerId: partner.id }, claim.transport)
    for (const warning of verified.warnings) warnings.push(warning)

    if (this.#freshness !== false) {
      const fresh = checkInstant(
        verified.issuedAt === null ? null : verified.issuedAt.getTime(),
        state.nowMs,
        this.#freshness.maxAgeMs,
        this.#freshness.maxFutureMs,
      )
      if (!fresh.ok) {
        const { reason, message } = fresh
        if (!state.observe) return reject(failure(claim.scheme, reason, message, partner.id), claim.transport)
        state.wouldReject ??= reason
        warnings.push(`would_reject:${reason}`)
      }
    }

    if (this.#replay === undefined) return this.#accept(state, verified, null)
    return this.#remember(claim, partner.id, state.body, state.rawBody).then((outcome) =>
      this.#accept(state, verified, outcome),
    )
  }

  /** Applies the replay outcome and builds the success. */
  #accept(state: Pending, verified: VerificationSuccess, outcome: RememberOutcome | null): Decision {
    const { claim, partner, warnings, observe } = state
    let duplicate = false
    if (outcome === 'duplicate') duplicate = true
    else if (outcome === 'conflict') {
      const message = 'this credential was already used with a different body'
      if (!observe) return reject(failure(claim.scheme, 'replayed', message, partner.id), claim.transport)
      state.wouldReject ??= 'replayed'
      warnings.push('would_reject:replayed')
    } else if (outcome === 'unfingerprintable') {
      // Fail closed whatever replayFailure says: padding a captured credential's body must not skip it.
      const message = 'the body could not be fingerprinted for the replay check'
      if (!observe) {
        return reject(failure(claim.scheme, 'replay_check_failed', message, partner.id), claim.transport)
      }
      state.wouldReject ??= 'replay_check_failed'
      warnings.push('would_reject:replay_check_failed')
    } else if (outcome === 'error') {
      if (this.#replayFailure === 'reject' && !observe) {
        return reject(
          failure(claim.scheme, 'replay_check_failed', 'the replay store could not be reached', partner.id),
          claim.transport,
        )
      }
      if (observe && this.#replayFailure === 'reject') {
        state.wouldReject ??= 'replay_check_failed'
        warnings.push('would_reject:replay_check_failed')
      } else warnings.push('replay_unchecked')
    }

    // Only a request that passed every check upgrades a partner; one observe mode merely let through does not.
    if (
      claim.scheme === 'signature' &&
      state.wouldReject === null &&
      this.#upgrades !== undefined &&
      partner.policy.stickyUpgrade
    ) {
      this.#markUpgraded(partner.id)
    }

    const result: VerificationSuccess = {
      ok: true,
      scheme: claim.scheme,
      partnerId: partner.id,
      timestamp: verified.timestamp,
      issuedAt: verified.issuedAt,
      keyId: verified.keyId,
      transport: claim.transport,
      legacy: claim.scheme === 'sec_key',
      duplicate,
      warnings,
    }
    return {
      result,
      outcome: state.wouldReject === null ? 'accepted' : 'would_reject',
      wouldReject: state.wouldReject,
      transport: claim.transport,
    }
  }

  #partner(claimedId: string | null): ResolvedPartner | undefined | Promise<ResolvedPartner | undefined> {
    if (this.#single !== undefined) {
      return claimedId === null || samePartner(claimedId, this.#single.id) ? this.#single : undefined
    }
    if (claimedId === null) return undefined
    if (this.#partners !== undefined) {
      const exact = this.#partners.get(claimedId)
      if (exact !== undefined) return exact
      for (const partner of this.#partners.values()) if (samePartner(claimedId, partner.id)) return partner
      return undefined
    }
    return this.#resolve(claimedId)
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
      // Resolvers usually return cached configs: resolve each config object once.
      let partner = this.#resolved.get(config)
      if (partner === undefined || partner.id !== id) {
        partner = resolvePartner(id, config, this.#policy, `partner ${claimedId}`)
        this.#resolved.set(config, partner)
      }
      return partner
    } catch {
      // A resolver that fails (secret store down, bad config) cannot vouch for the partner.
      return undefined
    }
  }

  #isUpgraded(partnerId: string): boolean | Promise<boolean | null> {
    if (this.#knownUpgraded.has(partnerId)) return true
    return this.#askUpgraded(partnerId)
  }

  async #askUpgraded(partnerId: string): Promise<boolean | null> {
    try {
      const upgraded = await this.#upgrades!.isUpgraded(partnerId)
      if (upgraded) this.#knownUpgraded.add(partnerId)
      return upgraded
    } catch {
      return null
    }
  }

  #markUpgraded(partnerId: string): void {
    if (this.#knownUpgraded.has(partnerId)) return
    this.#knownUpgraded.add(partnerId)
    this.#upgrades!.markUpgraded(partnerId).then(undefined, () => this.#knownUpgraded.delete(partnerId))
  }

  async #remember(
    claim: Claim,
    partnerId: string,
    body: Record<string, unknown> | undefined,
    rawBody: string | Uint8Array | undefined,
  ): Promise<RememberOutcome> {
    let credentialHash: string
    let fingerprint: string
    try {
      const credential = String(claim.credential).replace(WHITESPACE, '')
      ;[credentialHash, fingerprint] = await Promise.all([
        backend.sha256Hex(credential),
        backend.sha256Hex(rawBody ?? canonicalJson(body ?? {}, CREDENTIAL_FIELDS)),
      ])
    } catch {
      // The request, not the store, is at fault (a body nested too deeply): never "unchecked".
      return 'unfingerprintable'
    }
    try {
      const ttl =
        this.#freshness === false ? this.#replayTtlMs : this.#freshness.maxAgeMs + this.#freshness.maxFutureMs
      const key = `${claim.scheme}:${partnerId}:${credentialHash}`
      const outcome = await this.#replay!.remember(key, fingerprint, ttl)
      // Any other answer is a broken store: treating it as 'new' would switch replay protection off silently.
      return outcome === 'new' || outcome === 'duplicate' || outcome === 'conflict' ? outcome : 'error'
    } catch {
      return 'error'
    }
  }

  #audit(
    decision: Decision,
    claim: Claim | undefined,
    body: Record<string, unknown> | undefined,
    context: VerifyContext | undefined,
    nowMs: number,
  ): void {
    const result = decision.result
    // Many requests share a millisecond under load: format each instant once.
    if (nowMs !== this.#auditTimeMs) {
      this.#auditTimeMs = nowMs
      this.#auditTime = new Date(nowMs).toISOString()
    }
    const event: AuditEvent = {
      time: this.#auditTime,
      direction: 'incoming',
      partnerId: result.partnerId,
      scheme: result.ok ? result.scheme : (result.scheme ?? claim?.scheme ?? null),
      outcome: decision.outcome,
      reason: result.ok ? decision.wouldReject : result.reason,
      keyId: result.ok ? result.keyId : null,
      transport: decision.transport,
      warnings: result.ok ? result.warnings : [],
      route: auditText(context?.route),
      sourceIp: auditText(context?.sourceIp),
      source_sdk: auditText(body?.source_sdk),
      source_sdk_version: auditText(body?.source_sdk_version),
      // Provisional: a refusal by policy does not run the crypto check yet, so it counts as unverified.
      authenticated: result.ok,
      instance: null,
    }
    emitAudit(this.#sinks, event, this.#onAuditError)
  }
}

/** Defence in depth: nothing a request carries may turn into an exception for the caller. */
function unexpected(claim: Claim | undefined): Decision {
  return reject(
    failure(claim?.scheme ?? null, 'malformed_credentials', 'the request could not be verified', null),
    null,
  )
}

function reject(result: VerificationFailure, transport: Transport | null): Decision {
  return { result, outcome: 'rejected', wouldReject: null, transport }
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
    signature,
    secKey,
    policy: config.policy === undefined ? base : resolvePolicy(config.policy, base, `${what}.policy`),
  }
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

/** `"085"` and `"85"` name the same partner; other ids must match exactly. */
function samePartner(a: string, b: string): boolean {
  if (a === b) return true
  return /^\d{1,15}$/.test(a) && /^\d{1,15}$/.test(b) && Number(a) === Number(b)
}

function partnerText(value: unknown): string | null {
  if (typeof value === 'string') return value.length > 0 && value.length <= 64 ? value : null
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value)
  return null
}

function auditText(value: unknown): string | null {
  return typeof value === 'string' ? value.slice(0, MAX_AUDIT_TEXT) : null
}

type BodyRead = { body: Record<string, unknown> | undefined } | { failure: VerificationFailure }

/** Accepts a parsed object, or JSON text/bytes in `body` or `rawBody`. */
function readBody(request: VerifyRequest): BodyRead {
  if (typeof request !== 'object' || request === null) {
    return { failure: failure(null, 'missing_credentials', 'no request was given', null) }
  }
  let body = request.body
  if (body === undefined && request.rawBody !== undefined) body = request.rawBody
  if (typeof body === 'string' || body instanceof Uint8Array) {
    try {
      body = JSON.parse(typeof body === 'string' ? body : fromUtf8(body)) as unknown
    } catch {
      return { failure: failure(null, 'malformed_credentials', 'the body is not JSON', null) }
    }
  }
  if (body === undefined || body === null) return { body: undefined }
  if (typeof body !== 'object' || Array.isArray(body)) {
    return { failure: failure(null, 'malformed_credentials', 'the body must be a JSON object', null) }
  }
  return { body: body as Record<string, unknown> }
}

/**
 * Deterministic JSON with sorted keys, leaving out the credential fields at the top level, for the
 * replay fingerprint. Throws on cycles or extreme nesting; the caller maps that to a failure.
 */
export function canonicalJson(value: unknown, omit?: ReadonlySet<string>, depth = 0): string {
  if (depth > 256) throw new RangeError('body is nested too deeply')
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  // One pass with string appends: this runs on every request that has a replay store and no raw body.
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ','
      out += canonicalJson(value[i], undefined, depth + 1)
    }
    return out + ']'
  }
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).sort()
  let out = '{'
  for (const key of keys) {
    if (omit !== undefined && omit.has(key)) continue
    if (out.length > 1) out += ','
    out += JSON.stringify(key) + ':' + canonicalJson(record[key], undefined, depth + 1)
  }
  return out + '}'
}
