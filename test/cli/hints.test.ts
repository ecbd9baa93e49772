import { describe, expect, it } from 'vitest'
import { FAILURE_REASONS, LegacySecKeyAuth, SignatureAuth } from '../../src/index.js'
import { verifyHint } from '../../src/cli/hints.js'
import { keyText, secKeyVectors } from '../support/vectors.js'
import { json, run } from './helpers.js'

const SIGNATURE_KEY = 'sig-api-key-0123456789abcdef'
const SEC_KEY_API_KEY = keyText('apikey_b64_spki_pem.txt').trim()
const KEYS = { SMILEID_API_KEY: SIGNATURE_KEY, SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY }
const NOW = Date.parse('2026-06-01T12:00:00.000Z')
const smile = new SignatureAuth({ partnerId: '085', apiKey: SIGNATURE_KEY })
const smileSecKey = new LegacySecKeyAuth({ partnerId: '085', privateKey: secKeyVectors().privateKeyPem })

const callbackAt = async (ms: number) =>
  JSON.stringify({
    partner_id: '085',
    ResultCode: '1012',
    ...(await smile.sign({ timestamp: new Date(ms).toISOString() })),
  })
/** Runs `verify` in text mode at NOW; returns the exit code and the hint line. */
async function verifyText(body: string, flags: string[] = []) {
  const result = await run(['verify', '--format', 'text', ...flags], {
    input: body,
    env: KEYS,
    now: () => NOW,
  })
  const next = /^ {2}next +(.*)$/m.exec(result.stdout)?.[1] ?? null
  return { code: result.code, next, stdout: result.stdout, stderr: result.stderr }
}
const reasonOf = async (body: string, flags: string[] = []) => {
  const result = await run(['verify', '--json', ...flags], { input: body, env: KEYS, now: () => NOW })
  return { code: result.code, reason: json(result).reason }
}

describe('verify: every next-step hint fits the reason it follows', () => {
  it.each(FAILURE_REASONS)('%s has a hint', (reason) => {
    for (const legacy of ['accept', 'warn', 'reject'] as const) {
      for (const partnerIdGiven of [true, false]) {
        const hint = verifyHint({ reason }, { legacy, partnerIdGiven })
        expect(hint.length).toBeGreaterThan(20)
        // A wider past window cannot help a timestamp from the future.
        if (reason === 'timestamp_in_future') expect(hint).not.toMatch(/--max-age/)
        // inspect explains credentials, not policy refusals or freshness.
        if (reason === 'scheme_not_allowed' || reason.startsWith('timestamp_') || reason.startsWith('replay'))
          expect(hint).not.toMatch(/smileid-auth inspect' on the same body/)
      }
    }
  })

  it('timestamp_in_future: points at the clocks and --max-future, not --max-age, and following it works', async () => {
    const body = await callbackAt(NOW + 3_600_000)
    const rejected = await verifyText(body)
    expect(rejected.code).toBe(1)
    expect(rejected.stdout).toMatch(/reason +timestamp_in_future/)
    expect(rejected.next).toMatch(/clock/)
    expect(rejected.next).toMatch(/--max-future/)
    expect(rejected.next).not.toMatch(/--max-age/)
    // What the old hint said still fails; what the new one says passes.
    expect(await reasonOf(body, ['--max-age', '30d'])).toEqual({ code: 1, reason: 'timestamp_in_future' })
    expect((await reasonOf(body, ['--max-future', '2h'])).code).toBe(0)
    expect((await reasonOf(body, ['--no-freshness'])).code).toBe(0)
  })

  it('timestamp_expired: points at --max-age, and following it works', async () => {
    const body = await callbackAt(NOW - 86_400_000)
    const rejected = await verifyText(body)
    expect(rejected.stdout).toMatch(/reason +timestamp_expired/)
    expect(rejected.next).toMatch(/--max-age 30d/)
    expect((await reasonOf(body, ['--max-age', '30d'])).code).toBe(0)
  })

  it('--legacy reject: says it is the policy, not inspect, and following it checks the credential', async () => {
    const body = JSON.stringify({
      partner_id: '085',
      ResultCode: '1012',
      ...(await smileSecKey.sign({ timestamp: NOW })),
    })
    const rejected = await verifyText(body, ['--legacy', 'reject'])
    expect(rejected.code).toBe(1)
    expect(rejected.stdout).toMatch(/reason +scheme_not_allowed/)
    expect(rejected.next).toMatch(/--legacy reject/)
    expect(rejected.next).not.toMatch(/inspect/)
    expect((await reasonOf(body, ['--legacy', 'warn'])).code).toBe(0)
  })

  it('invalid_signature: points at inspect, which then names a cause', async () => {
    const good = JSON.parse(await callbackAt(NOW)) as Record<string, unknown>
    const body = JSON.stringify({ ...good, partner_id: '85' })
    const rejected = await verifyText(body, ['--partner-id', '85'])
    expect(rejected.stdout).toMatch(/reason +invalid_signature/)
    expect(rejected.next).toMatch(/smileid-auth inspect/)
    const inspected = await run(['inspect', '--json'], { input: body, env: KEYS, now: () => NOW })
    expect(json<{ likelyCause: { code: string } }>(inspected).likelyCause.code).toBe(
      'partner_id_leading_zeros',
    )
  })

  it('missing_credentials: points at -H for header credentials, and following it works', async () => {
    const { signature, timestamp } = await smile.sign({ timestamp: new Date(NOW).toISOString() })
    const body = JSON.stringify({ partner_id: '085', ResultCode: '1012' })
    const rejected = await verifyText(body)
    expect(rejected.stdout).toMatch(/reason +missing_credentials/)
    expect(rejected.next).toMatch(/-H/)
    const headers = ['-H', `SmileID-Request-Signature: ${signature}`, '-H', `SmileID-Timestamp: ${timestamp}`]
    expect((await reasonOf(body, headers)).code).toBe(0)
  })

  it('unknown_partner: points at --partner-id, and dropping it works', async () => {
    const body = await callbackAt(NOW)
    const rejected = await verifyText(body, ['--partner-id', '086'])
    expect(rejected.stdout).toMatch(/reason +unknown_partner/)
    expect(rejected.next).toMatch(/drop --partner-id/)
    expect((await reasonOf(body)).code).toBe(0)
  })
})

describe('inspect: window advice fits the direction', () => {
  it('a timestamp from the future is about the clocks, not --max-age', async () => {
    const result = await run(['inspect', '--json'], {
      input: await callbackAt(NOW + 3 * 3_600_000 + 30 * 60_000),
      env: KEYS,
      now: () => NOW,
    })
    const window = json<{ findings: Array<{ code: string; message: string }> }>(result).findings.find(
      (finding) => finding.code === 'timestamp_outside_window',
    )
    expect(window?.message).toMatch(/timestamp_in_future .*clock.*--max-future/)
    expect(window?.message).not.toMatch(/--max-age/)
  })
})
