/**
 * Delivers audit events to sinks so that no sink can break, block or slow a verification: a sink that
 * throws or rejects is reported to `onError` and otherwise ignored.
 *
 * @internal
 * @module
 */
import type { AuditEvent, AuditSink } from './events.js'

/** Called when a sink throws or rejects. */
export type AuditErrorHandler = (error: unknown, event: AuditEvent) => void

/** Turns the `audit` option into a list. */
export function normalizeSinks(audit: AuditSink | readonly AuditSink[] | undefined): AuditSink[] {
  if (audit === undefined) return []
  return Array.isArray(audit) ? [...(audit as AuditSink[])] : [audit as AuditSink]
}

/** Sends one event to every sink, isolating failures. Never throws, never awaits. */
export function emitAudit(sinks: readonly AuditSink[], event: AuditEvent, onError: AuditErrorHandler): void {
  for (const sink of sinks) {
    try {
      const pending = typeof sink === 'function' ? sink(event) : sink.write(event)
      if (pending !== undefined && typeof (pending as Promise<void>).then === 'function') {
        ;(pending as Promise<void>).then(undefined, (error: unknown) => safely(onError, error, event))
      }
    } catch (error) {
      safely(onError, error, event)
    }
  }
}

function safely(onError: AuditErrorHandler, error: unknown, event: AuditEvent): void {
  try {
    onError(error, event)
  } catch {
    // An error handler that throws must not break verification either.
  }
}
