/**
 * Hostile input at every adapter over real HTTP on 127.0.0.1 (Express with and without express.json(),
 * Fastify, the fetch handler behind node:http, node:http `verifyIncomingMessage`): arbitrary bodies, bytes,
 * headers and changed genuine credentials never get a 2xx or a 5xx; the answer is always 400, 401 (with a
 * listed reason) or 413, and never quotes a secret. A multi-megabyte credential is refused quickly: by the
 * body limit (413), or by its size in the verifier when the limit lets it through (401).
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { FAILURE_REASONS } from '../../src/index.js'
import { expectNoSecrets, type NamedSecret } from '../support/secrets.js'
import {
  applyEdit,
  edit,
  headerSafeString,
  hostileBody,
  hostileString,
  HUGE,
  nestedJson,
} from './arbitraries.js'
import {
  hostileSecrets,
  hostileVerifier,
  NOW,
  PARTNER,
  signedRequests,
  testPartner,
  type SignedRequests,
} from '../support/fixtures.js'
import { HOSTILE_ADAPTERS, startAdapter, type ServedAdapter } from '../support/adapters.js'
import { send, type Reply } from '../support/http.js'

let requests: SignedRequests
let secrets: NamedSecret[]
const running = new Map<string, ServedAdapter>()

beforeAll(async () => {
  requests = await signedRequests()
  secrets = hostileSecrets(requests)
  for (const name of HOSTILE_ADAPTERS) running.set(name, await startAdapter(name, hostileVerifier()))
})

afterAll(async () => {
  for (const adapter of running.values()) await adapter.close()
})

/** A refused answer: 400, 401 with a listed reason, or 413; nothing secret in it. */
function expectRefusedReply(adapter: ServedAdapter, reply: Reply): void {
  expect([400, 401, 413], `${adapter.name} answered ${reply.status} ${reply.text.slice(0, 200)}`).toContain(
    reply.status,
  )
  if (reply.status === 401) expect(FAILURE_REASONS).toContain(reply.json?.error)
  if (reply.status !== 401 && adapter.ownBodyErrors) {
    expect(reply.json).toEqual({ error: reply.status === 400 ? 'invalid_json' : 'body_too_large' })
  }
  expectNoSecrets([reply.text, reply.headers], secrets, `${adapter.name} reply`)
}

/** Bodies as text or bytes: JSON of hostile values, hostile strings, random bytes, very deep JSON. */
const payload: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  hostileBody.map((body) => {
    try {
      return JSON.stringify(body) ?? ''
    } catch {
      return nestedJson(10_000, 'object')
    }
  }),
  hostileString,
  fc.uint8Array({ maxLength: 400 }),
  fc.constantFrom(
    nestedJson(10_000, 'array'),
    `{"partner_id":"${PARTNER}","signature":${nestedJson(10_000, 'object')},"timestamp":"x"}`,
    `{"constructor":{"prototype":${nestedJson(5_000, 'object')}},"signature":"x"}`,
    `{"__proto__":{"signature":"x"},"timestamp":1}`,
  ),
)

/** SmileID headers with values HTTP can carry; a list repeats the header. */
const headers = fc.dictionary(
  fc.constantFrom('SmileID-Request-Signature', 'smileid-timestamp', 'SmileID-Partner-ID'),
  fc.oneof(headerSafeString, fc.array(headerSafeString, { minLength: 2, maxLength: 3 })),
  { maxKeys: 3 },
)

/** A genuine request (body or headers) with one character of its credential or timestamp changed. */
function mutatedGenuine(): fc.Arbitrary<{ body: string; headers: Record<string, string> }> {
  return fc
    .tuple(
      fc.constantFrom('signature body', 'sec_key body', 'legacy in signature', 'headers'),
      fc.constantFrom(0, 1),
      edit,
    )
    .map(([shape, which, change]) => {
      if (shape === 'headers') {
        const name = which === 0 ? 'SmileID-Request-Signature' : 'SmileID-Timestamp'
        const changed = applyEdit(requests.headers[name]!, change)
        // HTTP cannot carry every character: keep what it can, and drop edits that leave nothing changed.
        const value = (changed ?? '').replace(/[^\x21-\x7e]/g, '')
        return {
          body: JSON.stringify(requests.headersBody),
          headers: { ...requests.headers, [name]: value || 'x' },
        }
      }
      const base =
        shape === 'signature body'
          ? requests.signatureBody
          : shape === 'sec_key body'
            ? requests.secKeyBody
            : requests.secKeyAsSignatureBody
      const field = which === 1 ? 'timestamp' : shape === 'sec_key body' ? 'sec_key' : 'signature'
      const changed = applyEdit(String(base[field]), change) ?? `${String(base[field])}x`
      return { body: JSON.stringify({ ...base, [field]: changed }), headers: {} }
    })
}

