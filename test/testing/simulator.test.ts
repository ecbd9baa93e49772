import { createPrivateKey, createPublicKey } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigurationError } from '../../src/errors.js'
import { LegacySecKeyAuth } from '../../src/schemes/sec-key.js'
import { SignatureAuth } from '../../src/schemes/signature.js'
import { createTestKeys, SmileServerSimulator } from '../../src/testing/index.js'
import { DualModeVerifier } from '../../src/verifier/dual-mode.js'

const keys = createTestKeys()
const partnerSignature = new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey })
const partnerSecKey = new LegacySecKeyAuth({ partnerId: keys.partnerId, apiKey: keys.secKeyApiKey })

describe('createTestKeys', () => {
  it('makes portal-shaped keys for partner 085 with a 1024-bit RSA pair by default', () => {
    expect(keys.partnerId).toBe('085')
    expect(keys.signatureApiKey).toMatch(/^[0-9a-f]{64}$/)
    const pem = Buffer.from(keys.secKeyApiKey, 'base64').toString('utf8')
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/)
    expect(keys.secKeyPrivateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    const publicKey = createPublicKey(pem)
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(1024)
    // The pair matches: the public key derived from the private one is the same.
    expect(
      createPublicKey(createPrivateKey(keys.secKeyPrivateKey)).export({ type: 'spki', format: 'pem' }),
    ).toBe(pem)
  })

  it('makes fresh keys every time, and 2048-bit ones on request', () => {
    const other = createTestKeys({ partnerId: '2343', modulusLength: 2048 })
    expect(other.partnerId).toBe('2343')
    expect(other.signatureApiKey).not.toBe(keys.signatureApiKey)
    expect(other.secKeyApiKey).not.toBe(keys.secKeyApiKey)
    const pem = Buffer.from(other.secKeyApiKey, 'base64').toString('utf8')
    expect(createPublicKey(pem).asymmetricKeyDetails?.modulusLength).toBe(2048)
  })

  it.each([{ partnerId: '' }, { modulusLength: 512 as never }])(
    'refuses %o with invalid_options',
    (options) => {
      expect(() => createTestKeys(options)).toThrow(ConfigurationError)
      try {
        createTestKeys(options)
      } catch (error) {
        expect((error as ConfigurationError).code).toBe('invalid_options')
      }
    },
  )
})

