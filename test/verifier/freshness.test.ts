import { describe, expect, it } from 'vitest'

import type { Scheme } from '../../src/index.js'
import { signatureVectors } from '../support/vectors.js'
import {
  NOW,
  PARTNER,
  dualVerifier,
  expectAccepted,
  expectRejected,
  recordingSink,
  secKeyBody,
  signatureAuth,
  signatureBody,
  testClock,
} from './helpers.js'

const MINUTE = 60_000
const WINDOW = 5 * MINUTE

/** Every spelling the SDKs send, with the instant it denotes and whether it carries a zone. */
const SPELLINGS: Array<{ label: string; timestamp: string | number; instant: number; naive?: true }> = [
  { label: 'ISO with ms and Z', timestamp: '2023-11-14T22:13:20.000Z', instant: NOW },
  { label: 'ISO without fraction, Z', timestamp: '2023-11-14T22:13:20Z', instant: NOW },
  { label: 'ISO with µs, Z', timestamp: '2023-11-14T22:13:20.123456Z', instant: NOW + 123 },
  { label: 'ISO with 9 fraction digits', timestamp: '2023-11-14T22:13:20.123456789Z', instant: NOW + 123 },
  {
    label: 'ISO with µs and +00:00 (Python)',
    timestamp: '2023-11-14T22:13:20.123456+00:00',
    instant: NOW + 123,
  },
  { label: 'ISO with +0000', timestamp: '2023-11-14T22:13:20+0000', instant: NOW },
  { label: 'ISO with ms and +0000 (Java)', timestamp: '2023-11-14T22:13:20.000+0000', instant: NOW },
  { label: 'ISO with +02:00', timestamp: '2023-11-15T00:13:20+02:00', instant: NOW },
  { label: 'ISO with -05:00', timestamp: '2023-11-14T17:13:20-05:00', instant: NOW },
  {
    label: 'naive ISO (no zone, read as UTC)',
    timestamp: '2023-11-14T22:13:20.123456',
    instant: NOW + 123,
    naive: true,
  },
  { label: 'Ruby Time#to_s', timestamp: '2023-11-14 22:13:20 +0000', instant: NOW },
  { label: 'epoch seconds number', timestamp: 1_700_000_000, instant: NOW },
  { label: 'epoch seconds string', timestamp: '1700000000', instant: NOW },
  { label: 'epoch milliseconds number', timestamp: 1_700_000_000_000, instant: NOW },
  { label: 'epoch milliseconds string', timestamp: '1700000000000', instant: NOW },
]

/** A signed body whose `timestamp` field holds the value as given (a JSON number stays a number). */
async function bodyFor(scheme: Scheme, timestamp: string | number): Promise<Record<string, unknown>> {
  const body = scheme === 'signature' ? await signatureBody({ timestamp }) : await secKeyBody({ timestamp })
  return { ...body, timestamp }
}

const CASES = SPELLINGS.flatMap((spelling) =>
  (['signature', 'sec_key'] as const).map((scheme) => [scheme, spelling.label, spelling] as const),
)

describe('freshness: every timestamp spelling, both ways', () => {
  it.each(CASES)('%s, %s: inside the window is accepted, its edges included', async (scheme, _, spelling) => {
    const clock = testClock()
    const verifier = dualVerifier({ now: clock.now })
    const body = await bodyFor(scheme, spelling.timestamp)
    for (const now of [
      spelling.instant,
      spelling.instant + 4 * MINUTE,
      spelling.instant + WINDOW,
      spelling.instant - WINDOW,
    ]) {
      clock.set(now)
      const result = expectAccepted(await verifier.verify({ body }), scheme)
      expect(result.timestamp).toBe(spelling.timestamp)
      expect(result.issuedAt?.getTime()).toBe(spelling.instant)
      expect(result.warnings).toEqual(spelling.naive ? ['timestamp_naive'] : [])
    }
  })

  it.each(CASES)('%s, %s: older than the window is timestamp_expired', async (scheme, _, spelling) => {
    const verifier = dualVerifier({ now: () => spelling.instant + WINDOW + 1 })
    expectRejected(
      await verifier.verify({ body: await bodyFor(scheme, spelling.timestamp) }),
      'timestamp_expired',
      scheme,
    )
  })

  it.each(CASES)(
    '%s, %s: further ahead than the window is timestamp_in_future',
    async (scheme, _, spelling) => {
      const verifier = dualVerifier({ now: () => spelling.instant - WINDOW - 1 })
      expectRejected(
        await verifier.verify({ body: await bodyFor(scheme, spelling.timestamp) }),
        'timestamp_in_future',
        scheme,
      )
    },
  )

  it('applies to the official SDKs’ signatures of each spelling', async () => {
    const vectors = signatureVectors()
    expect(vectors.partner_id).toBe(PARTNER)
    for (const vector of vectors.vectors) {
      const body = { signature: vector.signature, timestamp: vector.timestamp }
      expectAccepted(await dualVerifier({ now: () => NOW + MINUTE }).verify({ body }), 'signature')
      expectRejected(
        await dualVerifier({ now: () => NOW + WINDOW + 1000 }).verify({ body }),
        'timestamp_expired',
        'signature',
      )
      expectRejected(
        await dualVerifier({ now: () => NOW - WINDOW - 1000 }).verify({ body }),
        'timestamp_in_future',
        'signature',
      )
    }
  })

  it('reads a Node SDK 3.x numeric timestamp (signed as its ISO form) as milliseconds, with timestamp_coerced', async () => {
    const { signature } = await signatureAuth().sign({ timestamp: new Date(NOW).toISOString() })
    const body = { signature, timestamp: NOW }
    const result = expectAccepted(await dualVerifier().verify({ body }), 'signature')
    expect(result.warnings).toEqual(['timestamp_coerced'])
    expect(result.issuedAt?.getTime()).toBe(NOW)
    expectRejected(
      await dualVerifier({ now: () => NOW + WINDOW + 1 }).verify({ body }),
      'timestamp_expired',
      'signature',
    )
  })

  it('reads epoch numbers below 1e11 as seconds and above as milliseconds', async () => {
    // 99_999_999_999 s is the year 5138; the same digits as ms are 1973.
    const seconds = 99_999_999_999
    const asSeconds = expectAccepted(
      await dualVerifier({ now: () => seconds * 1000 }).verify({
        body: await secKeyBody({ timestamp: seconds }),
      }),
      'sec_key',
    )
    expect(asSeconds.issuedAt?.getTime()).toBe(seconds * 1000)
    const millis = 100_000_000_000
    const asMillis = expectAccepted(
      await dualVerifier({ now: () => millis }).verify({ body: await secKeyBody({ timestamp: millis }) }),
      'sec_key',
    )
    expect(asMillis.issuedAt?.getTime()).toBe(millis)
  })
})

