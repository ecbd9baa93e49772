import { describe, expect, it } from 'vitest'

import { DualModeVerifier, MemoryReplayStore, type Scheme } from '../../src/index.js'
import {
  NOW,
  dualVerifier,
  expectAccepted,
  expectRejected,
  secKeyBody,
  signatureBody,
  testClock,
} from './helpers.js'

const YEAR = 365 * 24 * 60 * 60 * 1000

/** Timestamps that verify but denote no instant a Date can hold. */
const UNESTABLISHED: Array<[string, string | number]> = [
  ['a nanosecond epoch as a JSON number', 1_700_000_000_000_000_000],
  ['"9999999999999999"', '9999999999999999'],
  ['1e300', 1e300],
]

const CASES = UNESTABLISHED.flatMap(([label, timestamp]) =>
  (['signature', 'sec_key'] as const).map((scheme) => [scheme, label, timestamp] as const),
)

async function bodyFor(scheme: Scheme, timestamp: string | number, fields: Record<string, unknown> = {}) {
  const body =
    scheme === 'signature'
      ? await signatureBody({ timestamp, fields })
      : await secKeyBody({ timestamp, fields })
  // A JSON number travels as a number: the signature was made over String(n), which is what is HMACed.
  expect(String(body.timestamp)).toBe(String(timestamp))
  return { ...body, timestamp }
}

describe('DualModeVerifier: a timestamp whose instant cannot be established is never fresh', () => {
  it.each(CASES)('%s with %s is refused as malformed_credentials', async (scheme, _, timestamp) => {
    const verifier = dualVerifier()
    const result = await verifier.verify({ body: await bodyFor(scheme, timestamp) })
    expectRejected(result, 'malformed_credentials', scheme)
  })

  it.each(CASES)(
    '%s with %s is refused a year later with another body, a replay store on',
    async (scheme, _, timestamp) => {
      const clock = testClock()
      const verifier = dualVerifier({ now: clock.now, replay: new MemoryReplayStore() })
      const body = await bodyFor(scheme, timestamp, { job_id: 'job-1' })
      expectRejected(await verifier.verify({ body }), 'malformed_credentials', scheme)
      clock.advance(YEAR)
      expectRejected(
        await verifier.verify({ body: { ...body, job_id: 'job-forged' } }),
        'malformed_credentials',
        scheme,
      )
    },
  )

  it.each(CASES)('%s with %s is a would_reject warning in observe mode', async (scheme, _, timestamp) => {
    const verifier = dualVerifier({ policy: { mode: 'observe' } })
    const result = expectAccepted(await verifier.verify({ body: await bodyFor(scheme, timestamp) }), scheme)
    expect(result.warnings).toContain('would_reject:malformed_credentials')
    expect(result.issuedAt).toBeNull()
  })

  it('refuses a custom strategy that reports an Invalid Date issuedAt', async () => {
    const genuine = await signatureBody()
    const verifier = new DualModeVerifier({
      now: () => NOW,
      signature: {
        scheme: 'signature',
        partnerId: '085',
        sign: () => Promise.reject(new Error('not used')),
        verify: () =>
          Promise.resolve({
            ok: true,
            scheme: 'signature',
            partnerId: '085',
            timestamp: String(genuine.timestamp),
            issuedAt: new Date(Number.NaN),
            keyId: 'custom',
            transport: 'body',
            legacy: false,
            duplicate: false,
            warnings: [],
          }),
      },
    })
    expectRejected(await verifier.verify({ body: genuine }), 'malformed_credentials', 'signature')
  })

  it('still accepts the same schemes with an ordinary timestamp', async () => {
    const verifier = dualVerifier()
    expectAccepted(
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW) }) }),
      'signature',
    )
    expectAccepted(await verifier.verify({ body: await secKeyBody({ timestamp: NOW }) }), 'sec_key')
  })

  it('turning freshness off explicitly still accepts them (the documented opt-out)', async () => {
    const verifier = dualVerifier({ freshness: false })
    for (const [, timestamp] of UNESTABLISHED) {
      expect((await verifier.verify({ body: await bodyFor('signature', timestamp) })).ok).toBe(true)
    }
  })
})
