/**
 * `smileid-auth inspect`: explains a credential and the likely cause of Smile ID's 2204/2205 errors.
 *
 * @internal
 * @module
 */
import { HELP_OPTION, durationOption, formatDuration, helpHint, parseCommand, textOrJson } from './args.js'
import { EXIT_OK, EXIT_REJECTED, UsageError, type CliContext, type Command, type Output } from './context.js'
import { formatJson } from './json.js'
import { inspectCredential, type Finding, type Inspection, type Level } from './diagnose.js'
import { parseHeaders, parseJsonObject, readBody } from './input.js'
import { KEY_OPTIONS, SEC_KEY_ENV, SIGNATURE_KEY_ENV, readSecKeyKey, readSignatureKeys } from './key-input.js'
import { indent, paint, pairs, type Tone } from './style.js'
import { terminalSafe } from './terminal-text.js'

const NAME = 'inspect'

const OPTIONS = {
  ...HELP_OPTION,
  ...KEY_OPTIONS,
  'partner-id': { type: 'string' },
  header: { type: 'string', short: 'H', multiple: true },
  url: { type: 'string' },
  'received-at': { type: 'string' },
  window: { type: 'string' },
  json: { type: 'boolean' },
  format: { type: 'string' },
} as const

const HELP = `Usage: smileid-auth inspect [file|-] [options]

Explains the credential in a request or callback body (JSON, from a file or stdin): which scheme, the
timestamp's spelling and instant, whether the value is well-formed, the sec_key hash-half check; and,
given keys, the likely cause when it does not verify (Smile ID's 2204/2205 "not authorized"):
partner id "085" vs 85, timestamp re-serialised between signing and sending, local time marked Z,
whitespace in the key, the sec_key public key used as the signature key, a key of the other environment.
Never prints a key, signature or sec_key.

Options:
  --partner-id <id>             the partner id as you configured it (default: the body's partner_id).
  -H, --header 'Name: value'    a request header, e.g. -H 'SmileID-Request-Signature: ...'. Repeatable.
  --api-key <key>               a signature API key. Repeat (or repeat --api-key-file) to try your
                                sandbox and production keys: inspect says which one matches.
  --api-key-file <path>         read a signature API key from a file. Repeatable.
  --sec-key-api-key <key>       the sec_key "API Key for Sec Key" (RSA public key).
  --sec-key-api-key-file <path> read it from a file.
  --url <url>                   where the request was sent: tells sandbox from production.
  --received-at <time>          when the request was sent or received (ISO or epoch), for captured
                                requests: timestamp age and local-time checks use it instead of now.
  --window <duration>           the freshness window to compare with (default 5m).
  --format text|json            text on a terminal, JSON otherwise (default); --json is --format json.
  -h, --help                    show this help.

Environment: ${SIGNATURE_KEY_ENV}, ${SEC_KEY_ENV} (used when no key flag is given).
Exit codes: 0 nothing wrong found, 1 a problem was found, 2 usage error.
`

/**
 * The `inspect` command.
 *
 * @example
 * ```ts
 * // smileid-auth inspect request.json --api-key-file sig.key --format text
 * const code = await inspect.run(context) // 1 when a problem was found
 * ```
 */
