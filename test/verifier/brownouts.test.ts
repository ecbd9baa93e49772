/**
 * `policy.brownouts`: windows in which sec_key is refused before the final sunset, so that clients still
 * on legacy surface while legacy can still be switched back on. Start inclusive, end exclusive.
 */
import { describe, expect, it } from 'vitest'

import { DualModeVerifier, type DualModeVerifierOptions } from '../../src/index.js'
import {
  NOW,
  OTHER_API_KEY,
  OTHER_PARTNER,
  PARTNER,
  dualVerifier,
  expectAccepted,
  expectConfigurationError,
  expectRejected,
  recordingSink,
  secKeyAuth,
  secKeyBody,
  signatureAuth,
  signatureBody,
  testClock,
} from './helpers.js'

const HOUR = 3_600_000
const START = NOW + HOUR
const END = NOW + 2 * HOUR
const WINDOW = { start: new Date(START), end: new Date(END) }

/** Verifies a sec_key made at `atMs` with the clock at `atMs`; returns the result and its audit event. */
async function secKeyAt(options: DualModeVerifierOptions, atMs: number) {
  const { events, sink } = recordingSink()
  const clock = testClock(atMs)
  const verifier = dualVerifier({ audit: sink, now: clock.now, ...options })
  const result = await verifier.verify({ body: await secKeyBody({ timestamp: atMs }) })
  return { result, event: events[0]! }
}

describe('brownouts: at the edges of a window', () => {
  it.each([
    ['1 ms before the start', START - 1, false],
    ['at the start (inclusive)', START, true],
    ['1 ms after the start', START + 1, true],
    ['1 ms before the end', END - 1, true],
    ['at the end (exclusive)', END, false],
    ['1 ms after the end', END + 1, false],
  ])('%s', async (_, atMs, refused) => {
    const { result, event } = await secKeyAt({ policy: { brownouts: [WINDOW] } }, atMs)
    if (refused) {
      expectRejected(result, 'scheme_not_allowed', 'sec_key')
      expect(event).toMatchObject({
        outcome: 'rejected',
        reason: 'scheme_not_allowed',
        warnings: ['brownout'],
        authenticated: true,
      })
    } else {
      expect(expectAccepted(result, 'sec_key').warnings).toEqual([])
      expect(event).toMatchObject({ outcome: 'accepted', warnings: [] })
    }
  })

  it('takes windows as ISO strings, and the same verifier follows the clock in and out', async () => {
    const clock = testClock(START - 1)
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({
      policy: { brownouts: [{ start: new Date(START).toISOString(), end: new Date(END).toISOString() }] },
      now: clock.now,
      audit: sink,
    })
    const at = async () => verifier.verify({ body: await secKeyBody({ timestamp: clock.now() }) })
    expectAccepted(await at(), 'sec_key')
    clock.set(START)
    expectRejected(await at(), 'scheme_not_allowed', 'sec_key')
    clock.set(END)
    expectAccepted(await at(), 'sec_key')
    expect(events.map((e) => e.warnings)).toEqual([[], ['brownout'], []])
  })

  it('leaves the signature scheme alone inside a window', async () => {
    const clock = testClock(START)
    const verifier = dualVerifier({ policy: { brownouts: [WINDOW] }, now: clock.now })
    const result = expectAccepted(
      await verifier.verify({ body: await signatureBody({ timestamp: new Date(START) }) }),
      'signature',
    )
    expect(result.warnings).toEqual([])
  })

  it('refuses a forged sec_key inside a window as scheme_not_allowed, audited as unauthenticated', async () => {
    const clock = testClock(START)
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ policy: { brownouts: [WINDOW] }, now: clock.now, audit: sink })
    const body = await secKeyBody({ timestamp: START })
    const forged = {
      ...body,
      sec_key: (body.sec_key as string).replace(/.$/, (c) => (c === '0' ? '1' : '0')),
    }
    expectRejected(await verifier.verify({ body: forged }), 'scheme_not_allowed', 'sec_key')
    expect(events[0]).toMatchObject({ warnings: ['brownout'], authenticated: false })
  })
})

