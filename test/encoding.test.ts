import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { constantTimeEqualAscii, fromBase64, toBase64 } from '../src/encoding.js'

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
