/**
 * `legacySunsetFor(result)`: the sunset of the partner a result belongs to (its own policy over the
 * verifier's), for the adapters' `Deprecation` / `Sunset` headers.
 */
import { describe, expect, it } from 'vitest'

import { DualModeVerifier, type PartnerConfig, type VerificationResult } from '../../src/index.js'
import {
  NOW,
  OTHER_API_KEY,
  OTHER_PARTNER,
  PARTNER,
  dualVerifier,
  expectAccepted,
  expectRejected,
  recordingSink,
  secKeyAuth,
  secKeyBody,
  signatureAuth,
  signatureBody,
} from './helpers.js'

const DAY = 86_400_000
const VERIFIER_SUNSET = new Date(NOW + 90 * DAY)
const PARTNER_SUNSET = new Date(NOW + 30 * DAY)
const THIRD = '300'
const THIRD_KEY = 'third-partner-signature-key-7'

const ours = { fields: { partner_id: PARTNER } }
const theirs = { partnerId: OTHER_PARTNER, fields: { partner_id: OTHER_PARTNER } }

function configs(): Record<string, PartnerConfig> {
  return {
    [PARTNER]: { signature: signatureAuth(), secKey: secKeyAuth() },
    [OTHER_PARTNER]: {
      signature: signatureAuth(OTHER_PARTNER, OTHER_API_KEY),
      secKey: secKeyAuth(OTHER_PARTNER),
      policy: { legacySunsetAt: PARTNER_SUNSET },
    },
    [THIRD]: { signature: signatureAuth(THIRD, THIRD_KEY) },
  }
}

describe('legacySunsetFor', () => {
  it("record partners: the partner's own sunset over the verifier's, for accepted and rejected results", async () => {
    const verifier = new DualModeVerifier({
      partners: configs(),
      policy: { legacySunsetAt: VERIFIER_SUNSET },
      now: () => NOW,
    })
    const mine = expectAccepted(await verifier.verify({ body: await secKeyBody(ours) }), 'sec_key')
    const other = expectAccepted(await verifier.verify({ body: await secKeyBody(theirs) }), 'sec_key')
    expect(verifier.legacySunsetFor(mine)).toEqual(VERIFIER_SUNSET)
    expect(verifier.legacySunsetFor(other)).toEqual(PARTNER_SUNSET)

    const forged = await verifier.verify({ body: await signatureBody({ ...theirs, apiKey: 'wrong' }) })
    expectRejected(forged, 'invalid_signature', 'signature')
    expect(verifier.legacySunsetFor(forged)).toEqual(PARTNER_SUNSET)
  })

  it('resolver partners: remembered per result, since the resolver cannot be asked again', async () => {
    const table = configs()
    let lookups = 0
    const verifier = new DualModeVerifier({
      partners: (id) => {
        lookups++
        return table[id]
      },
      policy: { legacySunsetAt: VERIFIER_SUNSET },
      now: () => NOW,
    })
    const other = expectAccepted(await verifier.verify({ body: await secKeyBody(theirs) }), 'sec_key')
    const mine = expectAccepted(await verifier.verify({ body: await secKeyBody(ours) }), 'sec_key')
    const before = lookups
    expect(verifier.legacySunsetFor(other)).toEqual(PARTNER_SUNSET)
    expect(verifier.legacySunsetFor(mine)).toEqual(VERIFIER_SUNSET)
    expect(lookups).toBe(before)
    // A copy of a result is not this verifier's result: the resolver partner falls back to the verifier's sunset.
    expect(verifier.legacySunsetFor({ ...other })).toEqual(VERIFIER_SUNSET)
  })

  it("a partner's sunset refusal, observe-mode result, and sticky refusal all carry the partner's sunset", async () => {
    const past = new Date(NOW - DAY)
    const table = configs()
    table[OTHER_PARTNER] = { ...table[OTHER_PARTNER]!, policy: { legacySunsetAt: past, stickyUpgrade: true } }
    const { sink } = recordingSink()
    const verifier = new DualModeVerifier({ partners: table, now: () => NOW, audit: sink })
    const refused = await verifier.verify({ body: await secKeyBody(theirs) })
    expectRejected(refused, 'scheme_not_allowed', 'sec_key')
    expect(verifier.legacySunsetFor(refused)).toEqual(past)

    const observing = new DualModeVerifier({
      partners: {
        [OTHER_PARTNER]: { ...table[OTHER_PARTNER]!, policy: { legacySunsetAt: past, mode: 'observe' } },
      },
      now: () => NOW,
    })
    const observed = expectAccepted(await observing.verify({ body: await secKeyBody(theirs) }), 'sec_key')
    expect(observed.warnings).toContain('would_reject:scheme_not_allowed')
    expect(observing.legacySunsetFor(observed)).toEqual(past)
  })

  it('null when neither the partner nor the verifier sets a sunset; single-partner verifiers use theirs', async () => {
    const none = dualVerifier()
    const result = expectAccepted(await none.verify({ body: await secKeyBody() }), 'sec_key')
    expect(none.legacySunsetFor(result)).toBeNull()

    const single = dualVerifier({ policy: { legacySunsetAt: VERIFIER_SUNSET.toISOString() } })
    const legacy = expectAccepted(await single.verify({ body: await secKeyBody() }), 'sec_key')
    expect(single.legacySunsetFor(legacy)).toEqual(VERIFIER_SUNSET)
    // Results from elsewhere: looked up by partner id (any spelling), else the verifier's sunset.
    expect(single.legacySunsetFor({ ...legacy, partnerId: '85' })).toEqual(VERIFIER_SUNSET)
  })

  it('results not made by this verifier: looked up by partnerId, any spelling; unknown ids get the verifier sunset', () => {
    const verifier = new DualModeVerifier({
      partners: configs(),
      policy: { legacySunsetAt: VERIFIER_SUNSET },
    })
    const made = (partnerId: string | null): VerificationResult => ({
      ok: false,
      scheme: 'sec_key',
      reason: 'invalid_sec_key',
      message: 'x',
      partnerId,
    })
    expect(verifier.legacySunsetFor(made(OTHER_PARTNER))).toEqual(PARTNER_SUNSET)
    expect(verifier.legacySunsetFor(made('0200'))).toEqual(PARTNER_SUNSET)
    expect(verifier.legacySunsetFor(made('999'))).toEqual(VERIFIER_SUNSET)
    expect(verifier.legacySunsetFor(made(null))).toEqual(VERIFIER_SUNSET)
  })

  it('never throws on odd input, and hands out a copy that cannot move the sunset', async () => {
    const verifier = dualVerifier({ policy: { legacySunsetAt: VERIFIER_SUNSET } })
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap')
        },
      },
    )
    for (const odd of [null, undefined, 42, 'x', hostile]) {
      expect(verifier.legacySunsetFor(odd as never)).toEqual(VERIFIER_SUNSET)
    }
    const result = expectAccepted(await verifier.verify({ body: await secKeyBody() }), 'sec_key')
    verifier.legacySunsetFor(result)!.setTime(0)
    expect(verifier.legacySunsetFor(result)).toEqual(VERIFIER_SUNSET)
  })
})