export const inspect: Command = {
  help: HELP,
  async run(context: CliContext): Promise<number> {
    const { values, positionals } = parseCommand(NAME, context.argv, OPTIONS, 1)
    const format = textOrJson(NAME, values, context.stdout.isTTY === true)
    const headers = parseHeaders(NAME, values.header)
    const path = positionals[0]
    // Headers alone are enough to inspect a header-signed request.
    const hasHeaders = Object.keys(headers).length > 0
    const { text, source } =
      path === undefined && hasHeaders && context.stdin.isTTY === true
        ? { text: '{}', source: 'headers' }
        : await readBody(context, NAME, path)
    const body = parseJsonObject(text.trim() === '' && hasHeaders ? '{}' : text, source)

    const referenceGiven = values['received-at'] !== undefined
    const referenceMs = referenceGiven ? readInstantOption(values['received-at'] as string) : context.now()
    const inspection = await inspectCredential({
      body,
      headers,
      configuredPartnerId: values['partner-id'],
      signatureKeys: await readSignatureKeys(context, NAME, values),
      secKeyKey: await readSecKeyKey(context, NAME, values),
      url: values.url,
      referenceMs,
      referenceGiven,
      windowMs: values.window === undefined ? 300_000 : durationOption(NAME, '--window', values.window),
    })
    context.stdout.write(
      format === 'json'
        ? formatJson(inspection)
        : renderText(inspection, source, context.stdout, referenceGiven ? 'the --received-at time' : 'now'),
    )
    return inspection.likelyCause === null ? EXIT_OK : EXIT_REJECTED
  },
}

function readInstantOption(text: string): number {
  const ms = /^\d{1,16}$/.test(text)
    ? Number(text) < 1e11
      ? Number(text) * 1000
      : Number(text)
    : Date.parse(text)
  if (!Number.isFinite(ms))
    throw new UsageError('--received-at must be an ISO time or epoch seconds/milliseconds', helpHint(NAME))
  return ms
}

const MARKS: Record<Level, [string, Tone]> = {
  ok: ['✔', 'green'],
  info: ['·', 'cyan'],
  warn: ['!', 'yellow'],
  error: ['✖', 'red'],
}

/** Codes already shown in the summary block. */
const SUMMARY_CODES = new Set(['scheme', 'timestamp_spelling'])

/** The report for people. Every value that came from the request passes through {@link terminalSafe}. */
function renderText(inspection: Inspection, source: string, out: Output, reference: string): string {
  const ts = inspection.timestamp
  const rows: Array<[string, string]> = [
    [
      'scheme',
      inspection.scheme === null ? 'none found' : `${inspection.scheme} (in the ${inspection.transport})`,
    ],
    [
      'partner id',
      inspection.partnerId === null ? '(none in the request)' : terminalSafe(inspection.partnerId),
    ],
  ]
  if (ts !== null) {
    rows.push(['timestamp', terminalSafe(`${JSON.stringify(ts.value)}: ${ts.spelling}`)])
    const age =
      ts.ageMs === null
        ? ''
        : ` (${formatDuration(Math.abs(ts.ageMs))} ${ts.ageMs >= 0 ? 'before' : 'after'} ${reference})`
    rows.push([
      'instant',
      ts.instant === null ? 'not readable as an instant' : terminalSafe(`${ts.instant}${age}`),
    ])
  }
  const keyText =
    inspection.keyCheck === 'match'
      ? paint(out, 'green', 'a key verifies it')
      : inspection.keyCheck === 'mismatch'
        ? paint(out, 'red', 'no key verifies it as sent')
        : inspection.findings.some((finding) => finding.code === 'sec_key_partner_made')
          ? "not checkable with a public key (a partner's sec_key opens only with Smile ID's private key)"
          : 'not checked (no key given)'
  rows.push(['keys', keyText])
  const lines = inspection.findings
    .filter((finding) => !SUMMARY_CODES.has(finding.code))
    .map((finding) => renderFinding(finding, out))
  const verdict =
    inspection.likelyCause === null
      ? paint(out, 'green', 'No problem found.')
      : `${paint(out, 'bold', 'Likely cause:')} ${terminalSafe(inspection.likelyCause.message)} ${paint(out, 'gray', `[${inspection.likelyCause.code}]`)}`
  return `${paint(out, 'bold', `Credential in ${terminalSafe(source)}`)}\n${indent(pairs(rows))}\n${lines.join('\n')}\n\n${verdict}\n`
}

function renderFinding(finding: Finding, out: Output): string {
  const [mark, tone] = MARKS[finding.level]
  // Messages quote partner ids and timestamps from the request.
  return `  ${paint(out, tone, mark)} ${terminalSafe(finding.message)} ${paint(out, 'gray', `[${finding.code}]`)}`
}
