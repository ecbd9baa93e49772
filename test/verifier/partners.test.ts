import { describe, expect, it } from 'vitest'

import { DualModeVerifier, MemoryReplayStore, type PartnerConfig } from '../../src/index.js'
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
} from './helpers.js'

const ours = (): PartnerConfig => ({ signature: signatureAuth(), secKey: secKeyAuth() })
const theirs = (): PartnerConfig => ({
  signature: signatureAuth(OTHER_PARTNER, OTHER_API_KEY),
  secKey: secKeyAuth(OTHER_PARTNER),
})

describe('single-partner attribution', () => {
  it('attributes a body without a partner id to the configured partner', async () => {
    const signature = expectAccepted(
      await dualVerifier().verify({ body: await signatureBody() }),
      'signature',
    )
    expect(signature.partnerId).toBe(PARTNER)
    const legacy = expectAccepted(await dualVerifier().verify({ body: await secKeyBody() }), 'sec_key')
    expect(legacy.partnerId).toBe(PARTNER)
    const empty = expectAccepted(
      await dualVerifier().verify({ body: await signatureBody({ fields: { partner_id: '' } }) }),
      'signature',
    )
    expect(empty.partnerId).toBe(PARTNER)
  })

  it('rejects another partner id as unknown_partner, before any crypto', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ audit: sink })
    const failure = expectRejected(
      await verifier.verify({ body: await signatureBody({ fields: { partner_id: '086' } }) }),
      'unknown_partner',
      'signature',
    )
    expect(failure.partnerId).toBe('086')
    expectRejected(
      await verifier.verify({ body: await secKeyBody({ fields: { smile_client_id: OTHER_PARTNER } }) }),
      'unknown_partner',
      'sec_key',
    )
    expect(events.map((e) => [e.partnerId, e.reason])).toEqual([
      ['086', 'unknown_partner'],
      [OTHER_PARTNER, 'unknown_partner'],
    ])
  })

  it('treats "85", 85 and "085" as the same partner, but not "0850" or "850"', async () => {
    for (const partnerId of ['085', '85', 85, '0085']) {
      const result = expectAccepted(
        await dualVerifier().verify({ body: await signatureBody({ fields: { partner_id: partnerId } }) }),
        'signature',
      )
      expect(result.partnerId).toBe(PARTNER)
      const legacy = expectAccepted(
        await dualVerifier().verify({ body: await secKeyBody({ fields: { partner_id: partnerId } }) }),
        'sec_key',
      )
      expect(legacy.partnerId).toBe(PARTNER)
    }
    for (const partnerId of ['0850', '850', 'abc', '85a']) {
      expectRejected(
        await dualVerifier().verify({ body: await signatureBody({ fields: { partner_id: partnerId } }) }),
        'unknown_partner',
        'signature',
      )
    }
  })

  it('refuses partner_id, smile_client_id and SmileID-Partner-ID naming different partners', async () => {
    // Before: partner_id won over smile_client_id, and the header over both, so a handler keying on the
    // body's partner_id could be handed another tenant's request.
    const body = await signatureBody({ fields: { partner_id: PARTNER, smile_client_id: '999' } })
    expectRejected(await dualVerifier().verify({ body }), 'malformed_credentials', 'signature')
    const agreeing = await signatureBody({ fields: { partner_id: PARTNER } })
    const headers = { 'SmileID-Partner-ID': '999' }
    expectRejected(
      await dualVerifier().verify({ body: agreeing, headers }),
      'malformed_credentials',
      'signature',
    )
  })

  it('rejects a partner id that is not a string or a number as malformed_credentials', async () => {
    for (const partnerId of [{ id: PARTNER }, [PARTNER], true, 'x'.repeat(65), -1, 1.5]) {
      expectRejected(
        await dualVerifier().verify({ body: await signatureBody({ fields: { partner_id: partnerId } }) }),
        'malformed_credentials',
        'signature',
      )
    }
  })
})

