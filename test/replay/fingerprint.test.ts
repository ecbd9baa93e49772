import { createHash } from 'node:crypto'

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { DualModeVerifier, MemoryReplayStore } from '../../src/index.js'
import { bodyFingerprint, parsedBodyText } from '../../src/replay/fingerprint.js'
import { expectAccepted, expectRejected, signatureAuth, signatureBody } from '../verifier/helpers.js'

const OMIT = new Set(['signature', 'sec_key', 'timestamp'])
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')

function nested(depth: number): unknown {
  let value: unknown = 'leaf'
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

describe('bodyFingerprint: raw bytes', () => {
  it('is the SHA-256 of the bytes as received, text or bytes alike', async () => {
    const text = '{"job_id":"job-1","note":"é ✓"}'
    await expect(Promise.resolve(bodyFingerprint({ rawBody: text }, OMIT))).resolves.toBe(sha256(text))
    const bytes = new TextEncoder().encode(text)
    await expect(Promise.resolve(bodyFingerprint({ rawBody: bytes }, OMIT))).resolves.toBe(sha256(text))
  })

  it('prefers the raw body over the parsed one', async () => {
    const fromRaw = await bodyFingerprint({ rawBody: '{"a":1}', body: { a: 2 } }, OMIT)
    expect(fromRaw).toBe(sha256('{"a":1}'))
  })

  it('sees every byte: whitespace or an escape JSON would read the same is another body', async () => {
    const a = await bodyFingerprint({ rawBody: '{"a":"x"}' }, OMIT)
    expect(await bodyFingerprint({ rawBody: '{"a": "x"}' }, OMIT)).not.toBe(a)
    expect(await bodyFingerprint({ rawBody: '{"a":"\\u0078"}' }, OMIT)).not.toBe(a)
  })
})

describe('bodyFingerprint: parsed body', () => {
  it('leaves out the top-level credential fields only', () => {
    const base = { job_id: 'job-1', nested: { signature: 'kept', timestamp: 1 } }
    const text = parsedBodyText(base, OMIT)
    expect(parsedBodyText({ signature: 'sig', ...base, timestamp: '1700000000', sec_key: 'k' }, OMIT)).toBe(
      text,
    )
    expect(parsedBodyText({ ...base, nested: { signature: 'other', timestamp: 1 } }, OMIT)).not.toBe(text)
  })

  it('is stable for the same text, parsed twice', async () => {
    const text = JSON.stringify({ a: [1, 2, { b: 'c' }], d: 'x'.repeat(5000), e: null, f: true })
    const first = await bodyFingerprint({ body: JSON.parse(text) as Record<string, unknown> }, OMIT)
    const second = await bodyFingerprint({ body: JSON.parse(text) as Record<string, unknown> }, OMIT)
    expect(first).toBe(second)
  })

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['a string that looks like two members', { a: 'b",c:"d' }, { a: 'b', c: 'd' }],
    ['a number and its string', { a: 1 }, { a: '1' }],
    ['null and "null"', { a: null }, { a: 'null' }],
    ['an empty array and an empty object', { a: [] }, { a: {} }],
    ['nesting moved', { a: [[1], 2] }, { a: [[1, 2]] }],
    ['a key and a value swapped', { ab: 'c' }, { a: 'bc' }],
    ['long strings split differently', { a: 'x'.repeat(2000), b: 'y' }, { a: 'x'.repeat(1999), b: 'xy' }],
    [
      'lone surrogates that UTF-8 would both replace',
      { a: '\ud800'.repeat(1024) },
      { a: '\udc00'.repeat(1024) },
    ],
    ['a lone surrogate in a key', { '\ud800': 1 }, { '\udc00': 1 }],
    [
      'an own __proto__ member',
      JSON.parse('{"__proto__":1}') as Record<string, unknown>,
      JSON.parse('{"__proto__":2}') as Record<string, unknown>,
    ],
    ['key order', { a: 1, b: 2 }, { b: 2, a: 1 }],
  ])('tells apart %s', (_label, a, b) => {
    expect(parsedBodyText(a, OMIT)).not.toBe(parsedBodyText(b, OMIT))
  })

  it('never gives two different JSON bodies one text (property)', () => {
    const json = fc.jsonValue({ maxDepth: 4 })
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json), fc.dictionary(fc.string(), json), (a, b) => {
        const ta = parsedBodyText(a, OMIT)
        const tb = parsedBodyText(b, OMIT)
        const stripped = (v: Record<string, unknown>) =>
          JSON.stringify(Object.entries(v).filter(([key]) => !OMIT.has(key)))
        // Same text only for the same members in the same order (JSON.stringify of the entries decides).
        if (ta === tb) expect(stripped(a)).toBe(stripped(b))
      }),
      { numRuns: 300 },
    )
  })

  it('walks past the budget into JSON.stringify, still telling values apart', () => {
    const records = Array.from({ length: 2000 }, (_, k) => ({
      id: k,
      image: k === 1500 ? 'z'.repeat(3000) : 'small',
    }))
    const changed = records.map((r) => (r.id === 1999 ? { ...r, image: 'SMALL' } : r))
    expect(parsedBodyText({ records }, OMIT)).not.toBe(parsedBodyText({ records: changed }, OMIT))
    expect(parsedBodyText({ records }, OMIT)).toBe(
      parsedBodyText({ records: structuredClone(records) }, OMIT),
    )
  })

  it('refuses what cannot be encoded: cycles, BigInt, throwing getters, nesting deeper than the stack', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    expect(() => parsedBodyText(cyclic, OMIT)).toThrow()
    expect(() => parsedBodyText({ a: 10n }, OMIT)).toThrow()
    expect(() =>
      parsedBodyText(
        Object.defineProperty({}, 'a', {
          enumerable: true,
          get() {
            throw new Error('getter')
          },
        }),
        OMIT,
      ),
    ).toThrow()
    expect(() => parsedBodyText({ a: nested(1_000_000) }, OMIT)).toThrow(RangeError)
    expect(() => parsedBodyText({ a: nested(1000) }, OMIT)).not.toThrow()
  })
})

