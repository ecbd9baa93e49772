/**
 * `smileid-auth sign`: prints credential fields for a request, in either scheme.
 *
 * @internal
 * @module
 */
import type { SecKeyCredentials, SignatureCredentials } from '../index.js'
import { HELP_OPTION, helpHint, oneOf, parseCommand, required, type Parsed } from './args.js'
import { EXIT_OK, UsageError, type CliContext, type Command } from './context.js'
import { formatJson } from './json.js'
import { readTextFile } from './input.js'
import { SEC_KEY_ENV, SIGNATURE_KEY_ENV, readKeys, readSignatureKeys, single } from './key-input.js'
import { secKeyAuth, secKeyServerAuth, signatureAuth } from './strategies.js'

const NAME = 'sign'
const DEFAULT_URL = 'https://testapi.smileidentity.com/v1/job_status'

const OPTIONS = {
  ...HELP_OPTION,
  scheme: { type: 'string' },
  'partner-id': { type: 'string' },
  timestamp: { type: 'string' },
  format: { type: 'string' },
  url: { type: 'string' },
  'api-key': { type: 'string' },
  'api-key-file': { type: 'string' },
  'sec-key-api-key': { type: 'string' },
  'sec-key-api-key-file': { type: 'string' },
  'private-key-file': { type: 'string' },
} as const

const HELP = `Usage: smileid-auth sign --scheme signature|sec_key --partner-id <id> [options]

Prints the credential fields for a request to Smile ID (or a callback, with --private-key-file).

Options:
  --scheme <scheme>             signature (current) or sec_key (legacy). Required.
  --partner-id <id>             your partner id exactly as the portal shows it, e.g. 085. Required.
  --timestamp <t>               sign this timestamp, byte for byte (default: now; ISO for signature,
                                epoch milliseconds for sec_key). An all-digit sec_key timestamp is
                                printed as a JSON number.
  --format json|headers|curl    json (default): the body fields; headers: SmileID-* headers
                                (signature only); curl: a ready-to-paste curl command.
  --url <url>                   the URL for --format curl (default ${DEFAULT_URL}).
  --api-key <key>               the key of --scheme (visible in 'ps': prefer a file or the env).
  --api-key-file <path>         read the key of --scheme from a file.
  --sec-key-api-key[-file] ...  the sec_key API key (RSA public key), for --scheme sec_key.
  --private-key-file <path>     sec_key only: sign as Smile ID signs callbacks, with an RSA private key
                                (test keys from 'smileid-auth keygen').
  -h, --help                    show this help.

Environment:
  ${SIGNATURE_KEY_ENV}          the signature API key, when no key flag is given.
  ${SEC_KEY_ENV}  the sec_key API key, when no key flag is given.

Exit codes: 0 printed, 2 usage or configuration error.

Example:
  SMILEID_API_KEY=... smileid-auth sign --scheme signature --partner-id 085
`

/**
 * The `sign` command.
 *
 * @example
 * ```ts
 * // smileid-auth sign --scheme signature --partner-id 085 --format headers
 * const code = await sign.run(context)
 * ```
 */
