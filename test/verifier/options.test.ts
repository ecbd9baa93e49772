import { describe, expect, it } from 'vitest'

import { DualModeVerifier, MemoryReplayStore, type DualModeVerifierOptions } from '../../src/index.js'
import {
  API_KEY,
  OTHER_API_KEY,
  OTHER_PARTNER,
  PARTNER,
  PRIVATE_KEY,
  SEC_KEY_API_KEY,
  expectConfigurationError,
  secKeyAuth,
  signatureAuth,
} from './helpers.js'

/** Builds a verifier from options that TypeScript would refuse, as JavaScript callers can pass them. */
function build(options: unknown): () => DualModeVerifier {
  return () => new DualModeVerifier(options as DualModeVerifierOptions)
}

const single = () => ({ signature: signatureAuth(), secKey: secKeyAuth() })

describe('DualModeVerifier options', () => {
  it('accepts the documented shapes', () => {
    expect(() => new DualModeVerifier(single())).not.toThrow()
    expect(() => new DualModeVerifier({ partnerId: PARTNER, signature: signatureAuth() })).not.toThrow()
    expect(() => new DualModeVerifier({ partnerId: '85', secKey: secKeyAuth() })).not.toThrow()
    expect(() => new DualModeVerifier({ partners: { [PARTNER]: single() } })).not.toThrow()
    expect(() => new DualModeVerifier({ partners: () => undefined })).not.toThrow()
    expect(
      () =>
        new DualModeVerifier({
          ...single(),
          policy: {
            legacy: 'warn',
            mode: 'observe',
            legacySunsetAt: '2027-03-31T00:00:00Z',
            stickyUpgrade: true,
          },
          freshness: { maxAgeMs: 0, maxFutureMs: 1000 },
          replay: new MemoryReplayStore(),
          replayFailure: 'accept',
          replayTtlMs: 1000,
          audit: [() => undefined, { write: () => undefined }],
          onAuditError: () => undefined,
          now: () => 0,
        }),
    ).not.toThrow()
    expect(() => new DualModeVerifier({ ...single(), freshness: false })).not.toThrow()
  })

  it('exposes the resolved policy with defaults', () => {
    expect(new DualModeVerifier(single()).policy).toEqual({
      legacy: 'accept',
      mode: 'enforce',
      legacySunsetAt: undefined,
      stickyUpgrade: false,
      brownouts: [],
    })
    const sunset = new DualModeVerifier({ ...single(), policy: { legacySunsetAt: '2027-03-31T00:00:00Z' } })
      .policy
    expect(sunset.legacySunsetAt).toEqual(new Date('2027-03-31T00:00:00Z'))
  })

  it('refuses an unknown option (invalid_options), naming it', () => {
    const error = expectConfigurationError(build({ ...single(), freshnes: false }), 'invalid_options')
    expect(error.message).toContain('freshnes')
    expectConfigurationError(build({ ...single(), apiKey: API_KEY }), 'invalid_options')
  })

  it('refuses no options at all', () => {
    expectConfigurationError(build(undefined), 'invalid_options')
    expectConfigurationError(build(null), 'invalid_options')
    expectConfigurationError(build('085'), 'invalid_options')
  })

  it('refuses options without a strategy (missing_key)', () => {
    expectConfigurationError(build({}), 'missing_key')
    expectConfigurationError(build({ partnerId: PARTNER }), 'missing_key')
    expectConfigurationError(build({ partners: {} }), 'missing_key')
    expectConfigurationError(build({ partners: { [PARTNER]: {} } }), 'missing_key')
  })

  it('refuses single-partner options together with partners (invalid_options)', () => {
    expectConfigurationError(
      build({ signature: signatureAuth(), partners: { [PARTNER]: single() } }),
      'invalid_options',
    )
    expectConfigurationError(build({ partnerId: PARTNER, partners: () => undefined }), 'invalid_options')
  })

  it('refuses a strategy made for another partner (invalid_partner_id)', () => {
    expectConfigurationError(
      build({ partnerId: OTHER_PARTNER, signature: signatureAuth() }),
      'invalid_partner_id',
    )
    expectConfigurationError(
      build({ signature: signatureAuth(), secKey: secKeyAuth(OTHER_PARTNER) }),
      'invalid_partner_id',
    )
    expectConfigurationError(build({ partners: { [OTHER_PARTNER]: single() } }), 'invalid_partner_id')
    expectConfigurationError(
      build({ partners: { [PARTNER]: { signature: signatureAuth(OTHER_PARTNER, OTHER_API_KEY) } } }),
      'invalid_partner_id',
    )
  })

  it('refuses a strategy of the wrong scheme or something that is not a strategy (invalid_options)', () => {
    expectConfigurationError(build({ signature: secKeyAuth() }), 'invalid_options')
    expectConfigurationError(build({ secKey: signatureAuth() }), 'invalid_options')
    expectConfigurationError(build({ signature: { partnerId: PARTNER, apiKey: API_KEY } }), 'invalid_options')
    expectConfigurationError(build({ partners: { [PARTNER]: 'keys' } }), 'invalid_options')
  })

  it.each([
    ['legacy', { legacy: 'maybe' }],
    ['legacy (case)', { legacy: 'Reject' }],
    ['mode', { mode: 'audit' }],
    ['legacySunsetAt not a date', { legacySunsetAt: 'next spring' }],
    ['legacySunsetAt a number', { legacySunsetAt: 1_800_000_000_000 }],
    ['stickyUpgrade', { stickyUpgrade: 'yes' }],
    ['an unknown policy key', { legacyy: 'warn' }],
    ['policy not an object', 'warn'],
  ])('refuses a bad policy: %s (invalid_options)', (_, policy) => {
    expectConfigurationError(build({ ...single(), policy }), 'invalid_options')
    // The same check applies to a per-partner policy.
    expectConfigurationError(build({ partners: { [PARTNER]: { ...single(), policy } } }), 'invalid_options')
  })

  it.each([
    ['negative maxAgeMs', { maxAgeMs: -1 }],
    ['NaN maxFutureMs', { maxFutureMs: Number.NaN }],
    ['infinite maxAgeMs', { maxAgeMs: Number.POSITIVE_INFINITY }],
    ['string maxAgeMs', { maxAgeMs: '300000' }],
    ['an unknown freshness key', { maxAge: 1000 }],
    ['true', true],
    ['a number', 300_000],
  ])('refuses bad freshness: %s (invalid_options)', (_, freshness) => {
    expectConfigurationError(build({ ...single(), freshness }), 'invalid_options')
  })

  it('refuses bad replay options (invalid_options)', () => {
    expectConfigurationError(build({ ...single(), replay: {} }), 'invalid_options')
    expectConfigurationError(build({ ...single(), replay: new Map() }), 'invalid_options')
    expectConfigurationError(build({ ...single(), replayFailure: 'ignore' }), 'invalid_options')
    for (const replayTtlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1000']) {
      expectConfigurationError(build({ ...single(), replayTtlMs }), 'invalid_options')
    }
  })

  it('refuses an audit sink that is neither a function nor has write (invalid_options)', () => {
    expectConfigurationError(build({ ...single(), audit: 'audit.jsonl' }), 'invalid_options')
    expectConfigurationError(build({ ...single(), audit: [() => undefined, {}] }), 'invalid_options')
  })

  it('never echoes a key in a configuration error', () => {
    const errors = [
      expectConfigurationError(build({ ...single(), apiKey: API_KEY }), 'invalid_options'),
      expectConfigurationError(
        build({ signature: { partnerId: PARTNER, apiKey: API_KEY } }),
        'invalid_options',
      ),
      expectConfigurationError(build({ ...single(), policy: { legacy: API_KEY } }), 'invalid_options'),
      expectConfigurationError(build({ ...single(), audit: PRIVATE_KEY }), 'invalid_options'),
    ]
    for (const error of errors) {
      for (const secret of [API_KEY, PRIVATE_KEY.slice(40, 100), SEC_KEY_API_KEY.slice(0, 40)]) {
        expect(error.message).not.toContain(secret)
      }
    }
  })
})
