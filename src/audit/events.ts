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
}
