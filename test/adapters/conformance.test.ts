/**
 * One conformance suite, run against every adapter over real HTTP on 127.0.0.1 (and the fetch handler
 * also directly with `Request` objects). Callbacks come from the test kit's Smile server simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEvent } from '../../src/audit/events.js'
import { LegacySecKeyAuth } from '../../src/schemes/sec-key.js'
import { SignatureAuth } from '../../src/schemes/signature.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { SmileServerSimulator } from '../../src/testing/simulator.js'
import { DualModeVerifier } from '../../src/verifier/dual-mode.js'
import type { ReplayOutcome, ReplayStore } from '../../src/replay/store.js'
import type { BodySchema } from '../../src/adapters/body-schema.js'
import { enhancedKycCallbackSchema } from '../../src/schemas/index.js'
import { ROUTE, seen, startAdapter, TARGETS, type StartedAdapter } from '../support/adapters.js'

const LIMIT = 64 * 1024
const SUNSET = new Date('2031-03-01T00:00:00.000Z')

const keys = createTestKeys({ partnerId: '085' })
const smile = new SmileServerSimulator(keys)
const events: AuditEvent[] = []
const verifier = new DualModeVerifier({
  signature: new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey }),
  secKey: new LegacySecKeyAuth({ partnerId: keys.partnerId, apiKey: keys.secKeyApiKey }),
  policy: { legacySunsetAt: SUNSET },
  audit: (event) => void events.push(event),
})

/** A replay store that can be switched off, as a Redis outage would. */
class SwitchableStore implements ReplayStore {
  down = false
  remember(): Promise<ReplayOutcome> {
    return this.down ? Promise.reject(new Error('store unreachable')) : Promise.resolve('new')
  }
}

// Two partners with their own sunsets laid over the verifier's: the headers must carry the partner's date.
const PARTNER_SUNSET = new Date('2030-07-01T00:00:00.000Z')
const keys212 = createTestKeys({ partnerId: '212' })
const smile212 = new SmileServerSimulator(keys212)
const store = new SwitchableStore()
const fleet = new DualModeVerifier({
  partners: {
    '085': {
      signature: new SignatureAuth({ partnerId: '085', apiKey: keys.signatureApiKey }),
      secKey: new LegacySecKeyAuth({ partnerId: '085', apiKey: keys.secKeyApiKey }),
      policy: { legacySunsetAt: PARTNER_SUNSET },
    },
    '212': {
      signature: new SignatureAuth({ partnerId: '212', apiKey: keys212.signatureApiKey }),
      secKey: new LegacySecKeyAuth({ partnerId: '212', apiKey: keys212.secKeyApiKey }),
    },
  },
  policy: { legacySunsetAt: SUNSET },
  replay: store,
})

/** Flips one character of a base64 signature, keeping it well-formed. */
function forge(signature: string): string {
  const first = signature[0] === 'A' ? 'B' : 'A'
  return first + signature.slice(1)
}

