/**
 * Nothing lost: `jsonlAuditSink` under load and failure. 20 000 concurrent verifications leave exactly
 * 20 000 parseable lines after `close()`; write errors (an unwritable path, a stream that fails mid-way) go
 * to `onError` and `stats` and never touch a verification; a slow destination is written only after
 * 'drain', so the stream's buffer and the sink's queue stay bounded, and `close()` still flushes everything.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { setImmediate as nextTurn } from 'node:timers/promises'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import {
  DualModeVerifier,
  jsonlAuditSink,
  type AuditEvent,
  type JsonlAuditSink,
  type VerificationResult,
  type VerifyRequest,
} from '../../src/index.js'
import { NOW, PARTNER, signedRequests, testPartner, type SignedRequests } from '../support/fixtures.js'

let dir: string
let requests: SignedRequests

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smileid-jsonl-'))
  requests = await signedRequests()
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function verifierWith(audit: JsonlAuditSink | undefined): DualModeVerifier {
  const { signature, secKey } = testPartner()
  return new DualModeVerifier({
    partnerId: PARTNER,
    signature,
    secKey,
    ...(audit === undefined ? {} : { audit }),
    onAuditError: () => undefined,
    now: () => NOW,
  })
}

/** Request `i` of a mixed stream: genuine in both schemes (no replay store: each is accepted again), forged, empty. */
function mixedRequest(i: number): VerifyRequest {
  switch (i % 4) {
    case 0:
      return { body: requests.signatureBody }
    case 1:
      return { body: requests.secKeyBody }
    case 2:
      return { body: { ...requests.signatureBody, signature: `${'C'.repeat(43)}=` } }
    default:
      return { body: { job_id: `job-${i}` } }
  }
}

const summary = (results: VerificationResult[]) => results.map((r) => (r.ok ? `ok:${r.scheme}` : r.reason))

/** A synthetic audit event of about 300 bytes, numbered by its route. */
function event(i: number): AuditEvent {
  return {
    time: new Date(NOW).toISOString(),
    direction: 'incoming',
    partnerId: PARTNER,
    scheme: 'signature',
    outcome: 'accepted',
    reason: null,
    keyId: 'hmac:0123456789abcdef',
    transport: 'body',
    warnings: [],
    route: `/smile/callback/${i}`,
    sourceIp: '127.0.0.1',
    source_sdk: 'rest_api',
    source_sdk_version: '1.0.0',
    authenticated: true,
    instance: null,
  }
}

/** A destination that acknowledges each write after `delayMs`, failing from line `failAfter` on if given. */
class SlowWritable extends Writable {
  readonly lines: string[] = []
  /** Largest `writableLength` seen right after a write call. */
  maxBuffered = 0
  /** Writes issued while the stream had asked for 'drain'. */
  writesWhileFull = 0
  writeCalls = 0

  constructor(
    private readonly delayMs: number,
    highWaterMark: number,
    private readonly failAfter = Infinity,
  ) {
    super({ highWaterMark, decodeStrings: false })
  }

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    this.writeCalls++
    if (this.writableNeedDrain) this.writesWhileFull++
    const ok = (super.write as (...args: unknown[]) => boolean)(chunk, ...rest)
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength)
    return ok
  }

  override _write(chunk: string, _encoding: string, callback: (error?: Error | null) => void): void {
    setTimeout(() => {
      const lines = chunk.split('\n').slice(0, -1)
      if (this.lines.length + lines.length > this.failAfter) {
        callback(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }))
        return
      }
      this.lines.push(...lines)
      callback()
    }, this.delayMs)
  }
}

