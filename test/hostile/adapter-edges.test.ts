/**
 * Adapter edge cases over real HTTP on 127.0.0.1, for every adapter: the body limit (413 with a
 * Content-Length, without one, and at once for a declared size over the limit), wrong content types,
 * uploads cut off mid-body, uploads that trickle in (bounded by the server's request timeout: the adapters
 * have no timeout of their own), and repeated SmileID headers.
 */
import { setTimeout as sleep } from 'node:timers/promises'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { FAILURE_REASONS } from '../../src/index.js'
import {
  hostileVerifier,
  NOW,
  signedRequests,
  testPartner,
  type SignedRequests,
} from '../support/fixtures.js'
import { HOSTILE_ADAPTERS, startAdapter, type ServedAdapter, type ServedName } from '../support/adapters.js'
import { rawConnect, readUntilClosed, requestHead, send } from '../support/http.js'

const LIMIT = 4096
let requests: SignedRequests
let sequence = 0

beforeAll(async () => {
  requests = await signedRequests()
})

/** A fresh genuine callback (each one new to the replay store). */
async function genuineBody(): Promise<string> {
  const timestamp = new Date(NOW - 10_000 + ++sequence)
  return JSON.stringify(await testPartner().simulator.callbackBody({ scheme: 'signature', timestamp }))
}

/** Waits until `condition` holds; gives up after `ms` (the caller's assertion then fails). */
async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition() && Date.now() < deadline) await sleep(10)
}

