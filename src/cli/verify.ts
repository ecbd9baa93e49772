/**
 * `smileid-auth verify`: verifies a callback or response body with a {@link DualModeVerifier}, as a
 * receiver would, and prints the {@link VerificationResult}.
 *
 * @internal
 * @module
 */
import { isDigitPartnerId, readClaim } from '../claims.js'
import { DualModeVerifier, type DualModeVerifierOptions, type VerificationResult } from '../index.js'
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
import { formatJson } from './json.js'
import { parseHeaders, parseJsonObject, readBody } from './input.js'
import { KEY_OPTIONS, SEC_KEY_ENV, SIGNATURE_KEY_ENV, readSecKeyKey, readSignatureKeys } from './key-input.js'
import { configurationToUsage, secKeyAuth, signatureAuth } from './strategies.js'
import { verifyHint, type HintContext } from './hints.js'
import { indent, paint, pairs } from './style.js'
import { terminalSafe } from './terminal-text.js'

const NAME = 'verify'

const OPTIONS = {
  ...HELP_OPTION,
  ...KEY_OPTIONS,
  'partner-id': { type: 'string' },
  header: { type: 'string', short: 'H', multiple: true },
  'no-freshness': { type: 'boolean' },
  'max-age': { type: 'string' },
  'max-future': { type: 'string' },
  legacy: { type: 'string' },
  json: { type: 'boolean' },
  format: { type: 'string' },
} as const

const HELP = `Usage: smileid-auth verify [file|-] [options]

Verifies the credential in a callback or response body (JSON, from a file or stdin) as a dual-mode
receiver does: signature or sec_key, whichever the body carries, within a freshness window.

Options:
  --partner-id <id>             the partner to verify for (default: the body's partner_id).
  -H, --header 'Name: value'    a request header, for the SmileID-* signature headers. Repeatable.
  --api-key <key>               the signature API key (visible in 'ps': prefer a file or the env).
                                Repeat to accept several keys, as during a key rotation.
  --api-key-file <path>         read the signature API key from a file. Repeatable.
  --sec-key-api-key <key>       the sec_key "API Key for Sec Key" (RSA public key).
  --sec-key-api-key-file <path> read it from a file.
  --max-age <duration>          accept timestamps up to this old (default 5m), e.g. 30d for a
                                callback captured last month.
  --max-future <duration>       accept timestamps up to this far ahead of this machine's clock
                                (default 5m), for a sender whose clock runs ahead.
  --no-freshness                do not check the timestamp at all.
  --legacy accept|warn|reject   how to treat the legacy sec_key scheme (default accept).
  --format text|json            text on a terminal, JSON otherwise (default); --json is --format json.
  -h, --help                    show this help.

Environment: ${SIGNATURE_KEY_ENV}, ${SEC_KEY_ENV} (used when no key flag is given).
Exit codes: 0 accepted, 1 rejected, 2 usage or configuration error (bad flag, missing key, not JSON).
`

/**
 * The `verify` command.
 *
 * @example
 * ```ts
 * // cat callback.json | smileid-auth verify --format text
 * const code = await verify.run(context) // 0 accepted, 1 rejected
 * ```
 */
