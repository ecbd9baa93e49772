/**
 * `smileid-auth audit`: reads a fleet's JSONL audit logs (files, directories, gzip, rotated files, stdin),
 * line by line and never a whole file in memory, and prints the dated migration verdict with its evidence
 * as a table, JSON, or a self-contained HTML page. The exit code is the verdict, so that
 * `smileid-auth audit … && echo switch off` is the gate.
 *
 * @internal
 * @module
 */
import { createReadStream } from 'node:fs'
import { readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import { createGunzip } from 'node:zlib'
import { LegacyUsageTracker, type AuditEvent, type AuditGapRecord, type UsageReport } from '../index.js'
import { HELP_OPTION, formatDuration, helpHint, oneOf, parseCommand, readDuration } from './args.js'
import { UsageError, type CliContext, type Command, type Output } from './context.js'
import { renderHtml } from './html.js'
import { fileErrorText } from './input.js'
import { HtmlData, renderReportTable } from './report.js'

const NAME = 'audit'
/** Logs at least this large show a progress line on a terminal without `--progress`. */
const LARGE_LOG_BYTES = 32 * 1024 * 1024
/** A "line" longer than this is no audit record: it is skipped without being held in memory. */
const MAX_LINE_CHARS = 1024 * 1024
/** Exit codes: the verdict. */
const EXIT_READY = 0
const EXIT_NOT_READY = 1
const EXIT_INSUFFICIENT = 3
/** Names a directory is searched for: `audit.jsonl`, `audit.jsonl.gz`, `audit.jsonl.1`, `audit.jsonl.2.gz`. */
const LOG_NAME = /\.jsonl(?:\.\d+)?(?:\.gz)?$/

const OPTIONS = {
  ...HELP_OPTION,
  since: { type: 'string' },
  format: { type: 'string' },
  json: { type: 'boolean' },
  out: { type: 'string' },
  progress: { type: 'boolean' },
  'quiet-period': { type: 'string' },
} as const

const HELP = `Usage: smileid-auth audit <file|directory|-> [more…] [options]

Reads audit logs written by jsonlAuditSink and says whether the legacy sec_key scheme can be switched
off: a dated verdict, the evidence behind it (span, silent days, dropped events, instances), then per
partner the requests per scheme, legacy use (accepted, or refused by policy or brownout) split into
incoming (callbacks and responses verified here) and outgoing (requests your app signed or sent through
the outbound gateway), and the SDKs, routes and keys still on it. Only credentials that verified count as
evidence; forged requests are counted apart and never move the verdict.

Inputs, in any mix, merged into one report: files; directories (every *.jsonl, *.jsonl.gz and rotated
*.jsonl.1, *.jsonl.2.gz inside); gzip files (.gz); - for stdin. Files are streamed line by line.
Lines that are not audit records are skipped and counted on stderr.

Options:
  --quiet-period <days>      days without authentic legacy use needed for "ready" (default 30d).
  --since <when>             only records since then: a duration back from now (30d, 12h, 2w) or an
                             ISO date (2025-01-31).
  --format table|json|html   table (default; "text" is the same); json: the UsageReport; html: one
                             self-contained page with coverage per instance and legacy share per partner.
  --json                     the same as --format json.
  --out <file>               write the report to a file instead of stdout.
  --progress                 show progress on stderr (default: only on a terminal, for logs ≥ 32 MB).
  -h, --help                 show this help.

Exit codes: 0 ready (switch legacy off: smileid-auth audit logs/ && echo switch off), 1 not ready
(authentic legacy use inside the quiet period), 3 insufficient evidence (no events, a span shorter
than the quiet period, dropped events or a silent instance inside it), 2 usage error.
`

/** One input: a file (maybe gzip) or stdin. */
interface Source {
  path: string | null
  gzip: boolean
  bytes: number
}

/**
 * The `audit` command.
 *
 * @example
 * ```ts
 * // smileid-auth audit logs/ --quiet-period 30d --format html --out report.html
 * const code = await audit.run(context) // 0 ready, 1 not ready, 3 insufficient evidence
 * ```
 */
export const audit: Command = {
  help: HELP,
  async run(context: CliContext): Promise<number> {
    const { values, positionals } = parseCommand(NAME, context.argv, OPTIONS, Number.MAX_SAFE_INTEGER)
    if (positionals.length === 0)
      throw new UsageError('give at least one audit log, directory, or - for stdin', helpHint(NAME))
    const format =
      values.json === true
        ? 'json'
        : oneOf(NAME, '--format', values.format, ['table', 'text', 'json', 'html'], 'table')
    const nowMs = context.now()
    const sinceMs = values.since === undefined ? null : readSince(values.since, nowMs)
    const quietPeriodDays = readQuietPeriod(values['quiet-period'])
    const sources = await findSources(positionals)
    const totalBytes = sources.reduce((sum, s) => sum + s.bytes, 0)

    const progress = new Progress(
      context.stderr,
      values.progress === true || (context.stderr.isTTY && totalBytes >= LARGE_LOG_BYTES),
      totalBytes,
      context.now,
    )
    const tracker = new LegacyUsageTracker({
      quietPeriodDays,
      ...(sinceMs === null ? {} : { since: new Date(sinceMs) }),
    })
    const html = format === 'html' ? new HtmlData(sinceMs) : null
    const counts = { records: 0, skipped: 0 }
    let doneBytes = 0
    for (const source of sources) {
      const name = source.path ?? 'stdin'
      try {
        await readSource(
          context,
          source,
          (line) => {
            const record = parseRecord(line)
            if (record === null) {
              if (line.trim() !== '') counts.skipped++
              return
            }
            counts.records++
            tracker.write(record)
            if (html !== null) html.add(record)
          },
          (bytes) => progress.update(doneBytes + bytes, counts.records),
        )
      } catch (error) {
        throw new UsageError(`cannot read ${name}: ${fileErrorText(error)}`)
      }
      doneBytes += source.bytes
    }
    const report = tracker.report(new Date(nowMs))
    progress.done(counts.records)
    if (counts.skipped > 0)
      context.stderr.write(`audit: skipped ${counts.skipped} line(s) that are not audit records\n`)

    let text: string
    if (format === 'json') text = JSON.stringify(verdictFirst(report), null, 2) + '\n'
    else if (format === 'html') {
      text = renderHtml(report, html!, {
        sources: sources.map((s) => s.path ?? 'stdin'),
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
      context.stderr.write(
        `audit: wrote ${values.out} (${report.evidence.events} authenticated events, verdict ${report.readiness.verdict})\n`,
      )
    } else {
      context.stdout.write(text)
    }
    const { verdict } = report.readiness
    return verdict === 'ready' ? EXIT_READY : verdict === 'not_ready' ? EXIT_NOT_READY : EXIT_INSUFFICIENT
  },
}

/** The report with its verdict and evidence first, the order a reader (and `jq`) meets them. */
function verdictFirst(report: UsageReport): UsageReport {
  return {
    readiness: report.readiness,
    evidence: report.evidence,
    generatedAt: report.generatedAt,
    unverified: report.unverified,
    partners: report.partners,
  }
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

/** `30d`, `30` (days) or `4w`; default 30 days. */
function readQuietPeriod(text: string | undefined): number {
  if (text === undefined) return 30
  const trimmed = text.trim()
  const ms = /^\d+(?:\.\d+)?$/.test(trimmed) ? Number(trimmed) * 86_400_000 : readDuration(trimmed)
  if (ms === null || !/^\d+(?:\.\d+)?[dw]?$/.test(trimmed) || !Number.isFinite(ms))
    throw new UsageError('--quiet-period must be a number of days such as 30d (or weeks: 4w)', helpHint(NAME))
  const days = ms / 86_400_000
  // The same bound summarizeAudit enforces: a longer quiet period is almost always a unit slip.
  if (days > 3650)
    throw new UsageError(`--quiet-period is at most 3650 days (got ${trimmed})`, helpHint(NAME))
  return days
}

/** Expands directories and checks every input before reading any, so that a typo fails at once. */
async function findSources(inputs: readonly string[]): Promise<Source[]> {
  if (inputs.filter((path) => path === '-').length > 1)
    throw new UsageError('stdin (-) can be read only once')
  const sources: Source[] = []
  for (const input of inputs) {
    if (input === '-') {
      sources.push({ path: null, gzip: false, bytes: 0 })
      continue
    }
    let info
    try {
      info = await stat(input)
    } catch (error) {
      throw new UsageError(`cannot read ${input}: ${fileErrorText(error)}`)
    }
    if (info.isDirectory()) {
      let names: string[]
      try {
        names = (await readdir(input)).filter((name) => LOG_NAME.test(name)).sort()
      } catch (error) {
        throw new UsageError(`cannot read ${input}: ${fileErrorText(error)}`)
      }
      let found = 0
      for (const name of names) {
        const path = join(input, name)
        const entry = await stat(path).catch(() => null)
        if (entry === null || !entry.isFile()) continue
        sources.push({ path, gzip: name.endsWith('.gz'), bytes: entry.size })
        found++
      }
      if (found === 0) throw new UsageError(`${input} holds no audit log (*.jsonl, *.jsonl.gz, *.jsonl.1, …)`)
    } else if (info.isFile()) {
      sources.push({ path: input, gzip: input.endsWith('.gz'), bytes: info.size })
    } else throw new UsageError(`${input} is not a file or a directory`)
  }
  return sources
}

/** Streams the lines of one source to `onLine`, reporting bytes read to `onProgress` once per chunk. */
async function readSource(
  context: CliContext,
  source: Source,
  onLine: (line: string) => void,
  onProgress: (bytes: number) => void,
): Promise<void> {
  let input: AsyncIterable<Buffer | string>
  let file: ReturnType<typeof createReadStream> | null = null
  if (source.path === null) input = context.stdin
  else {
    file = createReadStream(source.path, { highWaterMark: 128 * 1024 })
    if (source.gzip) {
      const gunzip = createGunzip()
      file.on('error', (error) => gunzip.destroy(error))
      input = file.pipe(gunzip)
    } else input = file
  }
  const decoder = new StringDecoder('utf8')
  let rest = ''
  try {
    for await (const chunk of input) {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk)
      rest = splitLines(rest, text, onLine)
      if (file !== null) onProgress(file.bytesRead)
    }
    const last = rest + decoder.end()
    if (last.length > 0) onLine(last)
  } finally {
    file?.destroy()
  }
}

/** Hands every complete line of `rest + text` to `onLine` and returns the unfinished tail. */
function splitLines(rest: string, text: string, onLine: (line: string) => void): string {
  let start = 0
  let newline = text.indexOf('\n')
  if (newline === -1) return tail(rest + text)
  if (rest.length > 0) {
    onLine(rest + text.slice(0, newline))
    start = newline + 1
    newline = text.indexOf('\n', start)
  }
  while (newline !== -1) {
    onLine(text.slice(start, newline))
    start = newline + 1
    newline = text.indexOf('\n', start)
  }
  return tail(text.slice(start))
}

/** An unfinished line too long to be an audit record is dropped (it will be skipped as foreign). */
function tail(text: string): string {
  return text.length > MAX_LINE_CHARS ? '\u0000' : text
}

/** Parses one log line as an audit event or gap record, or `null` when it is neither. */
function parseRecord(line: string): AuditEvent | AuditGapRecord | null {
  if (line.length === 0 || line.charCodeAt(0) !== 0x7b /* { */) return null
  let value: Record<string, unknown>
  try {
    value = JSON.parse(line) as Record<string, unknown>
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  if (value.kind === 'gap')
    return typeof value.from === 'string' && typeof value.to === 'string'
      ? (value as unknown as AuditGapRecord)
      : null
  if (typeof value.time !== 'string') return null
  const outcome = value.outcome
  if (outcome !== 'accepted' && outcome !== 'rejected' && outcome !== 'would_reject') return null
  const scheme = value.scheme
  if (scheme !== undefined && scheme !== null && scheme !== 'signature' && scheme !== 'sec_key') return null
  const partnerId = value.partnerId
  if (partnerId !== undefined && partnerId !== null && typeof partnerId !== 'string') return null
  // Logs written before records said so: only a credential that verified is accepted or would_reject.
  if (value.authenticated === undefined) value.authenticated = outcome !== 'rejected'
  return value as unknown as AuditEvent
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

  update(bytes: number, records: number): void {
    if (!this.#enabled) return
    const now = this.#now()
    if (now - this.#last < (this.#out.isTTY ? 200 : 1000)) return
    this.#last = now
    const share = this.#total > 0 ? ` (${Math.min(100, (bytes / this.#total) * 100).toFixed(1)}%)` : ''
    this.#write(`audit: ${megabytes(bytes)} of ${megabytes(this.#total)}${share}, ${records} records`)
  }

  done(records: number): void {
    if (!this.#enabled) return
    this.#write(
      `audit: read ${records} records from ${megabytes(this.#total)} in ${formatDuration(this.#now() - this.#started)}`,
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