describe('SmileServerSimulator.callbackBody', () => {
  const smile = new SmileServerSimulator(keys)

  it('signs a signature callback with an ISO timestamp that the partner verifies', async () => {
    const body = await smile.callbackBody({ scheme: 'signature' })
    expect(body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(body.sec_key).toBeUndefined()
    expect(await partnerSignature.verify(body)).toMatchObject({ ok: true, scheme: 'signature' })
  })

  it('signs a legacy callback as Smile does: type-1 with a millisecond number timestamp', async () => {
    const before = Date.now()
    const body = await smile.callbackBody({ scheme: 'sec_key' })
    expect(typeof body.timestamp).toBe('number')
    expect(body.timestamp as number).toBeGreaterThanOrEqual(before)
    expect(body.signature).toBeUndefined()
    // Verifiable with the public key alone, so it is the deterministic type-1 form.
    expect(await partnerSecKey.verify(body)).toMatchObject({ ok: true, scheme: 'sec_key' })
    const again = await smile.callbackBody({ scheme: 'sec_key', timestamp: body.timestamp })
    expect(again.sec_key).toBe(body.sec_key)
  })

  it('has the fields of a real callback', async () => {
    const body = await smile.callbackBody({ scheme: 'signature' })
    expect(body).toMatchObject({
      ResultCode: '1012',
      ResultText: expect.any(String),
      SmileJobID: expect.stringMatching(/^\d{10}$/),
      PartnerParams: {
        job_id: expect.any(String),
        user_id: expect.any(String),
        job_type: expect.any(Number),
      },
      Actions: expect.any(Object),
      partner_id: '085',
      source_sdk: 'rest_api',
      source_sdk_version: expect.any(String),
    })
    const next = await smile.callbackBody({ scheme: 'signature' })
    expect(next.SmileJobID).not.toBe(body.SmileJobID)
  })

  it('takes a rejected preset, or fields to merge', async () => {
    expect(await smile.callbackBody({ scheme: 'sec_key', result: 'rejected' })).toMatchObject({
      ResultCode: '1013',
    })
    const custom = await smile.callbackBody({
      scheme: 'signature',
      result: { ResultCode: '1022', Extra: true },
    })
    expect(custom).toMatchObject({ ResultCode: '1022', Extra: true, ResultText: 'Valid ID Number' })
    expect(await partnerSignature.verify(custom)).toMatchObject({ ok: true })
    const sdk = await smile.callbackBody({
      scheme: 'sec_key',
      result: { source_sdk: 'python', source_sdk_version: '1.0.2', sec_key: 'not mine', timestamp: 1 },
    })
    expect(sdk).toMatchObject({ source_sdk: 'python', source_sdk_version: '1.0.2' })
    expect(await partnerSecKey.verify(sdk)).toMatchObject({ ok: true })
  })

  it('echoes a given timestamp in either scheme', async () => {
    const signed = await smile.callbackBody({ scheme: 'signature', timestamp: '2024-05-06T07:08:09+00:00' })
    expect(signed.timestamp).toBe('2024-05-06T07:08:09+00:00')
    expect(await partnerSignature.verify(signed)).toMatchObject({ ok: true })
    const legacy = await smile.callbackBody({ scheme: 'sec_key', timestamp: 1_700_000_000 })
    expect(legacy.timestamp).toBe(1_700_000_000)
    expect(await partnerSecKey.verify(legacy)).toMatchObject({ ok: true })
  })

  it('follows its clock', async () => {
    const fixed = new SmileServerSimulator(keys, { now: () => Date.UTC(2024, 0, 1) })
    expect((await fixed.callbackBody({ scheme: 'signature' })).timestamp).toBe('2024-01-01T00:00:00.000Z')
    expect((await fixed.callbackBody({ scheme: 'sec_key' })).timestamp).toBe(Date.UTC(2024, 0, 1))
  })

  it('is accepted by a DualModeVerifier in both schemes', async () => {
    const verifier = new DualModeVerifier({ signature: partnerSignature, secKey: partnerSecKey })
    for (const scheme of ['signature', 'sec_key'] as const) {
      const result = await verifier.verify({ body: await smile.callbackBody({ scheme }) })
      expect(result).toMatchObject({ ok: true, scheme, legacy: scheme === 'sec_key' })
    }
  })

  it('is refused by a partner holding other keys', async () => {
    const stranger = createTestKeys()
    const body = await new SmileServerSimulator(stranger).callbackBody({ scheme: 'sec_key' })
    expect(await partnerSecKey.verify(body)).toMatchObject({ ok: false, reason: 'invalid_sec_key' })
    const signed = await new SmileServerSimulator(stranger).callbackBody({ scheme: 'signature' })
    expect(await partnerSignature.verify(signed)).toMatchObject({ ok: false, reason: 'invalid_signature' })
  })

  it('refuses an unknown scheme with invalid_options', async () => {
    await expect(smile.callbackBody({ scheme: 'hmac' as never })).rejects.toMatchObject({
      code: 'invalid_options',
    })
  })
})

describe('SmileServerSimulator.verifyPartnerRequest', () => {
  const now = Date.UTC(2025, 5, 1)
  const smile = new SmileServerSimulator(keys, { now: () => now })

  it('accepts a type-2 sec_key and a signature from the partner', async () => {
    const legacy = await partnerSecKey.sign({ timestamp: now })
    expect(await smile.verifyPartnerRequest({ ...legacy, partner_id: '085' })).toMatchObject({
      ok: true,
      scheme: 'sec_key',
    })
    const signed = await partnerSignature.sign({ timestamp: new Date(now) })
    expect(await smile.verifyPartnerRequest({ ...signed, partner_id: '085' })).toMatchObject({
      ok: true,
      scheme: 'signature',
    })
  })

  it('accepts the signature in the SmileID-* headers, as a Headers object or a plain object', async () => {
    const { signature, timestamp } = await partnerSignature.sign({ timestamp: new Date(now) })
    const plain = {
      'SmileID-Partner-ID': '085',
      'SmileID-Request-Signature': signature,
      'SmileID-Timestamp': timestamp,
    }
    for (const headers of [plain, new Headers(plain)]) {
      expect(await smile.verifyPartnerRequest({}, { headers })).toMatchObject({
        ok: true,
        transport: 'headers',
      })
    }
  })

  it('refuses a type-1 sec_key (what Smile sends, not what partners send)', async () => {
    const body = await smile.callbackBody({ scheme: 'sec_key' })
    expect(await smile.verifyPartnerRequest(body)).toMatchObject({ ok: false, reason: 'invalid_sec_key' })
  })

  it.each([
    ['no credentials', { partner_id: '085' }, 'missing_credentials'],
    ['no partner id', 'nopartner', 'missing_credentials'],
    ['another partner', 'other', 'unknown_partner'],
    ['a stale timestamp', 'stale', 'timestamp_expired'],
    ['a forged signature', 'forged', 'invalid_signature'],
  ])('refuses %s', async (_name, variant, reason) => {
    let body: unknown = variant
    if (typeof variant === 'string') {
      const stamp = variant === 'stale' ? new Date(now - 10 * 60_000) : new Date(now)
      const signed: Record<string, unknown> = {
        ...(await partnerSignature.sign({ timestamp: stamp })),
        partner_id: '085',
      }
      if (variant === 'nopartner') delete signed.partner_id
      if (variant === 'other') signed.partner_id = '086'
      if (variant === 'forged') signed.timestamp = new Date(now + 1).toISOString()
      body = signed
    }
    expect(await smile.verifyPartnerRequest(body)).toMatchObject({ ok: false, reason })
  })

  it('accepts the digits of the same partner for sec_key ("85" for "085")', async () => {
    const legacy = await partnerSecKey.sign({ timestamp: now })
    expect(await smile.verifyPartnerRequest({ ...legacy, partner_id: '85' })).toMatchObject({ ok: true })
  })

  it('reads "85" as partner 085 for signature too, as the verifier does', async () => {
    const signed = await partnerSignature.sign({ timestamp: new Date(now) })
    for (const partner_id of ['85', '0085', 85]) {
      expect(await smile.verifyPartnerRequest({ ...signed, partner_id })).toMatchObject({
        ok: true,
        scheme: 'signature',
        partnerId: '085',
      })
    }
  })

  it.each([
    ['partner_id and smile_client_id', { partner_id: '085', smile_client_id: '212' }, {}],
    ['partner_id and the header, body transport', { partner_id: '085' }, { 'SmileID-Partner-ID': '212' }],
    ['smile_client_id and the header', { smile_client_id: '212' }, { 'SmileID-Partner-ID': '085' }],
  ])('refuses conflicting partner claims (%s) as malformed_credentials', async (_name, claims, headers) => {
    // Before, the simulator took the first claim it found and accepted what the verifier refuses.
    const signed = await partnerSignature.sign({ timestamp: new Date(now) })
    const legacy = await partnerSecKey.sign({ timestamp: now })
    for (const credentials of [signed, legacy]) {
      expect(await smile.verifyPartnerRequest({ ...credentials, ...claims }, { headers })).toMatchObject({
        ok: false,
        reason: 'malformed_credentials',
        partnerId: null,
      })
    }
  })

  it('classifies a sec_key sent in a field named signature by its shape', async () => {
    const { sec_key, timestamp } = await partnerSecKey.sign({ timestamp: now })
    expect(
      await smile.verifyPartnerRequest({ signature: sec_key, timestamp, partner_id: '085' }),
    ).toMatchObject({ ok: true, scheme: 'sec_key' })
  })

  it('never throws, whatever it is given', async () => {
    const throwing = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom')
        },
      },
    )
    for (const [body, options] of [
      [throwing, undefined],
      [{ signature: 'x', timestamp: 't', partner_id: '085' }, throwing],
      [null, null],
      [42, { headers: throwing }],
    ] as const) {
      const result = await smile.verifyPartnerRequest(body, options as never)
      expect(result.ok).toBe(false)
      expect(['malformed_credentials', 'missing_credentials']).toContain(
        (result as { reason: string }).reason,
      )
    }
  })

  it('skips freshness when told to', async () => {
    const lenient = new SmileServerSimulator(keys, { now: () => now, freshness: false })
    const old = await partnerSignature.sign({ timestamp: '2001-01-01T00:00:00.000Z' })
    expect(await lenient.verifyPartnerRequest({ ...old, partner_id: '085' })).toMatchObject({ ok: true })
  })
})

