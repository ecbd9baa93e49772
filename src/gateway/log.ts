/**
 * Structured JSON logs for the gateway: one object per line. Callers pass only fields that are safe to
 * log (status, scheme, reason code, partner id, path without query); no header, body, key, signature or
 * sec_key is ever a log field.
 *
 * @internal
 * @module
 */

/** Severity of a log line. */
export type LogLevel = 'info' | 'warn' | 'error'

/** Writes one log line. */
export type GatewayLogger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void

/**
 * A logger writing JSON lines to `write` (for example stderr), stamped by `now`.
 *
 * @example
 * ```ts
 * const log = jsonLogger((line) => process.stderr.write(line), Date.now)
 * log('info', 'listening', { listener: 'inbound', port: 8787 })
 * ```
 */
export function jsonLogger(write: (line: string) => void, now: () => number): GatewayLogger {
  return (level, message, fields = {}) => {
    try {
      write(JSON.stringify({ time: new Date(now()).toISOString(), level, msg: message, ...fields }) + '\n')
    } catch {
      // Logging must never break a request.
    }
  }
}
