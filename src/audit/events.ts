/**
 * The audit event: one per verification (and per outgoing signature), never carrying a key,
 * signature, sec_key or body.
 *
 * @module
 */
import type { FailureReason, Scheme, Transport } from '../types.js'

/** What happened to a request: accepted, rejected, or accepted in observe mode although policy would reject it. */
export type AuditOutcome = 'accepted' | 'rejected' | 'would_reject'

/** Which way the credential travelled: `incoming` (verified here) or `outgoing` (signed here). */
export type AuditDirection = 'incoming' | 'outgoing'

/** One audit record. Safe to log: contains no secret and no body. */
export interface AuditEvent {
  /** ISO time of the verification. */
  time: string
  /** `incoming` for verifications, `outgoing` for requests signed by `MigratingSigner`. */
  direction: AuditDirection
  /** The partner the request named (or was attributed to), or `null`. */
  partnerId: string | null
  /** The scheme used or claimed, or `null` when none could be told. */
  scheme: Scheme | null
  /** The outcome. */
  outcome: AuditOutcome
  /** The failure reason when rejected or would be rejected, else `null`. */
  reason: FailureReason | null
  /** The matching key's id when accepted, else `null`. */
  keyId: string | null
  /** Where the credential was found, when known. */
  transport: Transport | null
  /** Warnings of the result. */
  warnings: string[]
  /** The route given in the verification context, or `null`. */
  route: string | null
  /** The source IP given in the verification context, or `null`. */
  sourceIp: string | null
  /** The `source_sdk` field of the body, if any. */
  source_sdk: string | null
  /** The `source_sdk_version` field of the body, if any. */
  source_sdk_version: string | null
  /**
   * Whether the credential verified cryptographically, whatever the outcome: `true` for a genuine
   * credential refused by policy, `false` for a forged or malformed one. Only authenticated events count
   * as migration evidence; unverified ones are counted apart and never name a partner in a report.
   */
  authenticated: boolean
  /** The instance that wrote the event (verifier option `instance`; the host name on Node), or `null`. */
  instance: string | null
}

/**
 * Written by a sink that had to drop events, once it can write again: readers treat the span from
 * `from` to `to` as missing evidence.
 */
export interface AuditGapRecord {
  /** Marks the record as a gap, not an event. */
  kind: 'gap'
  /** ISO time of the first dropped event. */
  from: string
  /** ISO time of the last dropped event. */
  to: string
  /** How many events were dropped. */
  dropped: number
  /** The instance whose events were dropped, or `null`. */
  instance: string | null
  /** Why they were dropped (for example the error code `ENOSPC`). */
  reason: string
}

/**
 * Receives audit events. A plain function or an object with `write` (and optionally `close`).
 * A sink that throws or rejects is isolated: verification is never affected.
 */
export type AuditSink = ((event: AuditEvent) => void | Promise<void>) | AuditSinkObject

/** An audit sink with a lifecycle, such as {@link jsonlAuditSink}. */
export interface AuditSinkObject {
  /** Receives one event. */
  write(event: AuditEvent): void | Promise<void>
  /** Flushes and releases resources. */
  close?(): Promise<void>
  /**
   * Registers a listener for failures the sink meets on its own, after `write` returned (a full disk, a
   * removed file). The verifier registers one to count them in `stats.auditErrors`.
   */
  addFailureListener?(listener: (error: unknown) => void): void
}
