/**
 * Structured JSON logs for the gateway: one object per line. Callers pass only fields that are safe to
 * log (status, scheme, reason code, partner id, path without query); no header, body, key, signature or
 * sec_key is ever a log field.
 *
 * Lines written during one turn of the event loop go out in one write: under load that is one system
 * call for many requests instead of one per request.
 *
 * @internal
 * @module
 */

/** Severity of a log line. */
export type LogLevel = 'info' | 'warn' | 'error'

/** Writes one log line. */
export type GatewayLogger = ((level: LogLevel, message: string, fields?: Record<string, unknown>) => void) & {
  /** Writes every buffered line now (call before the process exits). */
  flush(): void
}

/** Most bytes held before a write is forced within the same turn. */
const MAX_BUFFERED = 64 * 1024

/**
 * A logger writing JSON lines to `write` (for example stdout), stamped by `now`.
 *
 * @example
 * ```ts
 * const log = jsonLogger((text) => process.stdout.write(text), Date.now)
 * log('info', 'listening', { listener: 'inbound', port: 8787 })
 * log.flush()
 * ```
 */
export function jsonLogger(write: (text: string) => void, now: () => number): GatewayLogger {
  let buffered = ''
  let scheduled = false
  const flush = () => {
    scheduled = false
    if (buffered === '') return
    const text = buffered
    buffered = ''
    try {
      write(text)
    } catch {
      // Logging must never break a request.
    }
  }
  const log = (level: LogLevel, message: string, fields: Record<string, unknown> = {}) => {
    try {
      buffered +=
        JSON.stringify({ time: new Date(now()).toISOString(), level, msg: message, ...fields }) + '\n'
    } catch {
      return
    }
    if (buffered.length >= MAX_BUFFERED) flush()
    else if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }
  return Object.assign(log, { flush })
}