describe('SmileServerSimulator.listen', () => {
  let smile: SmileServerSimulator
  afterEach(async () => {
    await smile.close()
  })

  it('answers like Smile ID and records each request', async () => {
    smile = new SmileServerSimulator(keys)
    const { url, port } = await smile.listen()
    expect(url).toBe(`http://127.0.0.1:${port}`)
    expect(smile.url).toBe(url)

    const signed = { ...(await partnerSignature.sign()), partner_id: '085', job: 1 }
    const ok = await fetch(`${url}/v1/id_verification`, { method: 'POST', body: JSON.stringify(signed) })
    expect(ok.status).toBe(200)
    const answer = (await ok.json()) as Record<string, unknown>
    // Smile ID signs its answers in the scheme the partner used.
    expect(await partnerSignature.verify(answer)).toMatchObject({ ok: true })

    const legacy = { ...(await partnerSecKey.sign()), partner_id: '085' }
    const legacyAnswer = (await (
      await fetch(`${url}/v1/upload`, { method: 'POST', body: JSON.stringify(legacy) })
    ).json()) as Record<string, unknown>
    expect(await partnerSecKey.verify(legacyAnswer)).toMatchObject({ ok: true, scheme: 'sec_key' })

    const refused = await fetch(`${url}/v1/id_verification`, {
      method: 'POST',
      body: JSON.stringify({ partner_id: '085' }),
    })
    expect(refused.status).toBe(401)
    expect(await refused.json()).toEqual({ code: '2205', error: 'You are not authorized to do that.' })

    const notJson = await fetch(`${url}/v1/id_verification`, { method: 'POST', body: '{nope' })
    expect(notJson.status).toBe(400)

    expect(smile.requests.map((r) => [r.method, r.url, r.status])).toEqual([
      ['POST', '/v1/id_verification', 200],
      ['POST', '/v1/upload', 200],
      ['POST', '/v1/id_verification', 401],
      ['POST', '/v1/id_verification', 400],
    ])
    expect(smile.requests[0]!.body).toEqual(signed)
    expect(smile.requests[0]!.result).toMatchObject({ ok: true, scheme: 'signature' })
    expect(smile.requests[2]!.result).toMatchObject({ ok: false, reason: 'missing_credentials' })
  })

  it('answers 413 above its limit', async () => {
    smile = new SmileServerSimulator(keys, { limit: 1024 })
    const { url } = await smile.listen()
    const reply = await fetch(url, { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(4096) }) })
    expect(reply.status).toBe(413)
    expect(smile.requests[0]!.status).toBe(413)
  })

  it('refuses to listen twice, and closes cleanly', async () => {
    smile = new SmileServerSimulator(keys)
    await smile.listen()
    await expect(smile.listen()).rejects.toMatchObject({ code: 'invalid_options' })
    await smile.close()
    expect(smile.url).toBeUndefined()
    await smile.close()
  })
})
