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
import { defaultInstance } from '#instance'
import { emitAudit, normalizeSinks, watchSinkFailures, type AuditErrorHandler } from '../audit/dispatch.js'
import type { AuditEvent, AuditOutcome, AuditSink } from '../audit/events.js'
import { fromUtf8 } from '../encoding.js'
import { partnerKey, readClaim, samePartner, type Claim, type HeadersLike } from '../claims.js'
import { ConfigurationError, VerificationError } from '../errors.js'
import { MemoryUpgradeStore } from '../replay/memory.js'
import { bodyFingerprint } from '../replay/fingerprint.js'
import type { ReplayStore, UpgradeStore } from '../replay/store.js'
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
import {
  checkChoice,
  checkFreshness,
  checkInstance,
  checkKnownKeys,
  checkOptionsObject,
  checkReplayTtl,
  VERIFIER_OPTION_KEYS,
} from './options.js'
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
  /**
   * When the upgrade store cannot be read for a `stickyUpgrade` partner's sec_key request: `reject`
   * (default, `replay_check_failed`), or `accept` with one `upgrade_unchecked` warning, which lets an
   * upgraded partner's legacy client back in while the store is down. `replayFailure` does not govern this.
   */
  upgradeFailure?: 'reject' | 'accept'
  /**
   * Audit sinks: each verification emits one {@link AuditEvent}. Its `authenticated` says whether the
   * credential verified and was current, whatever the outcome: a sec_key refused by policy, a brownout or
   * a sticky upgrade is still checked (the refused client may be real), while a stale credential (outside
   * the freshness window) or a replay with another body is not authenticated, since anyone holding an old
   * capture can send one. `instance` names this receiver (see {@link DualModeVerifierOptions.instance}).
   */
  audit?: AuditSink | AuditSink[]
  /** Called when an audit sink throws or rejects; may be async. Verification is never affected, nor by this handler failing. */
  onAuditError?: (error: unknown, event: AuditEvent) => unknown
  /**
   * Names this receiver in every audit record, so that a fleet's merged logs say which instance wrote
   * what. Default: the host name on Node, `null` on Workers and in browsers. `null` records none.
   */
  instance?: string | null
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
  /** Set when observe mode let through a credential that proves no live client (stale, or replayed). */
  unproven?: boolean
}