describe('freshness: configuration', () => {
  it('freshness: false accepts any age, and timestamps that are not instants', async () => {
    const verifier = dualVerifier({ freshness: false, now: () => NOW + 10 * 365 * 24 * 60 * MINUTE })
    expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
    expectAccepted(await verifier.verify({ body: await secKeyBody({ timestamp: 1 }) }), 'sec_key')
    const notInstant = expectAccepted(
      await verifier.verify({ body: await signatureBody({ timestamp: 'not-a-date' }) }),
      'signature',
    )
    expect(notInstant.issuedAt).toBeNull()
  })

  it('custom windows: maxAgeMs and maxFutureMs each way', async () => {
    const verifier = dualVerifier({ freshness: { maxAgeMs: 1000, maxFutureMs: 0 } })
    expectAccepted(
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW - 1000) }) }),
      'signature',
    )
    expectRejected(
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW - 1001) }) }),
      'timestamp_expired',
      'signature',
    )
    expectAccepted(await verifier.verify({ body: await secKeyBody({ timestamp: NOW }) }), 'sec_key')
    expectRejected(
      await verifier.verify({ body: await secKeyBody({ timestamp: NOW + 1 }) }),
      'timestamp_in_future',
      'sec_key',
    )
  })

  it('a window given on one side keeps the 5-minute default on the other', async () => {
    const verifier = dualVerifier({ freshness: { maxAgeMs: 10 * MINUTE } })
    expectAccepted(
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW - 9 * MINUTE) }) }),
      'signature',
    )
    expectAccepted(
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW + WINDOW) }) }),
      'signature',
    )
    expectRejected(
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW + WINDOW + 1) }) }),
      'timestamp_in_future',
      'signature',
    )
    const futureOnly = dualVerifier({ freshness: { maxFutureMs: 0 } })
    expectAccepted(
      await futureOnly.verify({ body: await secKeyBody({ timestamp: NOW - WINDOW }) }),
      'sec_key',
    )
    expectRejected(
      await futureOnly.verify({ body: await secKeyBody({ timestamp: NOW - WINDOW - 1 }) }),
      'timestamp_expired',
      'sec_key',
    )
  })

  it('uses the injected clock on every call', async () => {
    const clock = testClock()
    const verifier = dualVerifier({ now: clock.now })
    const body = await signatureBody()
    expectAccepted(await verifier.verify({ body }), 'signature')
    clock.advance(WINDOW + 1)
    expectRejected(await verifier.verify({ body }), 'timestamp_expired', 'signature')
  })
})

describe('freshness: a verified timestamp that is not an instant', () => {
  const NOT_INSTANTS = [
    'not-a-date',
    '2023-02-30T00:00:00Z',
    '2023-11-14T25:00:00Z',
    '2023-11-14T22:13:20+25:00',
    'tomorrow',
  ]

  it.each(NOT_INSTANTS)('signature with %j is malformed_credentials', async (timestamp) => {
    const body = await signatureBody({ timestamp })
    // The signature itself is genuine: the strategy alone accepts it.
    expectAccepted(await signatureAuth().verify({ signature: body.signature, timestamp }), 'signature')
    const failure = expectRejected(
      await dualVerifier().verify({ body }),
      'malformed_credentials',
      'signature',
    )
    expect(failure.partnerId).toBe(PARTNER)
  })

  it('sec_key with a timestamp that is not an instant is malformed_credentials', async () => {
    for (const timestamp of ['yesterday', -5, '2023-13-01 00:00:00 +0000']) {
      expectRejected(
        await dualVerifier().verify({ body: await secKeyBody({ timestamp }) }),
        'malformed_credentials',
        'sec_key',
      )
    }
  })

  it('is a would_reject:malformed_credentials warning in observe mode', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ policy: { mode: 'observe' }, audit: sink })
    const result = expectAccepted(
      await verifier.verify({ body: await signatureBody({ timestamp: 'not-a-date' }) }),
      'signature',
    )
    expect(result.warnings).toEqual(['would_reject:malformed_credentials'])
    expect(result.issuedAt).toBeNull()
    expect(events[0]).toMatchObject({ outcome: 'would_reject', reason: 'malformed_credentials' })
  })
})
