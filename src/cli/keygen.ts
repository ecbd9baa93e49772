/**
 * `smileid-auth keygen`: prints a fresh set of test keys (`createTestKeys()`) as JSON.
 *
 * @internal
 * @module
 */
import { createTestKeys } from '../testing/index.js'
import { HELP_OPTION, helpHint, oneOf, parseCommand } from './args.js'
import { EXIT_OK, UsageError, type CliContext, type Command } from './context.js'
import { formatJson } from './json.js'
import { configurationToUsage } from './strategies.js'

const NAME = 'keygen'

const OPTIONS = {
  ...HELP_OPTION,
  'partner-id': { type: 'string' },
  bits: { type: 'string' },
} as const

const HELP = `Usage: smileid-auth keygen [--partner-id <id>] [--bits 1024|2048]

Prints a fresh set of TEST keys as JSON: { partnerId, signatureApiKey, secKeyApiKey, secKeyPrivateKey }.
secKeyApiKey is the public key in the portal's format (base64 of a PEM); secKeyPrivateKey is the
private half that only Smile ID holds for real keys, here so you can sign test callbacks
('smileid-auth sign --scheme sec_key --private-key-file'). Never use these keys in production.

Options:
  --partner-id <id>   the test partner id (default 085).
  --bits 1024|2048    RSA key size (default 1024, the portal's size).
  -h, --help          show this help.

Exit codes: 0 printed, 2 usage error.
`

/**
 * The `keygen` command.
 *
 * @example
 * ```ts
 * // smileid-auth keygen --partner-id 2343 > test-keys.json
 * const code = await keygen.run(context)
 * ```
 */
export const keygen: Command = {
  help: HELP,
  async run(context: CliContext): Promise<number> {
    const { values } = parseCommand(NAME, context.argv, OPTIONS, 0)
    const bits = oneOf(NAME, '--bits', values.bits, ['1024', '2048'], '1024')
    const partnerId = values['partner-id']
    if (partnerId === '') throw new UsageError('--partner-id is empty', helpHint(NAME))
    let keys
    try {
      keys = createTestKeys({
        ...(partnerId === undefined ? {} : { partnerId }),
        modulusLength: bits === '2048' ? 2048 : 1024,
      })
    } catch (error) {
      throw configurationToUsage(NAME, error)
    }
    context.stdout.write(formatJson(keys))
    if (context.stderr.isTTY) context.stderr.write('test keys: never use them in production\n')
    return EXIT_OK
  },
}