/** Internal outcome of the pipeline, before auditing. */
interface Decision {
  result: VerificationResult
  outcome: AuditOutcome
  /** The first reason that would have rejected in observe mode. */
  wouldReject: FailureReason | null
  transport: Transport | null
  /** For the audit event: the credential verified and was current (not stale, not a replay). Absent: `false`. */
  authenticated?: boolean
  /** For the audit event of a rejection (a success carries its own warnings). */
  auditWarnings?: string[]
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
  /**
   * Partner records by their configured id and by {@link partnerKey} of it, so that every spelling of a
   * known id and every unknown id costs one or two hash lookups, whatever the number of partners.
   */
  readonly #partners: Map<string, ResolvedPartner> | undefined
  readonly #resolver: PartnerResolver | undefined
  readonly #resolved = new WeakMap<PartnerConfig, ResolvedPartner>()
  readonly #policy: ResolvedPolicy
  readonly #freshness: { maxAgeMs: number; maxFutureMs: number } | false
  readonly #replay: ReplayStore | undefined
  readonly #replayFailure: 'reject' | 'accept'
  readonly #upgradeFailure: 'reject' | 'accept'
  readonly #instance: string | null
  /**
   * The policy that applied to each result of a resolver partner, for {@link DualModeVerifier.legacySunsetFor}
   * (a resolver cannot be asked again synchronously). Configured partners are looked up by id instead:
   * a WeakMap entry per request costs about 9 % of a signature verification.
   */
  readonly #policyOf = new WeakMap<VerificationResult, ResolvedPolicy>()
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
    checkOptionsObject(options)
    checkKnownKeys(options, VERIFIER_OPTION_KEYS, '')
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new ConfigurationError(
        'invalid_options',
        'now must be a function returning epoch milliseconds, such as () => Date.now()',
      )
    }
    this.#now = options.now ?? Date.now

    this.#policy = resolvePolicy(options.policy)
    const freshness = checkFreshness(options.freshness)
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
      this.#partners = partnerRecords(options.partners, this.#policy)
    } else {
      throw new ConfigurationError('missing_key', 'give a signature or secKey strategy, or partners')
    }

    if (options.replay !== undefined && typeof options.replay?.remember !== 'function') {
      throw new ConfigurationError(
        'invalid_options',
        'replay must be a replay store with a remember(key, fingerprint, ttlMs) method, such as new MemoryReplayStore()',
      )
    }
    this.#replay = options.replay
    this.#replayFailure =
      checkChoice(options.replayFailure, ['reject', 'accept'], 'replayFailure') ?? 'reject'
    this.#upgradeFailure =
      checkChoice(options.upgradeFailure, ['reject', 'accept'], 'upgradeFailure') ?? 'reject'
    this.#replayTtlMs = checkReplayTtl(options.replayTtlMs) ?? DEFAULT_REPLAY_TTL_MS
    if (
      options.upgradeStore !== undefined &&
      (typeof options.upgradeStore?.isUpgraded !== 'function' ||
        typeof options.upgradeStore.markUpgraded !== 'function')
    ) {
      throw new ConfigurationError(
        'invalid_options',
        'upgradeStore must have isUpgraded(partnerId) and markUpgraded(partnerId) methods, such as new MemoryUpgradeStore()',
      )
    }
    const sticky =
      this.#policy.stickyUpgrade ||
      [...(this.#partners?.values() ?? []), this.#single].some((partner) => partner?.policy.stickyUpgrade) ||
      this.#resolver !== undefined
    this.#upgrades = options.upgradeStore ?? (sticky ? new MemoryUpgradeStore() : undefined)
    this.#sinks = normalizeSinks(options.audit)
    for (const sink of this.#sinks) {
      if (typeof sink !== 'function' && !hasWrite(sink)) {
        throw new ConfigurationError(
          'invalid_options',
          'each audit sink must be a function or an object with a write(event) method, such as jsonlAuditSink(path)' +
            (typeof sink === 'string' ? ' (a file path goes through jsonlAuditSink)' : ''),
        )
      }
    }
    const onAuditError = options.onAuditError
    if (onAuditError !== undefined && typeof onAuditError !== 'function') {
      throw new ConfigurationError(
        'invalid_options',
        'onAuditError must be a function (error, event) => void',
      )
    }
    this.#onAuditError = (error, event) => {
      this.#stats.auditErrors++
      // Returned so that dispatch can silence an async handler's rejection.
      return onAuditError?.(error, event)
    }
    // Failures a sink meets after write() returned (a full disk under jsonlAuditSink) count too.
    watchSinkFailures(this.#sinks, () => {
      this.#stats.auditErrors++
    })
    const instance = checkInstance(options.instance)
    this.#instance = instance === undefined ? defaultInstance() : instance
    let constructedAt = Number.NaN
    try {
      constructedAt = this.#now()
    } catch {
      // A clock that throws will fail each request the same way; it is not this check's to report.
    }
    warnPastSunsets(
      [this.#policy, this.#single?.policy, ...[...(this.#partners?.values() ?? [])].map((p) => p.policy)],
      constructedAt,
    )
  }

  /** The verifier-level policy, with defaults applied. For a request's `Sunset` header use {@link DualModeVerifier.legacySunsetFor}. */
  get policy(): ResolvedPolicy {
    return this.#policy
  }

  /** Live counters. */
  get stats(): Readonly<VerifierStats> {
    return this.#stats
  }

  /**
   * The legacy sunset that applies to the partner of `result`: that partner's own `legacySunsetAt` when
   * its policy sets one, else the verifier's; `null` when neither does. For the `Deprecation` and
   * `Sunset` response headers of legacy requests (RFC 9745, RFC 8594), which must follow the partner's
   * own migration, not the verifier-wide one.
   *
   * Works for results of this verifier whatever kind of partner they came from: a configured (single or
   * record) partner is found by `result.partnerId`, in any spelling; for a resolver partner the policy
   * in force is remembered per result object (a copy of the result, or a result of another verifier,
   * gets the verifier's sunset). An unknown partner or none at all gets the verifier's sunset. Returns a
   * fresh `Date` each time.
   *
   * @example
   * ```ts
   * const result = await verifier.verify({ body, headers: req.headers })
   * const sunset = result.ok && result.legacy ? verifier.legacySunsetFor(result) : null
   * if (sunset !== null) res.setHeader('Sunset', sunset.toUTCString())
   * ```
   */
  legacySunsetFor(result: VerificationResult): Date | null {
    let policy = this.#policyOf.get(result)
    if (policy === undefined) {
      let partnerId: unknown
      try {
        partnerId = (result as { partnerId?: unknown } | null | undefined)?.partnerId
      } catch {
        partnerId = undefined
      }
      policy = typeof partnerId === 'string' ? this.#configuredPolicy(partnerId) : undefined
    }
    const sunset = (policy ?? this.#policy).legacySunsetAt
    return sunset === undefined ? null : new Date(sunset.getTime())
  }

  /** The policy of a configured (single or record) partner, by any spelling of its id. */
  #configuredPolicy(partnerId: string): ResolvedPolicy | undefined {
    if (this.#single !== undefined) {
      return samePartner(partnerId, this.#single.id) ? this.#single.policy : undefined
    }
    if (this.#partners === undefined) return undefined
    const exact = this.#partners.get(partnerId)
    if (exact !== undefined) return exact.policy
    for (const partner of this.#partners.values())
      if (samePartner(partnerId, partner.id)) return partner.policy
    return undefined
  }

  /**
   * Verifies one request. Never throws on what a request contains: every problem is a failure result
   * with a {@link FailureReason}. Emits one audit event.
   */
  verify(request: VerifyRequest, context?: VerifyContext): Promise<VerificationResult> {
    // NaN when the clock fails: freshness then fails closed rather than the call throwing.
    let nowMs = Number.NaN
    let decision: Decision | Promise<Decision>
    let body: Record<string, unknown> | undefined
    let claim: Claim | undefined
    try {
      nowMs = this.#now()
      const read = readBody(request)
      if ('failure' in read) {
        decision = reject(read.failure, null)
      } else {
        body = read.body
        const detected = readClaim(body, request?.headers)
        if (!detected.ok) {
          decision = reject(
            failure(detected.scheme, detected.reason, detected.message, detected.partnerId),
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
    if (this.#sinks.length > 0) {
      // The audit step reads request-supplied objects too (body fields, the context). Plain objects cost
      // nothing extra; when a read throws (a getter, a Proxy) the event is built again from guarded
      // copies. Emitting is the event's last step and never throws, so no event goes out twice. What
      // still fails is counted, never thrown at the caller.
      try {
        this.#audit(decision, claim, body, context, nowMs)
      } catch {
        try {
          this.#audit(decision, claim, auditBody(body), auditContext(context), nowMs)
        } catch {
          this.#stats.auditErrors++
        }
      }
    }
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
    // The claim reader has already refused ids that are not text and partner claims that disagree.
    const claimedId = claim.partnerId
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
        // The upgrade store is the sticky upgrade's memory: without it an upgraded partner's legacy
        // client would be let back in, so only an option named for upgrades may accept that.
        if (this.#upgradeFailure === 'accept') warnings.push('upgrade_unchecked')
        else if (!state.observe) {
          return this.#refuse(
            state,
            failure('sec_key', 'replay_check_failed', 'the upgrade store could not be reached', partner.id),
            [],
          )
        } else {
          state.wouldReject ??= 'replay_check_failed'
          warnings.push('would_reject:replay_check_failed')
        }
      }
      const refusal = legacyRefusal(policy, state.nowMs, upgraded === true)
      if (refusal !== null) {
        const notes = refusal.brownout ? ['brownout'] : []
        if (!state.observe) {
          return this.#refuse(
            state,
            failure('sec_key', 'scheme_not_allowed', refusal.message, partner.id),
            notes,
          )
        }
        state.wouldReject ??= 'scheme_not_allowed'
        warnings.push('would_reject:scheme_not_allowed', ...notes)
      }
      if (policy.legacy === 'warn' || policy.legacySunsetAt !== undefined) warnings.push('legacy_scheme')
    }
    if (claim.both) warnings.push('both_credentials_present')

    // Crypto: always enforced, whatever the mode.
    const verified = this.#crypto(state)
    return verified instanceof Promise
      ? verified.then((settled) => this.#afterCrypto(state, settled))
      : this.#afterCrypto(state, verified)
  }

  #crypto(state: Pending): VerificationResult | Promise<VerificationResult> {
    const strategy = state.strategy
    const fast = (strategy as Partial<VerifiesNow>)[VERIFY_NOW]
    return fast !== undefined
      ? fast.call(strategy, state.claim.credentials)
      : strategy.verify(state.claim.credentials)
  }

  /**
   * A refusal decided before crypto (policy, brownout, sticky upgrade, upgrade store down). The result is
   * the refusal whatever the credential; crypto still runs so that the audit event can say whether the
   * refused client was real (a genuine one breaks at switch-off; a forged one is noise). Without sinks
   * nobody reads that, so the check is skipped. No replay entry is written for a refused request.
   */
  #refuse(state: Pending, refused: VerificationFailure, notes: string[]): Decision | Promise<Decision> {
    if (this.#resolver !== undefined) this.#policyOf.set(refused, state.partner.policy)
    const decide = (authenticated: boolean): Decision => ({
      ...reject(refused, state.claim.transport),
      authenticated,
      auditWarnings: notes,
    })
    if (this.#sinks.length === 0) return decide(false)
    let verified: VerificationResult | Promise<VerificationResult>
    try {
      verified = this.#crypto(state)
    } catch {
      return decide(false)
    }
    return verified instanceof Promise
      ? verified.then(
          (settled) => decide(this.#current(state, settled)),
          () => decide(false),
        )
      : decide(this.#current(state, verified))
  }

  /** Genuine and current; a strategy answering something that is not a result counts as not genuine. */
  #current(state: Pending, verified: VerificationResult): boolean {
    try {
      return this.#stale(state, verified) === null
    } catch {
      return false
    }
  }

  /**
   * Why a verified credential is not fresh, or `null` when it is (or freshness is off). A failed
   * credential counts as stale here too, so `null` means "genuine and current".
   */
  #stale(state: Pending, verified: VerificationResult): { reason: FailureReason; message: string } | null {
    if (!verified.ok) return { reason: verified.reason, message: verified.message }
    if (this.#freshness === false) return null
    const fresh = checkInstant(
      verified.issuedAt === null ? null : verified.issuedAt.getTime(),
      state.nowMs,
      this.#freshness.maxAgeMs,
      this.#freshness.maxFutureMs,
    )
    return fresh.ok ? null : { reason: fresh.reason, message: fresh.message }
  }

  /** Freshness, then the replay check. */
  #afterCrypto(state: Pending, verified: VerificationResult): Decision | Promise<Decision> {
    const { claim, partner, warnings } = state
    if (!verified.ok) return this.#rejectFor(state, { ...verified, partnerId: partner.id }, false)
    for (const warning of verified.warnings) warnings.push(warning)

    const stale = this.#stale(state, verified)
    if (stale !== null) {
      const { reason, message } = stale
      // A stale credential proves no live client: anyone holding an old capture can send it.
      if (!state.observe)
        return this.#rejectFor(state, failure(claim.scheme, reason, message, partner.id), false)
      state.wouldReject ??= reason
      state.unproven = true
      warnings.push(`would_reject:${reason}`)
    }

    if (this.#replay === undefined) return this.#accept(state, verified, null)
    return this.#remember(claim, partner.id, state.body, state.rawBody).then((outcome) =>
      this.#accept(state, verified, outcome),
    )
  }

  /** A rejection after the partner is known: remembers its policy for {@link DualModeVerifier.legacySunsetFor}. */
  #rejectFor(state: Pending, result: VerificationFailure, authenticated: boolean): Decision {
    if (this.#resolver !== undefined) this.#policyOf.set(result, state.partner.policy)
    return { ...reject(result, state.claim.transport), authenticated }
  }

  /** Applies the replay outcome and builds the success. */
  #accept(state: Pending, verified: VerificationSuccess, outcome: RememberOutcome | null): Decision {
    const { claim, partner, warnings, observe } = state
    let duplicate = false
    if (outcome === 'duplicate') duplicate = true
    else if (outcome === 'conflict') {
      // A genuine credential sent again with another body is someone else's replay, not a live client.
      const message = 'this credential was already used with a different body'
      if (!observe)
        return this.#rejectFor(state, failure(claim.scheme, 'replayed', message, partner.id), false)
      state.wouldReject ??= 'replayed'
      state.unproven = true
      warnings.push('would_reject:replayed')
    } else if (outcome === 'unfingerprintable') {
      // Fail closed whatever replayFailure says: padding a captured credential's body must not skip it.
      const message = 'the body could not be fingerprinted for the replay check'
      if (!observe) {
        return this.#rejectFor(state, failure(claim.scheme, 'replay_check_failed', message, partner.id), true)
      }
      state.wouldReject ??= 'replay_check_failed'
      warnings.push('would_reject:replay_check_failed')
    } else if (outcome === 'error') {
      if (this.#replayFailure === 'reject' && !observe) {
        // Genuine and fresh; only the replay store is missing, so the client is real.
        return this.#rejectFor(
          state,
          failure(claim.scheme, 'replay_check_failed', 'the replay store could not be reached', partner.id),
          true,
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
    if (this.#resolver !== undefined) this.#policyOf.set(result, partner.policy)
    return {
      result,
      outcome: state.wouldReject === null ? 'accepted' : 'would_reject',
      wouldReject: state.wouldReject,
      transport: claim.transport,
      authenticated: state.unproven !== true,
    }
  }

  #partner(claimedId: string | null): ResolvedPartner | undefined | Promise<ResolvedPartner | undefined> {
    if (this.#single !== undefined) {
      return claimedId === null || samePartner(claimedId, this.#single.id) ? this.#single : undefined
    }
    if (claimedId === null) return undefined
    if (this.#partners !== undefined) {
      // The configured spelling first (the common case), then the partner's identity: O(1) either way.
      return this.#partners.get(claimedId) ?? this.#partners.get(partnerKey(claimedId))
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

  /** `null` when the store cannot answer: it threw, rejected, or answered something that is not a boolean. */
  async #askUpgraded(partnerId: string): Promise<boolean | null> {
    try {
      const upgraded: unknown = await this.#upgrades!.isUpgraded(partnerId)
      if (upgraded === true) this.#knownUpgraded.add(partnerId)
      return typeof upgraded === 'boolean' ? upgraded : null
    } catch {
      return null
    }
  }

  /** Never affects the signature request that upgrades the partner, whatever the store does. */
  #markUpgraded(partnerId: string): void {
    if (this.#knownUpgraded.has(partnerId)) return
    this.#knownUpgraded.add(partnerId)
    const forget = () => void this.#knownUpgraded.delete(partnerId)
    try {
      const pending: unknown = this.#upgrades!.markUpgraded(partnerId)
      if (typeof (pending as Promise<void> | undefined)?.then === 'function') {
        ;(pending as Promise<void>).then(undefined, forget)
      }
    } catch {
      forget()
    }
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
        bodyFingerprint({ rawBody, body }, CREDENTIAL_FIELDS),
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
      warnings: result.ok ? result.warnings : (decision.auditWarnings ?? []),
      route: auditField(context, 'route'),
      sourceIp: auditField(context, 'sourceIp'),
      source_sdk: auditField(body, 'source_sdk'),
      source_sdk_version: auditField(body, 'source_sdk_version'),
      // True only when the credential verified and was current, whatever the outcome: a refused genuine
      // client breaks at switch-off, while stale or replayed credentials prove no live client.
      authenticated: decision.authenticated === true,
      instance: this.#instance,
    }
    emitAudit(this.#sinks, event, this.#onAuditError)
  }
}

/** Whether a sink object has a readable `write` method (a throwing getter counts as none). */
function hasWrite(sink: unknown): boolean {
  try {
    return typeof (sink as { write?: unknown } | null | undefined)?.write === 'function'
  } catch {
    return false
  }
}

/** Past sunsets already warned about in this process: a verifier built per request must not flood the log. */
const warnedSunsets = new Set<string>()

/**
 * A sunset already past at construction refuses every sec_key request from the first one: almost always
 * a typo in the year, or a config copied from a finished migration. Warn once per date, without failing.
 */
function warnPastSunsets(policies: ReadonlyArray<ResolvedPolicy | undefined>, nowMs: number): void {
  if (!Number.isFinite(nowMs)) return
  const past = new Set<string>()
  for (const policy of policies) {
    if (policy === undefined || policy.legacy === 'reject' || policy.legacySunsetAt === undefined) continue
    const date = policy.legacySunsetAt.toISOString()
    if (policy.legacySunsetAt.getTime() <= nowMs && !warnedSunsets.has(date)) past.add(date)
  }
  for (const date of past) warnedSunsets.add(date)
  if (past.size === 0) return
  const dates = [...past].sort().join(', ')
  const message =
    `policy.legacySunsetAt ${dates} is already in the past: every sec_key request will be refused ` +
    `(scheme_not_allowed, or would_reject in observe mode). Check the year if that is not intended.`
  const host = (globalThis as { process?: { emitWarning?: (message: string, options: object) => void } })
    .process
  if (typeof host?.emitWarning === 'function') {
    host.emitWarning(message, { type: 'SmileIdConfigurationWarning', code: 'SMILEID_SUNSET_PASSED' })
  } else {
    console.warn(message)
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

/**
 * Resolves a partner record, indexed by each configured id and by its {@link partnerKey}. Two records
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

/** The body fields the audit event records, read so that a throwing getter or Proxy yields nothing. */
function auditBody(body: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (body === undefined) return undefined
  try {
    return { source_sdk: body.source_sdk, source_sdk_version: body.source_sdk_version }
  } catch {
    return undefined
  }
}

/** The context fields the audit event records, read as {@link auditBody} reads the body. */
function auditContext(context: VerifyContext | undefined): VerifyContext | undefined {
  if (context === undefined || context === null) return undefined
  try {
    return { route: context.route, sourceIp: context.sourceIp } as VerifyContext
  } catch {
    return undefined
  }
}

function auditText(value: unknown): string | null {
  return typeof value === 'string' ? value.slice(0, MAX_AUDIT_TEXT) : null
}

/** Reads one text field for the audit event; a throwing getter or Proxy trap reads as absent. */
function auditField(source: object | null | undefined, key: string): string | null {
  try {
    return auditText((source as Record<string, unknown> | null | undefined)?.[key])
  } catch {
    return null
  }
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
