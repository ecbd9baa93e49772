import { afterAll, describe, expect, it } from 'vitest'
import { LegacySecKeyAuth, SignatureAuth } from '../../src/index.js'
import { keyText, secKeyVectors } from '../support/vectors.js'
import { expectNoSecrets, expectUsageError, json, run, scratch } from './helpers.js'

const SIGNATURE_KEY = 'sig-api-key-0123456789abcdef'
const SEC_KEY_API_KEY = keyText('apikey_b64_spki_pem.txt').trim()
const smileSignature = new SignatureAuth({ partnerId: '085', apiKey: SIGNATURE_KEY })
const smileSecKey = new LegacySecKeyAuth({ partnerId: '085', privateKey: secKeyVectors().privateKeyPem })
const BOTH_KEYS = { SMILEID_API_KEY: SIGNATURE_KEY, SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY }

const files = scratch()
afterAll(() => files.remove())

/** A callback body signed now, as Smile ID sends it. */
async function signatureCallback(extra: Record<string, unknown> = {}) {
  return { partner_id: '085', ResultCode: '1012', ...(await smileSignature.sign()), ...extra }
}
async function secKeyCallback(extra: Record<string, unknown> = {}) {
  return { partner_id: '085', ResultCode: '1012', ...(await smileSecKey.sign()), ...extra }
}
const secrets = (body: Record<string, unknown>) =>
  [SIGNATURE_KEY, SEC_KEY_API_KEY, body.signature, body.sec_key].filter(
    (s): s is string => typeof s === 'string',
  )

describe('verify: exit 0 accepted', () => {
  it('accepts a fresh signature callback from a file, keys from the environment; JSON when piped', async () => {
    const body = await signatureCallback()
    const result = await run(['verify', files.file('sig.json', JSON.stringify(body))], { env: BOTH_KEYS })
    expect(result.code, result.stderr).toBe(0)
    expect(json(result)).toMatchObject({
      ok: true,
      scheme: 'signature',
      partnerId: '085',
      transport: 'body',
      legacy: false,
    })
    expectNoSecrets(result, secrets(body))
  })

  it('accepts a fresh sec_key callback read from stdin (-), reporting it as legacy', async () => {
    const body = await secKeyCallback()
    const result = await run(['verify', '-'], { env: BOTH_KEYS, input: JSON.stringify(body) })
    expect(result.code, result.stderr).toBe(0)
    expect(json(result)).toMatchObject({
      ok: true,
      scheme: 'sec_key',
      legacy: true,
      timestamp: body.timestamp,
    })
    expectNoSecrets(result, secrets(body))
  })

  it('reads keys from --api-key-file and --sec-key-api-key-file', async () => {
    const sigKey = files.file('sig.key', `${SIGNATURE_KEY}\n`)
    const secKey = files.file('sec.key', SEC_KEY_API_KEY)
    for (const body of [await signatureCallback(), await secKeyCallback()]) {
      const result = await run(['verify', '--api-key-file', sigKey, '--sec-key-api-key-file', secKey], {
        input: JSON.stringify(body),
      })
      expect(result.code, result.stderr).toBe(0)
      expectNoSecrets(result, secrets(body))
    }
  })

  it('accepts any of several --api-key values (key rotation)', async () => {
    const body = await signatureCallback()
    const result = await run(['verify', '--api-key', 'an-old-key', '--api-key', SIGNATURE_KEY], {
      input: JSON.stringify(body),
    })
    expect(result.code, result.stderr).toBe(0)
  })

  it('verifies the SmileID-* headers', async () => {
    const { signature, timestamp } = await smileSignature.sign()
    const result = await run(
      [
        'verify',
        '-H',
        'SmileID-Partner-ID: 085',
        '-H',
        `SmileID-Request-Signature: ${signature}`,
        '-H',
        `SmileID-Timestamp: ${timestamp}`,
      ],
      { env: { SMILEID_API_KEY: SIGNATURE_KEY }, input: '{"job_id":"1"}' },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(json(result)).toMatchObject({ ok: true, transport: 'headers' })
    expectNoSecrets(result, [SIGNATURE_KEY, signature])
  })

  it('verifies a captured, older callback with --max-age or --no-freshness', async () => {
    const body = {
      partner_id: '085',
      ...(await smileSignature.sign({ timestamp: '2023-11-14T22:13:20.000Z' })),
    }
    const path = files.file('old.json', JSON.stringify(body))
    const fresh = await run(['verify', path], { env: BOTH_KEYS })
    expect(fresh.code).toBe(1)
    expect(json(fresh)).toMatchObject({ ok: false, reason: 'timestamp_expired' })
    for (const flags of [['--no-freshness'], ['--max-age', '100000d']]) {
      const result = await run(['verify', path, ...flags], { env: BOTH_KEYS })
      expect(result.code, flags.join(' ')).toBe(0)
    }
  })

  it('prints a readable summary with --format text', async () => {
    const result = await run(['verify', '--format', 'text'], {
      env: BOTH_KEYS,
      input: JSON.stringify(await secKeyCallback()),
    })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^✔ accepted\n/)
    expect(result.stdout).toMatch(/scheme +sec_key \(legacy\), in the body/)
    expect(result.stdout).not.toMatch(/\u001b\[/)
  })
})

describe('verify: exit 1 rejected', () => {
  it('rejects a forged signature (invalid_signature) and names the next step in text mode', async () => {
    const forged = await signatureCallback({
      ...(await new SignatureAuth({ partnerId: '085', apiKey: 'not-the-key' }).sign()),
    })
    const result = await run(['verify'], { env: BOTH_KEYS, input: JSON.stringify(forged) })
    expect(result.code).toBe(1)
    expect(json(result)).toMatchObject({ ok: false, reason: 'invalid_signature', scheme: 'signature' })
    expectNoSecrets(result, secrets(forged))
    const text = await run(['verify', '--format', 'text'], { env: BOTH_KEYS, input: JSON.stringify(forged) })
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/✖ rejected/)
    expect(text.stdout).toMatch(/smileid-auth inspect/)
  })

  it('rejects a sec_key whose hash half was tampered with (invalid_sec_key)', async () => {
    const body = await secKeyCallback()
    const secKey = body.sec_key
    const tampered = { ...body, sec_key: secKey.slice(0, -1) + (secKey.endsWith('0') ? '1' : '0') }
    const result = await run(['verify'], { env: BOTH_KEYS, input: JSON.stringify(tampered) })
    expect(result.code).toBe(1)
    expect(json(result)).toMatchObject({ ok: false, reason: 'invalid_sec_key' })
    expectNoSecrets(result, secrets(tampered))
  })

  it('rejects sec_key with --legacy reject (scheme_not_allowed)', async () => {
    const result = await run(['verify', '--legacy', 'reject'], {
      env: BOTH_KEYS,
      input: JSON.stringify(await secKeyCallback()),
    })
    expect(result.code).toBe(1)
    expect(json(result)).toMatchObject({ ok: false, reason: 'scheme_not_allowed' })
  })

  it('rejects a body for another partner than --partner-id (unknown_partner)', async () => {
    const result = await run(['verify', '--partner-id', '086'], {
      env: BOTH_KEYS,
      input: JSON.stringify(await signatureCallback()),
    })
    expect(result.code).toBe(1)
    expect(json(result)).toMatchObject({ ok: false, reason: 'unknown_partner' })
  })

  it('rejects a body without credentials (missing_credentials)', async () => {
    const result = await run(['verify'], { env: BOTH_KEYS, input: '{"partner_id":"085","timestamp":"x"}' })
    expect(result.code).toBe(1)
    expect(json(result)).toMatchObject({ ok: false, reason: 'missing_credentials' })
  })
})

