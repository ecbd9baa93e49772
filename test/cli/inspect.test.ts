import { createRequire } from 'node:module'
import { afterAll, describe, expect, it } from 'vitest'
import { LegacySecKeyAuth, SignatureAuth } from '../../src/index.js'
import { createTestKeys } from '../../src/testing/index.js'
import { keyText, secKeyVectors, signatureVectors } from '../support/vectors.js'
import { expectNoSecrets, expectUsageError, json, run, scratch, type Run } from './helpers.js'

const require = createRequire(import.meta.url)
/** smile-identity-core 1.3.0, as partners run it. */
const { Signature: Sdk1Signature } = require('smile-identity-core') as {
  Signature: new (
    partnerId: string,
    apiKey: string,
  ) => { generate_sec_key(timestamp?: number): { sec_key: string; timestamp: number } }
}

interface Finding {
  level: 'ok' | 'info' | 'warn' | 'error'
  code: string
  message: string
}
interface Inspection {
  scheme: string | null
  transport: string | null
  partnerId: string | null
  timestamp: { value: string | number; spelling: string; instant: string | null } | null
  keyCheck: 'match' | 'mismatch' | 'not_checked'
  findings: Finding[]
  likelyCause: Finding | null
}

const vectors = signatureVectors()
const sec = secKeyVectors()
const SIGNATURE_KEY = vectors.api_key
const SEC_KEY_API_KEY = keyText('apikey_b64_spki_pem.txt').trim()
const TS = '2023-11-14T22:13:20.000Z'
const SIG = '+wlhtBis54CmjrWLoWm1f/1ERtrfc0xHX9Xb1Zw9lFs='
const signatureFor = (timestamp: string) =>
  vectors.vectors.find((vector) => vector.timestamp === timestamp)!.signature
const serverSecKey = (timestamp: number | string) =>
  sec.serverSecKeys.find((vector) => vector.timestamp === timestamp)!.server_sec_key

const files = scratch()
afterAll(() => files.remove())

/** Runs `inspect` on a body (JSON on stdin) and returns the parsed report. */
async function inspect(
  body: unknown,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ run: Run; report: Inspection }> {
  const result = await run(['inspect', ...args], { input: JSON.stringify(body), env })
  expect([0, 1], result.stderr).toContain(result.code)
  const report = json<Inspection>(result)
  // Whatever it says, it never repeats a key, a signature or a sec_key.
  const credentials = [body as Record<string, unknown>]
    .flatMap((b) => [b.signature, b.sec_key])
    .filter((v): v is string => typeof v === 'string')
  expectNoSecrets(result, [SIGNATURE_KEY, SEC_KEY_API_KEY, ...credentials, ...Object.values(env)])
  return { run: result, report }
}
const codes = (report: Inspection) => report.findings.map((finding) => finding.code)
const withKey = { SMILEID_API_KEY: SIGNATURE_KEY }

