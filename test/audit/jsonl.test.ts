import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'

import { afterAll, describe, expect, it } from 'vitest'

import { jsonlAuditSink, type AuditEvent, type JsonlAuditSink } from '../../src/index.js'
import {
  NOW,
  dualVerifier,
  expectAccepted,
  expectConfigurationError,
  recordingSink,
  secKeyBody,
  signatureBody,
} from '../verifier/helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'smileid-audit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function event(i: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    time: new Date(NOW + i * 1000).toISOString(),
    direction: 'incoming',
    partnerId: '085',
    scheme: i % 3 === 0 ? 'sec_key' : 'signature',
    outcome: 'accepted',
    reason: null,
    keyId: `hmac:${i.toString(16).padStart(16, '0')}`,
    transport: 'body',
    warnings: [],
    route: '/callback',
    sourceIp: null,
    source_sdk: 'node',
    source_sdk_version: `3.${i}.0`,
    authenticated: true,
    instance: null,
    ...overrides,
  }
}

function readLines(path: string): unknown[] {
  const text = readFileSync(path, 'utf8')
  expect(text.endsWith('\n')).toBe(true)
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as unknown)
}

/** A writable that keeps what it receives; optionally slow (async callbacks) with a tiny buffer. */
function collector(options: { slow?: boolean } = {}): Writable & { chunks: string[]; ended: () => boolean } {
  const chunks: string[] = []
  let ended = false
  const stream = new Writable({
    highWaterMark: options.slow ? 16 : 16_384,
    decodeStrings: false,
    write(chunk: string, _encoding, callback) {
      chunks.push(String(chunk))
      if (options.slow) setImmediate(callback)
      else callback()
    },
    final(callback) {
      ended = true
      callback()
    },
  })
  return Object.assign(stream, { chunks, ended: () => ended })
}

function failingStream(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback(new Error('disk full'))
    },
  })
}

