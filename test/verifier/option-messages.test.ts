/**
 * Configuration mistakes throw a ConfigurationError whose message lists the allowed values or names the
 * likely mistake, never echoing anything that could be a key. A sunset already past at construction is
 * warned about once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'

import { DualModeVerifier, type DualModeVerifierOptions } from '../../src/index.js'
import {
  API_KEY,
  NOW,
  PARTNER,
  SEC_KEY_API_KEY,
  expectConfigurationError,
  secKeyAuth,
  signatureAuth,
} from './helpers.js'

const single = () => ({ signature: signatureAuth(), secKey: secKeyAuth() })

/** The message of the ConfigurationError (invalid_options) that `options` cause. */
function messageOf(options: unknown): string {
  return expectConfigurationError(
    () => new DualModeVerifier(options as DualModeVerifierOptions),
    'invalid_options',
  ).message
}

describe('policy messages', () => {
  it.each([
    [
      { legacy: 'warning' },
      `policy.legacy must be 'accept', 'warn' or 'reject' (got "warning"); did you mean 'warn'?`,
    ],
    [
      { legacy: 'Reject' },
      `policy.legacy must be 'accept', 'warn' or 'reject' (got "Reject"); did you mean 'reject'?`,
    ],
    [{ legacy: true }, `policy.legacy must be 'accept', 'warn' or 'reject' (got true)`],
    [{ mode: 'audit' }, `policy.mode must be 'enforce' or 'observe' (got "audit")`],
    [
      { mode: 'observed' },
      `policy.mode must be 'enforce' or 'observe' (got "observed"); did you mean 'observe'?`,
    ],
    [{ stickyUpgrade: 'yes' }, 'policy.stickyUpgrade must be true or false (got "yes")'],
    [
      { legacySunsetAt: 'next spring' },
      'policy.legacySunsetAt must be a Date or a date string such as "2027-03-31T00:00:00Z" (got "next spring", which is not a date)',
    ],
    [
      { legacySunsetAt: '2027-31-03' },
      'policy.legacySunsetAt must be a Date or a date string such as "2027-03-31T00:00:00Z" (got "2027-31-03", which is not a date)',
    ],
    [
      { legacySunsetAt: 1_800_000_000_000 },
      'policy.legacySunsetAt must be a Date or a date string such as "2027-03-31T00:00:00Z" (got the number 1800000000000; for epoch milliseconds pass new Date(1800000000000))',
    ],
    [
      { legacySunsetAt: new Date(Number.NaN) },
      'policy.legacySunsetAt must be a Date or a date string such as "2027-03-31T00:00:00Z" (got an invalid Date)',
    ],
    [
      { legacyy: 'warn' },
      'unknown option in policy: legacyy (did you mean legacy?); known: legacy, mode, legacySunsetAt, stickyUpgrade, brownouts',
    ],
    [
      { sunsetAt: '2027-03-31' },
      'unknown option in policy: sunsetAt; known: legacy, mode, legacySunsetAt, stickyUpgrade, brownouts',
    ],
    [
      'warn',
      `policy must be an object such as { legacy: 'warn' } (got "warn"); did you mean { legacy: 'warn' }?`,
    ],
    [
      'observe',
      `policy must be an object such as { legacy: 'warn' } (got "observe"); did you mean { mode: 'observe' }?`,
    ],
    [['warn'], `policy must be an object such as { legacy: 'warn' } (got an array)`],
  ])('%j', (policy, message) => {
    expect(messageOf({ ...single(), policy })).toBe(message)
  })

  it("names a partner's policy by its partner id", () => {
    expect(messageOf({ partners: { [PARTNER]: { ...single(), policy: { legacy: 'nope' } } } })).toBe(
      `partners.${PARTNER}.policy.legacy must be 'accept', 'warn' or 'reject' (got "nope")`,
    )
  })

  it('accepts every documented value, and fields given as undefined', () => {
    for (const legacy of ['accept', 'warn', 'reject', undefined] as const) {
      for (const mode of ['enforce', 'observe', undefined] as const) {
        // As JavaScript callers pass them: explicit undefined fields are absent fields.
        expect(() => new DualModeVerifier({ ...single(), policy: { legacy, mode } } as never)).not.toThrow()
      }
    }
    expect(
      () =>
        new DualModeVerifier({
          ...single(),
          policy: { legacySunsetAt: undefined, stickyUpgrade: undefined, brownouts: undefined },
        } as never),
    ).not.toThrow()
  })

  it('never echoes a key put where a word or a date belongs', () => {
    for (const policy of [{ legacy: API_KEY }, { mode: SEC_KEY_API_KEY }, { legacySunsetAt: API_KEY }]) {
      const message = messageOf({ ...single(), policy })
      expect(message).toMatch(/a string of \d+ characters/)
      expect(message).not.toContain(API_KEY)
      expect(message).not.toContain(SEC_KEY_API_KEY.slice(0, 24))
    }
    const unknownKey = messageOf({ ...single(), [API_KEY]: true })
    expect(unknownKey).not.toContain(API_KEY)
  })
})

