/**
 * Delivers audit events to sinks so that no sink can break, block or slow a verification: a sink that
 * throws or rejects is reported to `onError` and otherwise ignored.
 *
 * @internal
 * @module
 */
import type { AuditEvent, AuditSink } from './events.js'

/** Called when a sink throws or rejects. */
export type AuditErrorHandler = (error: unknown, event: AuditEvent) => unknown

/** Turns the `audit` option into a list. */
export function normalizeSinks(audit: AuditSink | readonly AuditSink[] | undefined): AuditSink[] {
  if (audit === undefined) return []
  return Array.isArray(audit) ? [...(audit as AuditSink[])] : [audit as AuditSink]
}

/**
 * Calls `onFailure` for every failure a sink reports on its own after `write` returned (sinks that offer
 * `addFailureListener`, such as `jsonlAuditSink`), so that such failures are counted like the ones
 * `write` throws or rejects with.
 */
export function watchSinkFailures(sinks: readonly AuditSink[], onFailure: (error: unknown) => void): void {
  for (const sink of sinks) {
    if (typeof sink === 'function') continue
    try {
      sink.addFailureListener?.(onFailure)
    } catch {
      // A sink whose registration fails is still written to; its own failures go uncounted.
    }
  }
}

/**
 * Sends one event to every sink, isolating failures. Never throws, never awaits. Each failure of a sink
 * for an event is reported exactly once, whether it throws synchronously, returns a promise that rejects,
 * or returns a thenable that misbehaves (a `then` that throws, or calls back twice).
 */
export function emitAudit(sinks: readonly AuditSink[], event: AuditEvent, onError: AuditErrorHandler): void {
  for (const sink of sinks) {
    let pending: unknown
    try {
      pending = typeof sink === 'function' ? sink(event) : sink.write(event)
    } catch (error) {
      safely(onError, error, event)
      continue
    }
    // Plain sinks return undefined: no promise is made for them on the request path.
    if ((typeof pending === 'object' && pending !== null) || typeof pending === 'function') {
      // Promise.resolve adopts a thenable once, and turns a throwing `then` into a rejection.
      try {
        Promise.resolve(pending).then(undefined, (error: unknown) => safely(onError, error, event))
      } catch (error) {
        safely(onError, error, event) // a promise whose `constructor` getter throws
      }
    }
  }
}

function safely(onError: AuditErrorHandler, error: unknown, event: AuditEvent): void {
  try {
    const handled: unknown = onError(error, event)
    // An async handler that rejects must not become an unhandled rejection (it would end the process).
    if (handled instanceof Promise) handled.then(undefined, () => undefined)
  } catch {
    // An error handler that throws must not break verification either.
  }
}
