import { describe, expect, it } from 'vitest'
import { nodeHeaders, pathOf, pathOfUrl, webHeaders } from '../../src/adapters/core.js'
import { readWebBody } from '../../src/adapters/web.js'

// The adapters read the route and headers from text instead of parsing a URL or building entry arrays per
// request; these tests hold the fast readers to what the slow ones gave.
describe('pathOfUrl reads the same path as new URL(…).pathname from a serialised URL', () => {
  const urls = [
    'http://127.0.0.1/callback',
    'http://127.0.0.1:8080/smile/cb?x=1&y=/z',
    'https://example.com',
    'https://example.com/',
    'https://user:p%2Fw@example.com:443/a/b/?q',
    'http://[::1]:3000/a%20b?',
    'http://example.com/a?b#c',
    'file:///tmp/x?y',
  ]
  for (const url of urls) {
    it(url, () => {
      const serialised = new URL(url).href
      expect(pathOfUrl(serialised)).toBe(new URL(serialised).pathname)
    })
  }
  it('reads what a Request serialises', () => {
    const url = new Request('http://127.0.0.1:9/smile/cb?x=1#frag').url
    expect(pathOfUrl(url)).toBe('/smile/cb')
  })
  it('gives undefined for a text that is not an absolute URL', () => {
    expect(pathOfUrl('/relative')).toBeUndefined()
    expect(pathOfUrl('')).toBeUndefined()
  })
})

describe('pathOf', () => {
  it.each([
    ['/callback', '/callback'],
    ['/callback?sig=abc?def', '/callback'],
    ['/?', '/'],
    ['', ''],
  ])('%s → %s', (target, path) => {
    expect(pathOf(target)).toBe(path)
  })
})

describe('nodeHeaders', () => {
  it('lowercases names, joins repeated values, stringifies numbers and drops undefined', () => {
    expect(
      nodeHeaders({
        'content-type': 'application/json',
        'SmileID-Timestamp': '2025-01-01T00:00:00.000Z',
        'x-many': ['a', 'b'],
        'content-length': 12,
        gone: undefined,
      }),
    ).toEqual({
      'content-type': 'application/json',
      'smileid-timestamp': '2025-01-01T00:00:00.000Z',
      'x-many': 'a, b',
      'content-length': '12',
    })
  })
  it('copies: changing the result leaves the request headers alone', () => {
    const raw = { a: '1' }
    const out = nodeHeaders(raw)
    out.a = '2'
    expect(raw.a).toBe('1')
  })
})

describe('webHeaders', () => {
  it('copies every header with its lowercase name', () => {
    expect(webHeaders(new Headers({ 'SmileID-Signature': 's', Accept: 'x' }))).toEqual({
      'smileid-signature': 's',
      accept: 'x',
    })
  })
})

describe('readWebBody', () => {
  const streamOf = (chunks: string[]) =>
    new Request('http://h/', {
      method: 'POST',
      body: new ReadableStream({
        start(controller) {
          for (const c of chunks) controller.enqueue(new TextEncoder().encode(c))
          controller.close()
        },
      }),
      duplex: 'half',
    } as RequestInit)
  it('gives one chunk as it came and joins several in order', async () => {
    const one = await readWebBody(streamOf(['{"a":1}']), 100)
    expect(one.ok && new TextDecoder().decode(one.bytes)).toBe('{"a":1}')
    const many = await readWebBody(streamOf(['{"a"', ':', '12}']), 100)
    expect(many.ok && new TextDecoder().decode(many.bytes)).toBe('{"a":12}')
  })
  it('refuses past the limit, one chunk or several', async () => {
    expect((await readWebBody(streamOf(['x'.repeat(11)]), 10)).ok).toBe(false)
    expect((await readWebBody(streamOf(['x'.repeat(6), 'y'.repeat(6)]), 10)).ok).toBe(false)
  })
})