describe('jsonlAuditSink: nothing lost', () => {
  it(
    'writes exactly one parseable line per verification for 20 000 concurrent verifications',
    { timeout: 60_000 },
    async () => {
      const path = join(dir, 'audit.jsonl')
      const errors: Error[] = []
      const sink = jsonlAuditSink(path, { onError: (error) => errors.push(error) })
      const verifier = verifierWith(sink)
      const total = 20_000
      const results = await Promise.all(
        Array.from({ length: total }, (_, i) =>
          verifier.verify(mixedRequest(i), { route: `/smile/callback/${i}` }),
        ),
      )
      await sink.close()

      const text = await readFile(path, 'utf8')
      expect(text.endsWith('\n')).toBe(true)
      const lines = text.slice(0, -1).split('\n')
      expect(lines.length).toBe(total)
      const events = lines.map((line) => JSON.parse(line) as AuditEvent)
      // Every verification is there once, with its own outcome.
      expect(new Set(events.map((e) => e.route)).size).toBe(total)
      const byRoute = new Map(events.map((e) => [e.route, `${e.outcome}:${e.reason}`]))
      const logged = results.map((_, i) => byRoute.get(`/smile/callback/${i}`))
      expect(logged).toEqual(results.map((r) => (r.ok ? 'accepted:null' : `rejected:${r.reason}`)))
      expect(summary(results.slice(0, 4))).toEqual([
        'ok:signature',
        'ok:sec_key',
        'invalid_signature',
        'missing_credentials',
      ])
      expect(sink.stats).toEqual({ written: total, dropped: 0, errors: 0 })
      expect(errors).toEqual([])
    },
  )

  it.each([
    ['a directory that does not exist', (base: string) => join(base, 'missing', 'dir', 'audit.jsonl')],
    ['a path that is a directory', (base: string) => base],
  ])('reports %s through onError and stats, and verifications do not change', async (_name, pathOf) => {
    const errors: Error[] = []
    const sink = jsonlAuditSink(pathOf(dir), { onError: (error) => errors.push(error) })
    const total = 500
    const withSink = verifierWith(sink)
    const results = await Promise.all(
      Array.from({ length: total }, (_, i) => withSink.verify(mixedRequest(i))),
    )
    // More events after the error is known: counted as dropped too.
    await nextTurn()
    await new Promise((resolve) => setTimeout(resolve, 20))
    const later = await Promise.all(Array.from({ length: 20 }, (_, i) => withSink.verify(mixedRequest(i))))
    await sink.close()

    const without = verifierWith(undefined)
    const expected = await Promise.all(
      Array.from({ length: total }, (_, i) => without.verify(mixedRequest(i))),
    )
    expect(summary(results)).toEqual(summary(expected))
    expect(summary(later)).toEqual(summary(expected.slice(0, 20)))
    // The sink's own failures reach the verifier's counter: one count per failure it reported.
    expect(withSink.stats.auditErrors).toBe(errors.length)

    expect(errors.length).toBeGreaterThanOrEqual(1)
    expect(sink.stats.errors).toBeGreaterThanOrEqual(1)
    expect(sink.stats.written).toBe(0)
    // Every event is accounted for: none written, all dropped.
    expect(sink.stats.dropped).toBe(total + 20)
  })

  it('reports a destination that fails mid-way (disk full) and accounts for every event', async () => {
    const stream = new SlowWritable(1, 16 * 1024, 1000)
    const errors: Error[] = []
    const sink = jsonlAuditSink(stream, { onError: (error) => errors.push(error) })
    const withSink = verifierWith(sink)
    const without = verifierWith(undefined)
    const total = 3000
    const results: VerificationResult[] = []
    // Spread over many turns so that the sink writes many batches, some before and some after the failure.
    for (let i = 0; i < total; i += 100) {
      results.push(
        ...(await Promise.all(Array.from({ length: 100 }, (_, j) => withSink.verify(mixedRequest(i + j))))),
      )
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    await sink.close()

    const expected = await Promise.all(
      Array.from({ length: total }, (_, i) => without.verify(mixedRequest(i))),
    )
    expect(summary(results)).toEqual(summary(expected))
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toContain('ENOSPC')
    // The first failure, and each retry that failed again.
    expect(sink.stats.errors).toBe(errors.length)
    expect(sink.stats.errors).toBeGreaterThanOrEqual(1)
    expect(sink.stats.written).toBe(stream.lines.length)
    expect(sink.stats.written).toBeLessThanOrEqual(1000)
    expect(sink.stats.written + sink.stats.dropped).toBe(total)
    for (const line of stream.lines) expect(() => JSON.parse(line)).not.toThrow()
  })

  it(
    'waits for drain on a slow destination and still flushes everything on close()',
    { timeout: 30_000 },
    async () => {
      const highWaterMark = 1024
      const stream = new SlowWritable(2, highWaterMark)
      const sink = jsonlAuditSink(stream)
      const total = 20_000
      // 200 events per turn: far faster than a destination that takes 2 ms per write.
      for (let i = 0; i < total; i++) {
        sink.write(event(i))
        if (i % 200 === 199) await nextTurn()
      }
      const writesBeforeClose = stream.writeCalls
      await sink.close()

      expect(stream.writesWhileFull).toBe(0)
      // Batching: far fewer writes than events, because events wait in the sink's queue while the stream is full.
      expect(writesBeforeClose).toBeLessThan(total / 10)
      expect(stream.lines.length).toBe(total)
      expect(new Set(stream.lines.map((line) => (JSON.parse(line) as AuditEvent).route)).size).toBe(total)
      expect(sink.stats).toEqual({ written: total, dropped: 0, errors: 0 })
      // The stream never holds more than one batch beyond its high-water mark (the batch ≤ maxBufferBytes).
      expect(stream.maxBuffered).toBeLessThanOrEqual(highWaterMark + 16 * 1024 * 1024)
    },
  )

  it('keeps memory bounded when the destination stalls: the queue stops at maxBufferBytes, drops are counted', async () => {
    const maxBufferBytes = 64 * 1024
    const highWaterMark = 1024
    // A destination that takes a long time over each write: a stalled disk.
    const stream = new SlowWritable(200, highWaterMark)
    const errors: Error[] = []
    const sink = jsonlAuditSink(stream, { maxBufferBytes, onError: (error) => errors.push(error) })
    const total = 50_000
    const lineBytes = JSON.stringify(event(0)).length + 1
    for (let i = 0; i < total; i++) {
      sink.write(event(i))
      if (i % 1000 === 999) await nextTurn()
    }
    const { dropped } = sink.stats
    // What the sink can hold: one batch in the stream beyond its high-water mark, and a full queue of its own.
    const held = total - dropped
    expect(held * lineBytes).toBeLessThanOrEqual(highWaterMark + 2 * maxBufferBytes + 2 * lineBytes * 1000)
    expect(dropped).toBeGreaterThan(total / 2)
    expect(stream.maxBuffered).toBeLessThanOrEqual(highWaterMark + maxBufferBytes)
    expect(errors.length).toBe(dropped)
    expect(errors[0]?.message).toBe('audit buffer full: event dropped')

    await sink.close()
    expect(stream.writesWhileFull).toBe(0)
    expect(sink.stats.written + sink.stats.dropped).toBe(total)
    // Every drop is on record: the gap records written once the stall eased add up to the drops.
    const records = stream.lines.map((line) => JSON.parse(line) as { kind?: string; dropped?: number })
    const gaps = records.filter((r) => r.kind === 'gap')
    expect(records.length - gaps.length).toBe(sink.stats.written)
    expect(gaps.length).toBeGreaterThanOrEqual(1)
    expect(gaps.reduce((sum, g) => sum + g.dropped!, 0)).toBe(sink.stats.dropped)
    expect(sink.stats.errors).toBe(0)
  })

  it('counts events written after close() as dropped and leaves a stream it was given open', async () => {
    const stream = new SlowWritable(0, 16 * 1024)
    const sink = jsonlAuditSink(stream)
    for (let i = 0; i < 10; i++) sink.write(event(i))
    await sink.close()
    sink.write(event(10))
    expect(sink.stats).toEqual({ written: 10, dropped: 1, errors: 0 })
    expect(stream.writableEnded).toBe(false)
    expect(stream.lines.length).toBe(10)
  })
})

/**
 * Against a real full file system: a 64 KiB tmpfs mounted by the test when running as root, and
 * `/dev/full` everywhere. The sink must keep no torn line, hold what it can, record what it dropped in
 * a gap record once it can write again, warn once per failure streak, and recover without a restart.
 */
describe('jsonlAuditSink: recovers from a full disk, a missing directory, removal and rotation', () => {
  const mounts: string[] = []
  const asRoot = process.getuid?.() === 0
  let fsDir = ''

  function mountTmpfs(path: string, options: string): boolean {
    if (!asRoot) return false
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', path], { stdio: 'ignore' })
      mounts.push(path)
      return true
    } catch {
      return false
    }
  }

  beforeAll(async () => {
    fsDir = join(dir, 'tiny')
    await mkdir(fsDir)
  })
  afterAll(() => {
    for (const path of mounts.reverse()) {
      try {
        execFileSync('umount', [path], { stdio: 'ignore' })
      } catch {
        // Still busy (a failed test left a file open): detach it so nothing stays mounted.
        execFileSync('umount', ['-l', path], { stdio: 'ignore' })
      }
    }
  })

  /** Waits (bounded) until `check` holds. */
  async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the sink')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  function parseAll(text: string): Array<Record<string, unknown>> {
    expect(text.endsWith('\n'), 'the file ends with a complete line').toBe(true)
    return text
      .slice(0, -1)
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  }

  it(
    'a full tmpfs: no torn line, recovery once space is freed, a gap record, one warning, exact stats',
    { timeout: 15_000 },
    async (context) => {
      if (!mountTmpfs(fsDir, 'size=64k')) {
        context.skip()
        return
      }
      // Space to free later: about half the file system.
      const filler = join(fsDir, 'filler')
      await writeFile(filler, Buffer.alloc(32 * 1024, 120))
      const path = join(fsDir, 'audit.jsonl')
      const warnings: string[] = []
      const errors: Error[] = []
      const sink = jsonlAuditSink(path, {
        maxBufferBytes: 16 * 1024,
        retryDelayMs: 20,
        warn: (message) => warnings.push(message),
        onError: (error) => errors.push(error),
      })
      let sent = 0
      const send = (count: number) => {
        for (let i = 0; i < count; i++) sink.write({ ...event(sent++), instance: 'web-1' })
      }
      // Far more than fits (~300 bytes a line, 32 KiB free): send until the disk is full and the sink drops.
      for (let round = 0; round < 400 && !(sink.stats.errors > 0 && sink.stats.dropped > 0); round++) {
        send(25)
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      expect(sink.stats.errors).toBeGreaterThan(0)
      expect(sink.stats.dropped).toBeGreaterThan(0)
      expect(errors.some((e) => (e as NodeJS.ErrnoException).code === 'ENOSPC')).toBe(true)
      // Nothing torn while full: every line on disk parses.
      const whileFull = parseAll(await readFile(path, 'utf8'))
      expect(whileFull.filter((r) => r.kind !== 'gap').length).toBe(sink.stats.written)
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/cannot write to .*audit\.jsonl \(ENOSPC\)/)

      await rm(filler)
      await until(() => sink.stats.written + sink.stats.dropped === sent)
      send(10)
      await sink.close()

      const records = parseAll(await readFile(path, 'utf8'))
      const gaps = records.filter((r) => r.kind === 'gap')
      const events = records.filter((r) => r.kind !== 'gap')
      expect(events.length).toBe(sink.stats.written)
      expect(sink.stats.written + sink.stats.dropped).toBe(sent)
      expect(sink.stats.dropped).toBeGreaterThan(0)
      expect(gaps.length).toBeGreaterThanOrEqual(1)
      expect(gaps.reduce((sum, g) => sum + (g.dropped as number), 0)).toBe(sink.stats.dropped)
      for (const g of gaps) expect(g).toMatchObject({ kind: 'gap', instance: 'web-1' })
      // A gap names the cause of its first drop: the full disk, or a queue that filled before the disk did.
      for (const g of gaps) expect(['ENOSPC', 'buffer_full']).toContain(g.reason)
      expect(Date.parse(gaps[0]!.from as string)).toBeLessThanOrEqual(Date.parse(gaps[0]!.to as string))
      // The last 10 events, sent after recovery, are all there; one streak, one warning.
      expect(events.slice(-10).map((e) => e.route)).toEqual(
        Array.from({ length: 10 }, (_, i) => `/smile/callback/${sent - 10 + i}`),
      )
      expect(warnings).toHaveLength(1)
      // onError saw each write error and each drop over the bound.
      const writeErrors = errors.filter((e) => (e as NodeJS.ErrnoException).code !== undefined)
      expect(sink.stats.errors).toBe(writeErrors.length)
      expect(errors.length - writeErrors.length).toBe(sink.stats.dropped)
      // A summary reads the gap as missing evidence.
      const { summarizeAudit } = await import('../../src/index.js')
      const report = await summarizeAudit(records as never, { now: new Date(NOW + 86_400_000) })
      expect(report.evidence.dropped).toBe(sink.stats.dropped)
    },
  )

  it('/dev/full: every write fails, nothing throws, one warning, everything accounted for', async () => {
    const warnings: string[] = []
    const sink = jsonlAuditSink('/dev/full', { retryDelayMs: 10, warn: (m) => warnings.push(m) })
    for (let i = 0; i < 20; i++) sink.write(event(i))
    await until(() => sink.stats.errors >= 2)
    await sink.close()
    expect(sink.stats.written).toBe(0)
    expect(sink.stats.dropped).toBe(20)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/ENOSPC/)
  })

  it('the verifier counts the failures the sink meets on its own in stats.auditErrors', async () => {
    const sink = jsonlAuditSink('/dev/full', { retryDelayMs: 5, warn: false })
    const verifier = verifierWith(sink)
    for (let i = 0; i < 4; i++) await verifier.verify(mixedRequest(i))
    await until(() => sink.stats.errors >= 2)
    await sink.close()
    expect(verifier.stats.auditErrors).toBeGreaterThanOrEqual(2)
    expect(verifier.stats.auditErrors).toBe(sink.stats.errors)
  })

  it('warns through process.emitWarning by default, once per streak', async () => {
    const seen: Array<{ message: string; code: string | undefined }> = []
    const listener = (warning: Error & { code?: string }) =>
      seen.push({ message: warning.message, code: warning.code })
    process.on('warning', listener)
    try {
      const sink = jsonlAuditSink('/dev/full', { retryDelayMs: 5 })
      sink.write(event(1))
      await until(() => sink.stats.errors >= 3)
      await sink.close()
      await nextTurn()
    } finally {
      process.off('warning', listener)
    }
    const ours = seen.filter((w) => w.code === 'SMILEID_AUDIT_SINK_FAILING')
    expect(ours).toHaveLength(1)
  })

  it('an unwritable path (missing directory) holds events and writes them once the directory exists', async () => {
    const parent = join(dir, 'not-yet')
    const path = join(parent, 'audit.jsonl')
    const warnings: string[] = []
    const sink = jsonlAuditSink(path, { retryDelayMs: 10, warn: (m) => warnings.push(m) })
    for (let i = 0; i < 5; i++) sink.write(event(i))
    await until(() => sink.stats.errors >= 2)
    expect(sink.stats.written).toBe(0)
    await mkdir(parent)
    await until(() => sink.stats.written === 5)
    await sink.close()
    expect(parseAll(await readFile(path, 'utf8')).map((e) => e.route)).toEqual(
      Array.from({ length: 5 }, (_, i) => `/smile/callback/${i}`),
    )
    expect(sink.stats).toMatchObject({ written: 5, dropped: 0 })
    expect(warnings).toHaveLength(1)
  })

  it('a read-only file system (permission refused) recovers once it is writable again', async (context) => {
    const ro = join(dir, 'readonly')
    await mkdir(ro)
    if (!mountTmpfs(ro, 'size=16k,ro')) {
      context.skip()
      return
    }
    const path = join(ro, 'audit.jsonl')
    const errors: Error[] = []
    const sink = jsonlAuditSink(path, { retryDelayMs: 10, warn: false, onError: (e) => errors.push(e) })
    sink.write(event(1))
    await until(() => sink.stats.errors >= 1)
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('EROFS')
    execFileSync('mount', ['-o', 'remount,rw', ro])
    await until(() => sink.stats.written === 1)
    await sink.close()
    expect(parseAll(await readFile(path, 'utf8'))).toHaveLength(1)
  })

  it(
    'reopen() follows log rotation; a removed file is noticed and recreated',
    { timeout: 10_000 },
    async () => {
      const path = join(dir, 'rotate.jsonl')
      const sink = jsonlAuditSink(path)
      sink.write(event(1))
      await until(() => sink.stats.written === 1)
      await rename(path, `${path}.1`)
      await sink.reopen()
      sink.write(event(2))
      await until(() => sink.stats.written === 2)
      expect(parseAll(await readFile(`${path}.1`, 'utf8')).map((e) => e.route)).toEqual(['/smile/callback/1'])
      expect(parseAll(await readFile(path, 'utf8')).map((e) => e.route)).toEqual(['/smile/callback/2'])

      // Removed under the sink's feet: within about a second the sink notices and writes to a new file.
      await rm(path)
      await new Promise((resolve) => setTimeout(resolve, 1100))
      sink.write(event(3))
      await until(() => sink.stats.written === 3)
      await sink.close()
      expect(parseAll(await readFile(path, 'utf8')).map((e) => e.route)).toEqual(['/smile/callback/3'])
    },
  )

  it('a file left with a torn last line (a crash) gets our lines on fresh lines', async () => {
    const path = join(dir, 'torn.jsonl')
    await writeFile(path, '{"time":"2025-01-01T00:00:00.000Z","par')
    const sink = jsonlAuditSink(path)
    sink.write(event(1))
    await sink.close()
    const lines = (await readFile(path, 'utf8')).split('\n')
    expect(lines[0]).toBe('{"time":"2025-01-01T00:00:00.000Z","par')
    expect(JSON.parse(lines[1]!)).toEqual(event(1))
  })
})
