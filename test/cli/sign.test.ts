import { afterAll, describe, expect, it } from 'vitest'
import { LegacySecKeyAuth, SignatureAuth } from '../../src/index.js'
import { keyText, secKeyVectors, signatureVectors } from '../support/vectors.js'
import { expectNoSecrets, expectUsageError, json, run, scratch } from './helpers.js'

const SIGNATURE_KEY = 'sig-api-key-0123456789abcdef'
const VECTOR_TIMESTAMP = '2023-11-14T22:13:20.000Z'
const VECTOR_SIGNATURE = '+wlhtBis54CmjrWLoWm1f/1ERtrfc0xHX9Xb1Zw9lFs='
const SEC_KEY_API_KEY = keyText('apikey_b64_spki_pem.txt').trim()
const PRIVATE_KEY = secKeyVectors().privateKeyPem

const files = scratch()
afterAll(() => files.remove())

describe('sign --scheme signature', () => {
  it('matches the cross-SDK vector (085, 2023-11-14T22:13:20.000Z)', async () => {
    const vectors = signatureVectors()
    expect(vectors.api_key).toBe(SIGNATURE_KEY)
    const result = await run(
      ['sign', '--scheme', 'signature', '--partner-id', '085', '--timestamp', VECTOR_TIMESTAMP],
      {
        env: { SMILEID_API_KEY: SIGNATURE_KEY },
      },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(json(result)).toEqual({
      signature: VECTOR_SIGNATURE,
      timestamp: VECTOR_TIMESTAMP,
      partner_id: '085',
    })
    expectNoSecrets(result, [SIGNATURE_KEY])
  })

  it('reads the key from --api-key-file (ignoring the final newline) and from --api-key', async () => {
    const path = files.file('signature.key', `${SIGNATURE_KEY}\n`)
    const args = ['sign', '--scheme', 'signature', '--partner-id', '085', '--timestamp', VECTOR_TIMESTAMP]
    const fromFile = await run([...args, '--api-key-file', path])
    expect(json(fromFile).signature).toBe(VECTOR_SIGNATURE)
    const fromFlag = await run([...args, '--api-key', SIGNATURE_KEY])
    expect(json(fromFlag).signature).toBe(VECTOR_SIGNATURE)
    expectNoSecrets(fromFile, [SIGNATURE_KEY])
    expectNoSecrets(fromFlag, [SIGNATURE_KEY])
  })

  it('warns on stderr when the key ends with a newline (what Smile ID answers 2205 to)', async () => {
    const args = ['sign', '--scheme', 'signature', '--partner-id', '085', '--timestamp', VECTOR_TIMESTAMP]
    const result = await run(args, { env: { SMILEID_API_KEY: `${SIGNATURE_KEY}\n` } })
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /^warning: the key from SMILEID_API_KEY starts or ends with whitespace.*2205/,
    )
    expect(json(result).signature).not.toBe(VECTOR_SIGNATURE)
    expectNoSecrets(result, [SIGNATURE_KEY])
    // A key file's single final newline is not part of the key: no warning.
    const clean = await run([...args, '--api-key-file', files.file('nl.key', `${SIGNATURE_KEY}\n`)])
    expect(clean.stderr).toBe('')
    expect(json(clean).signature).toBe(VECTOR_SIGNATURE)
  })

  it('signs every timestamp spelling byte for byte, like the SDKs', async () => {
    for (const vector of signatureVectors().vectors.slice(0, 4)) {
      const result = await run(
        ['sign', '--scheme', 'signature', '--partner-id', '085', '--timestamp', vector.timestamp],
        {
          env: { SMILEID_API_KEY: SIGNATURE_KEY },
        },
      )
      expect(json(result)).toMatchObject({ signature: vector.signature, timestamp: vector.timestamp })
    }
  })

  it('defaults the timestamp to now, and the signature verifies', async () => {
    const result = await run(['sign', '--scheme', 'signature', '--partner-id', '085'], {
      env: { SMILEID_API_KEY: SIGNATURE_KEY },
    })
    const fields = json<{ signature: string; timestamp: string }>(result)
    expect(fields.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    const verified = await new SignatureAuth({ partnerId: '085', apiKey: SIGNATURE_KEY }).verify(fields)
    expect(verified.ok).toBe(true)
  })

  it('prints SmileID-* headers with --format headers', async () => {
    const result = await run(
      [
        'sign',
        '--scheme',
        'signature',
        '--partner-id',
        '085',
        '--timestamp',
        VECTOR_TIMESTAMP,
        '--format',
        'headers',
      ],
      { env: { SMILEID_API_KEY: SIGNATURE_KEY } },
    )
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      `SmileID-Partner-ID: 085\nSmileID-Request-Signature: ${VECTOR_SIGNATURE}\nSmileID-Timestamp: ${VECTOR_TIMESTAMP}\n`,
    )
  })

  it('prints a curl command with the fields in a JSON body, shell-quoted', async () => {
    const result = await run(
      [
        'sign',
        '--scheme',
        'signature',
        '--partner-id',
        '085',
        '--timestamp',
        VECTOR_TIMESTAMP,
        '--format',
        'curl',
        '--url',
        "https://example.test/it's",
      ],
      { env: { SMILEID_API_KEY: SIGNATURE_KEY } },
    )
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      `curl -sS -X POST 'https://example.test/it'\\''s' -H 'Content-Type: application/json' -d '{"partner_id":"085","signature":"${VECTOR_SIGNATURE}","timestamp":"${VECTOR_TIMESTAMP}"}'\n`,
    )
  })

  it('refuses an RSA public key as the signature key (the sec_key key mixed up)', async () => {
    const result = await run(['sign', '--scheme', 'signature', '--partner-id', '085'], {
      env: { SMILEID_API_KEY: SEC_KEY_API_KEY },
    })
    expectUsageError(result, /the key from SMILEID_API_KEY is an RSA public key/)
    expectNoSecrets(result, [SEC_KEY_API_KEY])
  })

  it('needs a key, a scheme and a partner id', async () => {
    expectUsageError(
      await run(['sign', '--scheme', 'signature', '--partner-id', '085']),
      /no signature API key given/,
    )
    expectUsageError(
      await run(['sign', '--partner-id', '085'], { env: { SMILEID_API_KEY: SIGNATURE_KEY } }),
      /--scheme is required/,
    )
    expectUsageError(
      await run(['sign', '--scheme', 'signature'], { env: { SMILEID_API_KEY: SIGNATURE_KEY } }),
      /--partner-id is required/,
    )
    expectUsageError(
      await run([
        'sign',
        '--scheme',
        'signature',
        '--partner-id',
        '085',
        '--api-key-file',
        files.dir + '/missing',
      ]),
      /cannot read .*missing: no such file/,
    )
  })
})