describe('brownouts: several windows, modes and other refusals', () => {
  it('overlapping and adjacent windows refuse across their union and nowhere else', async () => {
    const brownouts = [
      { start: new Date(START), end: new Date(START + 30 * 60_000) },
      { start: new Date(START + 10 * 60_000), end: new Date(END) }, // overlaps the first
      { start: new Date(END), end: new Date(END + HOUR) }, // starts where the second ends
    ]
    const cases: Array<[number, boolean]> = [
      [START - 1, false],
      [START, true],
      [START + 20 * 60_000, true],
      [START + 30 * 60_000, true],
      [END - 1, true],
      [END, true],
      [END + HOUR - 1, true],
      [END + HOUR, false],
    ]
    for (const [atMs, refused] of cases) {
      const { result } = await secKeyAt({ policy: { brownouts } }, atMs)
      expect(result.ok, `at START${atMs >= START ? '+' : ''}${atMs - START} ms`).toBe(!refused)
      if (refused) expectRejected(result, 'scheme_not_allowed', 'sec_key')
    }
  })

  it('observe mode: inside a window sec_key is accepted as would_reject with the brownout warning', async () => {
    const { result, event } = await secKeyAt({ policy: { brownouts: [WINDOW], mode: 'observe' } }, START)
    const accepted = expectAccepted(result, 'sec_key')
    expect(accepted.warnings).toEqual(['would_reject:scheme_not_allowed', 'brownout'])
    expect(event).toMatchObject({
      outcome: 'would_reject',
      reason: 'scheme_not_allowed',
      warnings: ['would_reject:scheme_not_allowed', 'brownout'],
      authenticated: true,
    })
    // Outside the window, observe mode has nothing to report.
    const outside = await secKeyAt({ policy: { brownouts: [WINDOW], mode: 'observe' } }, END)
    expect(expectAccepted(outside.result, 'sec_key').warnings).toEqual([])
  })

  it("is not named as the cause when legacy: 'reject' or the sunset already refuses", async () => {
    for (const policy of [
      { legacy: 'reject' as const, brownouts: [WINDOW] },
      { legacySunsetAt: new Date(START - 1), brownouts: [WINDOW] },
    ]) {
      const { result, event } = await secKeyAt({ policy }, START)
      expectRejected(result, 'scheme_not_allowed', 'sec_key')
      expect(event.warnings).toEqual([])
    }
  })

  it('a window with legacy warn: refused inside, accepted with legacy_scheme outside', async () => {
    const inside = await secKeyAt({ policy: { legacy: 'warn', brownouts: [WINDOW] } }, START)
    expectRejected(inside.result, 'scheme_not_allowed', 'sec_key')
    const outside = await secKeyAt({ policy: { legacy: 'warn', brownouts: [WINDOW] } }, END)
    expect(expectAccepted(outside.result, 'sec_key').warnings).toEqual(['legacy_scheme'])
  })
})

