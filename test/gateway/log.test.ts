import { describe, expect, it } from 'vitest'
import { jsonLogger } from '../../src/gateway/log.js'

function capture(now: () => number) {
  const writes: string[] = []
  const log = jsonLogger((text) => writes.push(text), now)
  const lines = () =>
    writes
      .join('')
      .split('\n')
      .filter((line) => line !== '')
  return { log, writes, lines }
}

describe('jsonLogger', () => {
  it('writes one JSON object per line: time, level, msg, then the fields, in that order', () => {
    const { log, lines } = capture(() => Date.UTC(2026, 0, 2, 3, 4, 5, 678))
    log('info', 'request', { listener: 'inbound', status: 200, partnerId: null, ms: 0.25 })
    log('warn', 'no fields')
    log('error', 'empty fields', {})
    log.flush()
    expect(lines()).toEqual([
      '{"time":"2026-01-02T03:04:05.678Z","level":"info","msg":"request","listener":"inbound","status":200,"partnerId":null,"ms":0.25}',
      '{"time":"2026-01-02T03:04:05.678Z","level":"warn","msg":"no fields"}',
      '{"time":"2026-01-02T03:04:05.678Z","level":"error","msg":"empty fields"}',
    ])
  })

  it('escapes the message and field values: a line stays one valid JSON object', () => {
    const { log, lines } = capture(() => 0)
    log('info', 'quote " and \n newline', { path: '/a"b\n{"level":"error"}' })
    log.flush()
    expect(lines()).toHaveLength(1)
    const parsed = JSON.parse(lines()[0]!) as Record<string, unknown>
    expect(parsed).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'quote " and \n newline',
      path: '/a"b\n{"level":"error"}',
    })
  })

  it('a field named like a fixed key replaces it once (no duplicate keys), as a spread would', () => {
    const { log, lines } = capture(() => 0)
    log('info', 'shadow', { level: 'custom', msg: 'other', extra: 1 })
    log.flush()
    expect(lines()[0]).toBe('{"time":"1970-01-01T00:00:00.000Z","level":"custom","msg":"other","extra":1}')
  })

  it('stamps each line with the clock at that moment, not a stale cached one', () => {
    let t = 1000
    const { log, lines } = capture(() => t)
    log('info', 'a')
    log('info', 'b')
    t = 2001
    log('info', 'c')
    log.flush()
    const times = lines().map((line) => (JSON.parse(line) as { time: string }).time)
    expect(times).toEqual([
      '1970-01-01T00:00:01.000Z',
      '1970-01-01T00:00:01.000Z',
      '1970-01-01T00:00:02.001Z',
    ])
  })

  it('lines of one turn go out in one write; a broken clock or field drops that line only', async () => {
    let broken = false
    const { log, writes, lines } = capture(() => (broken ? Number.NaN : 0))
    log('info', 'one')
    broken = true
    log('info', 'dropped: the clock gave NaN')
    broken = false
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    log('info', 'dropped: not serialisable', cyclic)
    log('info', 'two')
    expect(writes).toEqual([])
    await new Promise((resolve) => setImmediate(resolve))
    expect(writes).toHaveLength(1)
    expect(lines().map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['one', 'two'])
  })
})
