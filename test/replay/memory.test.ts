import { describe, expect, it } from 'vitest'

import { ConfigurationError, MemoryReplayStore, MemoryUpgradeStore } from '../../src/index.js'

function clock(start = 1_000_000) {
  let now = start
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    },
  }
}

describe('MemoryReplayStore', () => {
  it('answers new, then duplicate for the same fingerprint, conflict for another', async () => {
    const store = new MemoryReplayStore()
    await expect(store.remember('k', 'body-a', 60_000)).resolves.toBe('new')
    await expect(store.remember('k', 'body-a', 60_000)).resolves.toBe('duplicate')
    await expect(store.remember('k', 'body-b', 60_000)).resolves.toBe('conflict')
    // A conflict does not overwrite what was remembered.
    await expect(store.remember('k', 'body-a', 60_000)).resolves.toBe('duplicate')
    await expect(store.remember('other', 'body-b', 60_000)).resolves.toBe('new')
    expect(store.size).toBe(2)
  })

  it('expires entries after their TTL, on the injected clock', async () => {
    const time = clock()
    const store = new MemoryReplayStore({ now: time.now })
    await expect(store.remember('k', 'f', 1000)).resolves.toBe('new')
    time.advance(999)
    await expect(store.remember('k', 'g', 1000)).resolves.toBe('conflict')
    time.advance(1)
    // Expired: the credential is new again, and remembered afresh with the new fingerprint.
    await expect(store.remember('k', 'g', 1000)).resolves.toBe('new')
    await expect(store.remember('k', 'g', 1000)).resolves.toBe('duplicate')
  })

  it('does not extend an entry when a duplicate arrives', async () => {
    const time = clock()
    const store = new MemoryReplayStore({ now: time.now })
    await store.remember('k', 'f', 1000)
    time.advance(900)
    await expect(store.remember('k', 'f', 1000)).resolves.toBe('duplicate')
    time.advance(100)
    await expect(store.remember('k', 'x', 1000)).resolves.toBe('new')
  })

  it('is bounded: the oldest entry is evicted first', async () => {
    const store = new MemoryReplayStore({ maxEntries: 3 })
    for (const key of ['a', 'b', 'c', 'd'])
      await expect(store.remember(key, 'f', 60_000)).resolves.toBe('new')
    expect(store.size).toBe(3)
    // b, c and d are still remembered; a was the oldest and is gone.
    await expect(store.remember('b', 'f', 60_000)).resolves.toBe('duplicate')
    await expect(store.remember('c', 'x', 60_000)).resolves.toBe('conflict')
    await expect(store.remember('d', 'f', 60_000)).resolves.toBe('duplicate')
    await expect(store.remember('a', 'f', 60_000)).resolves.toBe('new')
    // Remembering a again evicted b, now the oldest.
    expect(store.size).toBe(3)
    await expect(store.remember('c', 'f', 60_000)).resolves.toBe('duplicate')
    await expect(store.remember('b', 'x', 60_000)).resolves.toBe('new')
  })

  it('stays within the default bound of 100 000 entries', async () => {
    const store = new MemoryReplayStore()
    for (let i = 0; i <= 100_000; i++) await store.remember(`k${i}`, 'f', 60_000)
    expect(store.size).toBe(100_000)
    await expect(store.remember('k0', 'x', 60_000)).resolves.toBe('new')
    await expect(store.remember('k100000', 'x', 60_000)).resolves.toBe('conflict')
  })

  it('sweeps expired entries so they stop counting against the bound', async () => {
    const time = clock()
    const store = new MemoryReplayStore({ maxEntries: 10, now: time.now })
    for (let i = 0; i < 5; i++) await store.remember(`old${i}`, 'f', 1000)
    time.advance(1000)
    await store.remember('fresh', 'f', 1000)
    expect(store.size).toBe(1)
  })

  it('refuses a bound that is not a positive integer', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      let caught: unknown
      try {
        new MemoryReplayStore({ maxEntries })
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(ConfigurationError)
      expect((caught as ConfigurationError).code).toBe('invalid_options')
    }
  })
})

describe('MemoryUpgradeStore', () => {
  it('remembers upgraded partners, per partner', async () => {
    const store = new MemoryUpgradeStore()
    await expect(store.isUpgraded('085')).resolves.toBe(false)
    await store.markUpgraded('085')
    await expect(store.isUpgraded('085')).resolves.toBe(true)
    await expect(store.isUpgraded('200')).resolves.toBe(false)
    await store.markUpgraded('085')
    await expect(store.isUpgraded('085')).resolves.toBe(true)
  })
})