describe('inspect without keys', () => {
  it('names the scheme, the timestamp spelling and instant, and checks well-formedness', async () => {
    const { run: result, report } = await inspect({
      partner_id: '085',
      signature: SIG,
      timestamp: '2023-11-14T22:13:20.123456+00:00',
    })
    expect(result.code).toBe(0)
    expect(report).toMatchObject({
      scheme: 'signature',
      transport: 'body',
      partnerId: '085',
      keyCheck: 'not_checked',
      likelyCause: null,
    })
    expect(report.timestamp).toMatchObject({
      spelling: 'ISO 8601, 6 fraction digits, offset +00:00',
      instant: '2023-11-14T22:13:20.123Z',
    })
    expect(codes(report)).toEqual(
      expect.arrayContaining(['signature_well_formed', 'keys_not_given', 'timestamp_format']),
    )
    // Old compared with now is only a warning: the request may have been captured long ago.
    expect(report.findings.find((f) => f.code === 'timestamp_outside_window')?.level).toBe('warn')
  })

  it('reads Ruby, naive and epoch spellings', async () => {
    const ruby = await inspect({ partner_id: '085', signature: SIG, timestamp: '2023-11-14 22:13:20 +0000' })
    expect(ruby.report.timestamp?.spelling).toBe('Ruby Time#to_s (YYYY-MM-DD HH:MM:SS +0000)')
    const naive = await inspect({
      partner_id: '085',
      signature: SIG,
      timestamp: '2023-11-14T22:13:20.123456',
    })
    expect(codes(naive.report)).toContain('timestamp_naive')
    const seconds = await inspect({ partner_id: '085', signature: SIG, timestamp: 1700000000 })
    expect(seconds.report.timestamp).toMatchObject({
      spelling: 'epoch seconds, as a JSON number',
      instant: TS,
    })
  })

  it('checks the sec_key hash half against sha256(int(partner id):timestamp)', async () => {
    const { run: result, report } = await inspect({
      partner_id: '085',
      sec_key: serverSecKey(1700000000000),
      timestamp: 1700000000000,
    })
    expect(result.code).toBe(0)
    expect(report.scheme).toBe('sec_key')
    expect(report.findings).toContainEqual(
      expect.objectContaining({ code: 'sec_key_hash_matches', level: 'ok' }),
    )
    expect(report.findings.find((f) => f.code === 'sec_key_hash_matches')?.message).toContain(
      'sha256("85:1700000000000")',
    )
  })

  it('recognises a legacy value in a "signature" field (job_status responses)', async () => {
    const { report } = await inspect({
      partner_id: '085',
      signature: serverSecKey(1700000000000),
      timestamp: 1700000000000,
    })
    expect(report.scheme).toBe('sec_key')
    expect(codes(report)).toContain('sec_key_in_signature_field')
  })

  it('flags malformed signatures: base64url, hex, wrong length', async () => {
    const base64url = SIG.replace(/\+/g, '-').replace(/\//g, '_')
    const url = await inspect({ partner_id: '085', signature: base64url, timestamp: TS }, [], withKey)
    expect(url.run.code).toBe(1)
    expect(url.report.likelyCause?.code).toBe('signature_base64url')
    // Once repaired it verifies: the encoding was the only problem.
    expect(url.report.keyCheck).toBe('match')
    const hex = Buffer.from(SIG, 'base64').toString('hex')
    const hexRun = await inspect({ partner_id: '085', signature: hex, timestamp: TS }, [], withKey)
    expect(hexRun.report.likelyCause?.code).toBe('signature_hex')
    const short = await inspect({ partner_id: '085', signature: 'abc', timestamp: TS })
    expect(short.report.likelyCause?.code).toBe('signature_malformed')
  })

  it('reports a body without any credential', async () => {
    const { run: result, report } = await inspect({ partner_id: '085', timestamp: TS })
    expect(result.code).toBe(1)
    expect(report.likelyCause?.code).toBe('no_credential')
  })

  it('explains a partner_id sent as a JSON number', async () => {
    const { report } = await inspect({ partner_id: 85, signature: SIG, timestamp: TS }, [
      '--partner-id',
      '085',
    ])
    expect(codes(report)).toContain('partner_id_number')
  })
})

describe("inspect with keys: the causes of Smile ID's 2204/2205", () => {
  it('finds nothing wrong with a good credential', async () => {
    const { run: result, report } = await inspect(
      { partner_id: '085', signature: SIG, timestamp: TS },
      [],
      withKey,
    )
    expect(result.code).toBe(0)
    expect(report.keyCheck).toBe('match')
    expect(report.likelyCause).toBeNull()
    expect(report.findings).toContainEqual(expect.objectContaining({ code: 'key_matches', level: 'ok' }))
  })

  it('partner id "085" vs 85: signed with one spelling, sent with the other', async () => {
    const { run: result, report } = await inspect(
      { partner_id: '85', signature: SIG, timestamp: TS },
      [],
      withKey,
    )
    expect(result.code).toBe(1)
    expect(report.keyCheck).toBe('mismatch')
    expect(report.likelyCause?.code).toBe('partner_id_leading_zeros')
    expect(report.likelyCause?.message).toContain('"085"')
    const other = vectors.partner_id_variants.find((variant) => variant.partner_id === '85')!
    const reverse = await inspect(
      { partner_id: '085', signature: other.signature, timestamp: other.timestamp },
      [],
      withKey,
    )
    expect(reverse.report.likelyCause?.code).toBe('partner_id_leading_zeros')
  })

  it('timestamp re-serialised between signing and sending', async () => {
    const { report } = await inspect(
      { partner_id: '085', signature: signatureFor('2023-11-14T22:13:20Z'), timestamp: TS },
      [],
      withKey,
    )
    expect(report.likelyCause?.code).toBe('timestamp_reserialized')
    expect(report.likelyCause?.message).toContain('"2023-11-14T22:13:20Z"')
    const micro = await inspect(
      // Signed with Python's isoformat(), re-emitted with a Z by a serialiser in between.
      {
        partner_id: '085',
        signature: signatureFor('2023-11-14T22:13:20.123456+00:00'),
        timestamp: '2023-11-14T22:13:20.123456Z',
      },
      [],
      withKey,
    )
    expect(micro.report.likelyCause?.code).toBe('timestamp_reserialized')
  })

  it('local time marked Z: signed over local wall-clock time with a Z (the Java 1.0.x bug)', async () => {
    const bug = vectors.java_1_0_x_local_time_bug
    const { report } = await inspect(
      { partner_id: '085', signature: bug.signature, timestamp: TS },
      [],
      withKey,
    )
    expect(report.likelyCause?.code).toBe('local_time_marked_z')
    expect(report.likelyCause?.message).toContain('UTC+1')
  })

  it('local time marked Z: sent as is, the instant is a whole UTC offset away from when it was received', async () => {
    const bug = vectors.java_1_0_x_local_time_bug
    const body = { partner_id: '085', signature: bug.signature, timestamp: bug.string_actually_hashed }
    const { run: result, report } = await inspect(body, ['--received-at', '2023-11-14T22:13:25Z'], withKey)
    expect(result.code).toBe(1)
    expect(report.keyCheck).toBe('match')
    expect(report.likelyCause?.code).toBe('local_time_marked_z')
    const onTime = await inspect(body, ['--received-at', '2023-11-14T23:13:25Z'], withKey)
    expect(onTime.run.code).toBe(0)
    expect(codes(onTime.report)).not.toContain('local_time_marked_z')
  })

  it('whitespace in the key', async () => {
    for (const key of [`${SIGNATURE_KEY} `, `sig-api-key-0123456789\nabcdef`]) {
      const { report } = await inspect({ partner_id: '085', signature: SIG, timestamp: TS }, [], {
        SMILEID_API_KEY: key,
      })
      expect(report.likelyCause?.code).toBe('key_whitespace')
      expect(report.likelyCause?.message).toContain('SMILEID_API_KEY')
    }
  })

  it('the sec_key public key used as the signature key', async () => {
    const { report } = await inspect({ partner_id: '085', signature: SIG, timestamp: TS }, [], {
      SMILEID_API_KEY: SEC_KEY_API_KEY,
    })
    expect(report.likelyCause?.code).toBe('signature_key_is_sec_key')
  })

  it('the signature key used as the sec_key key', async () => {
    const body = { partner_id: '085', sec_key: serverSecKey(1700000000000), timestamp: 1700000000000 }
    const { report } = await inspect(body, [], { SMILEID_SEC_KEY_API_KEY: SIGNATURE_KEY })
    expect(report.likelyCause?.code).toBe('sec_key_key_not_rsa')
  })

  it('wrong environment: says which of several keys matches, and what the URL implies when none does', async () => {
    const body = { partner_id: '085', signature: SIG, timestamp: TS }
    const two = await inspect(body, ['--api-key', 'the-production-key', '--api-key', SIGNATURE_KEY])
    expect(two.run.code).toBe(0)
    expect(two.report.findings).toContainEqual(
      expect.objectContaining({ code: 'key_matches_other', level: 'warn' }),
    )
    const none = await inspect(body, [
      '--api-key',
      'the-production-key',
      '--url',
      'https://testapi.smileidentity.com/v1/id_verification',
    ])
    expect(none.run.code).toBe(1)
    expect(none.report.likelyCause?.code).toBe('no_key_matches')
    expect(none.report.likelyCause?.message).toMatch(/other environment/)
    expect(none.report.findings).toContainEqual(
      expect.objectContaining({ code: 'environment', message: expect.stringMatching(/sandbox/) }),
    )
  })

  it('sec_key: verifies with the public key, and finds a timestamp re-serialised from ms to s', async () => {
    const env = { SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY }
    const good = await inspect(
      { partner_id: '085', sec_key: serverSecKey(1700000000000), timestamp: 1700000000000 },
      [],
      env,
    )
    expect(good.run.code).toBe(0)
    expect(good.report.keyCheck).toBe('match')
    const seconds = await inspect(
      { partner_id: '085', sec_key: serverSecKey(1700000000000), timestamp: 1700000000 },
      [],
      env,
    )
    expect(seconds.report.likelyCause?.code).toBe('timestamp_reserialized')
    expect(codes(seconds.report)).toContain('key_matches_variant')
  })

  it('sec_key: a correct partner → Smile ID request (SDK 1.3.0 generate_sec_key) is not a problem (rc 0)', async () => {
    // The RSA half of a partner's sec_key is encrypted for Smile ID: the public key cannot open it.
    const sdk = new Sdk1Signature('085', SEC_KEY_API_KEY)
    const { sec_key, timestamp } = sdk.generate_sec_key()
    const body = { partner_id: '085', sec_key, timestamp, partner_params: { job_id: 'j1', user_id: 'u1' } }
    const { run: result, report } = await inspect(body, [], { SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY })
    expect(result.code, result.stdout).toBe(0)
    expect(report.likelyCause).toBeNull()
    expect(codes(report)).toEqual(expect.arrayContaining(['sec_key_hash_matches', 'sec_key_partner_made']))
    expect(codes(report)).not.toContain('sec_key_rsa_mismatch')
    expect(report.keyCheck).toBe('not_checked')
    // The recorded partner sample too, and in text form it says why the key cannot check it.
    const sample = sec.partnerSamples.find((entry) => entry.api_key_format === 'b64_spki_pem')!
    const text = await run(['inspect', '--format', 'text'], {
      input: JSON.stringify({ partner_id: '085', sec_key: sample.sec_key, timestamp: sample.timestamp }),
      env: { SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY },
    })
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/keys +not checkable with a public key/)
    expect(text.stdout).toMatch(/No problem found\./)
  })

  it('sec_key: a Smile ID callback whose RSA half the public key cannot open is from another key (rc 1)', async () => {
    const other = createTestKeys({ partnerId: '085' })
    const smile = new LegacySecKeyAuth({ partnerId: '085', privateKey: other.secKeyPrivateKey })
    const body = { partner_id: '085', ResultCode: '1012', ...(await smile.sign()) }
    const { run: result, report } = await inspect(body, [], { SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY })
    expect(result.code).toBe(1)
    expect(codes(report)).toContain('sec_key_hash_matches')
    expect(report.keyCheck).toBe('mismatch')
    expect(report.likelyCause?.code).toBe('sec_key_rsa_mismatch')
    expect(report.likelyCause?.message).toMatch(/other environment/)
  })

  it('a key with a trailing newline (the common 2205): found and explained, from the environment or a file', async () => {
    const signed = async (key: string) => ({
      partner_id: '085',
      ...(await new SignatureAuth({ partnerId: '085', apiKey: key }).sign()),
    })
    // The sender's code used the key with its newline; the same key is given here.
    for (const ending of ['\n', '\r\n']) {
      const body = await signed(`${SIGNATURE_KEY}${ending}`)
      const fromEnv = await inspect(body, [], { SMILEID_API_KEY: `${SIGNATURE_KEY}${ending}` })
      expect(fromEnv.run.code).toBe(1)
      expect(fromEnv.report.likelyCause?.code).toBe('key_whitespace')
      expect(fromEnv.report.likelyCause?.message).toMatch(/trailing line break.*2205/)
      expect(fromEnv.report.likelyCause?.message).toContain('SMILEID_API_KEY')
      // A key file: the CLI drops the final newline, but the sender's code may not have.
      const path = files.file(`key${ending.length}.txt`, `${SIGNATURE_KEY}${ending}`)
      const fromFile = await inspect(body, ['--api-key-file', path])
      expect(fromFile.run.code).toBe(1)
      expect(fromFile.report.likelyCause?.code).toBe('key_whitespace')
      expect(fromFile.report.likelyCause?.message).toContain(`--api-key-file ${path}`)
    }
    // The clean key from a file with a final newline stays a match, with nothing to report.
    const clean = await inspect(await signed(SIGNATURE_KEY), [
      '--api-key-file',
      files.file('clean.txt', `${SIGNATURE_KEY}\n`),
    ])
    expect(clean.run.code).toBe(0)
    expect(clean.report.likelyCause).toBeNull()
  })

  it('a timestamp is a problem in inspect exactly when verify rejects it (new Date().toString() and others)', async () => {
    const NOW = Date.parse('2023-11-14T22:13:20.000Z')
    const date = new Date(NOW)
    const candidates: Array<string | number> = [
      date.toString(),
      date.toUTCString(),
      date.toISOString(),
      date.toLocaleString('en-US', { timeZone: 'UTC' }),
      '2023-11-14 22:13:20 +0000',
      '2023-11-14T22:13:20.123456+00:00',
      '2023-02-30T22:13:20.000Z',
      '1700000000',
      NOW,
      '1e300',
      'yesterday',
    ]
    const auth = new SignatureAuth({ partnerId: '085', apiKey: SIGNATURE_KEY })
    for (const timestamp of candidates) {
      const body = JSON.stringify({ partner_id: '085', ...(await auth.sign({ timestamp })) })
      const options = { input: body, env: withKey, now: () => NOW }
      const verified = await run(['verify', '--json'], options)
      const inspected = await run(['inspect', '--json'], options)
      const report = json<Inspection>(inspected)
      const label = `${String(timestamp)}: verify ${verified.stdout}`
      expect(inspected.code, label).toBe(verified.code)
      expect(report.likelyCause?.code === 'timestamp_unreadable', label).toBe(
        json(verified).reason === 'malformed_credentials',
      )
    }
    const toString = json<Inspection>(
      await run(['inspect', '--json'], {
        input: JSON.stringify({ partner_id: '085', ...(await auth.sign({ timestamp: date.toString() })) }),
        env: withKey,
        now: () => NOW,
      }),
    )
    expect(toString.likelyCause?.message).toMatch(/new Date\(\)\.toString\(\).*toISOString/)
  })

  it('reads a header-signed request from -H flags alone', async () => {
    const result = await run(
      [
        'inspect',
        '-H',
        'SmileID-Partner-ID: 085',
        '-H',
        `SmileID-Request-Signature: ${SIG}`,
        '-H',
        `SmileID-Timestamp: ${TS}`,
      ],
      { env: withKey },
    )
    expect(result.code, result.stderr).toBe(0)
    expect(json<Inspection>(result)).toMatchObject({
      scheme: 'signature',
      transport: 'headers',
      keyCheck: 'match',
    })
    expectNoSecrets(result, [SIG, SIGNATURE_KEY])
  })

  it('prints a readable report with --format text, without secrets', async () => {
    const path = files.file('body.json', JSON.stringify({ partner_id: '85', signature: SIG, timestamp: TS }))
    const result = await run(['inspect', path, '--format', 'text'], { env: withKey })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^Credential in .*body\.json\n/)
    expect(result.stdout).toMatch(/Likely cause: signed with partner id "085" .*\[partner_id_leading_zeros\]/)
    expectNoSecrets(result, [SIG, SIGNATURE_KEY])
  })

  it('usage errors exit 2', async () => {
    expectUsageError(await run(['inspect'], { input: 'not json' }), /stdin is not valid JSON/)
    expectUsageError(
      await run(['inspect', '--received-at', 'yesterday-ish'], { input: '{}' }),
      /--received-at must be/,
    )
  })
})
