/**
 * `smileid-auth send <url>`: posts a test callback, signed as Smile ID signs it (either scheme), to a
 * partner's endpoint and prints the status and body that came back, to test the endpoint end to end.
 * The callback comes from the test kit's {@link SmileServerSimulator}, through the public
 * `smileid-auth-shim/testing` entry.
 *
 * @internal
 * @module
 */
import { createTestKeys, SmileServerSimulator, type TestKeys } from '../testing/index.js'
import {
  HELP_OPTION,
  durationOption,
  formatDuration,
  helpHint,
  oneOf,
  parseCommand,
  textOrJson,
} from './args.js'
import { EXIT_OK, EXIT_REJECTED, UsageError, type CliContext, type Command, type Output } from './context.js'
import { parseJsonObject, readTextFile } from './input.js'
import { formatJson } from './json.js'
import { SIGNATURE_KEY_ENV, readSignatureKeys, single } from './key-input.js'
import { configurationToUsage } from './strategies.js'
import { indent, paint, pairs } from './style.js'
import { terminalSafe } from './terminal-text.js'

const NAME = 'send'
const DEFAULT_TIMEOUT_MS = 10_000
/** The endpoint's answer is shown, not stored: the first 64 KB is plenty. */
const MAX_RESPONSE_BYTES = 64 * 1024