describe('freshness and other option messages', () => {
  it.each([
    [
      { maxAgeMs: -1 },
      'freshness.maxAgeMs must be a finite number of milliseconds, 0 or more (got the number -1)',
    ],
    [
      { maxFutureMs: Number.NaN },
      'freshness.maxFutureMs must be a finite number of milliseconds, 0 or more (got NaN)',
    ],
    [
      { maxAgeMs: Number.POSITIVE_INFINITY },
      'freshness.maxAgeMs must be a finite number of milliseconds, 0 or more (got the number Infinity)',
    ],
    [
      { maxAgeMs: '300000' },
      'freshness.maxAgeMs must be a finite number of milliseconds, 0 or more (got a string of 6 characters); pass the number 300000, not a string',
    ],
    [
      { maxAge: 1000 },
      'unknown option in freshness: maxAge (did you mean maxAgeMs?); known: maxAgeMs, maxFutureMs',
    ],
    [
      true,
      'freshness must be false or { maxAgeMs?, maxFutureMs? } (got true); freshness is on by default, leave the option out',
    ],
    [
      300_000,
      'freshness must be false or { maxAgeMs?, maxFutureMs? } (got the number 300000); write { maxAgeMs: 300000, maxFutureMs: 300000 }',
    ],
  ])('freshness %j', (freshness, message) => {
    expect(messageOf({ ...single(), freshness })).toBe(message)
  })

  it.each([
    [{ replayFailure: 'ignore' }, `replayFailure must be 'reject' or 'accept' (got "ignore")`],
    [
      { replayFailure: 'accepted' },
      `replayFailure must be 'reject' or 'accept' (got "accepted"); did you mean 'accept'?`,
    ],
    [{ upgradeFailure: false }, `upgradeFailure must be 'reject' or 'accept' (got false)`],
    [{ replayTtlMs: 0 }, 'replayTtlMs must be a positive, finite number of milliseconds (got the number 0)'],
    [
      { replayTtlMs: '1000' },
      'replayTtlMs must be a positive, finite number of milliseconds (got a string of 4 characters); pass the number 1000, not a string',
    ],
    [
      { now: 1_700_000_000_000 },
      'now must be a function returning epoch milliseconds, such as () => Date.now()',
    ],
    [{ onAuditError: 'log' }, 'onAuditError must be a function (error, event) => void'],
    [
      { audit: 'audit.jsonl' },
      'each audit sink must be a function or an object with a write(event) method, such as jsonlAuditSink(path) (a file path goes through jsonlAuditSink)',
    ],
    [
      { replay: {} },
      'replay must be a replay store with a remember(key, fingerprint, ttlMs) method, such as new MemoryReplayStore()',
    ],
  ])('%j', (extra, message) => {
    expect(messageOf({ ...single(), ...extra })).toBe(message)
  })

  it('names a mistyped top-level option and lists the known ones', () => {
    const message = messageOf({ ...single(), freshnes: false })
    expect(message).toMatch(/^unknown option: freshnes \(did you mean freshness\?\); known: partnerId, /)
    expect(messageOf({ ...single(), replayfailure: 'accept' })).toContain(
      'replayfailure (did you mean replayFailure?)',
    )
    expect(messageOf({ ...single(), upgradeStores: null, instanse: 'a' })).toContain(
      'unknown options: upgradeStores (did you mean upgradeStore?), instanse (did you mean instance?)',
    )
  })

  it('says what the options argument should look like', () => {
    for (const options of [undefined, null, '085', [single()]]) {
      expect(messageOf(options)).toMatch(
        /^DualModeVerifier needs an options object such as \{ signature, secKey \} or \{ partners \} \(got /,
      )
    }
  })
})

describe('a legacySunsetAt already in the past', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('warns once through process.emitWarning that every sec_key request will be refused', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const past = new Date(NOW - 86_400_000)
    const build = () =>
      new DualModeVerifier({ ...single(), policy: { legacySunsetAt: past }, now: () => NOW })
    build()
    build()
    expect(warn).toHaveBeenCalledTimes(1)
    const [message, options] = warn.mock.calls[0]! as [string, { code: string; type: string }]
    expect(message).toContain(past.toISOString())
    expect(message).toContain('every sec_key request will be refused')
    expect(options).toMatchObject({ code: 'SMILEID_SUNSET_PASSED', type: 'SmileIdConfigurationWarning' })
  })

  it("warns for a partner's own past sunset, using the verifier's clock", () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const past = new Date(NOW - 2 * 86_400_000)
    new DualModeVerifier({
      partners: { [PARTNER]: { ...single(), policy: { legacySunsetAt: past } } },
      now: () => NOW,
    })
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]![0])).toContain(past.toISOString())
  })

  it("does not warn for a future sunset, nor when legacy: 'reject' already refuses", () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    new DualModeVerifier({ ...single(), policy: { legacySunsetAt: new Date(NOW + 1) }, now: () => NOW })
    new DualModeVerifier({
      ...single(),
      policy: { legacy: 'reject', legacySunsetAt: new Date(NOW - 3 * 86_400_000) },
      now: () => NOW,
    })
    expect(warn).not.toHaveBeenCalled()
  })

  it('still builds the verifier: a past sunset is a warning, not an error', () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    expect(
      () =>
        new DualModeVerifier({
          ...single(),
          policy: { legacySunsetAt: new Date(NOW - 4 * 86_400_000) },
          now: () => NOW,
        }),
    ).not.toThrow()
  })
})
