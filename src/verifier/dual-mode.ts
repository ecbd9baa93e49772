/**
 * The dual-mode verifier: accepts both schemes during the migration, says which one each request used,
 * applies the migration policy, freshness and replay protection, and audits every decision.
 *
 * {@link DualModeVerifier.verify} is one pipeline, read top to bottom in `verify` and `#decide`:
 *
 * 1. detect: what the request claims (scheme, partner, credential, transport), from `claims.ts`;
 * 2. partner: who the claimed id is and whether it may use that scheme (`partners.ts`);
 * 3. policy: what is allowed, before any crypto (legacy, sunset, brownouts, sticky upgrade);
 * 4. crypto: is the credential genuine (always enforced, in observe mode too);
 * 5. freshness: is it current;
 * 6. replay: has it been seen, and with which body (`replay/fingerprint.ts` and the replay store);
 * 7. audit: one event per request (`audit/record.ts`), whatever the outcome;
 * 8. result: returned, never thrown.
 *
 * A stage that must wait (a partner resolver, an upgrade or replay store, a WebCrypto strategy) returns a
 * promise and the next stage runs once it settles; otherwise the stages run synchronously and a request
 * costs a single promise, the one `verify` returns. `step.ts` holds that one mechanism ({@link andThen}).
 *
 * @module
 */
