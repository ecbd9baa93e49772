/**
 * An unreachable sticky-upgrade store: sec_key is refused (`replay_check_failed`) unless the option named
 * for upgrades, `upgradeFailure: 'accept'`, is set; then it is accepted with one `upgrade_unchecked`
 * warning. `replayFailure` governs the replay store only.
 */
import { describe, expect, it } from 'vitest'

import type { UpgradeStore } from '../../src/index.js'
import {
  dualVerifier,
  expectAccepted,
  expectConfigurationError,
  expectRejected,
  recordingSink,
  secKeyBody,
  signatureBody,
} from './helpers.js'

const down = () => new Error('upgrade store down')

/** Stores that cannot answer isUpgraded, each in its own way. */
const broken: Array<[string, () => UpgradeStore]> = [
  [
    'throws synchronously',
    () => ({
      isUpgraded: () => {
        throw down()
      },
      markUpgraded: () => {
        throw down()
      },
    }),
  ],
  [
    'rejects',
    () => ({
      isUpgraded: () => Promise.reject(down()),
      markUpgraded: () => Promise.reject(down()),
    }),
  ],
  [
    'answers something that is not a boolean',
    () => ({
      isUpgraded: () => Promise.resolve('maybe' as unknown as boolean),
      markUpgraded: () => Promise.resolve(),
    }),
  ],
]

describe('upgradeFailure: the sticky-upgrade store is unreachable', () => {
  it.each(broken)(
    'store %s: sec_key fails closed by default, whatever replayFailure says',
    async (_, store) => {
      for (const replayFailure of [undefined, 'reject', 'accept'] as const) {
        const { events, sink } = recordingSink()
        const verifier = dualVerifier({
          policy: { stickyUpgrade: true },
          upgradeStore: store(),
          ...(replayFailure === undefined ? {} : { replayFailure }),
          audit: sink,
        })
        const failure = expectRejected(
          await verifier.verify({ body: await secKeyBody() }),
          'replay_check_failed',
          'sec_key',
        )
        expect(failure.message).toContain('upgrade store')
        expect(events[0]).toMatchObject({ outcome: 'rejected', reason: 'replay_check_failed' })
      }
    },
  )

  it.each(broken)(
    "store %s: upgradeFailure 'accept' accepts sec_key with one upgrade_unchecked warning",
    async (_, store) => {
      const { events, sink } = recordingSink()
      const verifier = dualVerifier({
        policy: { stickyUpgrade: true },
        upgradeStore: store(),
        upgradeFailure: 'accept',
        audit: sink,
      })
      const result = expectAccepted(await verifier.verify({ body: await secKeyBody() }), 'sec_key')
      expect(result.warnings).toEqual(['upgrade_unchecked'])
      expect(events[0]).toMatchObject({ outcome: 'accepted', reason: null, warnings: ['upgrade_unchecked'] })
      // A signature request still works, and its failed markUpgraded changes nothing.
      expect(
        expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature').warnings,
      ).toEqual([])
    },
  )

  it('upgrade and replay store both down, both accepted: one warning for each, never a duplicate', async () => {
    const store = broken[1]![1]()
    const verifier = dualVerifier({
      policy: { stickyUpgrade: true },
      upgradeStore: store,
      upgradeFailure: 'accept',
      replay: { remember: () => Promise.reject(new Error('replay store down')) },
      replayFailure: 'accept',
    })
    const result = expectAccepted(await verifier.verify({ body: await secKeyBody() }), 'sec_key')
    expect(result.warnings).toEqual(['upgrade_unchecked', 'replay_unchecked'])

    // upgradeFailure alone does not open the replay check.
    const replayClosed = dualVerifier({
      policy: { stickyUpgrade: true },
      upgradeStore: broken[1]![1](),
      upgradeFailure: 'accept',
      replay: { remember: () => Promise.reject(new Error('replay store down')) },
    })
    expectRejected(await replayClosed.verify({ body: await secKeyBody() }), 'replay_check_failed', 'sec_key')
  })

  it('observe mode: would_reject:replay_check_failed by default, upgrade_unchecked when accepted', async () => {
    const closed = recordingSink()
    const observing = dualVerifier({
      policy: { stickyUpgrade: true, mode: 'observe' },
      upgradeStore: broken[0]![1](),
      audit: closed.sink,
    })
    const observed = expectAccepted(await observing.verify({ body: await secKeyBody() }), 'sec_key')
    expect(observed.warnings).toEqual(['would_reject:replay_check_failed'])
    expect(closed.events[0]).toMatchObject({ outcome: 'would_reject', reason: 'replay_check_failed' })

    const open = recordingSink()
    const accepting = dualVerifier({
      policy: { stickyUpgrade: true, mode: 'observe' },
      upgradeStore: broken[0]![1](),
      upgradeFailure: 'accept',
      audit: open.sink,
    })
    expect(expectAccepted(await accepting.verify({ body: await secKeyBody() }), 'sec_key').warnings).toEqual([
      'upgrade_unchecked',
    ])
    expect(open.events[0]).toMatchObject({ outcome: 'accepted', reason: null })
  })

  it('an upgrade this instance saw itself still refuses sec_key while the store is down', async () => {
    let reads = 0
    const store: UpgradeStore = {
      markUpgraded: () => Promise.resolve(),
      isUpgraded: () => {
        reads++
        return Promise.reject(down())
      },
    }
    const verifier = dualVerifier({
      policy: { stickyUpgrade: true },
      upgradeStore: store,
      upgradeFailure: 'accept',
    })
    expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
    expectRejected(await verifier.verify({ body: await secKeyBody() }), 'scheme_not_allowed', 'sec_key')
    expect(reads).toBe(0)
  })

  it('a markUpgraded that throws synchronously never breaks the signature request', async () => {
    const store: UpgradeStore = {
      isUpgraded: () => Promise.resolve(false),
      markUpgraded: () => {
        throw down()
      },
    }
    const verifier = dualVerifier({ policy: { stickyUpgrade: true }, upgradeStore: store })
    expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
    // The failed write is forgotten: nothing says the partner upgraded, so sec_key still passes.
    expectAccepted(await verifier.verify({ body: await secKeyBody() }), 'sec_key')
  })

  it('is not consulted for partners without stickyUpgrade', async () => {
    const verifier = dualVerifier({ upgradeStore: broken[0]![1]() })
    expect(expectAccepted(await verifier.verify({ body: await secKeyBody() }), 'sec_key').warnings).toEqual(
      [],
    )
  })

  it('validates the option and the store at construction', () => {
    const error = expectConfigurationError(
      () => dualVerifier({ upgradeFailure: 'ignore' as never }),
      'invalid_options',
    )
    expect(error.message).toBe("upgradeFailure must be 'reject' or 'accept' (got \"ignore\")")
    const store = expectConfigurationError(
      () => dualVerifier({ upgradeStore: { isUpgraded: () => Promise.resolve(false) } as never }),
      'invalid_options',
    )
    expect(store.message).toContain('markUpgraded')
  })
})
