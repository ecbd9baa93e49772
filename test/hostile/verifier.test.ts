/**
 * Hostile input at `DualModeVerifier.verify`: parsed bodies, JSON text and bytes, plain and Fetch headers,
 * repeated headers as lists, and a hostile audit context never make it throw or accept; every refusal
 * carries a listed reason and emits exactly one serializable audit event; a genuine request with any
 * single character changed is refused; multi-megabyte values are refused by size.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'

import type { AuditEvent, DualModeVerifier, VerificationResult, VerifyRequest } from '../../src/index.js'
import { expectNoSecrets, type NamedSecret } from '../support/secrets.js'
import {
  applyEdit,
  edit,
  editTimestamp,
  expectRefused,
  headerSafeString,
  hostileBody,
  hostileHeaders,
  hostileString,
  hostileValue,
  HUGE,
  nested,
  nestedJson,
} from './arbitraries.js'
import {
  hostileSecrets,
  hostileVerifier,
  PARTNER,
  signedRequests,
  type SignedRequests,
} from '../support/fixtures.js'

let requests: SignedRequests
let secrets: NamedSecret[]
const events: AuditEvent[] = []
let verifier: DualModeVerifier

beforeAll(async () => {
  requests = await signedRequests()
  secrets = hostileSecrets(requests)
  verifier = hostileVerifier(events)
})

/** Verifies, checks "no throw, refused, listed reason, one audit event that matches", and returns the result. */
async function refused(request: unknown, context?: unknown): Promise<VerificationResult> {
  const before = events.length
  let result: VerificationResult
  try {
    result = await verifier.verify(request as VerifyRequest, context as never)
  } catch (error) {
    throw new Error(`verify threw ${(error as Error)?.name}: ${(error as Error)?.message}`)
  }
  expectRefused(result)
  expect(events.length).toBe(before + 1)
  const event = events[events.length - 1]!
  expect(event.outcome).toBe('rejected')
  expect(event.reason).toBe(result.ok ? null : result.reason)
  const line = JSON.stringify(event)
  expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(event)))
  for (const text of [event.route, event.sourceIp, event.source_sdk, event.source_sdk_version]) {
    expect(text === null || text.length <= 128).toBe(true)
  }
  expectNoSecrets([result, line], secrets, 'verifier result and audit line')
  return result
}

const auditFields = fc.record(
  { source_sdk: hostileValue, source_sdk_version: hostileValue },
  { requiredKeys: [] },
)
const context = fc.option(fc.record({ route: hostileValue, sourceIp: hostileValue }, { requiredKeys: [] }), {
  nil: undefined,
})

