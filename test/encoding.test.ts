import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import {
  constantTimeDiffs,
  constantTimeEqualAscii,
  fromBase64,
  fromHex,
  toBase64,
  toHex,
} from '../src/encoding.js'

describe('fromBase64', () => {
  it('decodes every canonical encoding to the original bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64')
        expect(fromBase64(text)).toEqual(new Uint8Array(bytes))
        expect(toBase64(bytes)).toBe(text)
      }),
      { numRuns: 300 },
    )
  })

  it('refuses what Buffer would forgive: url-safe, unpadded, stray characters, spare bits', () => {
    for (const text of ['-_8=', 'QUI', 'QUI=\n', ' QUI=', 'Q=I=', 'QU==', 'QUJ=', '=QUI', 'QUIé', 'QUI==']) {
      expect(fromBase64(text), JSON.stringify(text)).toBeNull()
    }
    expect(fromBase64('QUI=')).toEqual(new Uint8Array([0x41, 0x42]))
    expect(fromBase64('QQ==')).toEqual(new Uint8Array([0x41]))
    expect(fromBase64('')).toEqual(new Uint8Array(0))
  })
})

describe('constantTimeEqualAscii', () => {
  it('compares bytes with ASCII text', () => {
    expect(constantTimeEqualAscii(new TextEncoder().encode('abc'), 'abc')).toBe(true)
    expect(constantTimeEqualAscii(new TextEncoder().encode('abd'), 'abc')).toBe(false)
    expect(constantTimeEqualAscii(new TextEncoder().encode('ab'), 'abc')).toBe(false)
  })
})

describe('constantTimeDiffs', () => {
  const bytes = (text: string) => new TextEncoder().encode(text)
  it('reports which of the two values differs from the expected one', () => {
    expect(constantTimeDiffs('abc', bytes('abc'), 'abc')).toBe(0)
    expect(constantTimeDiffs('abd', bytes('abc'), 'abc')).toBe(1)
    expect(constantTimeDiffs('abc', bytes('abd'), 'abc')).toBe(2)
    expect(constantTimeDiffs('xbc', bytes('abx'), 'abc')).toBe(3)
  })
  it('treats a missing or wrong-length byte value as different, and still compares the text', () => {
    expect(constantTimeDiffs('abc', null, 'abc')).toBe(2)
    expect(constantTimeDiffs('abd', null, 'abc')).toBe(3)
    expect(constantTimeDiffs('abc', bytes('ab'), 'abc')).toBe(2)
    expect(constantTimeDiffs('ab', bytes('abc'), 'abc')).toBe(1)
  })
  it('agrees with plain equality on any inputs (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (text, other, expected) => {
        const encoded = bytes(other)
        const diffs = constantTimeDiffs(text, encoded, expected)
        expect((diffs & 1) === 0).toBe(text === expected)
        const sameBytes =
          encoded.length === expected.length && [...encoded].every((b, i) => b === expected.charCodeAt(i))
        expect((diffs & 2) === 0).toBe(sameBytes)
      }),
      { numRuns: 300 },
    )
  })
})

describe('fromHex', () => {
  it('inverts toHex', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
        expect(fromHex(toHex(data))).toEqual(new Uint8Array(data))
      }),
    )
  })
})

describe('the node backend decodes base64 exactly as the portable decoder does', () => {
  it('agrees on canonical input and on every kind of malformed input', async () => {
    const { hashBackend } = await import('../src/crypto/node-hash.js')
    const norm = (bytes: Uint8Array | null) => (bytes === null ? null : Array.from(bytes))
    const samples = [
      '-_8=',
      'QUI',
      'QUI=\n',
      ' QUI=',
      'Q=I=',
      'QU==',
      'QUJ=',
      '=QUI',
      'QUIé',
      'QUI==',
      'QUI=',
      '',
    ]
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(),
        fc.string({ maxLength: 3 }),
        (bytes, at, noise) => {
          const text = Buffer.from(bytes).toString('base64')
          const mangled = text.slice(0, at % (text.length + 1)) + noise + text.slice(at % (text.length + 1))
          for (const candidate of [text, mangled]) {
            expect(norm(hashBackend.decodeBase64(candidate))).toEqual(norm(fromBase64(candidate)))
          }
        },
      ),
      { numRuns: 500 },
    )
    for (const text of samples)
      expect(norm(hashBackend.decodeBase64(text)), text).toEqual(norm(fromBase64(text)))
  })
})