describe('jsonlAuditSink', () => {
  it('writes N events from a verifier as N parseable lines once closed', async () => {
    const path = join(dir, 'verifier.jsonl')
    const sink = jsonlAuditSink(path)
    const recorded = recordingSink()
    const verifier = dualVerifier({ audit: [sink, recorded.sink] })
    const N = 60
    for (let i = 0; i < N; i++) {
      const body =
        i % 2 === 0
          ? await signatureBody({ timestamp: new Date(NOW + i) })
          : await secKeyBody({ timestamp: NOW + i })
      expectAccepted(
        await verifier.verify({ body }, { route: `/r/${i}` }),
        i % 2 === 0 ? 'signature' : 'sec_key',
      )
    }
    await sink.close()
    const lines = readLines(path)
    expect(lines).toHaveLength(N)
    expect(lines).toEqual(recorded.events)
    expect(sink.stats).toEqual({ written: N, dropped: 0, errors: 0 })
  })

  it('appends to an existing file', async () => {
    const path = join(dir, 'append.jsonl')
    writeFileSync(path, JSON.stringify(event(0)) + '\n')
    const sink = jsonlAuditSink(path)
    sink.write(event(1))
    sink.write(event(2))
    await sink.close()
    expect(readLines(path)).toEqual([event(0), event(1), event(2)])
  })

  it('writes many events through a slow stream with backpressure, in order', async () => {
    const stream = collector({ slow: true })
    const sink = jsonlAuditSink(stream)
    const events = Array.from({ length: 500 }, (_, i) => event(i))
    for (let i = 0; i < events.length; i++) {
      sink.write(events[i]!)
      // Spread over several ticks so that several batches meet a full buffer.
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await sink.close()
    const lines = stream.chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as unknown)
    expect(lines).toEqual(events)
    expect(sink.stats.written).toBe(500)
  })

  it('ends a stream it was given only when asked to', async () => {
    const kept = collector()
    const keptSink = jsonlAuditSink(kept)
    keptSink.write(event(1))
    await keptSink.close()
    expect(kept.ended()).toBe(false)
    expect(kept.chunks.join('')).toBe(JSON.stringify(event(1)) + '\n')

    const ended = collector()
    const endedSink = jsonlAuditSink(ended, { endOnClose: true })
    endedSink.write(event(1))
    await endedSink.close()
    expect(ended.ended()).toBe(true)
  })

  it('a failing stream calls onError, is counted in stats, and leaves verification alone', async () => {
    const errors: Error[] = []
    const sink = jsonlAuditSink(failingStream(), { onError: (error) => errors.push(error) })
    const verifier = dualVerifier({ audit: sink })
    for (let i = 0; i < 3; i++) {
      expectAccepted(
        await verifier.verify({ body: await signatureBody({ timestamp: new Date(NOW + i) }) }),
        'signature',
      )
      await new Promise((resolve) => setImmediate(resolve))
    }
    await sink.close()
    expect(errors.length).toBeGreaterThanOrEqual(1)
    expect(errors[0]!.message).toBe('disk full')
    expect(sink.stats.errors).toBeGreaterThanOrEqual(1)
    expect(sink.stats.written).toBe(0)
    expect(sink.stats.dropped).toBe(3)
    // The sink never threw into the verifier, and the verifier still counts each failure it reported.
    expect(verifier.stats.auditErrors).toBe(errors.length)
  })

  it('a path that cannot be opened calls onError and close() still resolves', async () => {
    const errors: Error[] = []
    const sink = jsonlAuditSink(join(dir, 'missing-dir', 'audit.jsonl'), {
      onError: (error) => errors.push(error),
    })
    const verifier = dualVerifier({ audit: sink })
    expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
    await sink.close()
    expect(errors).toHaveLength(1)
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOENT')
    expect(sink.stats.errors).toBe(1)
    expect(sink.stats.written).toBe(0)
    expect(sink.stats.dropped).toBe(1)
  })

  it('drops events over the buffer bound, and reports each drop', async () => {
    const errors: Error[] = []
    const line = JSON.stringify(event(0)).length + 1
    const sink = jsonlAuditSink(collector(), {
      maxBufferBytes: line * 2,
      onError: (error) => errors.push(error),
    })
    // All in one tick: nothing has been handed to the stream yet.
    for (let i = 0; i < 5; i++) sink.write(event(0))
    await sink.close()
    expect(sink.stats).toEqual({ written: 2, dropped: 3, errors: 0 })
    expect(errors).toHaveLength(3)
  })

  it('drops an event that cannot be serialised, and keeps the others', async () => {
    const errors: Error[] = []
    const stream = collector()
    const sink = jsonlAuditSink(stream, { onError: (error) => errors.push(error) })
    sink.write(event(1))
    sink.write({ ...event(2), route: 10n as unknown as string })
    sink.write(event(3))
    await sink.close()
    expect(
      stream.chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([event(1), event(3)])
    expect(sink.stats.dropped).toBe(1)
    expect(errors).toHaveLength(1)
  })

  it('counts writes after close as dropped, and a second close resolves', async () => {
    const sink: JsonlAuditSink = jsonlAuditSink(collector())
    await sink.close()
    expect(() => sink.write(event(1))).not.toThrow()
    expect(sink.stats.dropped).toBe(1)
    await expect(sink.close()).resolves.toBeUndefined()
  })

  it('a throwing onError handler does not break the sink', async () => {
    const sink = jsonlAuditSink(failingStream(), {
      onError: () => {
        throw new Error('handler failed')
      },
    })
    sink.write(event(1))
    await expect(sink.close()).resolves.toBeUndefined()
    expect(sink.stats.errors).toBe(1)
  })

  it('refuses unusable arguments with ConfigurationError', () => {
    expectConfigurationError(() => jsonlAuditSink(''), 'invalid_options')
    expectConfigurationError(() => jsonlAuditSink({} as never), 'invalid_options')
    expectConfigurationError(() => jsonlAuditSink(collector(), { maxBufferBytes: 0 }), 'invalid_options')
  })
})
