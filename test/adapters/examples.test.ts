/**
 * Starts the examples in examples/ and hits them over loopback HTTP (Express, Fastify, Hono behind a
 * node:http bridge), or calls them as their platform would (the Next.js route handler, the Worker).
 * The examples import the package by name, so this runs against the built dist/ (`npm test` builds first).
 */
import { createServer } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DualModeVerifier } from 'smileid-auth-shim'
import { createTestKeys, SmileServerSimulator } from 'smileid-auth-shim/testing'
import { createApp as createExpressApp } from '../../examples/express.js'
import { createApp as createFastifyApp } from '../../examples/fastify.js'
import { createApp as createHonoApp } from '../../examples/hono.js'
import { verifierFromEnv } from '../../examples/verifier.js'
import { listen, post, serveFetch, type Running } from '../support/http.js'

const keys = createTestKeys({ partnerId: '085' })
const smile = new SmileServerSimulator(keys)
const SUNSET = '2031-01-01T00:00:00.000Z'
const env = {
  SMILEID_PARTNER_ID: keys.partnerId,
  SMILEID_API_KEY: keys.signatureApiKey,
  SMILEID_SEC_KEY_API_KEY: keys.secKeyApiKey,
  SMILEID_LEGACY_SUNSET: SUNSET,
}

type Send = (body: string) => Promise<{ status: number; json: unknown; headers: Record<string, string> }>

async function expectBehaves(send: Send): Promise<void> {
  const signed = await smile.callbackBody({ scheme: 'signature' })
  const ok = await send(JSON.stringify(signed))
  expect(ok.status).toBe(200)
  expect(ok.json).toEqual({ received: signed.SmileJobID, result: '1012', scheme: 'signature' })

  const legacy = await smile.callbackBody({ scheme: 'sec_key', result: 'rejected' })
  const legacyReply = await send(JSON.stringify(legacy))
  expect(legacyReply.status).toBe(200)
  expect(legacyReply.json).toEqual({ received: legacy.SmileJobID, result: '1013', scheme: 'sec_key' })
  expect(legacyReply.headers.sunset).toBe(new Date(SUNSET).toUTCString())

  const forged = { ...signed, ResultCode: '1012', timestamp: new Date().toISOString() }
  const refused = await send(JSON.stringify(forged))
  expect(refused.status).toBe(401)
  expect(refused.json).toEqual({ error: 'invalid_signature' })

  // Authentic, but not an Enhanced KYC callback: the examples' body schema refuses it.
  const untyped = await smile.callbackBody({
    scheme: 'signature',
    result: { ResultCode: 1012 as unknown as string },
  })
  const invalid = await send(JSON.stringify(untyped))
  expect(invalid.status).toBe(400)
  expect(invalid.json).toEqual({ error: 'invalid_body' })

  // The replay store: the same callback again is a redelivery, accepted once more (duplicate).
  const again = await send(JSON.stringify(signed))
  expect(again.status).toBe(200)
}

describe('examples over HTTP', () => {
  let verifier: DualModeVerifier
  const running: Running[] = []
  beforeAll(() => {
    verifier = verifierFromEnv(env)
  })
  afterAll(async () => {
    await Promise.all(running.map((server) => server.close()))
  })

  it('examples/express.ts', async () => {
    const server = await listen(createServer(createExpressApp(verifier)))
    running.push(server)
    await expectBehaves((body) => post(`${server.url}/smile/callback`, body))
  })

  it('examples/fastify.ts', async () => {
    const app = await createFastifyApp(verifier)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    running.push({ url: '', close: () => app.close() })
    await expectBehaves((body) => post(`http://127.0.0.1:${port}/smile/callback`, body))
    const health = await fetch(`http://127.0.0.1:${port}/health`)
    expect(await health.json()).toEqual({ ok: true })
  })

  it('examples/hono.ts (app.fetch behind node:http)', async () => {
    const app = createHonoApp(verifier)
    const server = await serveFetch((request) => app.fetch(request))
    running.push(server)
    await expectBehaves((body) => post(`${server.url}/smile/callback`, body))
    const notJson = await post(`${server.url}/smile/callback`, '{')
    expect(notJson.status).toBe(400)
    expect(notJson.json).toEqual({ error: 'invalid_json' })
  })
})

async function callFetchHandler(handler: (request: Request) => Promise<Response>, body: string) {
  const response = await handler(
    new Request('https://partner.example/smile/callback', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    }),
  )
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => (headers[name] = value))
  return { status: response.status, json: (await response.json()) as unknown, headers }
}

describe('examples called as their platform calls them', () => {
  it('examples/nextjs-route.ts: POST(request)', async () => {
    Object.assign(process.env, env)
    const { POST } = await import('../../examples/nextjs-route.js')
    for (const name of Object.keys(env)) delete process.env[name]
    await expectBehaves((body) => callFetchHandler((request) => POST(request), body))
  })

  it('examples/worker.ts: fetch(request, env)', async () => {
    const worker = (await import('../../examples/worker.js')).default
    const bindings = env
    await expectBehaves((body) => callFetchHandler((request) => worker.fetch(request, bindings), body))
    const other = await worker.fetch(new Request('https://partner.example/elsewhere'), bindings)
    expect(other.status).toBe(404)
  })
})