describe('multi-partner: a record', () => {
  function recordVerifier(): DualModeVerifier {
    return new DualModeVerifier({
      partners: { [PARTNER]: ours(), [OTHER_PARTNER]: theirs() },
      now: () => NOW,
    })
  }

  it('verifies each partner with its own keys', async () => {
    const verifier = recordVerifier()
    const a = expectAccepted(
      await verifier.verify({ body: await signatureBody({ fields: { partner_id: PARTNER } }) }),
      'signature',
    )
    const b = expectAccepted(
      await verifier.verify({
        body: await signatureBody({
          partnerId: OTHER_PARTNER,
          apiKey: OTHER_API_KEY,
          fields: { partner_id: OTHER_PARTNER },
        }),
      }),
      'signature',
    )
    expect([a.partnerId, b.partnerId]).toEqual([PARTNER, OTHER_PARTNER])
    expect(a.keyId).not.toBe(b.keyId)
    const legacy = expectAccepted(
      await verifier.verify({
        body: await secKeyBody({ partnerId: OTHER_PARTNER, fields: { partner_id: OTHER_PARTNER } }),
      }),
      'sec_key',
    )
    expect(legacy.partnerId).toBe(OTHER_PARTNER)
  })

  it("refuses one partner's credential presented as another's", async () => {
    const verifier = recordVerifier()
    expectRejected(
      await verifier.verify({ body: await signatureBody({ fields: { partner_id: OTHER_PARTNER } }) }),
      'invalid_signature',
      'signature',
    )
    // sec_key hashes the partner id: 085's sec_key is not 200's.
    expectRejected(
      await verifier.verify({ body: await secKeyBody({ fields: { partner_id: OTHER_PARTNER } }) }),
      'invalid_sec_key',
      'sec_key',
    )
  })

  it('rejects a body without a partner id, or with one not in the record, as unknown_partner', async () => {
    const verifier = recordVerifier()
    const none = expectRejected(
      await verifier.verify({ body: await signatureBody() }),
      'unknown_partner',
      'signature',
    )
    expect(none.partnerId).toBeNull()
    const other = expectRejected(
      await verifier.verify({ body: await secKeyBody({ fields: { partner_id: '300' } }) }),
      'unknown_partner',
      'sec_key',
    )
    expect(other.partnerId).toBe('300')
  })

  it('finds "85" under the record key "085"', async () => {
    const result = expectAccepted(
      await recordVerifier().verify({ body: await signatureBody({ fields: { partner_id: 85 } }) }),
      'signature',
    )
    expect(result.partnerId).toBe(PARTNER)
  })

  it('finds a record under every spelling of its id, among many partners, and no other', async () => {
    const partners: Record<string, PartnerConfig> = {}
    // Many records whose digit ids sit next to ours: a lookup by identity must not land on a neighbour.
    for (let i = 1; i <= 2000; i++) {
      const id = String(i * 1000 + 1)
      partners[id] = { signature: signatureAuth(id, OTHER_API_KEY) }
    }
    partners[PARTNER] = ours()
    partners['acme'] = { signature: signatureAuth('acme', OTHER_API_KEY) }
    const verifier = new DualModeVerifier({ partners, now: () => NOW })
    for (const spelling of ['085', '85', '0085', 85, '000000000000085']) {
      const result = expectAccepted(
        await verifier.verify({ body: await signatureBody({ fields: { partner_id: spelling } }) }),
        'signature',
      )
      expect(result.partnerId).toBe(PARTNER)
    }
    for (const unknown of ['850', '8500', 'ACME', 'acme ', '0000000000000085', '86']) {
      expectRejected(
        await verifier.verify({ body: await signatureBody({ fields: { partner_id: unknown } }) }),
        'unknown_partner',
        'signature',
      )
    }
  })
})

describe('multi-partner: two records for one partner', () => {
  it.each([
    ['85', '085'],
    ['085', '85'],
    ['0085', '085'],
    ['0', '000'],
  ])('records %j and %j are a ConfigurationError naming both spellings', (first, second) => {
    const build = () =>
      new DualModeVerifier({
        partners: {
          [first]: { signature: signatureAuth(first), secKey: secKeyAuth(first) },
          [second]: { signature: signatureAuth(second), secKey: secKeyAuth(second) },
        },
      })
    const error = expectConfigurationError(build, 'invalid_partner_id')
    expect(error.message).toContain(`"${first}"`)
    expect(error.message).toContain(`"${second}"`)
    expect(error.message).toMatch(/one partner/)
  })

  it('refuses them whichever schemes the records configure', () => {
    expectConfigurationError(
      () =>
        new DualModeVerifier({
          partners: { '85': { secKey: secKeyAuth('85') }, '085': { signature: signatureAuth('085') } },
        }),
      'invalid_partner_id',
    )
  })

  it('keeps ids that only look alike apart', () => {
    const verifier = new DualModeVerifier({
      partners: {
        '085': ours(),
        '850': { signature: signatureAuth('850', OTHER_API_KEY) },
        acme: { signature: signatureAuth('acme') },
        ACME: { signature: signatureAuth('ACME') },
        '0000000000000085': { signature: signatureAuth('0000000000000085') },
      },
    })
    expect(verifier).toBeInstanceOf(DualModeVerifier)
  })

  it('a captured sec_key is no longer accepted under a second spelling', async () => {
    // Before: records '85' and '085' both existed and each accepted the same captured sec_key once.
    const replayed = new DualModeVerifier({
      partners: { [PARTNER]: ours() },
      replay: new MemoryReplayStore(),
      now: () => NOW,
    })
    const body = await secKeyBody()
    expectAccepted(await replayed.verify({ body: { ...body, partner_id: '085' } }), 'sec_key')
    expectRejected(
      await replayed.verify({ body: { ...body, partner_id: '85', job_id: 'other' } }),
      'replayed',
      'sec_key',
    )
  })
})