const OPTIONS = {
  ...HELP_OPTION,
  scheme: { type: 'string' },
  result: { type: 'string' },
  'partner-id': { type: 'string' },
  timestamp: { type: 'string' },
  keys: { type: 'string' },
  'api-key': { type: 'string' },
  'api-key-file': { type: 'string' },
  'private-key-file': { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  format: { type: 'string' },
} as const

const HELP = `Usage: smileid-auth send <url> [--scheme signature|sec_key] [--result approved|rejected|<ResultCode>] [options]

Posts a test callback to your endpoint, signed as Smile ID signs callbacks, and prints the status and
body your endpoint answered: your receiver tested end to end, both schemes, any result.

Options:
  --scheme <scheme>             signature (default) or sec_key (legacy).
  --result <result>             approved (default), rejected, or a ResultCode such as 1022.
  --partner-id <id>             the partner the callback is for (default: from --keys, else 085;
                                required with your own key, from a flag or ${SIGNATURE_KEY_ENV}).
  --timestamp <t>               sign this timestamp (default now), e.g. an old one to check that your
                                endpoint refuses stale callbacks.
  --keys <file>                 test keys from 'smileid-auth keygen' (both schemes).
  --api-key <key>               signature: the signature API key (the same key signs and verifies).
  --api-key-file <path>         read it from a file.
  --private-key-file <path>     sec_key: the RSA private key that signs callbacks (test keys only:
                                for real keys only Smile ID holds it).
  --timeout <duration>          how long to wait for the answer (default 10s).
  --format text|json            text on a terminal, JSON otherwise (default); --json is --format json.
  -h, --help                    show this help.

Without keys for the chosen scheme, the callback is signed with freshly generated test keys, which your
endpoint refuses unless it is configured with them; a note on stderr says so.

Environment: ${SIGNATURE_KEY_ENV} (the signature key, when no key flag is given).
Exit codes: 0 your endpoint answered 2xx, 1 it answered anything else or could not be reached,
2 usage error.

Example:
  smileid-auth keygen > keys.json
  smileid-auth send http://127.0.0.1:3000/smile/callback --keys keys.json --scheme sec_key --result rejected
`

/** What `send` prints as JSON. */
interface SendReport {
  url: string
  sent: { scheme: 'signature' | 'sec_key'; partnerId: string; ResultCode: unknown; SmileJobID: unknown }
  /** `null` when no answer came (connection error or timeout). */
  status: number | null
  statusText: string | null
  ok: boolean
  /** The answer's body: parsed JSON, or text (first 64 KB). */
  body: unknown
  /** Why there is no answer, when there is none. */
  error: string | null
}

/**
 * The `send` command.
 *
 * @example
 * ```ts
 * // smileid-auth send http://127.0.0.1:3000/smile/callback --keys keys.json --scheme sec_key
 * const code = await send.run(context) // 0 when the endpoint answered 2xx
 * ```
 */
export const send: Command = {
  help: HELP,
  async run(context: CliContext): Promise<number> {
    const { values, positionals } = parseCommand(NAME, context.argv, OPTIONS, 1)
    const format = textOrJson(NAME, values, context.stdout.isTTY === true)
    const { url, authorization } = withoutCredentials(endpoint(positionals[0]))
    const scheme = oneOf(NAME, '--scheme', values.scheme, ['signature', 'sec_key'], 'signature')
    const result = readResult(values.result)
    const timeoutMs =
      values.timeout === undefined ? DEFAULT_TIMEOUT_MS : durationOption(NAME, '--timeout', values.timeout)
    if (timeoutMs <= 0) throw new UsageError('--timeout must be more than 0', helpHint(NAME))

    const { keys, generated } = await chooseKeys(context, values, scheme)
    let simulator: SmileServerSimulator
    let body: Record<string, unknown>
    try {
      simulator = new SmileServerSimulator(keys, { now: context.now })
      body = await simulator.callbackBody({
        scheme,
        result,
        ...(values.timestamp === undefined ? {} : { timestamp: callbackTimestamp(scheme, values.timestamp) }),
      })
    } catch (error) {
      throw configurationToUsage(NAME, error)
    }
    if (generated) {
      context.stderr.write(
        `note: no ${scheme === 'signature' ? 'signature API key' : 'private key'} given: signed with freshly generated test keys, which your endpoint refuses unless configured with them ('smileid-auth keygen > keys.json', then --keys keys.json)\n`,
      )
    }

    const report: SendReport = {
      url: url.href,
      sent: { scheme, partnerId: keys.partnerId, ResultCode: body.ResultCode, SmileJobID: body.SmileJobID },
      status: null,
      statusText: null,
      ok: false,
      body: null,
      error: null,
    }
    const answer = await post(url, body, timeoutMs, authorization)
    if ('error' in answer) report.error = answer.error
    else Object.assign(report, answer, { ok: answer.status >= 200 && answer.status < 300 })

    context.stdout.write(format === 'json' ? formatJson(report) : renderText(report, context.stdout))
    return report.ok ? EXIT_OK : EXIT_REJECTED
  },
}

/** The target URL: http or https only. */
function endpoint(text: string | undefined): URL {
  if (text === undefined) throw new UsageError('give the URL of your callback endpoint', helpHint(NAME))
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError('the URL is not valid (e.g. http://127.0.0.1:3000/smile/callback)', helpHint(NAME))
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError('the URL must start with http:// or https://', helpHint(NAME))
  return url
}

/**
 * Splits `https://user:pass@host/…` into the URL without its credentials (fetch refuses them, and
 * they must not be printed) and the Basic `Authorization` header they stand for.
 */
function withoutCredentials(url: URL): { url: URL; authorization: string | undefined } {
  if (url.username === '' && url.password === '') return { url, authorization: undefined }
  const user = decodeURIComponent(url.username)
  const password = decodeURIComponent(url.password)
  const bare = new URL(url.href)
  bare.username = ''
  bare.password = ''
  return { url: bare, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }
}

/** `approved`, `rejected`, or a ResultCode merged over the approved result. */
function readResult(text: string | undefined): 'approved' | 'rejected' | Record<string, unknown> {
  if (text === undefined || text === 'approved' || text === 'rejected') return text ?? 'approved'
  if (/^\d{4}$/.test(text)) return { ResultCode: text, ResultText: `Test callback with ResultCode ${text}` }
  throw new UsageError(
    '--result must be approved, rejected or a four-digit ResultCode such as 1022',
    helpHint(NAME),
  )
}

/** Like `sign`: an all-digit sec_key timestamp is a number, as Smile ID sends it. */
function callbackTimestamp(scheme: 'signature' | 'sec_key', text: string): string | number {
  if (scheme === 'sec_key' && /^\d{1,16}$/.test(text) && Number.isSafeInteger(Number(text)))
    return Number(text)
  return text
}

type Values = ReturnType<typeof parseCommand<typeof OPTIONS>>['values']

/**
 * The simulator's keys: from `--keys`, else the key the scheme needs from flags or the environment, else
 * fresh test keys. The simulator needs both halves; the one a scheme does not use is a throwaway.
 */
async function chooseKeys(
  context: CliContext,
  values: Values,
  scheme: 'signature' | 'sec_key',
): Promise<{ keys: TestKeys; generated: boolean }> {
  const partnerFlag = values['partner-id']
  if (partnerFlag === '') throw new UsageError('--partner-id is empty', helpHint(NAME))
  const direct = [values['api-key'], values['api-key-file'], values['private-key-file']]
  if (values.keys !== undefined) {
    if (direct.some((flag) => flag !== undefined))
      throw new UsageError('give --keys or key flags, not both', helpHint(NAME))
    const keys = readKeysFile(await readTextFile(values.keys, 64 * 1024), values.keys)
    return { keys: partnerFlag === undefined ? keys : { ...keys, partnerId: partnerFlag }, generated: false }
  }
  if (scheme === 'sec_key' && (values['api-key'] !== undefined || values['api-key-file'] !== undefined)) {
    throw new UsageError(
      'a sec_key callback is signed with the private key: use --private-key-file or --keys',
      helpHint(NAME),
    )
  }
  if (scheme === 'signature' && values['private-key-file'] !== undefined) {
    throw new UsageError('--private-key-file is for --scheme sec_key', helpHint(NAME))
  }
  const signatureKey =
    scheme === 'signature'
      ? single(NAME, await readSignatureKeys(context, NAME, values), 'signature API key')
      : undefined
  const privateKeyFile = values['private-key-file']
  const privateKey = privateKeyFile === undefined ? undefined : await readTextFile(privateKeyFile, 64 * 1024)
  const ownKey = signatureKey !== undefined || privateKey !== undefined
  if (ownKey && partnerFlag === undefined) {
    // Your own key signs for your own partner id: a default id would sign a callback nobody sends.
    const from = signatureKey?.source ?? '--private-key-file'
    throw new UsageError(
      `--partner-id is required with your own key (the key here is from ${from}); the default 085 ` +
        'is only for test keys (--keys, or none at all)',
      helpHint(NAME),
    )
  }
  const partnerId = partnerFlag ?? '085'
  let keys: TestKeys
  try {
    keys = createTestKeys({ partnerId })
  } catch (error) {
    throw configurationToUsage(NAME, error)
  }
  if (signatureKey !== undefined) keys = { ...keys, signatureApiKey: signatureKey.key }
  if (privateKey !== undefined) keys = { ...keys, secKeyPrivateKey: privateKey }
  return { keys, generated: !ownKey }
}

/** The JSON `keygen` prints. Never quotes the file. */
function readKeysFile(text: string, path: string): TestKeys {
  const value = parseJsonObject(text, path)
  const fields = ['partnerId', 'signatureApiKey', 'secKeyApiKey', 'secKeyPrivateKey'] as const
  for (const field of fields) {
    if (typeof value[field] !== 'string' || value[field] === '')
      throw new UsageError(`${path} has no ${field}: give the JSON that 'smileid-auth keygen' prints`)
  }
  return {
    partnerId: value.partnerId as string,
    signatureApiKey: value.signatureApiKey as string,
    secKeyApiKey: value.secKeyApiKey as string,
    secKeyPrivateKey: value.secKeyPrivateKey as string,
  }
}

type Answer = { status: number; statusText: string; body: unknown } | { error: string }

/** Posts the callback as Smile ID does (JSON body, no redirects followed); never throws. */
async function post(
  url: URL,
  body: unknown,
  timeoutMs: number,
  authorization: string | undefined,
): Promise<Answer> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'smileid-auth send',
  }
  if (authorization !== undefined) headers.authorization = authorization
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (error) {
    return { error: connectionError(error, url, timeoutMs) }
  }
  try {
    const text = await readLimited(response, timeoutMs)
    let parsed: unknown = text
    if (text !== '') {
      try {
        parsed = JSON.parse(text) as unknown
      } catch {
        // Not JSON: shown as text.
      }
    }
    return { status: response.status, statusText: response.statusText, body: text === '' ? null : parsed }
  } catch (error) {
    return { error: connectionError(error, url, timeoutMs) }
  }
}