export const sign: Command = {
  help: HELP,
  async run(context: CliContext): Promise<number> {
    const { values } = parseCommand(NAME, context.argv, OPTIONS, 0)
    const scheme = oneOf(
      NAME,
      '--scheme',
      required(NAME, values.scheme, '--scheme'),
      ['signature', 'sec_key'],
      'signature',
    )
    const partnerId = required(NAME, values['partner-id'], '--partner-id')
    const format = oneOf(NAME, '--format', values.format, ['json', 'headers', 'curl'], 'json')
    if (format === 'headers' && scheme === 'sec_key') {
      throw new UsageError(
        'sec_key travels only in the request body: use --format json or curl',
        helpHint(NAME),
      )
    }
    if (values.url !== undefined && format !== 'curl')
      throw new UsageError('--url goes with --format curl', helpHint(NAME))

    let fields: Record<string, unknown>
    if (scheme === 'signature') {
      if (values['private-key-file'] !== undefined) {
        throw new UsageError(
          '--private-key-file is for --scheme sec_key: signature uses the same key both ways',
          helpHint(NAME),
        )
      }
      const key = single(NAME, await readSignatureKeys(context, NAME, values), 'key')
      if (key === undefined)
        throw missingKey('signature API key', `--api-key-file <path> or ${SIGNATURE_KEY_ENV}`)
      // The HMAC key is used byte for byte: a stray newline signs a message Smile ID refuses (2205).
      if (key.key !== key.key.trim())
        context.stderr.write(
          `warning: the key from ${key.source} starts or ends with whitespace (a newline?): it is part of the HMAC key, and Smile ID's copy has none, so it answers 2205; trim the key\n`,
        )
      const auth = signatureAuth(NAME, partnerId, [key])
      const credentials: SignatureCredentials = await auth.sign(
        values.timestamp === undefined ? undefined : { timestamp: values.timestamp },
      )
      fields = { ...credentials, partner_id: partnerId }
    } else {
      const auth = await secKeySigner(context, values, partnerId)
      const credentials: SecKeyCredentials = await auth.sign(
        values.timestamp === undefined ? undefined : { timestamp: secKeyTimestamp(values.timestamp) },
      )
      fields = { sec_key: credentials.sec_key, timestamp: credentials.timestamp, partner_id: partnerId }
    }

    context.stdout.write(render(format, fields, values.url ?? DEFAULT_URL))
    return EXIT_OK
  },
}

type Values = Parsed<typeof OPTIONS>['values']

/** The sec_key signer: server role with --private-key-file, else partner role with the public key. */
async function secKeySigner(context: CliContext, values: Values, partnerId: string) {
  const privateKeyFile = values['private-key-file']
  const publicFlags = [
    values['api-key'],
    values['api-key-file'],
    values['sec-key-api-key'],
    values['sec-key-api-key-file'],
  ]
  if (privateKeyFile !== undefined) {
    if (publicFlags.some((flag) => flag !== undefined)) {
      throw new UsageError('give either --private-key-file or a sec_key API key, not both', helpHint(NAME))
    }
    return secKeyServerAuth(NAME, partnerId, await readTextFile(privateKeyFile, 64 * 1024))
  }
  // In `sign`, --api-key means the key of the chosen scheme; --sec-key-api-key says so explicitly.
  const direct = await readKeys(
    context,
    NAME,
    'api-key',
    values['api-key'],
    values['api-key-file'],
    undefined,
  )
  const named = await readKeys(
    context,
    NAME,
    'sec-key-api-key',
    values['sec-key-api-key'],
    values['sec-key-api-key-file'],
    direct.length > 0 ? undefined : SEC_KEY_ENV,
  )
  const key = single(NAME, [...direct, ...named], 'sec_key API key')
  if (key === undefined)
    throw missingKey('sec_key API key', `--sec-key-api-key-file <path> or ${SEC_KEY_ENV}`)
  return secKeyAuth(NAME, partnerId, key)
}

/** An all-digit sec_key timestamp is a number, as the SDKs send it; anything else stays a string. */
function secKeyTimestamp(text: string): string | number {
  if (/^\d{1,16}$/.test(text)) {
    const value = Number(text)
    if (Number.isSafeInteger(value) && String(value) === text) return value
  }
  return text
}

function missingKey(what: string, where: string): UsageError {
  return new UsageError(`no ${what} given`, `use ${where}`)
}

/** Formats the signed fields. */
function render(format: 'json' | 'headers' | 'curl', fields: Record<string, unknown>, url: string): string {
  if (format === 'json') return formatJson(fields)
  if (format === 'headers') {
    return (
      [
        `SmileID-Partner-ID: ${String(fields.partner_id)}`,
        `SmileID-Request-Signature: ${String(fields.signature)}`,
        `SmileID-Timestamp: ${String(fields.timestamp)}`,
      ].join('\n') + '\n'
    )
  }
  const body = JSON.stringify({ partner_id: fields.partner_id, ...fields })
  return `curl -sS -X POST ${shellQuote(url)} -H 'Content-Type: application/json' -d ${shellQuote(body)}\n`
}

/** Quotes a value for POSIX shells. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`
}