describe.each(HOSTILE_ADAPTERS)('%s adapter edge cases', (name: ServedName) => {
  let adapter: ServedAdapter

  beforeAll(async () => {
    adapter = await startAdapter(name, hostileVerifier(), { limit: LIMIT })
  })
  afterAll(async () => {
    await adapter.close()
  })

  it('answers 413 above the limit, with and without Content-Length, before verifying', async () => {
    const big = JSON.stringify({ ...requests.signatureBody, padding: 'x'.repeat(LIMIT) })
    const calls = adapter.verifyCalls
    for (const chunked of [false, true]) {
      const reply = await send(adapter.url, big, { chunked })
      expect([chunked, reply.status]).toEqual([chunked, 413])
      if (adapter.ownBodyErrors) expect(reply.json).toEqual({ error: 'body_too_large' })
    }
    expect(adapter.verifyCalls).toBe(calls)
    // The connection that carried the refused upload is not needed for the next request to work.
    expect((await send(adapter.url, await genuineBody())).status).toBe(200)
  })

  it('takes a body of exactly the limit and refuses one byte more', async () => {
    const body = await genuineBody()
    const padded = `${body.slice(0, -1)},"pad":"${'x'.repeat(LIMIT - body.length - 9)}"}`
    expect(Buffer.byteLength(padded)).toBe(LIMIT)
    expect((await send(adapter.url, padded)).status).toBe(200)
    const over = `${padded.slice(0, -2)}xx"}`
    expect((await send(adapter.url, over, { chunked: true })).status).toBe(413)
  })

  it('answers 413 at once to a declared Content-Length over the limit, without waiting for the body', async () => {
    const socket = await rawConnect(adapter.url)
    const outcome = readUntilClosed(socket)
    socket.write(
      requestHead(adapter.url, [
        'Content-Type: application/json',
        `Content-Length: ${LIMIT * 1000}`,
        'Connection: close',
      ]),
    )
    const first = new Promise<string>((resolve) =>
      socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))),
    )
    // Nothing more is sent: the answer must come from the declared size alone. Except behind express.json():
    // body-parser refuses at once too, but Express's final handler drains the upload before it answers.
    if (name === 'express+json') socket.write(Buffer.alloc(LIMIT * 1000, 0x20))
    expect((await first).slice(0, 12)).toBe('HTTP/1.1 413')
    socket.destroy()
    await outcome
  })

  it('handles wrong and missing content types without a 5xx, and never lets a forged body through', async () => {
    const forged = JSON.stringify({ ...requests.signatureBody, signature: `${'B'.repeat(43)}=` })
    const types = [
      'text/plain',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-16',
      'application/xml',
      null,
    ]
    for (const contentType of types) {
      const refused = await send(adapter.url, forged, { contentType })
      // 415 is the framework refusing the media type before the adapter runs.
      expect([400, 401, 413, 415], `${contentType} → ${refused.status}`).toContain(refused.status)
      if (refused.status === 401) expect(refused.json?.error).toBe('invalid_signature')
      const genuine = await send(adapter.url, await genuineBody(), { contentType })
      expect([200, 400, 415], `${contentType} → ${genuine.status}`).toContain(genuine.status)
    }
  })

  it('gives up on an upload cut off mid-body without verifying it, and keeps serving', async () => {
    const body = await genuineBody()
    for (const chunked of [false, true]) {
      const calls = adapter.verifyCalls
      const errors = adapter.errors.length
      const answered = adapter.statuses.length
      const socket = await rawConnect(adapter.url)
      const closed = readUntilClosed(socket)
      const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${Buffer.byteLength(body)}`
      socket.write(requestHead(adapter.url, ['Content-Type: application/json', framing]))
      const half = body.slice(0, body.length >> 1)
      socket.write(chunked ? `${Buffer.byteLength(half).toString(16)}\r\n${half}\r\n` : half)
      await sleep(50)
      socket.destroy()
      await closed
      // The request settles instead of waiting forever: where the adapter reads the body itself it answers
      // 400 body_incomplete; behind express.json() and in Fastify the framework's parser reports an error.
      if (adapter.ownBodyErrors) {
        await until(() => adapter.statuses.length > answered)
        expect(adapter.statuses.slice(answered)).toEqual([400])
      } else {
        await until(() => adapter.errors.length > errors)
        expect(adapter.errors.length).toBeGreaterThan(errors)
      }
      expect(adapter.verifyCalls).toBe(calls)
    }
    expect((await send(adapter.url, await genuineBody())).status).toBe(200)
  })

  it('answers a repeated SmileID header with 401 and a listed reason', async () => {
    const expected: Record<string, string> = {
      // Repeats reach the verifier joined with ", ": never a well-formed signature, timestamp or partner id.
      'SmileID-Request-Signature': 'malformed_credentials',
      'SmileID-Timestamp': 'invalid_signature',
      'SmileID-Partner-ID': 'unknown_partner',
    }
    const signed = await testPartner().signature.sign({ timestamp: new Date(NOW - 20_000 + ++sequence) })
    const headers = {
      'SmileID-Partner-ID': '085',
      'SmileID-Request-Signature': signed.signature,
      'SmileID-Timestamp': signed.timestamp,
    }
    for (const [header, reason] of Object.entries(expected)) {
      const value = headers[header as keyof typeof headers]
      const reply = await send(adapter.url, JSON.stringify(requests.headersBody), {
        headers: { ...headers, [header]: [value, value] },
      })
      expect([header, reply.status, reply.json?.error]).toEqual([header, 401, reason])
      expect(FAILURE_REASONS).toContain(reply.json?.error)
    }
    // The control: the same headers once each are accepted.
    expect((await send(adapter.url, JSON.stringify(requests.headersBody), { headers })).status).toBe(200)
  })
})

describe.each(HOSTILE_ADAPTERS)('%s adapter with a slow client', (name: ServedName) => {
  it(
    'is bounded by the server request timeout: the connection is closed, nothing is verified',
    { timeout: 20_000 },
    async () => {
      const adapter = await startAdapter(name, hostileVerifier(), { requestTimeoutMs: 400 })
      try {
        const body = await genuineBody()
        const socket = await rawConnect(adapter.url)
        const closed = readUntilClosed(socket)
        socket.write(
          requestHead(adapter.url, [
            'Content-Type: application/json',
            `Content-Length: ${Buffer.byteLength(body)}`,
          ]),
        )
        // One byte every 50 ms: the whole body would take far longer than the timeout.
        let sent = 0
        const drip = setInterval(() => {
          if (!socket.destroyed && sent < body.length) socket.write(body[sent++]!)
        }, 50)
        const outcome = await closed
        clearInterval(drip)
        expect(sent).toBeLessThan(body.length)
        // Node answers 408 when it can; either way the server ended the exchange, not the client.
        expect([408, null]).toContain(outcome.status)
        expect(adapter.verifyCalls).toBe(0)
        // Where the adapter reads the body itself, it answers 400 body_incomplete instead of waiting forever
        // (behind express.json() and in Fastify the framework's parser is the one that waited).
        if (adapter.ownBodyErrors) {
          await until(() => adapter.statuses.length > 0)
          expect(adapter.statuses).toEqual([400])
        }
      } finally {
        await adapter.close()
      }
    },
  )
})
