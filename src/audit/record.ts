/**
 * Building the audit event of one verification from the verifier's decision.
 *
 * The verifier passes what it decided and what the request carried; nothing here knows the verifier.
 * Request-supplied objects (the body, the route context) are read through one guard, so a throwing
 * getter or a trapping Proxy reads as absent fields instead of an exception.
 *
 * @internal
 * @module
 */
import type { FailureReason, Scheme, Transport, VerificationResult } from '../types.js'
import type { AuditEvent, AuditOutcome } from './events.js'

/** What a verification decided, as its audit event records it. */
export interface AuditedDecision {
  /** The result returned to the caller. */
  result: VerificationResult
  /** The audit outcome (`would_reject` when observe mode let a refusal through). */
  outcome: AuditOutcome
  /** The first reason that would have rejected in observe mode. */
  wouldReject: FailureReason | null
  /** Where the credential was found, when known. */
  transport: Transport | null
  /** The credential verified and was current (not stale, not a replay). Absent: `false`. */
  authenticated?: boolean
  /** Warnings for the event of a rejection (a success carries its own). */
  auditWarnings?: string[]
}

/** Longest request-supplied text an event keeps: a route or SDK name longer than this is cut. */
const MAX_AUDIT_TEXT = 128

/**
 * Builds incoming audit events for one receiver. Many requests share a millisecond under load, so the
 * ISO time of each instant is formatted once.
 *
 * @example
 * ```ts
 * const record = new AuditRecorder('receiver-1')
 * const event = record.event(decision, 'signature', body, { route: '/callback' }, Date.now())
 * ```
 */
export class AuditRecorder {
  readonly #instance: string | null
  #timeMs = Number.NaN
  #time = ''

  /** @param instance - names the receiver in every event (`null`: none). */
  constructor(instance: string | null) {
    this.#instance = instance
  }

  /**
   * The event of one verification.
   *
   * @param decision - what the verifier decided.
   * @param claimedScheme - the scheme the request claimed, for a failure that names none.
   * @param body - the parsed body, for `source_sdk` and `source_sdk_version`.
   * @param context - the caller's context, for `route` and `sourceIp`.
   * @param nowMs - the instant of the verification, epoch milliseconds.
   */
  event(
    decision: AuditedDecision,
    claimedScheme: Scheme | null,
    body: object | undefined,
    context: object | undefined,
    nowMs: number,
  ): AuditEvent {
    const result = decision.result
    const [route, sourceIp] = textFields(context, 'route', 'sourceIp')
    const [sdk, sdkVersion] = textFields(body, 'source_sdk', 'source_sdk_version')
    if (nowMs !== this.#timeMs) {
      this.#timeMs = nowMs
      this.#time = new Date(nowMs).toISOString()
    }
    return {
      time: this.#time,
      direction: 'incoming',
      partnerId: result.partnerId,
      scheme: result.ok ? result.scheme : (result.scheme ?? claimedScheme),
      outcome: decision.outcome,
      reason: result.ok ? decision.wouldReject : result.reason,
      keyId: result.ok ? result.keyId : null,
      transport: decision.transport,
      warnings: result.ok ? result.warnings : (decision.auditWarnings ?? []),
      route,
      sourceIp,
      source_sdk: sdk,
      source_sdk_version: sdkVersion,
      // True only when the credential verified and was current, whatever the outcome: a refused genuine
      // client breaks at switch-off, while stale or replayed credentials prove no live client.
      authenticated: decision.authenticated === true,
      instance: this.#instance,
    }
  }
}

const ABSENT = [null, null] as const

/**
 * The one guard over request-supplied objects: reads two text fields together, and an object whose
 * getter or Proxy trap throws (or a revoked Proxy) records neither.
 */
function textFields(
  source: object | null | undefined,
  first: string,
  second: string,
): readonly [string | null, string | null] {
  if (source === undefined || source === null) return ABSENT
  try {
    const fields = source as Record<string, unknown>
    return [text(fields[first]), text(fields[second])]
  } catch {
    return ABSENT
  }
}

/** Request-supplied text as the event keeps it: strings only, cut to {@link MAX_AUDIT_TEXT} characters. */
function text(value: unknown): string | null {
  return typeof value === 'string' ? value.slice(0, MAX_AUDIT_TEXT) : null
}