describe('multi-partner: a resolver', () => {
  it('looks the claimed partner up asynchronously', async () => {
    const asked: string[] = []
    const verifier = new DualModeVerifier({
      partners: async (id) => {
        asked.push(id)
        await new Promise((resolve) => setImmediate(resolve))
        return id === PARTNER ? ours() : id === OTHER_PARTNER ? theirs() : undefined
      },
      now: () => NOW,
    })
    const a = expectAccepted(
      await verifier.verify({ body: await secKeyBody({ fields: { partner_id: PARTNER } }) }),
      'sec_key',
    )
    const b = expectAccepted(
      await verifier.verify({
        body: await signatureBody({
          partnerId: OTHER_PARTNER,
          apiKey: OTHER_API_KEY,
          fields: { partner_id: OTHER_PARTNER },
        }),
      }),
      'signature',
    )
    expect([a.partnerId, b.partnerId]).toEqual([PARTNER, OTHER_PARTNER])
    expect(asked).toEqual([PARTNER, OTHER_PARTNER])
  })

  it('accepts a synchronous resolver', async () => {
    const verifier = new DualModeVerifier({
      partners: (id) => (id === PARTNER ? ours() : undefined),
      now: () => NOW,
    })
    expectAccepted(
      await verifier.verify({ body: await signatureBody({ fields: { partner_id: PARTNER } }) }),
      'signature',
    )
  })

  it('rejects as unknown_partner when the resolver returns undefined', async () => {
    const verifier = new DualModeVerifier({ partners: () => Promise.resolve(undefined), now: () => NOW })
    const failure = expectRejected(
      await verifier.verify({ body: await signatureBody({ fields: { partner_id: PARTNER } }) }),
      'unknown_partner',
      'signature',
    )
    expect(failure.partnerId).toBe(PARTNER)
  })

  it('rejects as unknown_partner when the resolver throws or rejects (secret store down)', async () => {
    const throwing = new DualModeVerifier({
      partners: () => {
        throw new Error('vault sealed')
      },
      now: () => NOW,
    })
    const rejecting = new DualModeVerifier({
      partners: () => Promise.reject(new Error('timeout')),
      now: () => NOW,
    })
    for (const verifier of [throwing, rejecting]) {
      const failure = expectRejected(
        await verifier.verify({ body: await secKeyBody({ fields: { partner_id: PARTNER } }) }),
        'unknown_partner',
        'sec_key',
      )
      expect(failure.message).not.toMatch(/vault|timeout/)
    }
  })

  it('rejects as unknown_partner when the resolver returns keys for another partner or an unusable config', async () => {
    for (const config of [theirs(), {}, { signature: secKeyAuth() }, 'config']) {
      const verifier = new DualModeVerifier({ partners: () => config as PartnerConfig, now: () => NOW })
      expectRejected(
        await verifier.verify({ body: await signatureBody({ fields: { partner_id: PARTNER } }) }),
        'unknown_partner',
        'signature',
      )
    }
  })

  it('is not asked when the body names no partner', async () => {
    let calls = 0
    const verifier = new DualModeVerifier({
      partners: () => {
        calls++
        return ours()
      },
      now: () => NOW,
    })
    const failure = expectRejected(
      await verifier.verify({ body: await signatureBody() }),
      'unknown_partner',
      'signature',
    )
    expect(failure.partnerId).toBeNull()
    expect(calls).toBe(0)
  })

  it("applies the resolved partner's own policy", async () => {
    const verifier = new DualModeVerifier({
      partners: (id) => (id === PARTNER ? { ...ours(), policy: { legacy: 'reject' } } : undefined),
      policy: { legacy: 'warn' },
      now: () => NOW,
    })
    expectRejected(
      await verifier.verify({ body: await secKeyBody({ fields: { partner_id: PARTNER } }) }),
      'scheme_not_allowed',
      'sec_key',
    )
    expectAccepted(
      await verifier.verify({ body: await signatureBody({ fields: { partner_id: PARTNER } }) }),
      'signature',
    )
  })

  it('attributes a normalising resolver’s answer to the partner the keys belong to', async () => {
    const config = ours()
    const verifier = new DualModeVerifier({
      partners: (id) => (Number(id) === 85 ? config : undefined),
      now: () => NOW,
    })
    const result = expectAccepted(
      await verifier.verify({ body: await signatureBody({ fields: { partner_id: 85 } }) }),
      'signature',
    )
    expect(result.partnerId).toBe(PARTNER)
  })
})
