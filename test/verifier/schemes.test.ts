import { describe, expect, it } from 'vitest'

import { DualModeVerifier, VerificationError, type VerificationResult } from '../../src/index.js'
import { signatureVectors } from '../support/vectors.js'
import {
  API_KEY,
  NOW,
  NOW_ISO,
  PARTNER,
  dualVerifier,
  expectAccepted,
  expectRejected,
  recordingSink,
  secKeyAuth,
  secKeyBody,
  signatureAuth,
  signatureBody,
} from './helpers.js'

/** Ruby's `Base64.encode64`: a newline every 60 characters and one at the end. */
function mimeWrap(base64: string): string {
  return (base64.match(/.{1,60}/g) ?? []).join('\n') + '\n'
}

describe('DualModeVerifier: both schemes', () => {
  it('accepts a signature in the body and reports scheme, legacy, keyId and transport', async () => {
    const body = await signatureBody({ fields: { partner_id: PARTNER } })
    const result = expectAccepted(await dualVerifier().verify({ body }), 'signature')
    const direct = expectAccepted(
      await signatureAuth().verify({ signature: body.signature, timestamp: body.timestamp }),
      'signature',
    )
    expect(result).toEqual({
      ok: true,
      scheme: 'signature',
      partnerId: PARTNER,
      timestamp: NOW_ISO,
      issuedAt: new Date(NOW),
      keyId: direct.keyId,
      transport: 'body',
      legacy: false,
      duplicate: false,
      warnings: [],
    })
    expect(result.keyId).toMatch(/^hmac:[0-9a-f]{16}$/)
  })

  it('accepts a Smile → partner sec_key in the body and reports it as legacy', async () => {
    const body = await secKeyBody({ fields: { partner_id: PARTNER } })
    const result = expectAccepted(await dualVerifier().verify({ body }), 'sec_key')
    const direct = expectAccepted(
      await secKeyAuth().verify({ sec_key: body.sec_key, timestamp: body.timestamp }),
      'sec_key',
    )
    expect(result).toEqual({
      ok: true,
      scheme: 'sec_key',
      partnerId: PARTNER,
      timestamp: NOW,
      issuedAt: new Date(NOW),
      keyId: direct.keyId,
      transport: 'body',
      legacy: true,
      duplicate: false,
      warnings: [],
    })
    // RFC 7638 thumbprint: 43 characters of base64url, not the key.
    expect(result.keyId).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('accepts the vectors’ signature made by the official SDKs', async () => {
    const vector = signatureVectors().vectors[0]!
    const result = await dualVerifier().verify({
      body: { signature: vector.signature, timestamp: vector.timestamp, partner_id: PARTNER },
    })
    expect(expectAccepted(result, 'signature').timestamp).toBe(vector.timestamp)
  })

  it('reads smile_client_id when partner_id is absent', async () => {
    const body = await secKeyBody({ fields: { smile_client_id: PARTNER } })
    expect(expectAccepted(await dualVerifier().verify({ body }), 'sec_key').partnerId).toBe(PARTNER)
  })

  it('parses a JSON string or bytes body, and rawBody alone', async () => {
    const body = await signatureBody()
    const text = JSON.stringify(body)
    expectAccepted(await dualVerifier().verify({ body: text }), 'signature')
    expectAccepted(await dualVerifier().verify({ body: new TextEncoder().encode(text) }), 'signature')
    expectAccepted(await dualVerifier().verify({ rawBody: text }), 'signature')
  })

  it('rejects a signature made with another key as invalid_signature', async () => {
    const body = await signatureBody({ apiKey: 'not-the-partner-key' })
    expectRejected(await dualVerifier().verify({ body }), 'invalid_signature', 'signature')
  })

  it('rejects a sec_key whose hash half was changed as invalid_sec_key', async () => {
    const body = await secKeyBody()
    const secKey = body.sec_key as string
    const tampered = secKey.slice(0, -1) + (secKey.endsWith('0') ? '1' : '0')
    expectRejected(
      await dualVerifier().verify({ body: { ...body, sec_key: tampered } }),
      'invalid_sec_key',
      'sec_key',
    )
  })

  it('rejects a sec_key made for another timestamp as invalid_sec_key', async () => {
    const body = await secKeyBody()
    expectRejected(
      await dualVerifier().verify({ body: { ...body, timestamp: NOW + 1 } }),
      'invalid_sec_key',
      'sec_key',
    )
  })

  it('rejects a body without credentials as missing_credentials with no scheme', async () => {
    expectRejected(
      await dualVerifier().verify({ body: { partner_id: PARTNER, job_id: 'x' } }),
      'missing_credentials',
      null,
    )
    expectRejected(await dualVerifier().verify({}), 'missing_credentials', null)
  })

  it('rejects a scheme the partner has no strategy for as scheme_not_allowed', async () => {
    const onlySignature = new DualModeVerifier({ signature: signatureAuth(), now: () => NOW })
    expectRejected(await onlySignature.verify({ body: await secKeyBody() }), 'scheme_not_allowed', 'sec_key')
    const onlySecKey = new DualModeVerifier({ secKey: secKeyAuth(), now: () => NOW })
    expectRejected(
      await onlySecKey.verify({ body: await signatureBody() }),
      'scheme_not_allowed',
      'signature',
    )
  })
})

describe('DualModeVerifier: legacy value in the signature field (job_status style)', () => {
  it('detects a <base64>|<64 hex> value in `signature` as a sec_key and verifies it', async () => {
    const { sec_key, timestamp, ...rest } = await secKeyBody()
    const result = await dualVerifier().verify({ body: { ...rest, signature: sec_key, timestamp } })
    const accepted = expectAccepted(result, 'sec_key')
    expect(accepted.transport).toBe('body')
    expect(accepted.legacy).toBe(true)
  })

  it('detects a Ruby MIME-wrapped sec_key in `signature` too', async () => {
    const { sec_key, timestamp } = await secKeyBody({ timestamp: Math.floor(NOW / 1000) })
    const [rsa, hash] = (sec_key as string).split('|')
    const wrapped = `${mimeWrap(rsa!)}|${hash!}`
    expect(wrapped).toContain('\n')
    expectAccepted(await dualVerifier().verify({ body: { signature: wrapped, timestamp } }), 'sec_key')
  })

  it('refuses a forged legacy value in `signature` as invalid_sec_key, not invalid_signature', async () => {
    const { sec_key, timestamp } = await secKeyBody()
    const forged = (sec_key as string).replace(/\|[0-9a-f]{64}$/, `|${'a'.repeat(64)}`)
    expectRejected(
      await dualVerifier().verify({ body: { signature: forged, timestamp } }),
      'invalid_sec_key',
      'sec_key',
    )
  })
})

describe('DualModeVerifier: headers transport', () => {
  async function signatureHeaders() {
    const { signature, timestamp } = await signatureAuth().sign({ timestamp: new Date(NOW) })
    return { signature, timestamp }
  }

  it('reads a plain object in any case', async () => {
    const { signature, timestamp } = await signatureHeaders()
    for (const headers of [
      {
        'SmileID-Request-Signature': signature,
        'SmileID-Timestamp': timestamp,
        'SmileID-Partner-ID': PARTNER,
      },
      {
        'SMILEID-REQUEST-SIGNATURE': signature,
        'smileid-timestamp': timestamp,
        'Smileid-Partner-Id': PARTNER,
      },
      { 'smileid-request-signature': signature, 'SmileId-TimeStamp': timestamp },
    ]) {
      const result = expectAccepted(
        await dualVerifier().verify({ headers, body: { job_id: 'job-1' } }),
        'signature',
      )
      expect(result).toMatchObject({ transport: 'headers', partnerId: PARTNER, timestamp })
    }
  })

  it('reads Node IncomingHttpHeaders (lowercase keys, arrays for duplicates)', async () => {
    const { signature, timestamp } = await signatureHeaders()
    const headers = {
      host: 'localhost',
      'content-type': 'application/json',
      'smileid-request-signature': signature,
      'smileid-timestamp': [timestamp],
      'smileid-partner-id': PARTNER,
      'x-forwarded-for': ['10.0.0.1', '10.0.0.2'],
    }
    const result = expectAccepted(await dualVerifier().verify({ headers, body: {} }), 'signature')
    expect(result.transport).toBe('headers')

    // A credential header sent twice is ambiguous: refuse it rather than pick one.
    const duplicated = { ...headers, 'smileid-request-signature': [signature, signature] }
    const failure = expectRejected(
      await dualVerifier().verify({ headers: duplicated, body: {} }),
      'malformed_credentials',
      null,
    )
    expect(failure.partnerId).toBe(PARTNER)
    const duplicatedPartner = { ...headers, 'smileid-partner-id': [PARTNER, '999'] }
    expectRejected(await dualVerifier().verify({ headers: duplicatedPartner }), 'malformed_credentials', null)
  })

  it('reads Fetch Headers', async () => {
    const { signature, timestamp } = await signatureHeaders()
    const headers = new Headers({
      'SmileID-Request-Signature': signature,
      'SmileID-Timestamp': timestamp,
      'SmileID-Partner-ID': PARTNER,
    })
    const result = expectAccepted(await dualVerifier().verify({ headers }), 'signature')
    expect(result).toMatchObject({ transport: 'headers', partnerId: PARTNER })
  })

  it('rejects a header signature made with another key as invalid_signature', async () => {
    const { timestamp } = await signatureHeaders()
    const wrong = await signatureAuth(PARTNER, 'wrong-key').sign({ timestamp })
    const headers = new Headers({
      'SmileID-Request-Signature': wrong.signature,
      'SmileID-Timestamp': timestamp,
    })
    expectRejected(await dualVerifier().verify({ headers }), 'invalid_signature', 'signature')
  })

  it('rejects a header signature without a timestamp header as missing_credentials', async () => {
    const { signature } = await signatureHeaders()
    expectRejected(
      await dualVerifier().verify({ headers: { 'SmileID-Request-Signature': signature } }),
      'missing_credentials',
      'signature',
    )
  })

  it('attributes by the SmileID-Partner-ID header: another partner is unknown_partner', async () => {
    const { signature, timestamp } = await signatureHeaders()
    const headers = {
      'SmileID-Request-Signature': signature,
      'SmileID-Timestamp': timestamp,
      'SmileID-Partner-ID': '999',
    }
    const failure = expectRejected(await dualVerifier().verify({ headers }), 'unknown_partner', 'signature')
    expect(failure.partnerId).toBe('999')
  })
})

describe('DualModeVerifier: both credentials present (downgrade protection)', () => {
  it('lets a valid signature decide, with a both_credentials_present warning', async () => {
    const signed = await signatureBody()
    const legacy = await secKeyBody({ timestamp: signed.timestamp as string })
    const body = { ...signed, sec_key: legacy.sec_key }
    const result = expectAccepted(await dualVerifier().verify({ body }), 'signature')
    expect(result.warnings).toEqual(['both_credentials_present'])
  })

  it('refuses a failed signature even when the sec_key is valid (no fallback)', async () => {
    const legacy = await secKeyBody({ timestamp: NOW_ISO })
    // The sec_key alone is genuine:
    expectAccepted(await dualVerifier().verify({ body: legacy }), 'sec_key')
    const forged = await signatureAuth(PARTNER, 'attacker-guess').sign({ timestamp: NOW_ISO })
    const body = { ...legacy, signature: forged.signature }
    expectRejected(await dualVerifier().verify({ body }), 'invalid_signature', 'signature')
    // A malformed signature next to a valid sec_key is refused the same way.
    expectRejected(
      await dualVerifier().verify({ body: { ...legacy, signature: 'garbage' } }),
      'malformed_credentials',
      'signature',
    )
  })

  it('refuses a failed header signature next to a valid body sec_key', async () => {
    const legacy = await secKeyBody({ timestamp: NOW_ISO })
    const forged = await signatureAuth(PARTNER, 'attacker-guess').sign({ timestamp: NOW_ISO })
    const headers = { 'SmileID-Request-Signature': forged.signature, 'SmileID-Timestamp': NOW_ISO }
    expectRejected(await dualVerifier().verify({ headers, body: legacy }), 'invalid_signature', 'signature')
  })

  it('warns both_credentials_present for a valid header signature next to a body sec_key', async () => {
    const legacy = await secKeyBody({ timestamp: NOW_ISO })
    const signed = await signatureAuth().sign({ timestamp: NOW_ISO })
    const headers = { 'SmileID-Request-Signature': signed.signature, 'SmileID-Timestamp': NOW_ISO }
    const result = expectAccepted(await dualVerifier().verify({ headers, body: legacy }), 'signature')
    expect(result.transport).toBe('headers')
    expect(result.warnings).toContain('both_credentials_present')
  })

  it('refuses a failed signature next to a valid sec_key in observe mode too', async () => {
    const legacy = await secKeyBody({ timestamp: NOW_ISO })
    const body = {
      ...legacy,
      signature: (await signatureAuth(PARTNER, 'nope').sign({ timestamp: NOW_ISO })).signature,
    }
    const verifier = dualVerifier({ policy: { legacy: 'accept', mode: 'observe' } })
    // Observe mode never softens a cryptographic failure.
    expectRejected(await verifier.verify({ body }), 'invalid_signature', 'signature')
  })
})

describe('DualModeVerifier.verifyOrThrow', () => {
  it('returns the success result', async () => {
    const result = await dualVerifier().verifyOrThrow({ body: await signatureBody() })
    expect(result).toMatchObject({ ok: true, scheme: 'signature' })
  })

  it('throws a VerificationError carrying code and result', async () => {
    const body = await signatureBody({ apiKey: 'wrong' })
    const error = await dualVerifier()
      .verifyOrThrow({ body })
      .then(
        () => expect.fail('expected a VerificationError'),
        (caught: unknown) => caught,
      )
    expect(error).toBeInstanceOf(VerificationError)
    const verificationError = error as VerificationError
    expect(verificationError.code).toBe('invalid_signature')
    expect(verificationError.result).toMatchObject({
      ok: false,
      reason: 'invalid_signature',
      scheme: 'signature',
    })
    expect(verificationError.message).toBe(verificationError.result.message)
  })

  it('throws for a garbage request too, with the reason code', async () => {
    const error = await dualVerifier()
      .verifyOrThrow(null as never)
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(VerificationError)
    expect((error as VerificationError).code).toBe('missing_credentials')
  })
})

describe('DualModeVerifier never throws on what a request carries', () => {
  function deeplyNested(depth: number): unknown {
    let value: unknown = 'leaf'
    for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { next: value } : [value]
    return value
  }

  const garbage: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['an array', []],
    ['a string', 'body'],
    ['a number', 42],
    ['a boolean', true],
    ['a function', () => 1],
    ['body null', { body: null }],
    ['body an array', { body: [1, 2] }],
    ['body a number', { body: 7 }],
    ['body not JSON', { body: '{"signature": ' }],
    ['body JSON but not an object', { body: '"text"' }],
    ['body bytes not JSON', { body: new Uint8Array([0xff, 0xfe, 0x00]) }],
    ['rawBody not JSON', { rawBody: 'not json at all' }],
    ['headers a string', { headers: 'SmileID-Request-Signature: x' }],
    ['headers a number', { headers: 5 }],
    [
      'headers with a throwing get',
      {
        headers: {
          get: () => {
            throw new Error('boom')
          },
        },
      },
    ],
    [
      'headers values of odd types',
      { headers: { 'smileid-request-signature': { nested: true }, 'smileid-timestamp': 5 } },
    ],
    ['signature a number', { body: { signature: 123, timestamp: NOW_ISO } }],
    ['signature an object', { body: { signature: { a: 1 }, timestamp: NOW_ISO } }],
    ['sec_key an array', { body: { sec_key: ['a|b'], timestamp: NOW } }],
    ['timestamp an object', { body: { signature: 'x'.repeat(43) + '=', timestamp: { t: 1 } } }],
    [
      'partner_id an object',
      { body: { signature: 'x'.repeat(43) + '=', timestamp: NOW_ISO, partner_id: { id: 1 } } },
    ],
    ['huge signature', { body: { signature: 'A'.repeat(1_000_000), timestamp: NOW_ISO } }],
    ['huge sec_key', { body: { sec_key: 'A'.repeat(1_000_000) + '|' + 'a'.repeat(64), timestamp: NOW } }],
    ['deeply nested body', { body: { signature: 'x', timestamp: NOW_ISO, deep: deeplyNested(5000) } }],
    ['deeply nested JSON text', { body: '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}' }],
  ]

  it.each(garbage)('returns a failure for %s', async (_, request) => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ audit: sink })
    const result: VerificationResult = await verifier.verify(request as never)
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect([
        'missing_credentials',
        'malformed_credentials',
        'invalid_signature',
        'invalid_sec_key',
      ]).toContain(result.reason)
    }
    expect(events).toHaveLength(1)
    expect(events[0]!.outcome).toBe('rejected')
  })

  it('accepts a genuine credential in a deeply nested body', async () => {
    const body = { ...(await signatureBody()), deep: deeplyNested(5000) }
    expectAccepted(await dualVerifier().verify({ body }), 'signature')
  })

  it('classifies a missing body and a non-object body by reason', async () => {
    expectRejected(await dualVerifier().verify(null as never), 'missing_credentials', null)
    expectRejected(await dualVerifier().verify({ body: '{"signature": ' }), 'malformed_credentials', null)
    expectRejected(await dualVerifier().verify({ body: [1] }), 'malformed_credentials', null)
  })

  it('keeps the api key out of every failure above', async () => {
    const verifier = dualVerifier()
    for (const [, request] of garbage) {
      const result = await verifier.verify(request as never)
      expect(JSON.stringify(result)).not.toContain(API_KEY)
    }
  })
})
