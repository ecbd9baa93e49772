/**
 * Audit sinks: {@link jsonlAuditSink} (append-only JSON lines) and {@link LegacyUsageTracker}
 * (in-memory counters with a report).
 *
 * @module
 */
import { openAuditFile } from '#audit-file'
import { ConfigurationError } from '../errors.js'
import { checkKnownKeys, describe } from '../option-checks.js'
import type { AuditEvent, AuditGapRecord, AuditSinkObject } from './events.js'
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

/**
 * A write failure of an {@link AuditFile}: the error, and how many bytes of the text made it to the file
 * (always a whole number of lines).
 *
 * @internal
 */
export type AppendError = Error & { writtenBytes?: number }

/**
 * What the sink writes to: the audit file on Node (`#audit-file`), or a stream you passed.
 *
 * @internal
 */
export interface AuditFile {
  /** Appends whole lines; rejects with an {@link AppendError} that says how much was written. */
  append(text: string): Promise<void>
  /** `true` when the path now names another file, or none (removed, rotated). */
  moved?(): Promise<boolean>
  /** Closes the current file; the next append opens the path again. */
  reopen(): Promise<void>
  /** Releases the destination. */
  close(): Promise<void>
}

const SINK_OPTION_KEYS = [
  'onError',
  'warn',
  'maxBufferBytes',
  'retryDelayMs',
  'instance',
  'endOnClose',
] as const
const DESTINATION_TEXT = 'the destination must be a file path or a writable stream (with write and once)'

function sinkFail(message: string): never {
  throw new ConfigurationError('invalid_options', `jsonlAuditSink: ${message}`)
}

function destinationHint(destination: unknown): string {
  if (destination instanceof URL) return '; pass fileURLToPath(url) for a file: URL'
  if (typeof destination === 'object' && destination !== null && 'path' in destination) {
    return '; pass the path as the first argument: jsonlAuditSink(path, options)'
  }
  if (typeof destination === 'object' && destination !== null) {
    return '; a web WritableStream is not one: pass a Node stream, for example fs.createWriteStream(path, { flags: "a" })'
  }
  return ''
}

/** Options of {@link jsonlAuditSink}. */
export interface JsonlAuditSinkOptions {
  /** Called for each write failure (and for each event dropped over the buffer bound). Default: ignore. */
  onError?: (error: Error) => void
  /**
   * How a failure streak is reported, once per streak: `true` (default) through `process.emitWarning`
   * (`console.warn` where there is no `process`), a function of your own, or `false` for nothing.
   */
  warn?: boolean | ((message: string) => void)
  /**
   * Most bytes held while the destination is slow or failing; events beyond are dropped, counted, and
   * reported in a gap record once writing works again. Default 16 MiB.
   */
  maxBufferBytes?: number
  /** First delay before retrying after a write error, doubled per failure up to 50 times itself (at most 30 s). Default 100 ms. */
  retryDelayMs?: number
  /** The `instance` named in gap records when the dropped events name none. Default `null`. */
  instance?: string | null
  /** `end()` the stream on `close()`. Default `true` for a path, `false` for a stream you passed. */
  endOnClose?: boolean
}

/** Counters of a {@link JsonlAuditSink}. */
export interface JsonlAuditSinkStats {
  /** Events the destination acknowledged (gap records are not counted). */
  written: number
  /** Events not written: dropped over the buffer bound, unserialisable, after close, or still held when `close()` gave up. */
  dropped: number
  /** Write errors reported by the destination (each failed attempt, retries included). */
  errors: number
}

/** The sink returned by {@link jsonlAuditSink}. */
export interface JsonlAuditSink extends AuditSinkObject {
  /** Queues one event; never blocks and never throws. */
  write(event: AuditEvent): void
  /**
   * Closes the file and opens the path again, for log rotation (call it on `SIGHUP` after the rotator
   * renamed the file). Resolves once the new file is in use. A stream you passed is kept as it is.
   */
  reopen(): Promise<void>
  /** Writes everything queued (one last attempt if the destination is failing), then ends a path's file. */
  close(): Promise<void>
  /** Live counters. */
  readonly stats: JsonlAuditSinkStats
}

const MAX_RETRY_MS = 30_000
/** How often, at most, a path is checked for removal or rotation (one `stat`). */
const MOVED_CHECK_MS = 1000
/** Most bytes handed to the destination in one write. */
const MAX_BATCH_BYTES = 1024 * 1024

