import { describe, expect, it } from 'vitest'
import { SignatureAuth } from '../../src/index.js'
import { expectUsageError, run } from './helpers.js'

const COMMANDS = ['sign', 'verify', 'inspect', 'keygen', 'audit', 'demo', 'send'] as const

describe('smileid-auth: commands, help and usage errors', () => {
  it('lists every command with --help and exits 0', async () => {
    const result = await run(['--help'])
    expect(result.code).toBe(0)
    for (const command of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'))
  })

  it('prints the usage on stderr and exits 2 without a command', async () => {
    const result = await run([])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^Usage: smileid-auth <command>/)
  })

  it("'help <command>' prints the command's usage", async () => {
    const result = await run(['help', 'verify'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: smileid-auth verify/)
  })

  it('prints the package version', async () => {
    const result = await run(['--version'])
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it.each(COMMANDS)('%s --help prints its usage and exits 0, even next to a bad flag', async (command) => {
    for (const args of [
      [command, '--help'],
      [command, '--bogus', '-h'],
    ]) {
      const result = await run(args)
      expect(result.code, args.join(' ')).toBe(0)
      expect(result.stdout).toMatch(new RegExp(`^Usage: smileid-auth ${command}`))
      expect(result.stdout).toMatch(/Exit codes|exit code 0/)
    }
  })

  it.each(COMMANDS)(
    '%s: an unknown flag is a one-line usage error (exit 2) that names it',
    async (command) => {
      const result = await run([command, '--no-such-flag'])
      expectUsageError(
        result,
        new RegExp(
          `^smileid-auth ${command}: unknown option --no-such-flag \\(see 'smileid-auth ${command} --help'\\)$`,
        ),
      )
    },
  )

  it('an unknown flag with an inline value never repeats the value', async () => {
    const result = await run(['sign', '--apikey=super-secret-value'])
    expectUsageError(result, /unknown option --apikey/)
    expect(result.stderr).not.toContain('super-secret-value')
  })

  it('a flag without its value is a usage error', async () => {
    expectUsageError(
      await run(['sign', '--scheme', 'signature', '--partner-id']),
      /--partner-id needs a value/,
    )
    expectUsageError(await run(['verify', '--max-age']), /--max-age needs a value/)
  })

  it('a value that looks like a flag is refused with a hint, without repeating it', async () => {
    const result = await run([
      'sign',
      '--scheme',
      'signature',
      '--partner-id',
      '085',
      '--api-key',
      '-starts-with-dash',
    ])
    expectUsageError(result, /--api-key needs a value \(write --api-key=<value> if it starts with '-'\)/)
    expect(result.stderr).not.toContain('starts-with-dash')
  })

  it('a boolean flag given a value, and extra arguments, are usage errors', async () => {
    expectUsageError(await run(['verify', '--json=yes']), /--json takes no value/)
    expectUsageError(await run(['keygen', 'extra']), /keygen takes no arguments/)
    expectUsageError(await run(['verify', 'a.json', 'b.json']), /verify takes at most 1 argument/)
  })

  it('an unknown command is a usage error', async () => {
    expectUsageError(await run(['frobnicate']), /^smileid-auth: unknown command frobnicate \(see/)
    expectUsageError(await run(['--frob']), /options go after the command/)
  })

  it.each([
    ['sgin', 'sign'],
    ['verfy', 'verify'],
    ['insepct', 'inspect'],
    ['kegen', 'keygen'],
    ['audti', 'audit'],
    ['dmeo', 'demo'],
    ['Sign', 'sign'],
    ['ver', 'verify'],
  ])('an unknown command near a known one: %s → did you mean %s (exit 2)', async (typed, meant) => {
    expectUsageError(
      await run([typed]),
      new RegExp(
        `^smileid-auth: unknown command ${typed}; did you mean ${meant}\\? \\(see 'smileid-auth --help'\\)$`,
      ),
    )
  })

  it('a far-off or hostile command name gets no suggestion and is printed inert', async () => {
    expectUsageError(await run(['xyzzy']), /^smileid-auth: unknown command xyzzy \(see/)
    const hostile = await run(['\u001b[2Jsign'])
    expectUsageError(hostile)
    expect(hostile.stderr).not.toContain('\u001b')
    expect(hostile.stderr).toContain('\\x1b[2Jsign')
  })

  it.each([
    ['sign', '--partner', '--partner-id'],
    ['sign', '--shceme', '--scheme'],
    ['sign', '--timestmap', '--timestamp'],
    ['verify', '--partner', '--partner-id'],
    ['verify', '--max-ag', '--max-age'],
    ['verify', '--no-freshnes', '--no-freshness'],
    ['inspect', '--recieved-at', '--received-at'],
    ['inspect', '--api-keyfile', '--api-key-file'],
    ['keygen', '--bit', '--bits'],
    ['audit', '--sinc', '--since'],
  ])('%s %s: did you mean %s (exit 2)', async (command, typed, meant) => {
    expectUsageError(
      await run([command, typed]),
      new RegExp(
        `^smileid-auth ${command}: unknown option ${typed}; did you mean ${meant}\\? \\(see 'smileid-auth ${command} --help'\\)$`,
      ),
    )
  })

  it('a mistyped flag with an inline value gets its suggestion without the value', async () => {
    const result = await run(['sign', '--partner=085-secret', '--scheme', 'signature'])
    expectUsageError(result, /unknown option --partner; did you mean --partner-id\?/)
    expect(result.stderr).not.toContain('085-secret')
  })
})

describe('every command prints JSON the same way: indented, on a terminal and when piped', () => {
  const KEY = 'sig-api-key-0123456789abcdef'
  const indented = (stdout: string) => `${JSON.stringify(JSON.parse(stdout), null, 2)}\n`

  it.each([false, true])('terminal: %s', async (tty) => {
    const env = { SMILEID_API_KEY: KEY }
    const body = JSON.stringify({
      partner_id: '085',
      ...(await new SignatureAuth({ partnerId: '085', apiKey: KEY }).sign()),
    })
    const runs = [
      await run(['sign', '--scheme', 'signature', '--partner-id', '085'], { env, tty }),
      await run(['verify', '--json'], { env, tty, input: body }),
      await run(['inspect', '--json'], { env, tty, input: body }),
      await run(['keygen'], { tty }),
      await run(['audit', '-', '--format', 'json'], { tty, input: '' }),
    ]
    for (const result of runs) {
      expect(result.stdout.length, result.stderr).toBeGreaterThan(0)
      expect(result.stdout).toBe(indented(result.stdout))
    }
  })

  it('a bad enumerated value names the allowed ones', async () => {
    expectUsageError(
      await run(['sign', '--scheme', 'hmac', '--partner-id', '085']),
      /--scheme must be one of signature, sec_key/,
    )
    expectUsageError(
      await run(['audit', 'x.jsonl', '--format', 'pdf']),
      /--format must be one of table, text, json, html/,
    )
  })
})
