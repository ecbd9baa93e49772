/**
 * `smileid-auth audit`: reads JSONL audit logs line by line (never a whole file in memory) and prints
 * the `UsageReport` as a table, JSON, or a self-contained HTML page with a chart.
 *
 * @internal
 * @module
 */
import { createReadStream } from 'node:fs'
import { stat, writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { summarizeAudit, type AuditEvent } from '../index.js'
import { HELP_OPTION, formatDuration, helpHint, oneOf, parseCommand, readDuration } from './args.js'
import { EXIT_OK, UsageError, type CliContext, type Command, type Output } from './context.js'
import { renderHtml } from './html.js'
import { fileErrorText } from './input.js'
import { DailyShare, renderReportTable } from './report.js'

const NAME = 'audit'
/** Logs at least this large show a progress line on a terminal without `--progress`. */
const LARGE_LOG_BYTES = 32 * 1024 * 1024

const OPTIONS = {
  ...HELP_OPTION,
  since: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  progress: { type: 'boolean' },
} as const

const HELP = `Usage: smileid-auth audit <file.jsonl|-> [more files…] [options]

Summarizes audit logs written by jsonlAuditSink: per partner, requests accepted per scheme, rejections,
the last legacy sec_key use and the SDK versions still on it, and whether legacy can be switched off.
Files are streamed line by line, so multi-GB logs are fine. Lines that are not audit events are
skipped and counted on stderr.

Options:
  --since <when>             only events since then: a duration back from now (30d, 12h, 2w) or an
                             ISO date (2025-01-31).
  --format table|json|html   table (default); json: the UsageReport; html: one self-contained page
                             with an inline SVG chart of legacy share per day per partner.
  --out <file>               write the report to a file instead of stdout.
  --progress                 show progress on stderr (default: only on a terminal, for logs ≥ 32 MB).
  -h, --help                 show this help.

Exit codes: 0 report printed, 2 usage error (unreadable file, bad option).
`

/**
 * The `audit` command.
 *
 * @example
 * ```ts
 * // smileid-auth audit logs/*.jsonl --since 30d --format html --out report.html
 * const code = await audit.run(context)
 * ```
 */
export const audit: Command = {
  name: NAME,
  summary: 'summarize JSONL audit logs: legacy usage per partner and readiness',
  help: HELP,
  async run(context: CliContext): Promise<number> {
    const { values, positionals } = parseCommand(NAME, context.argv, OPTIONS, Number.MAX_SAFE_INTEGER)
    if (positionals.length === 0)
      throw new UsageError('give at least one audit log (.jsonl, or - for stdin)', helpHint(NAME))
    const format = oneOf(NAME, '--format', values.format, ['table', 'json', 'html'], 'table')
    const sinceMs = values.since === undefined ? null : readSince(values.since, context.now())

    // Check every file before reading any, so a typo fails at once.
    let totalBytes = 0
    for (const path of positionals) {
      if (path === '-') continue
      try {
        const info = await stat(path)
        if (!info.isFile()) throw new UsageError(`${path} is not a file`)
        totalBytes += info.size
      } catch (error) {
        if (error instanceof UsageError) throw error
        throw new UsageError(`cannot read ${path}: ${fileErrorText(error)}`)
      }
    }
    if (positionals.filter((path) => path === '-').length > 1)
      throw new UsageError('stdin (-) can be read only once')

    const progress = new Progress(
      context.stderr,
      values.progress === true || (context.stderr.isTTY && totalBytes >= LARGE_LOG_BYTES),
      totalBytes,
      context.now,
    )
    const daily = new DailyShare()
    const counts = { events: 0, skipped: 0, before: 0 }
    const report = await summarizeAudit(readEvents(context, positionals, sinceMs, daily, counts, progress), {
      now: new Date(context.now()),
    })
    progress.done(counts.events)
    if (counts.skipped > 0)
      context.stderr.write(`audit: skipped ${counts.skipped} line(s) that are not audit events\n`)

    let text: string
    if (format === 'json') text = JSON.stringify(report, null, 2) + '\n'
    else if (format === 'html') {
      text = renderHtml(report, daily, {
        sources: positionals.map((path) => (path === '-' ? 'stdin' : path)),
        events: counts.events,
        since: sinceMs === null ? null : new Date(sinceMs).toISOString(),
      })
    } else {
      const colourless: Output = {
        ...context.stdout,
        color: values.out === undefined && context.stdout.color,
      }
      text = renderReportTable(report, colourless)
    }
    if (values.out !== undefined) {
      try {
        await writeFile(values.out, text)
      } catch (error) {
        throw new UsageError(`cannot write ${values.out}: ${fileErrorText(error)}`)
      }
      context.stderr.write(`audit: wrote ${values.out} (${counts.events} events)\n`)
    } else {
      context.stdout.write(text)
    }
    return EXIT_OK
  },
}

/** `30d` (back from now) or an ISO date/time. */
function readSince(text: string, nowMs: number): number {
  const duration = readDuration(text)
  if (duration !== null && /[a-z]$/.test(text.trim())) return nowMs - duration
  const ms = Date.parse(text)
  if (!Number.isFinite(ms))
    throw new UsageError('--since must be a duration such as 30d or an ISO date', helpHint(NAME))
  return ms
}

/** Streams audit events from the files, skipping blank and foreign lines. */
async function* readEvents(
  context: CliContext,
  paths: readonly string[],
  sinceMs: number | null,
  daily: DailyShare,
  counts: { events: number; skipped: number; before: number },
  progress: Progress,
): AsyncGenerator<AuditEvent> {
  let doneBytes = 0
  for (const path of paths) {
    const stream = path === '-' ? null : createReadStream(path)
    const lines = createInterface({ input: stream ?? toReadable(context.stdin), crlfDelay: Infinity })
    try {
      for await (const line of lines) {
        if (line.trim() === '') continue
        const event = parseEvent(line)
        if (event === null) {
          counts.skipped++
          continue
        }
        if (sinceMs !== null && !(Date.parse(event.time) >= sinceMs)) {
          counts.before++
          continue
        }
        counts.events++
        daily.add(event)
        if ((counts.events & 1023) === 0) progress.update(doneBytes + (stream?.bytesRead ?? 0), counts.events)
        yield event
      }
    } catch (error) {
      throw new UsageError(`cannot read ${path}: ${fileErrorText(error)}`)
    } finally {
      lines.close()
      stream?.destroy()
    }
    doneBytes += stream?.bytesRead ?? 0
  }
}

function toReadable(input: CliContext['stdin']): NodeJS.ReadableStream {
  return input as unknown as NodeJS.ReadableStream
}

const OUTCOMES = new Set(['accepted', 'rejected', 'would_reject'])
const SCHEMES = new Set(['signature', 'sec_key', null])

/** Parses one log line as an audit event, or `null` when it is not one. */
function parseEvent(line: string): AuditEvent | null {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const event = value as Record<string, unknown>
  if (typeof event.time !== 'string' || !OUTCOMES.has(event.outcome as string)) return null
  if (!SCHEMES.has((event.scheme ?? null) as string | null)) return null
  if (event.partnerId !== null && event.partnerId !== undefined && typeof event.partnerId !== 'string')
    return null
  return {
    direction: 'incoming',
    partnerId: null,
    scheme: null,
    reason: null,
    keyId: null,
    transport: null,
    warnings: [],
    route: null,
    sourceIp: null,
    source_sdk: null,
    source_sdk_version: null,
    authenticated: false,
    instance: null,
    ...event,
  } as unknown as AuditEvent
}

/** A progress line on stderr: rewritten in place on a terminal, one line a second otherwise. */
class Progress {
  readonly #out: Output
  readonly #enabled: boolean
  readonly #total: number
  readonly #now: () => number
  readonly #started: number
  #last = 0

  constructor(out: Output, enabled: boolean, total: number, now: () => number) {
    this.#out = out
    this.#enabled = enabled
    this.#total = total
    this.#now = now
    this.#started = now()
  }

  update(bytes: number, events: number): void {
    if (!this.#enabled) return
    const now = this.#now()
    if (now - this.#last < (this.#out.isTTY ? 200 : 1000)) return
    this.#last = now
    const share = this.#total > 0 ? ` (${Math.min(100, (bytes / this.#total) * 100).toFixed(1)}%)` : ''
    this.#write(`audit: ${megabytes(bytes)} of ${megabytes(this.#total)}${share}, ${events} events`)
  }

  done(events: number): void {
    if (!this.#enabled) return
    this.#write(
      `audit: read ${events} events from ${megabytes(this.#total)} in ${formatDuration(this.#now() - this.#started)}`,
    )
    if (this.#out.isTTY) this.#out.write('\n')
  }

  #write(text: string): void {
    this.#out.write(this.#out.isTTY ? `\r\u001b[2K${text}` : `${text}\n`)
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