describe.each(HOSTILE_ADAPTERS)('%s adapter under hostile input', (name) => {
  it('accepts a genuine callback (the control for the properties below)', async () => {
    const adapter = running.get(name)!
    const body = await testPartner().simulator.callbackBody({
      scheme: 'signature',
      timestamp: new Date(NOW - 1000),
    })
    const reply = await send(adapter.url, JSON.stringify(body))
    expect([reply.status, reply.json]).toEqual([200, { accepted: true }])
  })

  it('answers 400, 401 or 413 to arbitrary bodies and headers, never 2xx or 5xx', async () => {
    const adapter = running.get(name)!
    await fc.assert(
      fc.asyncProperty(payload, headers, fc.boolean(), async (body, smileHeaders, chunked) => {
        expectRefusedReply(adapter, await send(adapter.url, body, { headers: smileHeaders, chunked }))
      }),
      { numRuns: 40 },
    )
  })

  it('answers 400, 401 or 413 to each edge-case body', async () => {
    const adapter = running.get(name)!
    const signature = JSON.stringify(requests.signatureBody)
    // Well formed, but not made with the partner's key: a byte-order mark in front must not change the verdict.
    const forged = JSON.stringify({ ...requests.signatureBody, signature: `${'A'.repeat(43)}=` })
    const edgeCases: Array<string | Uint8Array> = [
      '',
      ' ',
      'null',
      '[]',
      '"text"',
      '123',
      'true',
      '{',
      `\uFEFF${forged}`,
      signature.replace('"signature"', '"signa\u0000ture"'),
      `${signature}\u0000`,
      `${signature}${signature}`,
      Uint8Array.from([0xff, 0xfe, 0x00, 0x7b, 0x7d]),
      nestedJson(10_000, 'array'),
      nestedJson(10_000, 'object'),
      `{"constructor":{"prototype":{"signature":"x"}}}`,
      `{"__proto__":${signature}}`,
      JSON.stringify({ ...requests.signatureBody, signature: [requests.signatureBody.signature] }),
      JSON.stringify({ ...requests.signatureBody, timestamp: { $gt: '' } }),
      JSON.stringify({ ...requests.signatureBody, partner_id: ['085', '085'] }),
    ]
    for (const body of edgeCases) {
      for (const chunked of [false, true])
        expectRefusedReply(adapter, await send(adapter.url, body, { chunked }))
    }
  })

  it('refuses every genuine request with one character changed', async () => {
    const adapter = running.get(name)!
    await fc.assert(
      fc.asyncProperty(mutatedGenuine(), async ({ body, headers: extra }) => {
        const reply = await send(adapter.url, body, { headers: extra })
        expectRefusedReply(adapter, reply)
        expect(reply.status).toBe(401)
      }),
      { numRuns: 30 },
    )
  })

  it('refuses a 4 MB credential by the default body limit (413)', { timeout: 30_000 }, async () => {
    const adapter = running.get(name)!
    for (const chunked of [false, true]) {
      const reply = await send(adapter.url, JSON.stringify({ ...requests.signatureBody, signature: HUGE }), {
        chunked,
      })
      expectRefusedReply(adapter, reply)
      expect(reply.status).toBe(413)
    }
  })

  it(
    'refuses a 4 MB credential by its size when the body limit lets it through (401)',
    { timeout: 30_000 },
    async () => {
      const adapter = await startAdapter(name, hostileVerifier(), { limit: 8 * 1024 * 1024 })
      try {
        for (const field of ['signature', 'timestamp', 'partner_id']) {
          const reply = await send(adapter.url, JSON.stringify({ ...requests.signatureBody, [field]: HUGE }))
          expectRefusedReply(adapter, reply)
          expect([field, reply.status, reply.json?.error]).toEqual([field, 401, 'malformed_credentials'])
        }
        const reply = await send(adapter.url, JSON.stringify({ ...requests.secKeyBody, sec_key: HUGE }))
        expect([reply.status, reply.json?.error]).toEqual([401, 'malformed_credentials'])
      } finally {
        await adapter.close()
      }
    },
  )
})
