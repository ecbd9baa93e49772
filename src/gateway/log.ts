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
  // Under load many lines fall in the same millisecond: format its timestamp once.
  let stampedAt = Number.NaN
  let stamp = ''
  const log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    try {
      const at = now()
      if (at !== stampedAt) {
        stampedAt = at
        stamp = new Date(at).toISOString()
      }
      // The same object key order as before (time, level, msg, fields), without copying `fields` into a
      // new object: the fixed keys are written as text. A field named like a fixed key replaces it, as a
      // spread would.
      if (fields === undefined || !('time' in fields || 'level' in fields || 'msg' in fields)) {
        const rest = fields === undefined ? '{}' : JSON.stringify(fields)
        buffered += `{"time":"${stamp}","level":"${level}","msg":${JSON.stringify(message)}${rest.length > 2 ? `,${rest.slice(1)}` : '}'}\n`
      } else {
        buffered += JSON.stringify({ time: stamp, level, msg: message, ...fields }) + '\n'
      }
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
