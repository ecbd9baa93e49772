/**
 * `smileid-auth verify --max-age`: a timestamp whose instant cannot be established is never fresh.
 * Runs the command in-process through its injectable context (no build, no child process).
 *
 * @module
 */
import { describe, expect, it } from 'vitest'

import { LegacySecKeyAuth, SignatureAuth } from '../../src/index.js'
import type { CliContext, Output } from '../../src/cli/context.js'
import { verify } from '../../src/cli/verify.js'
import { keyText, secKeyVectors } from '../support/vectors.js'

const SIGNATURE_KEY = 'sig-api-key-0123456789abcdef'
const SEC_KEY_API_KEY = keyText('apikey_b64_spki_pem.txt').trim()
const smileSignature = new SignatureAuth({ partnerId: '085', apiKey: SIGNATURE_KEY })
const smileSecKey = new LegacySecKeyAuth({ partnerId: '085', privateKey: secKeyVectors().privateKeyPem })
/** 2023-11-14T22:13:20.000Z */
const NOW = 1_700_000_000_000

function sink(): Output & { text: string } {
  return {
    text: '',
    isTTY: false,
    color: false,
    write(chunk: string) {
      this.text += chunk
    },
  }
}

/** Runs `smileid-auth verify ...args` with `body` on stdin and both keys in the environment. */
async function runVerify(args: string[], body: Record<string, unknown>) {
  const stdout = sink()
  const stderr = sink()
  const input = JSON.stringify(body)
  const context: CliContext = {
    argv: ['-', ...args],
    env: { SMILEID_API_KEY: SIGNATURE_KEY, SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY },
    stdin: {
      isTTY: false,
      async *[Symbol.asyncIterator]() {
        yield input
      },
    },
    stdout,
    stderr,
    now: () => NOW,
  }
  const code = await verify.run(context)
  return { code, result: JSON.parse(stdout.text) as Record<string, unknown> }
}

const UNESTABLISHED: Array<[string, string | number]> = [
  ['a nanosecond epoch as a JSON number', 1_700_000_000_000_000_000],
  ['"9999999999999999"', '9999999999999999'],
  ['1e300', 1e300],
]

async function callback(scheme: 'signature' | 'sec_key', timestamp: string | number) {
  const credentials =
    scheme === 'signature' ? await smileSignature.sign({ timestamp }) : await smileSecKey.sign({ timestamp })
  // The timestamp travels as given: a JSON number stays a number (the HMAC covers String(n)).
  return { partner_id: '085', ResultCode: '1012', ...credentials, timestamp }
}

const CASES = UNESTABLISHED.flatMap(([label, timestamp]) =>
  (['signature', 'sec_key'] as const).map((scheme) => [scheme, label, timestamp] as const),
)

describe('verify --max-age: an instant that cannot be established is never fresh', () => {
  it.each(CASES)('%s with %s exits 1 as malformed_credentials', async (scheme, _, timestamp) => {
    const body = await callback(scheme, timestamp)
    for (const args of [['--max-age', '1m'], ['--max-age', '3650d'], []]) {
      const { code, result } = await runVerify(args, body)
      expect(code).toBe(1)
      expect(result).toMatchObject({ ok: false, reason: 'malformed_credentials', scheme })
    }
  })

  it('accepts a fresh callback of either scheme through the same path', async () => {
    for (const scheme of ['signature', 'sec_key'] as const) {
      const { code, result } = await runVerify(['--max-age', '1m'], await callback(scheme, NOW))
      expect(code).toBe(0)
      expect(result).toMatchObject({ ok: true, scheme })
    }
  })
})