describe('DualModeVerifier: redelivery and replay with each fingerprint', () => {
  it('raw bytes: Smile redelivering the same bytes is a duplicate; another body, or the same one re-serialised, is replayed', async () => {
    const verifier = new DualModeVerifier({
      signature: signatureAuth(),
      replay: new MemoryReplayStore(),
      now: () => 1_700_000_000_000,
    })
    const body = await signatureBody()
    const raw = JSON.stringify(body)
    expect(expectAccepted(await verifier.verify({ rawBody: raw }), 'signature').duplicate).toBe(false)
    expect(expectAccepted(await verifier.verify({ rawBody: raw }), 'signature').duplicate).toBe(true)
    expect(
      expectAccepted(await verifier.verify({ rawBody: new TextEncoder().encode(raw) }), 'signature')
        .duplicate,
    ).toBe(true)
    expectRejected(
      await verifier.verify({ rawBody: JSON.stringify({ ...body, job_id: 'forged' }) }),
      'replayed',
      'signature',
    )
    expectRejected(await verifier.verify({ rawBody: JSON.stringify(body, null, 2) }), 'replayed', 'signature')
  })

  it('parsed body: the same text parsed again is a duplicate; another body is replayed', async () => {
    const verifier = new DualModeVerifier({
      signature: signatureAuth(),
      replay: new MemoryReplayStore(),
      now: () => 1_700_000_000_000,
    })
    const raw = JSON.stringify({ ...(await signatureBody()), image: 'A'.repeat(200_000) })
    const parse = () => JSON.parse(raw) as Record<string, unknown>
    expect(expectAccepted(await verifier.verify({ body: parse() }), 'signature').duplicate).toBe(false)
    expect(expectAccepted(await verifier.verify({ body: parse() }), 'signature').duplicate).toBe(true)
    expectRejected(
      await verifier.verify({ body: { ...parse(), image: 'B'.repeat(200_000) } }),
      'replayed',
      'signature',
    )
  })
})
