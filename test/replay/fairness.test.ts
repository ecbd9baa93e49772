import { afterEach, describe, expect, it, vi } from 'vitest'

import { DualModeVerifier, MemoryReplayStore } from '../../src/index.js'
import {
  API_KEY,
  NOW,
  OTHER_API_KEY,
  expectAccepted,
  expectRejected,
  signatureAuth,
  signatureBody,
} from '../verifier/helpers.js'

const TTL = 600_000
const FLOODER = '085'
const VICTIM = '212'

function key(partner: string, n: number, scheme = 'signature'): string {
  return `${scheme}:${partner}:${n.toString(16).padStart(64, '0')}`
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('MemoryReplayStore fairness between partners', () => {
  it("a partner flooding with its own credentials evicts its own entries, never another partner's", async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const store = new MemoryReplayStore({ maxEntries: 10, now: () => NOW })
    await expect(store.remember(key(VICTIM, 1), 'victim-body', TTL)).resolves.toBe('new')
    for (let i = 0; i < 1000; i++)
      await expect(store.remember(key(FLOODER, i), 'f', TTL)).resolves.toBe('new')
    expect(store.size).toBe(10)
    // The victim's entry survived a thousand inserts; its credential with another body is a conflict.
    await expect(store.remember(key(VICTIM, 1), 'forged-body', TTL)).resolves.toBe('conflict')
    // The flooder kept its newest entries and lost its oldest.
    await expect(store.remember(key(FLOODER, 999), 'g', TTL)).resolves.toBe('conflict')
    await expect(store.remember(key(FLOODER, 0), 'g', TTL)).resolves.toBe('new')
    expect(store.stats).toEqual({ entries: 10, partitions: 2, evicted: 992 })
  })

  it('counts the scheme as part of the key but not of the partition: both schemes of one partner share it', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const store = new MemoryReplayStore({ maxEntries: 4, now: () => NOW })
    await store.remember(key(VICTIM, 1), 'v', TTL)
    for (let i = 0; i < 3; i++) await store.remember(key(FLOODER, i, 'sec_key'), 'f', TTL)
    for (let i = 0; i < 3; i++) await store.remember(key(FLOODER, i, 'signature'), 'f', TTL)
    await expect(store.remember(key(VICTIM, 1), 'x', TTL)).resolves.toBe('conflict')
    expect(store.stats.partitions).toBe(2)
  })

  it('past the bound, the largest partition pays: a growing partner takes entries only from larger ones', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const store = new MemoryReplayStore({ maxEntries: 6, now: () => NOW })
    for (let i = 0; i < 6; i++) await store.remember(key('A', i), 'f', TTL)
    // B grows from nothing: each insert evicts A's oldest while A holds more than B.
    for (let i = 0; i < 3; i++) await store.remember(key('B', i), 'f', TTL)
    expect(store.stats).toMatchObject({ entries: 6, evicted: 3 })
    // A and B hold 3 each: B's next insert now evicts B's own oldest, not A's.
    await store.remember(key('B', 3), 'f', TTL)
    for (let i = 3; i < 6; i++) await expect(store.remember(key('A', i), 'x', TTL)).resolves.toBe('conflict')
    await expect(store.remember(key('B', 0), 'x', TTL)).resolves.toBe('new')
  })

  it('a newcomer to a full store still gets its entry remembered', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const store = new MemoryReplayStore({ maxEntries: 3, now: () => NOW })
    for (const partner of ['A', 'B', 'C']) await store.remember(key(partner, 0), 'f', TTL)
    await store.remember(key('D', 0), 'f', TTL)
    await expect(store.remember(key('D', 0), 'x', TTL)).resolves.toBe('conflict')
    expect(store.stats).toMatchObject({ entries: 3, partitions: 3, evicted: 1 })
  })

  it('expired entries are swept, not counted as evictions, and nothing is warned', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    let now = NOW
    const store = new MemoryReplayStore({ maxEntries: 5, now: () => now })
    for (let i = 0; i < 5; i++) await store.remember(key(FLOODER, i), 'f', 1000)
    now += 1000
    for (let i = 5; i < 10; i++) await store.remember(key(FLOODER, i), 'f', 1000)
    expect(store.stats).toEqual({ entries: 5, partitions: 1, evicted: 0 })
    expect(warn).not.toHaveBeenCalled()
  })

  it('warns once per store, through process.emitWarning, naming the remedy and no key', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const store = new MemoryReplayStore({ maxEntries: 2, now: () => NOW })
    for (let i = 0; i < 50; i++) await store.remember(key(FLOODER, i), 'secret-fingerprint', TTL)
    expect(store.stats.evicted).toBe(48)
    expect(warn).toHaveBeenCalledTimes(1)
    const [message, options] = warn.mock.calls[0]! as [string, { code: string }]
    expect(message).toMatch(/maxEntries/)
    expect(message).not.toMatch(/secret-fingerprint|085/)
    expect(options.code).toBe('SMILEID_REPLAY_EVICTION')
    // Another store warns for itself.
    const second = new MemoryReplayStore({ maxEntries: 1, now: () => NOW })
    await second.remember('a', 'f', TTL)
    await second.remember('b', 'f', TTL)
    expect(warn).toHaveBeenCalledTimes(2)
  })

  it('warns through console.warn where there is no process', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const saved = globalThis.process
    const store = new MemoryReplayStore({ maxEntries: 1, now: () => NOW })
    await store.remember('a', 'f', TTL)
    Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true })
    try {
      await store.remember('b', 'f', TTL)
    } finally {
      Object.defineProperty(globalThis, 'process', { value: saved, configurable: true, writable: true })
    }
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]![0])).toMatch(/maxEntries/)
  })

  it('stays consistent under a random mix of partners, expiries and re-inserts', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    let now = NOW
    const store = new MemoryReplayStore({ maxEntries: 20, now: () => now })
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    for (let step = 0; step < 5000; step++) {
      now += random(3)
      await store.remember(key(`p${random(5)}`, random(40)), 'f', 50 + random(100))
      expect(store.size).toBeLessThanOrEqual(20)
    }
    expect(store.stats.entries).toBe(store.size)
    expect(store.stats.partitions).toBeLessThanOrEqual(5)
  })
})

