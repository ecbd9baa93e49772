import { describe, expect, it } from 'vitest'
import { LegacySecKeyAuth, SignatureAuth } from '../../src/index.js'
import { keyText, secKeyVectors } from '../support/vectors.js'
import { run, type Run } from './helpers.js'

// Text from a request must never reach a terminal raw: a forged partner id, timestamp or SDK name could
// otherwise clear lines, move the cursor, retitle the window or reorder what the operator reads.
const PAYLOADS = {
  csi: '085\u001b[2K\u001b[1A✔ accepted',
  osc: '085\u001b]0;owned\u0007',
  carriage: '085\r✔ accepted     ',
  c1: '085\u009b2K',
  bidi: '085\u202e\u2066detpecca',
  sgr: '085\u001b[32m',
} as const
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/
/** Our own colours, the only escapes allowed on a colour terminal. */
const OWN_SGR = /\u001b\[(?:0|1|2|31|32|33|34|35|36|90)m/g

const SIGNATURE_KEY = 'sig-api-key-0123456789abcdef'
const SEC_KEY_API_KEY = keyText('apikey_b64_spki_pem.txt').trim()
const KEYS = { SMILEID_API_KEY: SIGNATURE_KEY, SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY }
const smileSecKey = new LegacySecKeyAuth({ partnerId: '085', privateKey: secKeyVectors().privateKeyPem })

/** Fails when any output stream carries a raw control or reordering character. */
function expectInert(result: Run, colour: boolean, label: string): void {
  for (const [stream, text] of [
    ['stdout', result.stdout],
    ['stderr', result.stderr],
  ] as const) {
    const shown = colour ? text.replace(OWN_SGR, '') : text
    const match = RAW.exec(shown)
    expect(
      match,
      `${label}: ${stream} carries U+${match?.[0].charCodeAt(0).toString(16).padStart(4, '0')}`,
    ).toBeNull()
  }
}

/** Runs the command on a terminal with colours, on one without, and piped as JSON. */
async function everyFormat(args: string[], body: unknown, env: Record<string, string>, label: string) {
  const input = typeof body === 'string' ? body : JSON.stringify(body)
  const results: Run[] = []
  for (const [colour, extra, runEnv] of [
    [true, ['--format', 'text'], env],
    [false, [], { ...env, NO_COLOR: '1' }],
    [false, ['--json'], env],
  ] as const) {
    const result = await run([...args, ...extra], { input, env: runEnv, tty: true })
    expect([0, 1, 2], `${label}: ${result.stderr}`).toContain(result.code)
    expectInert(result, colour, `${label} ${extra.join(' ')}`)
    results.push(result)
  }
  return results
}

async function signedFor(partnerId: string, timestamp?: string) {
  const auth = new SignatureAuth({ partnerId, apiKey: SIGNATURE_KEY })
  return { partner_id: partnerId, ...(await auth.sign(timestamp === undefined ? undefined : { timestamp })) }
}

describe('verify: request text reaches no terminal raw', () => {
  it.each(Object.entries(PAYLOADS))(
    '%s in a timestamp, accepted (--no-freshness) and rejected',
    async (_name, payload) => {
      const body = await signedFor('085', `2026-01-01T00:00:00.000Z${payload}`)
      const [accepted, , piped] = await everyFormat(['verify', '--no-freshness'], body, KEYS, 'accepted')
      expect(accepted!.code).toBe(0)
      expect(accepted!.stdout).toContain('✔ accepted')
      expect(accepted!.stdout).toMatch(/timestamp +"2026-01-01T00:00:00\.000Z[^"\n]*\\[xur]/)
      // JSON still carries the exact value once parsed.
      expect(JSON.parse(piped!.stdout).timestamp).toBe(body.timestamp)
      const [rejected] = await everyFormat(['verify'], body, KEYS, 'timestamp rejected')
      expect(rejected!.code).toBe(1)
    },
  )

  it.each(Object.entries(PAYLOADS))(
    '%s in rejected partner ids, source_sdk and headers',
    async (_name, payload) => {
      const good = await signedFor('085')
      const bodies = [
        { ...good, partner_id: payload },
        { ...good, smile_client_id: payload, partner_id: undefined },
        { ...good, source_sdk: payload, source_sdk_version: payload, ResultText: payload },
        { ...good, signature: `${payload}${good.signature}` },
        { partner_id: payload, ...(await smileSecKey.sign()), ResultCode: payload },
      ]
      for (const [index, body] of bodies.entries()) {
        await everyFormat(['verify'], body, KEYS, `body ${index}`)
        await everyFormat(['verify', '--legacy', 'reject'], body, KEYS, `body ${index} legacy reject`)
      }
      await everyFormat(
        ['verify', '-H', `SmileID-Partner-ID: ${payload}`, '-H', `SmileID-Timestamp: ${payload}`],
        { ...good, partner_id: undefined },
        KEYS,
        'headers',
      )
    },
  )

  it('a usage error that quotes the request is inert too', async () => {
    const body = { ...(await signedFor('085')), partner_id: undefined, smile_client_id: undefined }
    for (const payload of Object.values(PAYLOADS)) {
      await everyFormat(['verify', '--partner-id', payload], body, KEYS, 'usage')
    }
  })
})

describe('inspect: request text reaches no terminal raw', () => {
  it.each(Object.entries(PAYLOADS))('%s in every field, with and without keys', async (_name, payload) => {
    const good = await signedFor('085', '2026-01-01T00:00:00.000Z')
    const bodies = [
      { ...good, partner_id: payload },
      { ...good, timestamp: payload },
      { ...good, timestamp: `2026-01-01T00:00:00.000Z${payload}` },
      { ...good, source_sdk: payload, source_sdk_version: payload },
      { ...good, signature: `${payload}${good.signature}` },
      { partner_id: payload, sec_key: `abc|${payload}`, timestamp: payload },
      { partner_id: payload, ...(await smileSecKey.sign()) },
    ]
    for (const [index, body] of bodies.entries()) {
      await everyFormat(['inspect'], body, {}, `body ${index} without keys`)
      await everyFormat(['inspect'], body, KEYS, `body ${index}`)
      await everyFormat(['inspect', '--partner-id', '085'], body, KEYS, `body ${index} --partner-id`)
    }
    await everyFormat(
      ['inspect', '-H', `SmileID-Partner-ID: ${payload}`, '-H', `SmileID-Request-Signature: ${payload}`],
      { timestamp: payload },
      KEYS,
      'headers',
    )
  })
})
