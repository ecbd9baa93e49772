import { spawnSync } from 'node:child_process'
import { symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SignatureAuth } from '../../src/index.js'
import { CLI, requireBuild, scratch, spawnCli } from './helpers.js'

// Every other CLI test runs in-process through runCli(). These run the BUILT tool in a child process,
// one per command, so the bin itself (its entry-point check, process wiring and exit codes) is covered.
const files = scratch()
beforeAll(requireBuild)
afterAll(() => files.remove())

const KEY = 'sig-api-key-0123456789abcdef'

describe('smoke: the built smileid-auth, one run per command', () => {
  it('--help and --version', async () => {
    const help = await spawnCli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: smileid-auth <command>/)
    const version = await spawnCli(['--version'])
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('runs through a symlink, as npm links the bin (node_modules/.bin/smileid-auth)', async () => {
    const link = join(files.dir, 'smileid-auth')
    symlinkSync(CLI, link)
    const result = spawnSync(process.execPath, [link, '--version'], { encoding: 'utf8' })
    expect(result.status, result.stderr).toBe(0)
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('sign: exit 0 and the credential fields', async () => {
    const result = await spawnCli(
      ['sign', '--scheme', 'signature', '--partner-id', '085', '--timestamp', '2023-11-14T22:13:20.000Z'],
      { env: { SMILEID_API_KEY: KEY } },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({
      signature: '+wlhtBis54CmjrWLoWm1f/1ERtrfc0xHX9Xb1Zw9lFs=',
      timestamp: '2023-11-14T22:13:20.000Z',
      partner_id: '085',
    })
  })

  it('verify: exit 0 accepted, exit 1 rejected, read from stdin', async () => {
    const body = { partner_id: '085', ...(await new SignatureAuth({ partnerId: '085', apiKey: KEY }).sign()) }
    const accepted = await spawnCli(['verify'], {
      env: { SMILEID_API_KEY: KEY },
      input: JSON.stringify(body),
    })
    expect(accepted.code, accepted.stderr).toBe(0)
    expect(JSON.parse(accepted.stdout)).toMatchObject({ ok: true, scheme: 'signature' })
    const rejected = await spawnCli(['verify'], {
      env: { SMILEID_API_KEY: 'other' },
      input: JSON.stringify(body),
    })
    expect(rejected.code).toBe(1)
  })

  it('inspect: exit 1 with a likely cause', async () => {
    const body = {
      partner_id: '85',
      signature: '+wlhtBis54CmjrWLoWm1f/1ERtrfc0xHX9Xb1Zw9lFs=',
      timestamp: '2023-11-14T22:13:20.000Z',
    }
    const result = await spawnCli(['inspect', files.file('body.json', JSON.stringify(body))], {
      env: { SMILEID_API_KEY: KEY },
    })
    expect(result.code, result.stderr).toBe(1)
    expect(JSON.parse(result.stdout).likelyCause.code).toBe('partner_id_leading_zeros')
  })

  it('keygen: exit 0 and the four keys', async () => {
    const result = await spawnCli(['keygen', '--partner-id', '2343'])
    expect(result.code, result.stderr).toBe(0)
    expect(Object.keys(JSON.parse(result.stdout)).sort()).toEqual([
      'partnerId',
      'secKeyApiKey',
      'secKeyPrivateKey',
      'signatureApiKey',
    ])
  })

  it('audit: reads a log and answers with a report', async () => {
    const result = await spawnCli(['audit', files.file('empty.jsonl', ''), '--format', 'json'])
    expect([0, 1, 3], result.stderr).toContain(result.code)
    expect(JSON.parse(result.stdout)).toHaveProperty('readiness')
  })

  it('demo: exit 0 and both schemes', async () => {
    const result = await spawnCli(['demo'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/ signature +accepted /)
    expect(result.stdout).toMatch(/ sec_key +accepted /)
  })

  it('send: one clear line when nothing listens, exit 1', async () => {
    const result = await spawnCli(['send', 'http://127.0.0.1:9/cb', '--format', 'text', '--timeout', '5s'])
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/✖ no answer/)
    expect(result.stdout + result.stderr).not.toMatch(/\n\s+at /)
  })

  it('a usage error: exit 2, one line, with a suggestion', async () => {
    const result = await spawnCli(['sgin'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      "smileid-auth: unknown command sgin; did you mean sign? (see 'smileid-auth --help')\n",
    )
  })
})
