import { afterAll, describe, expect, it } from 'vitest'
import { expectNoSecrets, expectUsageError, json, run, scratch } from './helpers.js'

const files = scratch()
afterAll(() => files.remove())

interface TestKeys {
  partnerId: string
  signatureApiKey: string
  secKeyApiKey: string
  secKeyPrivateKey: string
}

describe('keygen', () => {
  it('prints createTestKeys() as JSON, and the keys work end to end through sign and verify', async () => {
    const result = await run(['keygen', '--partner-id', '2343'])
    expect(result.code, result.stderr).toBe(0)
    const keys = json<TestKeys>(result)
    expect(Object.keys(keys).sort()).toEqual([
      'partnerId',
      'secKeyApiKey',
      'secKeyPrivateKey',
      'signatureApiKey',
    ])
    expect(keys.partnerId).toBe('2343')
    expect(Buffer.from(keys.secKeyApiKey, 'base64').toString('utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/)
    expect(keys.secKeyPrivateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/)

    // Smile ID's side: sign a callback in each scheme; the partner's side: verify it.
    const privateKey = files.file('private.pem', keys.secKeyPrivateKey)
    const env = { SMILEID_API_KEY: keys.signatureApiKey, SMILEID_SEC_KEY_API_KEY: keys.secKeyApiKey }
    const signed = [
      await run(['sign', '--scheme', 'signature', '--partner-id', '2343'], { env }),
      await run(['sign', '--scheme', 'sec_key', '--partner-id', '2343', '--private-key-file', privateKey]),
    ]
    for (const [index, callback] of signed.entries()) {
      expect(callback.code, callback.stderr).toBe(0)
      const verified = await run(['verify'], { env, input: callback.stdout })
      expect(verified.code, verified.stdout + verified.stderr).toBe(0)
      expect(json(verified)).toMatchObject({
        ok: true,
        scheme: index === 0 ? 'signature' : 'sec_key',
        partnerId: '2343',
      })
      expectNoSecrets(verified, Object.values(env))
    }
  })

  it('makes different keys every time, and refuses a bad size', async () => {
    const [a, b] = await Promise.all([run(['keygen']), run(['keygen'])])
    expect(json<TestKeys>(a!).signatureApiKey).not.toBe(json<TestKeys>(b!).signatureApiKey)
    expect(json<TestKeys>(a!).partnerId).toBe('085')
    expectUsageError(await run(['keygen', '--bits', '512']), /--bits must be one of 1024, 2048/)
  })
})

describe('demo', () => {
  it('runs with no configuration, names both schemes, the forged and replayed callbacks, and exits 0', async () => {
    const result = await run(['demo'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toBe('')
    const lines = result.stdout.split('\n')
    const requests = lines.filter((line) => /^\d+ +(Smile ID → you|you → Smile ID) /.test(line))
    expect(requests.length).toBeGreaterThanOrEqual(9)
    expect(requests.filter((line) => / signature +accepted /.test(line)).length).toBeGreaterThanOrEqual(2)
    expect(requests.filter((line) => / sec_key +accepted /.test(line)).length).toBeGreaterThanOrEqual(2)
    expect(requests.some((line) => /forged .* signature +rejected +invalid_signature/.test(line))).toBe(true)
    expect(requests.some((line) => /replayed .* signature +rejected +replayed/.test(line))).toBe(true)
    expect(requests.some((line) => /redelivered .* accepted .*duplicate/.test(line))).toBe(true)
    expect(result.stdout).toMatch(/http:\/\/127\.0\.0\.1:\d+/)
    expect(result.stdout).toMatch(/Audit summary of your receiver \(7 events\)/)
    expect(result.stdout).toMatch(/^085 +5 +2 +3 +0 /m)
    expect(result.stdout).toMatch(/^NOT READY: authentic legacy sec_key use/m)
  })

  it('takes no options', async () => {
    expectUsageError(await run(['demo', '--port', '80']), /unknown option --port/)
  })
})