/**
 * Appends one JSON line per audit event to a file or a writable stream, and never goes silent. Events are
 * queued and written in batches, so a verification never waits on the disk. A write error (disk full,
 * file removed, permission) is retried with backoff, reopening the file, without a restart; a write that
 * breaks off is cut back to whole lines; a path that was removed or rotated is reopened on its own, and
 * `reopen()` does it on demand. Events that cannot be held (`maxBufferBytes`) are dropped, counted, and
 * recorded as a gap record `{ kind: 'gap', from, to, dropped, instance, reason }` once writing works
 * again, so that a report reads them as missing evidence. A failure streak is reported once.
 *
 * @example
 * ```ts
 * const audit = jsonlAuditSink('./smileid-audit.jsonl', { onError: (e) => console.error(e.message) })
 * const verifier = new DualModeVerifier({ partnerId: '085', signature, secKey, audit })
 * process.on('SIGHUP', () => void audit.reopen()) // after logrotate renamed the file
 * process.on('SIGTERM', () => void audit.close())
 * ```
 */
export function jsonlAuditSink(
  destination: string | LineWritable,
  options: JsonlAuditSinkOptions = {},
): JsonlAuditSink {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    sinkFail(`options must be an object (got ${describe(options)})`)
  }
  checkKnownKeys(options, SINK_OPTION_KEYS, 'jsonlAuditSink')
  const maxBufferBytes: unknown = options.maxBufferBytes ?? 16 * 1024 * 1024
  if (!(typeof maxBufferBytes === 'number' && maxBufferBytes > 0)) {
    sinkFail(
      `maxBufferBytes must be a positive number of bytes (default 16 MiB, 16777216) (got ${describe(maxBufferBytes)})` +
        (typeof maxBufferBytes === 'string'
          ? '; pass a number such as 64 * 1024 * 1024, not a size string'
          : ''),
    )
  }
  const retryOption: unknown = options.retryDelayMs ?? 100
  if (!(typeof retryOption === 'number' && retryOption >= 0 && retryOption <= MAX_RETRY_MS)) {
    sinkFail(
      `retryDelayMs must be a number of milliseconds from 0 to ${MAX_RETRY_MS} (default 100) (got ${describe(retryOption)})` +
        (typeof retryOption === 'number' && retryOption > MAX_RETRY_MS
          ? '; the value is in milliseconds'
          : ''),
    )
  }
  const retryDelayMs = retryOption as number
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    sinkFail(`onError must be a function (error) => void (got ${describe(options.onError)})`)
  }
  const warnOption: unknown = options.warn
  if (warnOption !== undefined && typeof warnOption !== 'boolean' && typeof warnOption !== 'function') {
    sinkFail(`warn must be true, false or a function (message) => void (got ${describe(warnOption)})`)
  }
  const instance: unknown = options.instance
  if (instance !== undefined && instance !== null && typeof instance !== 'string') {
    sinkFail(`instance must be a string naming this process, or null (got ${describe(instance)})`)
  }
  if (options.endOnClose !== undefined && typeof options.endOnClose !== 'boolean') {
    sinkFail(`endOnClose must be true or false (got ${describe(options.endOnClose)})`)
  }
  let file: AuditFile
  let label: string
  if (typeof destination === 'string') {
    if (destination.length === 0) sinkFail(`${DESTINATION_TEXT} (got an empty path)`)
    file = openAuditFile(destination)
    label = destination
  } else if (
    destination &&
    typeof destination.write === 'function' &&
    typeof destination.once === 'function'
  ) {
    file = streamFile(destination, options.endOnClose ?? false)
    label = 'the audit stream'
  } else {
    sinkFail(`${DESTINATION_TEXT} (got ${describe(destination)})${destinationHint(destination)}`)
  }
  const warn = warner(options.warn ?? true)
  const defaultInstance = options.instance ?? null
  const stats: JsonlAuditSinkStats = { written: 0, dropped: 0, errors: 0 }
  const failureListeners: Array<(error: unknown) => void> = []
  const report = (error: Error) => {
    for (const listener of [options.onError, ...failureListeners]) {
      try {
        listener?.(error)
      } catch {
        // A handler must not break the sink.
      }
    }
  }

  let queue: string[] = []
  let queuedBytes = 0
  let closed = false
  let running: Promise<void> | null = null
  let scheduled = false
  let reopenWanted = false
  let retryTimer: ReturnType<typeof setTimeout> | null = null
  let failures = 0
  let lastError = ''
  let lastMovedCheck = 0
  // Events dropped since the last gap record was written.
  let gap: GapSpan | null = null

  function noteDropped(event: AuditEvent | null) {
    stats.dropped++
    const ms = event !== null && typeof event.time === 'string' ? Date.parse(event.time) : NaN
    const at = Number.isFinite(ms) ? ms : Date.now()
    const instance = typeof event?.instance === 'string' ? event.instance : defaultInstance
    // The reason is the state at the first drop: a failing destination, or one merely too slow.
    const reason = failures > 0 ? lastError : 'buffer_full'
    if (gap === null) gap = { fromMs: at, toMs: at, dropped: 1, instance, reason }
    else {
      gap.dropped++
      if (at < gap.fromMs) gap.fromMs = at
      if (at > gap.toMs) gap.toMs = at
    }
  }

  function gapLine(gap: GapSpan): string {
    const record: AuditGapRecord = {
      kind: 'gap',
      from: new Date(gap.fromMs).toISOString(),
      to: new Date(gap.toMs).toISOString(),
      dropped: gap.dropped,
      instance: gap.instance,
      reason: gap.reason,
    }
    return JSON.stringify(record) + '\n'
  }

  function kick() {
    if (running !== null || retryTimer !== null) return
    running = drain().finally(() => {
      running = null
      if ((queue.length > 0 || reopenWanted) && retryTimer === null) kick()
    })
  }

  async function drain(): Promise<void> {
    for (;;) {
      if (reopenWanted) {
        reopenWanted = false
        await file.reopen()
      }
      if (queue.length === 0 && gap === null) return
      if (file.moved !== undefined && Date.now() - lastMovedCheck >= MOVED_CHECK_MS) {
        lastMovedCheck = Date.now()
        if (await file.moved()) await file.reopen()
      }
      // One batch: the gap record first (if any), then queued lines up to the batch bound.
      // The gap is taken out before the write, so that drops during the write start a new one.
      const takenGap = gap
      gap = null
      const pendingGap = takenGap === null ? null : gapLine(takenGap)
      let count = 0
      let bytes = 0
      while (count < queue.length && (count === 0 || bytes + queue[count]!.length <= MAX_BATCH_BYTES))
        bytes += queue[count++]!.length
      const lines = queue.slice(0, count)
      const text = (pendingGap ?? '') + lines.join('')
      try {
        await file.append(text)
      } catch (error) {
        const failure = error as AppendError
        // Whole lines that made it before the failure are written; the rest stays queued for the retry.
        const writtenLines = countLines(text, failure.writtenBytes ?? 0)
        const gapWritten = takenGap !== null && writtenLines > 0
        if (takenGap !== null && !gapWritten) gap = mergeGaps(takenGap, gap)
        settle(writtenLines - (gapWritten ? 1 : 0))
        fail(failure)
        return
      }
      settle(count)
      if (failures > 0) failures = 0
    }
  }

  function settle(lines: number) {
    if (lines <= 0) return
    for (let i = 0; i < lines; i++) queuedBytes -= queue[i]!.length
    queue = queue.slice(lines)
    stats.written += lines
  }

  function fail(error: Error) {
    stats.errors++
    lastError = (error as NodeJS.ErrnoException).code ?? 'write_error'
    report(error)
    if (failures === 0) {
      warn(
        `smileid-auth-shim: audit sink cannot write to ${label} (${lastError}); events are held and retried, and a gap record marks any that must be dropped`,
      )
    }
    failures++
    if (closed) return
    const delay = Math.min(MAX_RETRY_MS, retryDelayMs * 50, retryDelayMs * 2 ** Math.min(failures - 1, 20))
    retryTimer = setTimeout(() => {
      retryTimer = null
      reopenWanted = true
      kick()
    }, delay)
    ;(retryTimer as { unref?: () => void }).unref?.()
  }

  function idle(): Promise<void> {
    return running ?? Promise.resolve()
  }

  return {
    stats,
    addFailureListener(listener) {
      if (typeof listener === 'function') failureListeners.push(listener)
    },
    write(event) {
      if (closed) {
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
        noteDropped(event)
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
          kick()
        })
      }
    },
    async reopen() {
      reopenWanted = true
      if (retryTimer !== null) {
        clearTimeout(retryTimer)
        retryTimer = null
      }
      kick()
      while (running !== null) await idle()
    },
    async close() {
      if (closed) {
        await idle()
        return
      }
      closed = true
      scheduled = false
      kick()
      await idle()
      if (retryTimer !== null) {
        // Failing: one last attempt now rather than waiting for the backoff.
        clearTimeout(retryTimer)
        retryTimer = null
        reopenWanted = true
        kick()
        await idle()
      }
      // Whatever is still held could not be written.
      stats.dropped += queue.length
      queue = []
      queuedBytes = 0
      await file.close()
    },
  }
}