describe('sign --scheme sec_key', () => {
  it('prints an all-digit timestamp as a JSON number, and the hash half is sha256("85:<ts>")', async () => {
    const result = await run(
      ['sign', '--scheme', 'sec_key', '--partner-id', '085', '--timestamp', '1700000000000'],
      {
        env: { SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY },
      },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/"timestamp": 1700000000000[,\n}]/)
    const fields = json<{ sec_key: string; timestamp: number; partner_id: string }>(result)
    expect(fields.timestamp).toBe(1700000000000)
    expect(fields.partner_id).toBe('085')
    const expectedHash = secKeyVectors().hashHalves.find(
      (vector) => String(vector.timestamp) === '1700000000000',
    )
    expect(expectedHash).toBeDefined()
    expect(fields.sec_key.split('|')[1]).toBe(expectedHash!.hash_half)
    // The partner-direction value opens only with the private key: check it as Smile ID would.
    const smile = new LegacySecKeyAuth({ partnerId: '085', privateKey: PRIVATE_KEY })
    expect((await smile.verify(fields)).ok).toBe(true)
    expectNoSecrets(result, [SEC_KEY_API_KEY])
  })

  it('keeps a non-digit timestamp a string', async () => {
    const result = await run(
      ['sign', '--scheme', 'sec_key', '--partner-id', '085', '--timestamp', '2022-10-27 13:25:52 +0000'],
      {
        env: { SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY },
      },
    )
    expect(json(result).timestamp).toBe('2022-10-27 13:25:52 +0000')
  })

  it('takes the public key from --api-key-file or --sec-key-api-key-file', async () => {
    const path = files.file('seckey.txt', `${SEC_KEY_API_KEY}\n`)
    for (const flag of ['--api-key-file', '--sec-key-api-key-file']) {
      const result = await run(['sign', '--scheme', 'sec_key', '--partner-id', '085', flag, path])
      expect(result.code, result.stderr).toBe(0)
      expect(json(result).sec_key).toMatch(/^[A-Za-z0-9+/=]+\|[0-9a-f]{64}$/)
    }
  })

  it('signs as Smile ID does for callbacks with --private-key-file; the public key verifies it', async () => {
    const path = files.file('private.pem', PRIVATE_KEY)
    const result = await run([
      'sign',
      '--scheme',
      'sec_key',
      '--partner-id',
      '085',
      '--private-key-file',
      path,
      '--timestamp',
      '1700000000000',
    ])
    expect(result.code, result.stderr).toBe(0)
    const fields = json<{ sec_key: string; timestamp: number }>(result)
    const vector = secKeyVectors().serverSecKeys.find((entry) => String(entry.timestamp) === '1700000000000')
    expect(vector).toBeDefined()
    expect(fields.sec_key).toBe(vector!.server_sec_key)
    const partner = new LegacySecKeyAuth({ partnerId: '085', apiKey: SEC_KEY_API_KEY })
    expect((await partner.verify(fields)).ok).toBe(true)
    expectNoSecrets(result, [PRIVATE_KEY.replace(/-----[A-Z ]+-----/g, '')])
  })

  it('refuses the signature key as the sec_key key, a non-digit partner id, and --format headers', async () => {
    const wrongKey = await run(['sign', '--scheme', 'sec_key', '--partner-id', '085'], {
      env: { SMILEID_SEC_KEY_API_KEY: SIGNATURE_KEY },
    })
    expectUsageError(wrongKey, /not an RSA public key/)
    expectNoSecrets(wrongKey, [SIGNATURE_KEY])
    expectUsageError(
      await run(['sign', '--scheme', 'sec_key', '--partner-id', 'abc'], {
        env: { SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY },
      }),
      /digits .*\(invalid_partner_id\)/,
    )
    expectUsageError(
      await run(['sign', '--scheme', 'sec_key', '--partner-id', '085', '--format', 'headers'], {
        env: { SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY },
      }),
      /sec_key travels only in the request body/,
    )
  })
})