describe('DualModeVerifier.verify under hostile input', () => {
  it('refuses any parsed body with any headers object and any audit context', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody, auditFields, hostileHeaders, context, async (body, sdk, headers, ctx) => {
        const merged =
          typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...body, ...sdk } : body
        await refused({ body: merged, headers }, ctx)
      }),
      { numRuns: 200 },
    )
  })

  it('refuses any JSON text or bytes given as body or rawBody', async () => {
    const text = fc.oneof(
      hostileBody.map((body) => {
        try {
          return JSON.stringify(body) ?? 'undefined'
        } catch {
          return '{'
        }
      }),
      hostileString,
      fc.constantFrom(
        nestedJson(10_000, 'object'),
        nestedJson(10_000, 'array'),
        `{"partner_id":"${PARTNER}","signature":${nestedJson(10_000, 'array')},"timestamp":"x"}`,
      ),
    )
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      text.map((t) => new TextEncoder().encode(t)),
      // Invalid UTF-8 inside a JSON string.
      fc.constant(Uint8Array.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0x80, 0x22, 0x7d])),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(text, bytes),
        fc.constantFrom('body', 'rawBody', 'both'),
        async (payload, where) => {
          const request: Record<string, unknown> =
            where === 'both' ? { body: payload, rawBody: payload } : { [where]: payload }
          await refused(request)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('refuses requests that are not request objects at all', async () => {
    for (const request of [
      undefined,
      null,
      0,
      'body',
      [],
      [requests.signatureBody],
      () => 1,
      Symbol('x'),
      new Date(NaN),
    ]) {
      await refused(request)
    }
    await fc.assert(
      fc.asyncProperty(hostileValue, hostileValue, async (body, headers) => {
        await refused({ body, headers })
      }),
      { numRuns: 200 },
    )
  })

  it('refuses any SmileID headers as Fetch Headers, with or without a body', async () => {
    const name = fc.constantFrom('SmileID-Request-Signature', 'SmileID-Timestamp', 'SmileID-Partner-ID')
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(name, headerSafeString), { maxLength: 6 }),
        fc.option(hostileBody, { nil: undefined }),
        async (pairs, body) => {
          const headers = new Headers()
          for (const [key, value] of pairs) headers.append(key, value)
          await refused(body === undefined ? { headers } : { body, headers })
        },
      ),
      { numRuns: 200 },
    )
  })

  it('refuses a repeated SmileID header given as a list, even when each copy is genuine', async () => {
    for (const name of Object.keys(requests.headers)) {
      const headers: Record<string, string | string[]> = { ...requests.headers }
      headers[name] = [requests.headers[name]!, requests.headers[name]!]
      const result = await refused({ body: requests.headersBody, headers })
      if (!result.ok) expect(result.reason).toBe('malformed_credentials')
    }
    // Fetch Headers join repeats with ", ": the joined value is not a credential either.
    for (const name of Object.keys(requests.headers)) {
      const headers = new Headers(requests.headers)
      headers.append(name, requests.headers[name]!)
      await refused({ body: requests.headersBody, headers })
    }
  })

  it('refuses a genuine request with any single character changed, in every transport', async () => {
    // Each case: a genuine request, and the strings in it to change.
    type Case = { name: string; request: () => VerifyRequest; fields: string[] }
    const cases: Case[] = [
      {
        name: 'signature in the body',
        request: () => ({ body: requests.signatureBody }),
        fields: ['signature', 'timestamp'],
      },
      {
        name: 'sec_key in the body',
        request: () => ({ body: requests.secKeyBody }),
        fields: ['sec_key', 'timestamp'],
      },
      {
        name: 'sec_key in a field named signature',
        request: () => ({ body: requests.secKeyAsSignatureBody }),
        fields: ['signature', 'timestamp'],
      },
      {
        name: 'signature headers',
        request: () => ({ body: requests.headersBody, headers: requests.headers }),
        fields: ['SmileID-Request-Signature', 'SmileID-Timestamp'],
      },
    ]
    for (const { name, request, fields } of cases) {
      // The control, on a verifier of its own (replay would refuse the second use): unchanged, it is accepted.
      const control = await hostileVerifier().verify(request())
      expect(control.ok, name).toBe(true)
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...fields), edit, fc.boolean(), async (field, change, asText) => {
          const original = request()
          const inHeaders = field.startsWith('SmileID-')
          const source = (inHeaders ? original.headers : original.body) as Record<string, unknown>
          const changed =
            field === 'timestamp'
              ? editTimestamp(source[field], change)
              : applyEdit(String(source[field]), change)
          fc.pre(changed !== null)
          // Header values must stay strings; bodies also go through as JSON text.
          if (inHeaders) {
            await refused({ ...original, headers: { ...original.headers, [field]: String(changed) } })
          } else {
            const body = { ...source, [field]: changed }
            await refused(asText ? { rawBody: JSON.stringify(body) } : { body })
          }
        }),
        { numRuns: 100 },
      )
    }
  })

  it('refuses a 4 MB value in any credential field or header by its size', { timeout: 30_000 }, async () => {
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [requests.signatureBody, ['signature', 'timestamp', 'partner_id', 'smile_client_id']],
      [requests.secKeyBody, ['sec_key', 'timestamp', 'partner_id', 'smile_client_id']],
      [requests.secKeyAsSignatureBody, ['signature', 'timestamp']],
    ]
    for (const [base, fields] of cases) {
      for (const field of fields) {
        // smile_client_id names the partner only when partner_id is absent.
        const { partner_id: _ignored, ...withoutPartner } = base
        const body = { ...(field === 'smile_client_id' ? withoutPartner : base), [field]: HUGE }
        // The parsed object, and the same as JSON text (the parse is the only work done on the huge value).
        for (const request of [{ body }, { rawBody: JSON.stringify(body) }]) {
          const result = await refused(request)
          if (!result.ok) expect([field, result.reason]).toEqual([field, 'malformed_credentials'])
        }
      }
    }
    // Beside a genuine signature a huge sec_key is never looked at: the signature alone decides.
    const both = await hostileVerifier().verify({ body: { ...requests.signatureBody, sec_key: HUGE } })
    expect(both.ok && both.warnings).toContain('both_credentials_present')
    for (const name of Object.keys(requests.headers)) {
      const result = await refused({
        body: requests.headersBody,
        headers: { ...requests.headers, [name]: HUGE },
      })
      if (!result.ok) expect([name, result.reason]).toEqual([name, 'malformed_credentials'])
    }
    // Huge garbage that is not JSON at all.
    const result = await refused({ rawBody: `{"signature":"${HUGE}` })
    if (!result.ok) expect(result.reason).toBe('malformed_credentials')
  })

  it('refuses a 10 000-level deep body, as an object and as JSON text', async () => {
    for (const kind of ['object', 'array'] as const) {
      const deep = nested(10_000, kind)
      await refused({ body: { ...requests.signatureBody, signature: deep } })
      await refused({ body: { ...requests.signatureBody, timestamp: deep } })
      await refused({ body: { partner_id: PARTNER, sec_key: deep, timestamp: deep } })
      const deepText = nestedJson(10_000, kind)
      await refused({ rawBody: `{"signature":${deepText},"timestamp":${deepText}}` })
      await refused({ rawBody: deepText })
      await refused({ body: deepText })
      await refused({ body: deep })
    }
    // A genuine credential beside a body too deep to fingerprint: the replay check fails closed.
    const fresh = hostileVerifier()
    const result = await fresh.verify({
      body: { ...requests.signatureBody, extra: nested(10_000, 'object') },
    })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.reason).toBe('replay_check_failed')
  })
})