interface GapSpan {
  fromMs: number
  toMs: number
  dropped: number
  instance: string | null
  reason: string
}

function mergeGaps(older: GapSpan, newer: GapSpan | null): GapSpan {
  if (newer === null) return older
  return {
    fromMs: Math.min(older.fromMs, newer.fromMs),
    toMs: Math.max(older.toMs, newer.toMs),
    dropped: older.dropped + newer.dropped,
    instance: older.instance,
    reason: older.reason,
  }
}

/** Lines (newline-terminated) in the first `bytes` UTF-8 bytes of `text`. */
function countLines(text: string, bytes: number): number {
  if (bytes <= 0) return 0
  const prefix = new TextEncoder().encode(text).subarray(0, bytes)
  let lines = 0
  for (let i = prefix.indexOf(0x0a); i !== -1; i = prefix.indexOf(0x0a, i + 1)) lines++
  return lines
}

/** A stream you passed, as an {@link AuditFile}: one write in flight, `drain` respected. */
function streamFile(stream: LineWritable, endOnClose: boolean): AuditFile {
  // An 'error' event with no write waiting for it must not crash the process.
  stream.on('error', () => undefined)
  let ended = false
  return {
    append(text) {
      return new Promise<void>((resolve, reject) => {
        let written = false
        let drained = true
        try {
          const ok = stream.write(text, (error) => {
            if (error) {
              reject(Object.assign(error, { writtenBytes: 0 }))
              return
            }
            written = true
            if (drained) resolve()
          })
          if (!ok) {
            drained = false
            stream.once('drain', () => {
              drained = true
              if (written) resolve()
            })
          }
        } catch (error) {
          reject(
            Object.assign(error instanceof Error ? error : new Error(String(error)), { writtenBytes: 0 }),
          )
        }
      })
    },
    reopen: () => Promise.resolve(),
    close() {
      if (!endOnClose || ended) return Promise.resolve()
      ended = true
      return new Promise<void>((resolve) => {
        stream.end(() => resolve())
      })
    },
  }
}