/** The first {@link MAX_RESPONSE_BYTES} of the answer, as text. */
async function readLimited(response: Response, timeoutMs: number): Promise<string> {
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  const timer = setTimeout(() => void reader.cancel().catch(() => undefined), timeoutMs)
  try {
    while (size < MAX_RESPONSE_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.byteLength
    }
  } finally {
    clearTimeout(timer)
    if (size >= MAX_RESPONSE_BYTES) await reader.cancel().catch(() => undefined)
  }
  const bytes = Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES)
  return new TextDecoder().decode(bytes)
}

/** One plain sentence for a failed request: refused, unknown host, reset, timed out. */
function connectionError(error: unknown, url: URL, timeoutMs: number): string {
  const name = (error as { name?: unknown }).name
  if (name === 'TimeoutError' || name === 'AbortError')
    return `no answer from ${url.host} within ${formatDuration(timeoutMs)} (--timeout)`
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause
  // fetch refuses the ports browsers block (1, 25, 6000, …) before connecting.
  if (cause?.message === 'bad port')
    return `fetch refuses port ${url.port} (one of the ports browsers block): use another port`
  const code = typeof cause?.code === 'string' ? cause.code : (error as { code?: unknown }).code
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${url.host}: is your server running and listening on that port?`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host name ${url.hostname}`
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `${url.host} closed the connection before answering`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${url.host} cannot be reached from this machine`
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `no answer from ${url.host} within ${formatDuration(timeoutMs)} (--timeout)`
    default:
      if (typeof code === 'string' && /^(ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code))
        return `the TLS connection to ${url.host} failed (${code})`
      return `the request to ${url.host} failed${typeof code === 'string' ? ` (${code})` : ''}`
  }
}

/** The answer for people; the endpoint's body is shown inert (it is not ours). */
function renderText(report: SendReport, out: Output): string {
  const sent = `${report.sent.scheme} callback for partner ${report.sent.partnerId}, ResultCode ${String(report.sent.ResultCode)}`
  const rows: Array<[string, string]> = [
    ['url', terminalSafe(report.url)],
    ['sent', terminalSafe(sent)],
  ]
  if (report.status === null) {
    rows.push(['error', paint(out, 'red', terminalSafe(report.error ?? 'no answer'))])
    return `${paint(out, 'red', '✖ no answer')}\n${indent(pairs(rows))}`
  }
  const status = terminalSafe(`${report.status} ${report.statusText}`.trim())
  rows.push(['status', paint(out, report.ok ? 'green' : 'red', status)])
  const head = report.ok
    ? paint(out, 'green', `✔ ${status}`)
    : paint(
        out,
        'red',
        `✖ ${status}${report.status >= 300 && report.status < 400 ? ' (redirects are not followed)' : ''}`,
      )
  const body =
    report.body === null
      ? '(empty)'
      : typeof report.body === 'string'
        ? report.body.split(/\r?\n/).map(terminalSafe).join('\n')
        : formatJson(report.body).trimEnd()
  return `${head}\n${indent(pairs(rows))}  body\n${indent(indent(body))}\n`
}
