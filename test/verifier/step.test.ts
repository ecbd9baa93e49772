/**
 * The pipeline's one sync-or-async step, and the guarantee it exists for: a request that node:crypto and
 * in-memory state can decide is decided, and audited, before verify() returns, without waiting a tick.
 */
import { describe, expect, it } from 'vitest'

import { andThen } from '../../src/verifier/step.js'
import {
  dualVerifier,
  expectAccepted,
  expectRejected,
  recordingSink,
  secKeyBody,
  signatureBody,
} from './helpers.js'

describe('andThen', () => {
  it('applies the step at once to a plain value: the answer is a plain value, not a promise', () => {
    const seen: number[] = []
    const out = andThen(2, (n) => {
      seen.push(n)
      return n + 1
    })
    expect(out).toBe(3)
    expect(seen).toEqual([2])
  })

  it('waits for a promise, and hands on a promise', async () => {
    const seen: number[] = []
    const out = andThen(Promise.resolve(2), (n) => {
      seen.push(n)
      return n + 1
    })
    expect(out).toBeInstanceOf(Promise)
    expect(seen).toEqual([])
    expect(await out).toBe(3)
    expect(seen).toEqual([2])
  })

  it('a step may itself be asynchronous, and chains flatten', async () => {
    const out = andThen(
      andThen(1, (n) => Promise.resolve(n * 10)),
      (n) => n + 1,
    )
    expect(await out).toBe(11)
  })

  it('onRejected answers for a rejected input; without it the rejection passes on', async () => {
    const failed = Promise.reject(new Error('store down'))
    expect(
      await andThen(
        failed,
        () => 'next',
        () => 'fallback',
      ),
    ).toBe('fallback')
    await expect(andThen(Promise.reject(new Error('down')), () => 'next')).rejects.toThrow('down')
  })

  it('a throwing step on the synchronous path throws to the caller, as a plain call would', () => {
    expect(() =>
      andThen(1, () => {
        throw new Error('step')
      }),
    ).toThrow('step')
  })
})

describe('the synchronous path of DualModeVerifier.verify', () => {
  it('a signature request with node:crypto and no stores is audited before verify() returns', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ audit: sink })
    const body = await signatureBody()
    const pending = verifier.verify({ body })
    // No await yet: every stage ran synchronously, the audit step included.
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ outcome: 'accepted', scheme: 'signature' })
    expectAccepted(await pending, 'signature')
  })

  it('a sec_key request and a rejected request take the synchronous path too', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ audit: sink })
    const body = await secKeyBody()
    const accepted = verifier.verify({ body })
    const rejected = verifier.verify({ body: { ...body, sec_key: 'AAAA|' + '0'.repeat(64) } })
    expect(events.map((e) => e.outcome)).toEqual(['accepted', 'rejected'])
    expectAccepted(await accepted, 'sec_key')
    expectRejected(await rejected, 'invalid_sec_key', 'sec_key')
  })

  it('a replay store makes the request wait for it: audited only once the store has answered', async () => {
    const { events, sink } = recordingSink()
    let answer: (outcome: 'new') => void = () => undefined
    const replay = { remember: () => new Promise<'new'>((resolve) => (answer = resolve)) }
    const verifier = dualVerifier({ audit: sink, replay })
    const pending = verifier.verify({ body: await signatureBody() })
    await Promise.resolve()
    expect(events).toHaveLength(0)
    answer('new')
    expectAccepted(await pending, 'signature')
    expect(events).toHaveLength(1)
  })
})