function warner(option: boolean | ((message: string) => void)): (message: string) => void {
  if (option === false) return () => undefined
  if (typeof option === 'function') {
    return (message) => {
      try {
        option(message)
      } catch {
        // A reporter that throws must not break the sink.
      }
    }
  }
  return (message) => {
    const proc = (globalThis as { process?: { emitWarning?: (m: string, o: object) => void } }).process
    if (typeof proc?.emitWarning === 'function')
      proc.emitWarning(message, { type: 'SmileIdAuditWarning', code: 'SMILEID_AUDIT_SINK_FAILING' })
    else console.warn(message)
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
  readonly #options: { quietPeriodDays?: number | undefined; since?: Date | undefined }
  #aggregator: AuditSummary

  /**
   * `quietPeriodDays` (default 30) is the quiet period of {@link LegacyUsageTracker.report}'s verdict;
   * records before `since` are ignored.
   */
  constructor(options: { quietPeriodDays?: number; since?: Date } = {}) {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new ConfigurationError(
        'invalid_options',
        `LegacyUsageTracker: options must be an object { quietPeriodDays?, since? } (got ${describe(options)})`,
      )
    }
    checkKnownKeys(options, TRACKER_OPTION_KEYS, 'LegacyUsageTracker')
    this.#options = { quietPeriodDays: options.quietPeriodDays, since: options.since }
    this.#aggregator = new AuditSummary(this.#options, 'LegacyUsageTracker')
  }

  /** Counts one event, or one gap record read back from a log (missing evidence). */
  write(record: AuditEvent | AuditGapRecord): void {
    this.#aggregator.add(record)
  }

  /** The usage report for everything seen since construction or the last {@link LegacyUsageTracker.reset}. */
  report(now: Date = new Date()): UsageReport {
    return this.#aggregator.report(now)
  }

  /** Forgets all counts. */
  reset(): void {
    this.#aggregator = new AuditSummary(this.#options, 'LegacyUsageTracker')
  }
}

const TRACKER_OPTION_KEYS = ['quietPeriodDays', 'since'] as const