describe.each(TARGETS)('adapter conformance: $title', (target) => {
  let server: StartedAdapter
  beforeAll(async () => {
    server = await startAdapter(target.name, verifier, { limit: LIMIT, answer: seen })
  })
  afterAll(async () => {
    await server.close()
  })

  it('accepts a signature callback and the handler sees the scheme and the body', async () => {
    const body = await smile.callbackBody({ scheme: 'signature' })
    const reply = await server.send(JSON.stringify(body))
    expect(reply.status).toBe(200)
    expect(reply.json).toEqual({ scheme: 'signature', transport: 'body', job: body.SmileJobID })
    expect(reply.headers.deprecation).toBeUndefined()
    expect(reply.headers.sunset).toBeUndefined()
  })

  it('accepts a legacy sec_key callback and announces the sunset (RFC 9745 / RFC 8594)', async () => {
    const body = await smile.callbackBody({ scheme: 'sec_key' })
    expect(typeof body.timestamp).toBe('number')
    const reply = await server.send(JSON.stringify(body))
    expect(reply.status).toBe(200)
    expect(reply.json).toEqual({ scheme: 'sec_key', transport: 'body', job: body.SmileJobID })
    expect(reply.headers.deprecation).toBe(`@${SUNSET.getTime() / 1000}`)
    expect(reply.headers.sunset).toBe('Sat, 01 Mar 2031 00:00:00 GMT')
  })

  it('accepts the signature in the SmileID-* headers', async () => {
    const { signature, timestamp } = await new SignatureAuth({
      partnerId: keys.partnerId,
      apiKey: keys.signatureApiKey,
    }).sign()
    const reply = await server.send(JSON.stringify({ SmileJobID: '0000000777' }), {
      headers: {
        'SmileID-Partner-ID': keys.partnerId,
        'SmileID-Request-Signature': signature,
        'SmileID-Timestamp': timestamp,
      },
    })
    expect(reply.status).toBe(200)
    expect(reply.json).toEqual({ scheme: 'signature', transport: 'headers', job: '0000000777' })
  })

  it('refuses a forged signature with 401 invalid_signature and nothing else in the body', async () => {
    const body = await smile.callbackBody({ scheme: 'signature' })
    body.signature = forge(body.signature!)
    const reply = await server.send(JSON.stringify(body))
    expect(reply.status).toBe(401)
    expect(reply.json).toEqual({ error: 'invalid_signature' })
  })

  it('refuses a forged sec_key with 401 invalid_sec_key', async () => {
    const body = await smile.callbackBody({ scheme: 'sec_key' })
    body.timestamp = (body.timestamp as number) + 1
    const reply = await server.send(JSON.stringify(body))
    expect(reply.status).toBe(401)
    expect(reply.json).toEqual({ error: 'invalid_sec_key' })
  })

  it('refuses a callback without credentials with 401 missing_credentials', async () => {
    const {
      signature: _signature,
      timestamp: _timestamp,
      ...body
    } = await smile.callbackBody({ scheme: 'signature' })
    const reply = await server.send(JSON.stringify(body))
    expect(reply.status).toBe(401)
    expect(reply.json).toEqual({ error: 'missing_credentials' })
  })

  it('refuses malformed JSON with 400', async () => {
    const reply = await server.send('{"signature": "abc", ')
    expect(reply.status).toBe(400)
    expect(reply.json?.[target.bodyErrors.field]).toBe(target.bodyErrors.invalidJson)
  })

  it('refuses a body over the limit with 413 (declared length)', async () => {
    const body = await smile.callbackBody({ scheme: 'signature' })
    const reply = await server.send(JSON.stringify({ ...body, padding: 'x'.repeat(LIMIT) }))
    expect(reply.status).toBe(413)
    expect(reply.json?.[target.bodyErrors.tooLargeField ?? target.bodyErrors.field]).toBe(
      target.bodyErrors.tooLarge,
    )
  })

  it('refuses a body over the limit with 413 (chunked, no declared length)', async () => {
    const body = await smile.callbackBody({ scheme: 'signature' })
    const reply = await server.send(JSON.stringify({ ...body, padding: 'x'.repeat(2 * LIMIT) }), {
      chunked: true,
    })
    expect(reply.status).toBe(413)
    expect(reply.json?.[target.bodyErrors.tooLargeField ?? target.bodyErrors.field]).toBe(
      target.bodyErrors.tooLarge,
    )
  })

  it('accepts a body just under the limit', async () => {
    const body = await smile.callbackBody({ scheme: 'signature' })
    const padding = 'x'.repeat(LIMIT - JSON.stringify(body).length - 20)
    const reply = await server.send(JSON.stringify({ ...body, padding }), { chunked: true })
    expect(reply.status).toBe(200)
    expect(reply.json?.scheme).toBe('signature')
  })

  it('gives the verifier the route and the client address for the audit trail', async () => {
    const body = await smile.callbackBody({ scheme: 'signature' })
    events.length = 0
    const reply = await server.send(JSON.stringify(body))
    expect(reply.status).toBe(200)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      direction: 'incoming',
      outcome: 'accepted',
      route: ROUTE,
      source_sdk: 'rest_api',
    })
    if (target.seesSourceIp) expect(events[0]!.sourceIp).toMatch(/127\.0\.0\.1$/)
    else expect(events[0]!.sourceIp).toBeNull()
  })
})