describe('verify: exit 2 usage or configuration error', () => {
  it('needs a key', async () => {
    expectUsageError(
      await run(['verify'], { input: JSON.stringify(await signatureCallback()) }),
      /no key given/,
    )
  })

  it("says which key is missing for the body's scheme", async () => {
    const secKeyBody = JSON.stringify(await secKeyCallback())
    expectUsageError(
      await run(['verify'], { env: { SMILEID_API_KEY: SIGNATURE_KEY }, input: secKeyBody }),
      /carries a sec_key but no sec_key API key was given/,
    )
    const signatureBody = JSON.stringify(await signatureCallback())
    expectUsageError(
      await run(['verify'], { env: { SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY }, input: signatureBody }),
      /carries a signature but no signature API key was given/,
    )
  })

  it('refuses a body that is not JSON without quoting it', async () => {
    const result = await run(['verify'], {
      env: BOTH_KEYS,
      input: '{"signature": "SECRET-LOOKING-VALUE", oops',
    })
    expectUsageError(result, /stdin is not valid JSON/)
    expect(result.stderr).not.toContain('SECRET-LOOKING-VALUE')
  })

  it('refuses a missing file, a body without a partner, and conflicting freshness flags', async () => {
    expectUsageError(
      await run(['verify', files.dir + '/nope.json'], { env: BOTH_KEYS }),
      /nope\.json: no such file/,
    )
    const body = await signatureCallback()
    delete (body as Record<string, unknown>).partner_id
    expectUsageError(
      await run(['verify'], { env: BOTH_KEYS, input: JSON.stringify(body) }),
      /names no partner .*give --partner-id/,
    )
    expectUsageError(
      await run(['verify', '--no-freshness', '--max-age', '1d'], { env: BOTH_KEYS, input: '{}' }),
      /not both/,
    )
    expectUsageError(
      await run(['verify', '--max-age', 'soon'], { env: BOTH_KEYS, input: '{}' }),
      /--max-age must be a duration/,
    )
  })

  it('refuses the sec_key public key passed as the signature key', async () => {
    const result = await run(['verify', '--api-key', SEC_KEY_API_KEY], {
      input: JSON.stringify(await signatureCallback()),
    })
    expectUsageError(result, /is an RSA public key/)
    expectNoSecrets(result, [SEC_KEY_API_KEY])
  })
})