import { hashBackend as backend } from '#crypto-hash'
import { defaultInstance } from '#instance'
import { emitAudit, normalizeSinks, watchSinkFailures, type AuditErrorHandler } from '../audit/dispatch.js'
import type { AuditEvent, AuditSink } from '../audit/events.js'
import { AuditRecorder, type AuditedDecision } from '../audit/record.js'
import { fromUtf8 } from '../encoding.js'
import { readClaim, type Claim, type HeadersLike } from '../claims.js'
import { ConfigurationError, VerificationError } from '../errors.js'
import { MemoryUpgradeStore } from '../replay/memory.js'
import { bodyFingerprint } from '../replay/fingerprint.js'
import type { ReplayStore, UpgradeStore } from '../replay/store.js'
import { failure } from '../schemes/common.js'
import { checkInstant, DEFAULT_MAX_AGE_MS, DEFAULT_MAX_FUTURE_MS } from '../timestamps.js'
import type {
  AuthStrategy,
  FailureReason,
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
import {
  Partners,
  UpgradeCache,
  type CryptoCheck,
  type PartnerConfig,
  type PartnerResolver,
  type ResolvedPartner,
} from './partners.js'
import { legacyRefusal, resolvePolicy, type MigrationPolicy, type ResolvedPolicy } from './policy.js'
import { andThen, type MaybePromise } from './step.js'

export type { PartnerConfig, PartnerResolver } from './partners.js'

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
  /**
   * When the replay store fails: `reject` (default, `replay_check_failed`) or `accept` with a
   * `replay_unchecked` warning. The upgrade store is governed by `upgradeFailure` instead.
   */
  replayFailure?: 'reject' | 'accept'
  /** How long replay entries live when freshness is off. Default 24 hours. */
  replayTtlMs?: number
  /**
   * Where `stickyUpgrade` remembers upgraded partners. Default: in memory. A store that cannot answer
   * (it throws, rejects or answers a non-boolean) is reported as `replay_check_failed`, as a replay store
   * that cannot be reached is; see `upgradeFailure`.
   */
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

/** What the replay check found; `unfingerprintable` is a body that cannot be fingerprinted (the request's fault). */
type RememberOutcome = 'new' | 'duplicate' | 'conflict' | 'error' | 'unfingerprintable'

/** A request in the pipeline once its partner is known, carried from stage to stage. */
interface Pending {
  claim: Claim
  partner: ResolvedPartner
  /** The partner's crypto check for the claimed scheme. */
  check: CryptoCheck
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

/** A refusal decided before crypto, with the notes its audit event carries (`brownout`). */
interface Refusal {
  result: VerificationFailure
  notes: string[]
}

/** The outcome of the pipeline, before auditing. */
type Decision = AuditedDecision

const CREDENTIAL_FIELDS = new Set(['signature', 'sec_key', 'timestamp'])
const DEFAULT_REPLAY_TTL_MS = 24 * 60 * 60 * 1000
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
  readonly #partners: Partners
  readonly #policy: ResolvedPolicy
  readonly #freshness: { maxAgeMs: number; maxFutureMs: number } | false
  readonly #replay: ReplayStore | undefined
  readonly #replayFailure: 'reject' | 'accept'
  /** How long replay entries live: the freshness window, or `replayTtlMs` when freshness is off. */
  readonly #replayTtlMs: number
  readonly #upgrades: UpgradeCache | undefined
  readonly #upgradeFailure: 'reject' | 'accept'
  /**
   * The policy that applied to each result of a resolver partner, for {@link DualModeVerifier.legacySunsetFor}
   * (a resolver cannot be asked again synchronously). Configured partners are looked up by id instead:
   * a WeakMap entry per request costs about 9 % of a signature verification.
   */
  readonly #policyOf = new WeakMap<VerificationResult, ResolvedPolicy>()
  readonly #sinks: AuditSink[]
  readonly #onAuditError: AuditErrorHandler
  readonly #record: AuditRecorder
  readonly #now: () => number
  readonly #stats: VerifierStats = { auditErrors: 0 }

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
    this.#partners = new Partners(options, this.#policy)

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
    const replayTtlMs = checkReplayTtl(options.replayTtlMs) ?? DEFAULT_REPLAY_TTL_MS
    this.#replayTtlMs =
      this.#freshness === false ? replayTtlMs : this.#freshness.maxAgeMs + this.#freshness.maxFutureMs
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
      this.#partners.resolves ||
      this.#partners.policies().some((policy) => policy.stickyUpgrade)
    const upgrades = options.upgradeStore ?? (sticky ? new MemoryUpgradeStore() : undefined)
    this.#upgrades = upgrades === undefined ? undefined : new UpgradeCache(upgrades)
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
    this.#record = new AuditRecorder(instance === undefined ? defaultInstance() : instance)
    let constructedAt = Number.NaN
    try {
      constructedAt = this.#now()
    } catch {
      // A clock that throws will fail each request the same way; it is not this check's to report.
    }
    warnPastSunsets([this.#policy, ...this.#partners.policies()], constructedAt)
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
      policy = typeof partnerId === 'string' ? this.#partners.configuredPolicy(partnerId) : undefined
    }
    const sunset = (policy ?? this.#policy).legacySunsetAt
    return sunset === undefined ? null : new Date(sunset.getTime())
  }

  /**
   * Verifies one request. Never throws on what a request contains: every problem is a failure result
   * with a {@link FailureReason}. Emits one audit event.
   */
  verify(request: VerifyRequest, context?: VerifyContext): Promise<VerificationResult> {
    // NaN when the clock fails: freshness then fails closed rather than the call throwing.
    let nowMs = Number.NaN
    let body: Record<string, unknown> | undefined
    let claim: Claim | undefined
    let decision: MaybePromise<Decision>
    try {
      nowMs = this.#now()
      const read = readBody(request)
      if ('failure' in read) {
        decision = reject(read.failure, null)
      } else {
        body = read.body
        // 1. Detect: what the request claims. The claim reader refuses ids that are not text and
        // partner claims that disagree.
        const detected = readClaim(body, request?.headers)
        if (!detected.ok) {
          const { scheme, reason, message, partnerId } = detected
          decision = reject(failure(scheme, reason, message, partnerId), null)
        } else {
          claim = detected
          decision = this.#decide(claim, body, request.rawBody, nowMs)
        }
      }
    } catch {
      decision = unexpected(claim)
    }
    // 7. Audit, and 8. the result.
    return Promise.resolve(
      andThen(
        decision,
        (decided) => this.#complete(decided, claim, body, context, nowMs),
        () => this.#complete(unexpected(claim), claim, body, context, nowMs),
      ),
    )
  }

  /** Like {@link DualModeVerifier.verify}, but throws a {@link VerificationError} when the request is rejected. */
  async verifyOrThrow(request: VerifyRequest, context?: VerifyContext): Promise<VerificationSuccess> {
    const result = await this.verify(request, context)
    if (!result.ok) throw new VerificationError(result)
    return result
  }

  /** Stages 2 to 6, each deciding or handing on to the next. */
  #decide(
    claim: Claim,
    body: Record<string, unknown> | undefined,
    rawBody: string | Uint8Array | undefined,
    nowMs: number,
  ): MaybePromise<Decision> {
    // 2. Partner: who the claimed id is, and whether it may use the claimed scheme.
    return andThen(this.#partners.find(claim.partnerId), (partner) => {
      if (partner === undefined) {
        return reject(
          failure(claim.scheme, 'unknown_partner', 'this partner is not configured here', claim.partnerId),
          claim.transport,
        )
      }
      const check = claim.scheme === 'signature' ? partner.signature : partner.secKey
      if (check === undefined) {
        const message = `the ${claim.scheme} scheme is not configured for this partner`
        return reject(failure(claim.scheme, 'scheme_not_allowed', message, partner.id), claim.transport)
      }
      const state: Pending = {
        claim,
        partner,
        check,
        body,
        rawBody,
        nowMs,
        observe: partner.policy.mode === 'observe',
        warnings: [],
        wouldReject: null,
      }

      // 3. Policy: what is allowed, before any crypto. A sticky upgrade asks the upgrade store.
      return andThen(this.#upgraded(state), (upgraded) => {
        const refusal = this.#policyStage(state, upgraded)
        if (refusal !== null) return this.#refuse(state, refusal)

        // 4. Crypto: always enforced, whatever the mode.
        return andThen(check(claim.credentials), (verified) => {
          if (!verified.ok) return this.#rejectFor(state, { ...verified, partnerId: partner.id }, false)
          for (const warning of verified.warnings) state.warnings.push(warning)

          // 5. Freshness.
          const stale = this.#freshnessStage(state, verified)
          if (stale !== null) return stale

          // 6. Replay, then the success.
          return andThen(
            this.#remember(state),
            (outcome) => this.#replayStage(state, outcome) ?? this.#success(state, verified, outcome),
          )
        })
      })
    })
  }

  /** Whether a sticky-upgrade partner has upgraded (`null`: the store cannot say); `false` when not asked. */
  #upgraded(state: Pending): MaybePromise<boolean | null> {
    if (state.claim.scheme !== 'sec_key' || !state.partner.policy.stickyUpgrade) return false
    return this.#upgrades?.isUpgraded(state.partner.id) ?? false
  }

  /** The policy's refusal of a sec_key request, or `null`; observe mode turns refusals into warnings. */
  #policyStage(state: Pending, upgraded: boolean | null): Refusal | null {
    const { claim, partner, warnings } = state
    const policy = partner.policy
    if (claim.scheme === 'sec_key') {
      if (upgraded === null) {
        // The upgrade store is the sticky upgrade's memory: without it an upgraded partner's legacy
        // client would be let back in, so only an option named for upgrades may accept that.
        if (this.#upgradeFailure === 'accept') warnings.push('upgrade_unchecked')
        else if (!state.observe) {
          const message = 'the upgrade store could not be reached'
          return { result: failure('sec_key', 'replay_check_failed', message, partner.id), notes: [] }
        } else {
          state.wouldReject ??= 'replay_check_failed'
          warnings.push('would_reject:replay_check_failed')
        }
      }
      const refusal = legacyRefusal(policy, state.nowMs, upgraded === true)
      if (refusal !== null) {
        const notes = refusal.brownout ? ['brownout'] : []
        if (!state.observe) {
          return { result: failure('sec_key', 'scheme_not_allowed', refusal.message, partner.id), notes }
        }
        state.wouldReject ??= 'scheme_not_allowed'
        warnings.push('would_reject:scheme_not_allowed', ...notes)
      }
      if (policy.legacy === 'warn' || policy.legacySunsetAt !== undefined) warnings.push('legacy_scheme')
    }
    if (claim.both) warnings.push('both_credentials_present')
    return null
  }

  /**
   * A refusal decided before crypto (policy, brownout, sticky upgrade, upgrade store down). The result is
   * the refusal whatever the credential; crypto still runs so that the audit event can say whether the
   * refused client was real (a genuine one breaks at switch-off; a forged one is noise). Without sinks
   * nobody reads that, so the check is skipped. No replay entry is written for a refused request.
   */
  #refuse(state: Pending, { result, notes }: Refusal): MaybePromise<Decision> {
    if (this.#partners.resolves) this.#policyOf.set(result, state.partner.policy)
    const decide = (authenticated: boolean): Decision => ({
      ...reject(result, state.claim.transport),
      authenticated,
      auditWarnings: notes,
    })
    if (this.#sinks.length === 0) return decide(false)
    let verified: MaybePromise<VerificationResult>
    try {
      verified = state.check(state.claim.credentials)
    } catch {
      return decide(false)
    }
    return andThen(
      verified,
      (settled) => decide(this.#current(state, settled)),
      () => decide(false),
    )
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

  /** A stale credential's rejection, or `null` to go on (observe mode lets it through, unproven). */
  #freshnessStage(state: Pending, verified: VerificationSuccess): Decision | null {
    const stale = this.#stale(state, verified)
    if (stale === null) return null
    const { reason, message } = stale
    // A stale credential proves no live client: anyone holding an old capture can send it.
    if (!state.observe) {
      return this.#rejectFor(state, failure(state.claim.scheme, reason, message, state.partner.id), false)
    }
    state.wouldReject ??= reason
    state.unproven = true
    state.warnings.push(`would_reject:${reason}`)
    return null
  }

  /**
   * Records the credential in the replay store under `scheme:partner:sha256(credential)` with the body's
   * fingerprint; `null` without a store. Any store failure is `error`, never an exception.
   */
  #remember(state: Pending): MaybePromise<RememberOutcome | null> {
    if (this.#replay === undefined) return null
    let credentialHash: MaybePromise<string>
    let fingerprint: MaybePromise<string>
    try {
      credentialHash = backend.sha256Hex(String(state.claim.credential).replace(WHITESPACE, ''))
      fingerprint = bodyFingerprint({ rawBody: state.rawBody, body: state.body }, CREDENTIAL_FIELDS)
    } catch {
      // The request, not the store, is at fault (a body nested too deeply): never "unchecked".
      return 'unfingerprintable'
    }
    const key = (hash: string) => `${state.claim.scheme}:${state.partner.id}:${hash}`
    if (typeof credentialHash === 'string' && typeof fingerprint === 'string') {
      return this.#store(key(credentialHash), fingerprint)
    }
    return Promise.all([credentialHash, fingerprint]).then(
      ([hash, print]) => this.#store(key(hash), print),
      () => 'unfingerprintable' as const,
    )
  }

  async #store(key: string, fingerprint: string): Promise<RememberOutcome> {
    try {
      const outcome = await this.#replay!.remember(key, fingerprint, this.#replayTtlMs)
      // Any other answer is a broken store: treating it as 'new' would switch replay protection off silently.
      return outcome === 'new' || outcome === 'duplicate' || outcome === 'conflict' ? outcome : 'error'
    } catch {
      return 'error'
    }
  }

  /** What the replay outcome refuses, or `null` to go on; observe mode and `replayFailure` soften it. */
  #replayStage(state: Pending, outcome: RememberOutcome | null): Decision | null {
    const { claim, partner, warnings, observe } = state
    if (outcome === 'conflict') {
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
        const message = 'the replay store could not be reached'
        return this.#rejectFor(state, failure(claim.scheme, 'replay_check_failed', message, partner.id), true)
      }
      if (observe && this.#replayFailure === 'reject') {
        state.wouldReject ??= 'replay_check_failed'
        warnings.push('would_reject:replay_check_failed')
      } else warnings.push('replay_unchecked')
    }
    return null
  }

  /** A rejection after the partner is known: remembers its policy for {@link DualModeVerifier.legacySunsetFor}. */
  #rejectFor(state: Pending, result: VerificationFailure, authenticated: boolean): Decision {
    if (this.#partners.resolves) this.#policyOf.set(result, state.partner.policy)
    return { ...reject(result, state.claim.transport), authenticated }
  }

  /** The success result; a request that passed every check upgrades a sticky partner. */
  #success(state: Pending, verified: VerificationSuccess, outcome: RememberOutcome | null): Decision {
    const { claim, partner } = state
    // One that observe mode merely let through does not upgrade.
    if (
      claim.scheme === 'signature' &&
      state.wouldReject === null &&
      this.#upgrades !== undefined &&
      partner.policy.stickyUpgrade
    ) {
      this.#upgrades.markUpgraded(partner.id)
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
      duplicate: outcome === 'duplicate',
      warnings: state.warnings,
    }
    if (this.#partners.resolves) this.#policyOf.set(result, partner.policy)
    return {
      result,
      outcome: state.wouldReject === null ? 'accepted' : 'would_reject',
      wouldReject: state.wouldReject,
      transport: claim.transport,
      authenticated: state.unproven !== true,
    }
  }

  /** Stage 7: one audit event per request, built and dispatched so that nothing reaches the caller. */
  #complete(
    decision: Decision,
    claim: Claim | undefined,
    body: Record<string, unknown> | undefined,
    context: VerifyContext | undefined,
    nowMs: number,
  ): VerificationResult {
    if (this.#sinks.length > 0) {
      // The event reads request-supplied objects (body fields, the context) through a guard; whatever
      // still fails is counted, never thrown at the caller.
      try {
        const event = this.#record.event(decision, claim?.scheme ?? null, body, context, nowMs)
        emitAudit(this.#sinks, event, this.#onAuditError)
      } catch {
        this.#stats.auditErrors++
      }
    }
    return decision.result
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
function warnPastSunsets(policies: ReadonlyArray<ResolvedPolicy>, nowMs: number): void {
  if (!Number.isFinite(nowMs)) return
  const past = new Set<string>()
  for (const policy of policies) {
    if (policy.legacy === 'reject' || policy.legacySunsetAt === undefined) continue
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
