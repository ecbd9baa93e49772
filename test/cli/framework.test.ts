import { beforeAll, describe, expect, it } from 'vitest'
import { expectUsageError, requireBuild, run } from './helpers.js'

const COMMANDS = ['sign', 'verify', 'inspect', 'keygen', 'audit', 'demo'] as const

beforeAll(requireBuild)

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
    expectUsageError(await run(['frobnicate']), /^smileid-auth: unknown command frobnicate/)
    expectUsageError(await run(['--frob']), /options go after the command/)
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