export const verify: Command = {
  help: HELP,
  async run(context: CliContext): Promise<number> {
    const { values, positionals } = parseCommand(NAME, context.argv, OPTIONS, 1)
    const format = textOrJson(NAME, values, context.stdout.isTTY === true)
    for (const flag of ['max-age', 'max-future'] as const) {
      if (values['no-freshness'] === true && values[flag] !== undefined)
        throw new UsageError(`give --no-freshness or --${flag}, not both`, helpHint(NAME))
    }
    const window: { maxAgeMs?: number; maxFutureMs?: number } = {}
    if (values['max-age'] !== undefined)
      window.maxAgeMs = durationOption(NAME, '--max-age', values['max-age'])
    if (values['max-future'] !== undefined)
      window.maxFutureMs = durationOption(NAME, '--max-future', values['max-future'])
    const legacy = oneOf(NAME, '--legacy', values.legacy, ['accept', 'warn', 'reject'], 'accept')
    const headers = parseHeaders(NAME, values.header)
    const { text, source } = await readBody(context, NAME, positionals[0])
    const body = parseJsonObject(text, source)

    // What the request claims, read by the verifier's own claim reader: the partner it names (transport,
    // equality and conflicts by the verifier's rules), or why its claims are unusable.
    const claim = readClaim(body, headers)
    const partnerId = values['partner-id'] ?? claim.partnerId ?? undefined
    // Claims that contradict each other (or repeat a SmileID header) name no partner, and the verifier
    // refuses them before any partner lookup, policy or key: verify prints that refusal.
    const refusal = !claim.ok && claim.reason === 'malformed_credentials' ? claim : undefined
    if (partnerId === undefined && refusal === undefined) {
      throw new UsageError(`${source} names no partner (partner_id or smile_client_id)`, 'give --partner-id')
    }
    const signatureKeys = await readSignatureKeys(context, NAME, values)
    const secKeyKey = await readSecKeyKey(context, NAME, values)
    if (signatureKeys.length === 0 && secKeyKey === undefined) {
      throw new UsageError(
        'no key given',
        `use --api-key-file or ${SIGNATURE_KEY_ENV} for signature, --sec-key-api-key-file or ${SEC_KEY_ENV} for sec_key`,
      )
    }
    let options: DualModeVerifierOptions | undefined
    let result: VerificationResult
    if (partnerId === undefined) {
      result = refusal!
    } else {
      options = {
        partnerId,
        policy: { legacy },
        freshness: values['no-freshness'] === true ? false : window,
        now: context.now,
      }
      if (signatureKeys.length > 0) options.signature = signatureAuth(NAME, partnerId, signatureKeys)
      // sec_key needs a digit partner id; without one only signature can be verified.
      if (secKeyKey !== undefined && isDigitPartnerId(partnerId))
        options.secKey = secKeyAuth(NAME, partnerId, secKeyKey)

      let verifier: DualModeVerifier
      try {
        verifier = new DualModeVerifier(options)
      } catch (error) {
        throw configurationToUsage(NAME, error)
      }
      result = await verifier.verify({ body, headers })
    }
    if (
      options !== undefined &&
      !result.ok &&
      result.reason === 'scheme_not_allowed' &&
      result.scheme !== null
    ) {
      const missing =
        result.scheme === 'signature' ? options.signature === undefined : options.secKey === undefined
      if (missing) throw missingSchemeKey(result.scheme, secKeyKey !== undefined)
    }
    context.stdout.write(
      format === 'json'
        ? formatJson(result)
        : renderText(result, context, {
            legacy,
            partnerIdGiven: values['partner-id'] !== undefined,
          }),
    )
    return result.ok ? EXIT_OK : EXIT_REJECTED
  },
}

function missingSchemeKey(scheme: 'signature' | 'sec_key', secKeyGiven: boolean): UsageError {
  if (scheme === 'signature') {
    return new UsageError(
      'the body carries a signature but no signature API key was given',
      `use --api-key-file or ${SIGNATURE_KEY_ENV}`,
    )
  }
  if (secKeyGiven)
    return new UsageError('the body carries a sec_key, which needs a partner id of digits', helpHint(NAME))
  return new UsageError(
    'the body carries a sec_key but no sec_key API key was given',
    `use --sec-key-api-key-file or ${SEC_KEY_ENV}`,
  )
}

/** The result for people. Partner ids, timestamps and messages pass through {@link terminalSafe}. */
function renderText(result: VerificationResult, context: CliContext, hint: HintContext): string {
  const out: Output = context.stdout
  const safe = terminalSafe
  if (result.ok) {
    const age = result.issuedAt === null ? '' : ` (${describeAge(context.now() - result.issuedAt.getTime())})`
    const rows: Array<[string, string]> = [
      ['scheme', safe(`${result.scheme}${result.legacy ? ' (legacy)' : ''}, in the ${result.transport}`)],
      ['partner id', safe(result.partnerId)],
      ['timestamp', safe(`${JSON.stringify(result.timestamp)}${age}`)],
      ['key', safe(result.keyId)],
    ]
    if (result.warnings.length > 0)
      rows.push(['warnings', paint(out, 'yellow', safe(result.warnings.join(', ')))])
    return `${paint(out, 'green', '✔ accepted')}\n${indent(pairs(rows))}`
  }
  const rows: Array<[string, string]> = [
    ['reason', paint(out, 'red', safe(result.reason))],
    ['message', safe(result.message)],
    ['scheme', result.scheme === null ? '(none found)' : safe(result.scheme)],
    ['partner id', result.partnerId === null ? '(none)' : safe(result.partnerId)],
  ]
  rows.push(['next', verifyHint(result, hint)])
  return `${paint(out, 'red', '✖ rejected')}\n${indent(pairs(rows))}`
}

function describeAge(ms: number): string {
  return ms >= 0 ? `${formatDuration(ms)} ago` : `${formatDuration(-ms)} in the future`
}
