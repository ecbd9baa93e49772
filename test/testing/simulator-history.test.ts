/**
 * The simulator's request history is bounded: 500 requests of 100 KB each used to stay in memory
 * (129 MB retained); the history now keeps the latest 100 and at most 16 MiB of bodies by default.
 * Measured as heap growth after a full collection, with a bound, not a timing.
 */
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { afterEach, describe, expect, it } from 'vitest'

import { SignatureAuth } from '../../src/schemes/signature.js'
import { createTestKeys, SmileServerSimulator } from '../../src/testing/index.js'

const MiB = 1024 * 1024
const keys = createTestKeys()
const partner = new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey })

// A full collection on demand, without starting the test runner with --expose-gc.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function retainedHeap(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

let smile: SmileServerSimulator | undefined
afterEach(async () => {
  await smile?.close()
  smile = undefined
})

/** Posts `count` signed requests of about `size` bytes, eight at a time, and checks every answer. */
async function flood(url: string, count: number, size: number): Promise<void> {
  const signed = { ...(await partner.sign()), partner_id: keys.partnerId }
  let sent = 0
  const worker = async () => {
    while (sent < count) {
      const n = sent++
      // A unique body each time, so nothing is shared between retained requests.
      const body = JSON.stringify({ ...signed, n, pad: String(n).padEnd(size, 'x') })
      const reply = await fetch(url, { method: 'POST', body })
      expect(reply.status).toBe(200)
      await reply.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
}

describe('SmileServerSimulator request history', () => {
  it('stays bounded by default: 500 × 100 KB requests retain at most ~16 MiB', async () => {
    smile = new SmileServerSimulator(keys)
    const { url } = await smile.listen()
    const before = retainedHeap()
    await flood(url, 500, 100_000)
    const growth = retainedHeap() - before
    expect(smile.requests).toHaveLength(100)
    expect(smile.droppedRequests).toBe(400)
    // The newest are kept, oldest first.
    const kept = smile.requests.map((r) => (r.body as { n: number }).n)
    expect(new Set(kept).size).toBe(100)
    expect(Math.min(...kept)).toBeGreaterThanOrEqual(392)
    // 100 bodies of 100 KB are ~10 MB; the old unbounded history retained ~129 MB here.
    expect(growth).toBeLessThan(32 * MiB)
  })

  it('drops the oldest beyond maxRequests, in order', async () => {
    smile = new SmileServerSimulator(keys, { maxRequests: 3 })
    const { url } = await smile.listen()
    for (let n = 0; n < 5; n++) {
      const body = { ...(await partner.sign()), partner_id: keys.partnerId, n }
      await (await fetch(url, { method: 'POST', body: JSON.stringify(body) })).arrayBuffer()
    }
    expect(smile.requests.map((r) => (r.body as { n: number }).n)).toEqual([2, 3, 4])
    expect(smile.droppedRequests).toBe(2)
  })

  it('drops the oldest beyond maxRequestBytes, but always keeps the newest', async () => {
    smile = new SmileServerSimulator(keys, { maxRequestBytes: 2500 })
    const { url } = await smile.listen()
    for (let n = 0; n < 4; n++) {
      const body = { ...(await partner.sign()), partner_id: keys.partnerId, n, pad: 'x'.repeat(1000) }
      await (await fetch(url, { method: 'POST', body: JSON.stringify(body) })).arrayBuffer()
    }
    // Each body is ~1.1 KB: two fit in 2500 bytes.
    expect(smile.requests.map((r) => (r.body as { n: number }).n)).toEqual([2, 3])
    const big = { ...(await partner.sign()), partner_id: keys.partnerId, n: 9, pad: 'x'.repeat(4000) }
    await (await fetch(url, { method: 'POST', body: JSON.stringify(big) })).arrayBuffer()
    expect(smile.requests.map((r) => (r.body as { n: number }).n)).toEqual([9])
    expect(smile.droppedRequests).toBe(4)
  })

  it('keeps nothing with maxRequests: 0, and still answers', async () => {
    smile = new SmileServerSimulator(keys, { maxRequests: 0 })
    const { url } = await smile.listen()
    const body = { ...(await partner.sign()), partner_id: keys.partnerId }
    expect((await fetch(url, { method: 'POST', body: JSON.stringify(body) })).status).toBe(200)
    expect(smile.requests).toEqual([])
    expect(smile.droppedRequests).toBe(1)
  })

  it.each([-1, 1.5, Number.NaN, '10', null])('refuses maxRequests %j with invalid_options', (value) => {
    for (const name of ['maxRequests', 'maxRequestBytes']) {
      expect(() => new SmileServerSimulator(keys, { [name]: value as never })).toThrow(
        expect.objectContaining({ code: 'invalid_options', message: expect.stringContaining(name) }),
      )
    }
  })

  it('accepts Infinity to keep every request', () => {
    expect(() => new SmileServerSimulator(keys, { maxRequests: Infinity })).not.toThrow()
  })
})