describe('DualModeVerifier over a MemoryReplayStore: cross-partner eviction (issue 12, defect 2)', () => {
  it("partner 085 flooding with its own callbacks cannot make 212's captured credential new again", async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const store = new MemoryReplayStore({ maxEntries: 50 })
    const verifier = new DualModeVerifier({
      partners: {
        [FLOODER]: { signature: signatureAuth(FLOODER, API_KEY) },
        [VICTIM]: { signature: signatureAuth(VICTIM, OTHER_API_KEY) },
      },
      replay: store,
      now: () => NOW,
    })
    const captured = await signatureBody({
      partnerId: VICTIM,
      apiKey: OTHER_API_KEY,
      fields: { partner_id: VICTIM },
    })
    expectAccepted(await verifier.verify({ body: captured }), 'signature')
    // 085 signs 500 genuine callbacks of its own, each with a distinct timestamp inside the window.
    for (let i = 0; i < 500; i++) {
      const body = await signatureBody({
        partnerId: FLOODER,
        timestamp: new Date(NOW - i),
        fields: { partner_id: FLOODER },
      })
      const result = expectAccepted(await verifier.verify({ body }), 'signature')
      expect(result.duplicate).toBe(false)
    }
    expect(store.stats.evicted).toBeGreaterThan(0)
    // The attacker replays 212's captured credential with a body of its choosing.
    const forged = { ...captured, job_id: 'attacker-job', result: { ResultCode: '0810' } }
    const replay = expectRejected(await verifier.verify({ body: forged }), 'replayed', 'signature')
    expect(replay.partnerId).toBe(VICTIM)
    // Smile's redelivery of the genuine callback is still a duplicate.
    const again = expectAccepted(await verifier.verify({ body: captured }), 'signature')
    expect(again.duplicate).toBe(true)
  })
})