describe.each(TARGETS)('adapter conformance, fleet verifier: $title', (target) => {
  let server: StartedAdapter
  beforeAll(async () => {
    server = await startAdapter(target.name, fleet, { limit: LIMIT, answer: seen })
  })
  afterAll(async () => {
    store.down = false
    await server.close()
  })

  it('answers replay_check_failed with 503 and Retry-After, so the sender retries', async () => {
    store.down = true
    try {
      for (const scheme of ['signature', 'sec_key'] as const) {
        const body = await smile.callbackBody({ scheme })
        const reply = await server.send(JSON.stringify(body))
        expect(reply.status).toBe(503)
        expect(reply.json).toEqual({ error: 'replay_check_failed' })
        expect(reply.headers['retry-after']).toMatch(/^[1-9]\d*$/)
      }
    } finally {
      store.down = false
    }
    // Once the store is back the same kind of request goes through.
    const body = await smile.callbackBody({ scheme: 'signature' })
    const reply = await server.send(JSON.stringify(body))
    expect(reply.status).toBe(200)
    expect(reply.headers['retry-after']).toBeUndefined()
  })

  it("announces the partner's own sunset, not the verifier's", async () => {
    const own = await server.send(JSON.stringify(await smile.callbackBody({ scheme: 'sec_key' })))
    expect(own.status).toBe(200)
    expect(own.json).toMatchObject({ scheme: 'sec_key' })
    expect(own.headers.sunset).toBe(PARTNER_SUNSET.toUTCString())
    expect(own.headers.deprecation).toBe(`@${PARTNER_SUNSET.getTime() / 1000}`)

    // Partner 212 has no sunset of its own: it inherits the verifier's.
    const inherited = await server.send(JSON.stringify(await smile212.callbackBody({ scheme: 'sec_key' })))
    expect(inherited.status).toBe(200)
    expect(inherited.headers.sunset).toBe(SUNSET.toUTCString())
  })

  it('a forged credential still answers 401 while the store is down (crypto runs first)', async () => {
    store.down = true
    try {
      const body = await smile.callbackBody({ scheme: 'signature' })
      body.signature = forge(body.signature!)
      const reply = await server.send(JSON.stringify(body))
      expect(reply.status).toBe(401)
      expect(reply.json).toEqual({ error: 'invalid_signature' })
      expect(reply.headers['retry-after']).toBeUndefined()
    } finally {
      store.down = false
    }
  })
})

/** The Enhanced KYC schema, counting its calls and marking its output so the handler can show it got it. */
let schemaCalls = 0
const markedSchema: BodySchema = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate(value) {
      schemaCalls++
      const result = enhancedKycCallbackSchema['~standard'].validate(value)
      if (result instanceof Promise) throw new Error('zod checks this schema synchronously')
      return result.issues ? result : { value: { ...result.value, __checked: true } }
    },
  },
}

describe.each(TARGETS)('adapter conformance, body schema: $title', (target) => {
  let server: StartedAdapter
  beforeAll(async () => {
    server = await startAdapter(target.name, verifier, { limit: LIMIT, body: markedSchema, answer: seen })
  })
  afterAll(async () => {
    await server.close()
  })

  it("hands the handler the schema's output for a verified body that matches", async () => {
    for (const scheme of ['signature', 'sec_key'] as const) {
      const body = await smile.callbackBody({ scheme })
      const reply = await server.send(JSON.stringify(body))
      expect(reply.status).toBe(200)
      expect(reply.json).toEqual({ scheme, transport: 'body', job: body.SmileJobID, checked: true })
    }
  })

  it('answers 400 invalid_body, and nothing else, for a verified body that fails the schema', async () => {
    const body = await smile.callbackBody({
      scheme: 'signature',
      result: { ResultCode: 1012 as unknown as string },
    })
    const reply = await server.send(JSON.stringify(body))
    expect(reply.status).toBe(400)
    expect(reply.json).toEqual({ error: 'invalid_body' })
  })

  it('legacy requests that fail the schema still carry the sunset headers', async () => {
    const body = await smile.callbackBody({
      scheme: 'sec_key',
      result: { SmileJobID: 7 as unknown as string },
    })
    const reply = await server.send(JSON.stringify(body))
    expect(reply.status).toBe(400)
    expect(reply.json).toEqual({ error: 'invalid_body' })
    expect(reply.headers.sunset).toBe(SUNSET.toUTCString())
  })

  it('never runs the schema for a request that does not authenticate (401 first)', async () => {
    const body = await smile.callbackBody({
      scheme: 'signature',
      result: { ResultCode: 1012 as unknown as string },
    })
    body.signature = forge(body.signature!)
    const before = schemaCalls
    const reply = await server.send(JSON.stringify(body))
    expect(reply.status).toBe(401)
    expect(reply.json).toEqual({ error: 'invalid_signature' })
    expect(schemaCalls).toBe(before)
  })
})
