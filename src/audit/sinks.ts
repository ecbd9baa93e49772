/**
 * Audit sinks: {@link jsonlAuditSink} (append-only JSON lines) and {@link LegacyUsageTracker}
 * (in-memory counters with a report).
 *
 * @module
 */
import { openAppendFile } from '#audit-file'
import { ConfigurationError } from '../errors.js'
import type { AuditEvent, AuditSinkObject } from './events.js'
import { AuditSummary, type UsageReport } from './report.js'

/** The part of a Node `Writable` the JSONL sink uses. */
export interface LineWritable {
  /** Writes a chunk; `false` asks the writer to wait for `drain`. */
  write(chunk: string, callback?: (error?: Error | null) => void): boolean
  /** Subscribes once to `drain`. */
  once(event: 'drain', listener: () => void): unknown
  /** Subscribes to `error`. */
  on(event: 'error', listener: (error: Error) => void): unknown
  /** Ends the stream after everything written. */
  end(callback?: () => void): unknown
}

/** Options of {@link jsonlAuditSink}. */
export interface JsonlAuditSinkOptions {
  /** Called for each write failure (and for events dropped over the buffer bound). Default: ignore. */
  onError?: (error: Error) => void
  /** Most bytes buffered while the destination is slow; events beyond are dropped and counted. Default 16 MiB. */
  maxBufferBytes?: number
  /** `end()` the stream on `close()`. Default `true` for a path, `false` for a stream you passed. */
  endOnClose?: boolean
}

/** Counters of a {@link JsonlAuditSink}. */
export interface JsonlAuditSinkStats {
  /** Lines handed to the destination and acknowledged. */
  written: number
  /** Events not written: dropped over the buffer bound or after a write error. */
  dropped: number
  /** Write errors reported by the destination. */
  errors: number
}

/** The sink returned by {@link jsonlAuditSink}. */
export interface JsonlAuditSink extends AuditSinkObject {
  /** Queues one event; never blocks and never throws. */
  write(event: AuditEvent): void
  /** Writes everything queued, then (by default for paths) ends the stream. */
  close(): Promise<void>
  /** Live counters. */
  readonly stats: JsonlAuditSinkStats
}

/**
 * Appends one JSON line per audit event to a file or a writable stream. Events are queued and written in
 * batches that respect the stream's backpressure, so a verification never waits on the disk; the queue is
 * bounded (`maxBufferBytes`). `close()` flushes everything queued.
 *
 * @example
 * ```ts
 * const audit = jsonlAuditSink('./smileid-audit.jsonl', { onError: (e) => log.warn(e.message) })
 * const verifier = new DualModeVerifier({ partnerId: '085', signature, secKey, audit })
 * process.on('SIGTERM', () => void audit.close())
 * ```
 */
export function jsonlAuditSink(
  destination: string | LineWritable,
  options: JsonlAuditSinkOptions = {},
): JsonlAuditSink {
  const maxBufferBytes = options.maxBufferBytes ?? 16 * 1024 * 1024
  if (!(maxBufferBytes > 0))
    throw new ConfigurationError('invalid_options', 'maxBufferBytes must be positive')
  let stream: LineWritable
  if (typeof destination === 'string') {
    if (destination.length === 0)
      throw new ConfigurationError('invalid_options', 'jsonlAuditSink needs a path or a stream')
    stream = openAppendFile(destination)
  } else if (
    destination &&
    typeof destination.write === 'function' &&
    typeof destination.once === 'function'
  ) {
    stream = destination
  } else {
    throw new ConfigurationError('invalid_options', 'jsonlAuditSink needs a path or a writable stream')
  }
  const endOnClose = options.endOnClose ?? typeof destination === 'string'
  const stats: JsonlAuditSinkStats = { written: 0, dropped: 0, errors: 0 }
  const report = (error: Error) => {
    try {
      options.onError?.(error)
    } catch {
      // The handler must not break the sink.
    }
  }

  let queue: string[] = []
  let queuedBytes = 0
  let inFlight = 0
  let waitingForDrain = false
  let failed = false
  let closed = false
  let settled: Array<() => void> = []

  stream.on('error', (error: Error) => {
    stats.errors++
    failed = true
    stats.dropped += queue.length
    queue = []
    queuedBytes = 0
    report(error)
    wakeIfIdle()
  })

  function wakeIfIdle() {
    if (inFlight === 0 && queue.length === 0) {
      const waiters = settled
      settled = []
      for (const wake of waiters) wake()
    }
  }

  function pump() {
    while (queue.length > 0 && !waitingForDrain && !failed) {
      const batch = queue
      const count = batch.length
      queue = []
      queuedBytes = 0
      inFlight += count
      const ok = stream.write(batch.join(''), (error) => {
        inFlight -= count
        if (error) {
          if (!failed) stats.dropped += count
        } else stats.written += count
        wakeIfIdle()
      })
      if (!ok) {
        waitingForDrain = true
        stream.once('drain', () => {
          waitingForDrain = false
          pump()
        })
      }
    }
  }

  let scheduled = false
  return {
    stats,
    write(event) {
      if (failed || closed) {
        stats.dropped++
        return
      }
      let line: string
      try {
        line = JSON.stringify(event) + '\n'
      } catch (error) {
        stats.dropped++
        report(error as Error)
        return
      }
      if (queuedBytes + line.length > maxBufferBytes) {
        stats.dropped++
        report(new Error('audit buffer full: event dropped'))
        return
      }
      queue.push(line)
      queuedBytes += line.length
      // Batch the events of one tick into one write.
      if (!scheduled) {
        scheduled = true
        queueMicrotask(() => {
          scheduled = false
          pump()
        })
      }
    },
    async close() {
      pump()
      await new Promise<void>((resolve) => {
        settled.push(resolve)
        wakeIfIdle()
      })
      closed = true
      if (endOnClose && !failed) await new Promise<void>((resolve) => stream.end(() => resolve()))
    },
  }
}

/**
 * An audit sink that keeps usage counters in memory, for dashboards and a `/healthz`-style readiness check.
 * Memory stays bounded under attack: unverified requests are only counted, never given a row.
 *
 * @example
 * ```ts
 * const usage = new LegacyUsageTracker()
 * const verifier = new DualModeVerifier({ partnerId: '085', signature, secKey, audit: usage })
 * app.get('/smileid/usage', (_req, res) => res.json(usage.report()))
 * ```
 */
export class LegacyUsageTracker implements AuditSinkObject {
  readonly #quietPeriodDays: number | undefined
  #aggregator: AuditSummary

  /** `quietPeriodDays` (default 30) is the quiet period of {@link LegacyUsageTracker.report}'s verdict. */
  constructor(options: { quietPeriodDays?: number } = {}) {
    this.#quietPeriodDays = options.quietPeriodDays
    this.#aggregator = new AuditSummary({ quietPeriodDays: this.#quietPeriodDays })
  }

  /** Counts one event. */
  write(event: AuditEvent): void {
    this.#aggregator.add(event)
  }

  /** The usage report for everything seen since construction or the last {@link LegacyUsageTracker.reset}. */
  report(now: Date = new Date()): UsageReport {
    return this.#aggregator.report(now)
  }

  /** Forgets all counts. */
  reset(): void {
    this.#aggregator = new AuditSummary({ quietPeriodDays: this.#quietPeriodDays })
  }
}