describe('brownouts: per partner', () => {
  const partners = (base: DualModeVerifierOptions['policy'], own: DualModeVerifierOptions['policy']) =>
    new DualModeVerifier({
      partners: {
        [PARTNER]: { signature: signatureAuth(), secKey: secKeyAuth() },
        [OTHER_PARTNER]: {
          signature: signatureAuth(OTHER_PARTNER, OTHER_API_KEY),
          secKey: secKeyAuth(OTHER_PARTNER),
          ...(own === undefined ? {} : { policy: own }),
        },
      },
      ...(base === undefined ? {} : { policy: base }),
      now: () => START,
    })
  const ours = () => secKeyBody({ timestamp: START, fields: { partner_id: PARTNER } })
  const theirs = () =>
    secKeyBody({ timestamp: START, partnerId: OTHER_PARTNER, fields: { partner_id: OTHER_PARTNER } })

  it("a partner's own window applies to that partner only", async () => {
    const verifier = partners(undefined, { brownouts: [WINDOW] })
    expectAccepted(await verifier.verify({ body: await ours() }), 'sec_key')
    expectRejected(await verifier.verify({ body: await theirs() }), 'scheme_not_allowed', 'sec_key')
  })

  it("the verifier's windows apply to every partner; a partner's own list replaces them ([] exempts it)", async () => {
    const everyone = partners({ brownouts: [WINDOW] }, undefined)
    expectRejected(await everyone.verify({ body: await ours() }), 'scheme_not_allowed', 'sec_key')
    expectRejected(await everyone.verify({ body: await theirs() }), 'scheme_not_allowed', 'sec_key')

    const exempt = partners({ brownouts: [WINDOW] }, { brownouts: [] })
    expectRejected(await exempt.verify({ body: await ours() }), 'scheme_not_allowed', 'sec_key')
    expectAccepted(await exempt.verify({ body: await theirs() }), 'sec_key')

    const elsewhere = partners(
      { brownouts: [WINDOW] },
      { brownouts: [{ start: new Date(END), end: new Date(END + HOUR) }] },
    )
    expectAccepted(await elsewhere.verify({ body: await theirs() }), 'sec_key')
  })

  it('works with a resolver partner', async () => {
    const config = {
      signature: signatureAuth(OTHER_PARTNER, OTHER_API_KEY),
      secKey: secKeyAuth(OTHER_PARTNER),
      policy: { brownouts: [WINDOW] },
    }
    const verifier = new DualModeVerifier({
      partners: (id) => (id === OTHER_PARTNER ? config : undefined),
      now: () => START,
    })
    expectRejected(await verifier.verify({ body: await theirs() }), 'scheme_not_allowed', 'sec_key')
  })
})

describe('brownouts: validated at construction', () => {
  const build = (brownouts: unknown) => () => dualVerifier({ policy: { brownouts } as never })
  const perPartner = (brownouts: unknown) => () =>
    new DualModeVerifier({
      partners: { [PARTNER]: { signature: signatureAuth(), policy: { brownouts } as never } },
    })

  it.each([
    ['end equal to start', [{ start: WINDOW.start, end: WINDOW.start }], 'must be after its start'],
    ['end before start', [{ start: WINDOW.end, end: WINDOW.start }], 'must be after its start'],
    ['an unparseable start', [{ start: 'first monday', end: WINDOW.end }], 'brownouts[0].start'],
    ['an invalid Date end', [{ start: WINDOW.start, end: new Date(Number.NaN) }], 'an invalid Date'],
    ['a number', [{ start: START, end: END }], `new Date(${START})`],
    ['a missing end', [{ start: WINDOW.start }], 'brownouts[0].end is missing'],
    ['an unknown key', [{ start: WINDOW.start, ends: WINDOW.end }], 'ends (did you mean end?)'],
    ['one window, not a list', WINDOW, 'wrap a single window in [ ]'],
    ['a window that is not an object', ['2027-01-01'], 'brownouts[0] must be a { start, end } window'],
    ['the second window bad', [WINDOW, { start: WINDOW.end, end: WINDOW.end }], 'brownouts[1].end'],
  ])('refuses %s (invalid_options), saying what is wrong', (_, brownouts, hint) => {
    for (const make of [build, perPartner]) {
      const error = expectConfigurationError(make(brownouts), 'invalid_options')
      expect(error.message).toContain(hint)
      expect(error.message).toContain('brownouts')
    }
  })

  it('accepts an empty list and windows given as Date or string', () => {
    expect(build([])).not.toThrow()
    expect(build([{ start: '2027-02-01T09:00:00Z', end: new Date('2027-02-01T10:00:00Z') }])).not.toThrow()
  })

  it('copies the windows: changing the given Date later changes nothing', async () => {
    const start = new Date(START)
    const verifier = dualVerifier({
      policy: { brownouts: [{ start, end: new Date(END) }] },
      now: () => START,
    })
    start.setTime(END + HOUR)
    expectRejected(
      await verifier.verify({ body: await secKeyBody({ timestamp: START }) }),
      'scheme_not_allowed',
      'sec_key',
    )
    expect(verifier.policy.brownouts).toEqual([{ start: new Date(START), end: new Date(END) }])
  })
})
