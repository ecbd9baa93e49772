/**
 * What is particular to each adapter: body-parser variants, encapsulation, hooks, option checks.
 */
import { createServer } from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { smileIdAuth as expressAuth } from '../../src/adapters/express.js'
import { smileIdAuth as fastifyAuth } from '../../src/adapters/fastify.js'
import { rejectionResponse, verifyRequest, withSmileIdAuth } from '../../src/adapters/fetch.js'
import { sendRejection, verifyIncomingMessage } from '../../src/adapters/node.js'
import { ConfigurationError } from '../../src/errors.js'
import { LegacySecKeyAuth } from '../../src/schemes/sec-key.js'
import { SignatureAuth } from '../../src/schemes/signature.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { SmileServerSimulator } from '../../src/testing/simulator.js'
import { DualModeVerifier } from '../../src/verifier/dual-mode.js'
import { callFetch, listen, post, type Running } from '../support/http.js'

const keys = createTestKeys({ partnerId: '2343' })
const smile = new SmileServerSimulator(keys)
const signature = new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey })
const secKey = new LegacySecKeyAuth({ partnerId: keys.partnerId, apiKey: keys.secKeyApiKey })
const verifier = new DualModeVerifier({ signature, secKey })

const open: Array<{ close(): Promise<unknown> }> = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()))
})

async function serve(app: express.Express): Promise<Running> {
  const running = await listen(createServer(app))
  open.push(running)
  return running
}

function expectConfigurationError(run: () => unknown): void {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).code).toBe('invalid_options')
    return
  }
  expect.fail('expected a ConfigurationError')
}

describe('express', () => {
  it('verifies the exact bytes a verify hook stashed as req.rawBody', async () => {
    const app = express()
    let rawSeen = false
    app.use(
      express.json({
        verify: (req, _res, buf) => {
          ;(req as unknown as { rawBody: Buffer }).rawBody = buf
          rawSeen = true
        },
      }),
    )
    app.post('/cb', expressAuth({ verifier }), (req, res) => {
      res.json({ scheme: req.smileIdAuth?.scheme, job: (req.body as { SmileJobID: string }).SmileJobID })
    })
    const { url } = await serve(app)
    const body = await smile.callbackBody({ scheme: 'sec_key' })
    const reply = await post(`${url}/cb`, JSON.stringify(body))
    expect(rawSeen).toBe(true)
    expect(reply.status).toBe(200)
    expect(reply.json).toEqual({ scheme: 'sec_key', job: body.SmileJobID })
  })

  it.each([
    ['express.raw()', express.raw({ type: '*/*' })],
    ['express.text()', express.text({ type: '*/*' })],
  ])('parses the body left by %s and hands the parsed object on', async (_name, parser) => {
    const app = express()
    app.use(parser)
    app.post('/cb', expressAuth({ verifier }), (req, res) => {
      res.json({ scheme: req.smileIdAuth?.scheme, job: (req.body as { SmileJobID: string }).SmileJobID })
    })
    const { url } = await serve(app)
    const body = await smile.callbackBody({ scheme: 'signature' })
    const accepted = await post(`${url}/cb`, JSON.stringify(body))
    expect(accepted.json).toEqual({ scheme: 'signature', job: body.SmileJobID })
    const notJson = await post(`${url}/cb`, 'not json')
    expect(notJson.status).toBe(400)
    expect(notJson.json).toEqual({ error: 'invalid_json' })
  })

  it('reads the body itself when express.json() skipped a non-JSON content type', async () => {
    const app = express()
    app.use(express.json())
    app.post('/cb', expressAuth({ verifier }), (req, res) => {
      res.json({ scheme: req.smileIdAuth?.scheme, job: (req.body as { SmileJobID: string }).SmileJobID })
    })
    const { url } = await serve(app)
    const body = await smile.callbackBody({ scheme: 'signature' })
    const reply = await post(`${url}/cb`, JSON.stringify(body), { headers: { 'content-type': 'text/plain' } })
    expect(reply.json).toEqual({ scheme: 'signature', job: body.SmileJobID })
  })

  it('lets onFailure answer a refused request', async () => {
    const app = express()
    app.post(
      '/cb',
      expressAuth({
        verifier,
        onFailure: (failure, _req, res) => {
          res.status(403).json({ refused: failure.error, status: failure.status })
        },
      }),
      (_req, res) => {
        res.json({ reached: true })
      },
    )
    const { url } = await serve(app)
    const reply = await post(`${url}/cb`, JSON.stringify({ SmileJobID: '1' }))
    expect(reply.status).toBe(403)
    expect(reply.json).toEqual({ refused: 'missing_credentials', status: 401 })
  })

  it('hands an unexpected verifier error to the error handler', async () => {
    const app = express()
    const broken = { verify: () => Promise.reject(new Error('partner store down')) }
    app.post('/cb', expressAuth({ verifier: broken }), (_req, res) => {
      res.json({ reached: true })
    })
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(503).json({ error: error.message })
    })
    const { url } = await serve(app)
    const reply = await post(`${url}/cb`, '{}')
    expect(reply.status).toBe(503)
    expect(reply.json).toEqual({ error: 'partner store down' })
  })

  it('checks its options at once', () => {
    expectConfigurationError(() => expressAuth({} as never))
    expectConfigurationError(() => expressAuth({ verifier, limit: 0 }))
    expectConfigurationError(() => expressAuth({ verifier, limit: 1.5 }))
  })
})

describe('fastify', () => {
  it('covers the routes of the scope that registers it, and only those', async () => {
    const app = Fastify()
    open.push(app)
    await app.register(async (scope) => {
      await scope.register(fastifyAuth, { verifier })
      scope.post('/smile/cb', async (request) => ({ scheme: request.smileIdAuth?.scheme ?? null }))
    })
    app.post('/health', async (request) => ({ covered: request.smileIdAuth !== undefined }))
    const body = await smile.callbackBody({ scheme: 'signature' })

    const covered = await app.inject({ method: 'POST', url: '/smile/cb', payload: body })
    expect(covered.json()).toEqual({ scheme: 'signature' })
    const refused = await app.inject({ method: 'POST', url: '/smile/cb', payload: { SmileJobID: '1' } })
    expect(refused.statusCode).toBe(401)
    expect(refused.json()).toEqual({ error: 'missing_credentials' })
    const outside = await app.inject({ method: 'POST', url: '/health', payload: { SmileJobID: '1' } })
    expect(outside.statusCode).toBe(200)
    expect(outside.json()).toEqual({ covered: false })
  })

  it('is not encapsulated: registered at the root it covers every route', async () => {
    const app = Fastify()
    open.push(app)
    await app.register(fastifyAuth, { verifier })
    app.post('/any', async (request) => ({ scheme: request.smileIdAuth?.scheme ?? null }))
    const reply = await app.inject({ method: 'POST', url: '/any', payload: { SmileJobID: '1' } })
    expect(reply.statusCode).toBe(401)
    expect(reply.json()).toEqual({ error: 'missing_credentials' })
  })

  it('can be registered in two scopes of one app', async () => {
    const app = Fastify()
    open.push(app)
    for (const prefix of ['/a', '/b']) {
      await app.register(async (scope) => {
        await scope.register(fastifyAuth, { verifier })
        scope.post(`${prefix}/cb`, async (request) => ({ scheme: request.smileIdAuth?.scheme ?? null }))
      })
    }
    const body = await smile.callbackBody({ scheme: 'sec_key' })
    for (const url of ['/a/cb', '/b/cb']) {
      const reply = await app.inject({ method: 'POST', url, payload: body })
      expect(reply.json()).toEqual({ scheme: 'sec_key' })
    }
  })

  it('lets onFailure answer a refused request', async () => {
    const app = Fastify()
    open.push(app)
    await app.register(fastifyAuth, {
      verifier,
      onFailure: async (failure, _request, reply) => {
        await reply.code(403).send({ refused: failure.error })
      },
    })
    app.post('/cb', async () => ({ reached: true }))
    const reply = await app.inject({ method: 'POST', url: '/cb', payload: { SmileJobID: '1' } })
    expect(reply.statusCode).toBe(403)
    expect(reply.json()).toEqual({ refused: 'missing_credentials' })
  })

  it('refuses bad options at registration', async () => {
    const app = Fastify()
    await expect(app.register(fastifyAuth, { verifier, limit: -1 })).rejects.toMatchObject({
      code: 'invalid_options',
    })
    await app.close()
  })
})

describe('fetch', () => {
  it('passes extra arguments (a Worker env, a Next.js context) through to the handler', async () => {
    const handler = withSmileIdAuth(verifier, (_request, { auth }, env: { NAME: string }) =>
      Response.json({ scheme: auth.scheme, env: env.NAME }),
    )
    const body = await smile.callbackBody({ scheme: 'signature' })
    const response = await handler(
      new Request('https://partner.example/cb', { method: 'POST', body: JSON.stringify(body) }),
      { NAME: 'worker' },
    )
    expect(await response.json()).toEqual({ scheme: 'signature', env: 'worker' })
  })

  it('adds the sunset headers to an immutable response by copying it', async () => {
    const sunset = new DualModeVerifier({
      signature,
      secKey,
      policy: { legacySunsetAt: '2030-01-01T00:00:00Z' },
    })
    const immutable = Response.redirect('https://partner.example/done', 303)
    const handler = withSmileIdAuth(sunset, () => immutable)
    const body = await smile.callbackBody({ scheme: 'sec_key' })
    const response = await handler(
      new Request('https://partner.example/cb', { method: 'POST', body: JSON.stringify(body) }),
    )
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('https://partner.example/done')
    expect(response.headers.get('sunset')).toBe('Tue, 01 Jan 2030 00:00:00 GMT')
    expect(response.headers.get('deprecation')).toBe('@1893456000')
  })

  it('lets onFailure answer and sourceIp feed the audit trail', async () => {
    const events: Array<{ sourceIp: string | null }> = []
    const audited = new DualModeVerifier({ signature, audit: (event) => void events.push(event) })
    const handler = withSmileIdAuth(audited, () => new Response('reached'), {
      onFailure: (failure) => new Response(`refused: ${failure.error}`, { status: 403 }),
      sourceIp: (request) => request.headers.get('cf-connecting-ip'),
    })
    const reply = await callFetch(handler, 'https://partner.example/cb', '{}', {
      headers: { 'cf-connecting-ip': '198.51.100.7' },
    })
    expect(reply.status).toBe(403)
    expect(reply.text).toBe('refused: missing_credentials')
    expect(events).toEqual([expect.objectContaining({ sourceIp: '198.51.100.7' })])
  })

  it('verifyRequest returns { result, body } and rejectionResponse answers the standard way', async () => {
    const body = await smile.callbackBody({ scheme: 'signature' })
    const accepted = await verifyRequest(
      verifier,
      new Request('https://partner.example/cb', { method: 'POST', body: JSON.stringify(body) }),
    )
    expect(accepted.ok).toBe(true)
    expect(accepted.result).toMatchObject({ ok: true, scheme: 'signature' })
    expect(accepted.body).toEqual(body)

    const empty = await verifyRequest(verifier, new Request('https://partner.example/cb', { method: 'POST' }))
    expect(empty).toMatchObject({ ok: false, status: 401, error: 'missing_credentials' })
    if (empty.ok) throw new Error('unreachable')
    const response = rejectionResponse(empty)
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({ error: 'missing_credentials' })
  })

  it('answers 401 malformed_credentials for JSON that is not an object', async () => {
    const verification = await verifyRequest(
      verifier,
      new Request('https://partner.example/cb', { method: 'POST', body: '[1, 2]' }),
    )
    expect(verification).toMatchObject({ ok: false, status: 401, error: 'malformed_credentials' })
  })

  it('answers 400 body_incomplete when the upload breaks off, through verifyRequest and withSmileIdAuth', async () => {
    const broken = () => {
      let sent = false
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (!sent) {
            sent = true
            controller.enqueue(new TextEncoder().encode('{"signature":"'))
          } else controller.error(new Error('connection reset'))
        },
      })
      return new Request('https://partner.example/cb', {
        method: 'POST',
        body: stream,
        duplex: 'half',
      } as RequestInit)
    }
    const verification = await verifyRequest(verifier, broken())
    expect(verification).toMatchObject({ ok: false, status: 400, error: 'body_incomplete' })
    let handled = false
    const response = await withSmileIdAuth(verifier, () => {
      handled = true
      return new Response('ok')
    })(broken())
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({ error: 'body_incomplete' })
    expect(handled).toBe(false)
  })

  it('answers a request whose body the app already read with a typed 500, never a throw', async () => {
    const request = new Request('https://partner.example/cb', { method: 'POST', body: '{}' })
    await request.text()
    const verification = await verifyRequest(verifier, request)
    expect(verification).toMatchObject({ ok: false, status: 500, error: 'body_already_read' })

    let handled = false
    const handler = withSmileIdAuth(verifier, () => {
      handled = true
      return new Response(null)
    })
    const consumed = new Request('https://partner.example/cb', { method: 'POST', body: '{}' })
    await consumed.arrayBuffer()
    const response = await handler(consumed)
    expect(response.status).toBe(500)
    expect(await response.json()).toEqual({ error: 'body_already_read' })
    expect(handled).toBe(false)
  })

  it('checks its options at once', async () => {
    expectConfigurationError(() => withSmileIdAuth({} as never, () => new Response()))
    expectConfigurationError(() => withSmileIdAuth(verifier, 'handler' as never))
    expectConfigurationError(() => withSmileIdAuth(verifier, () => new Response(), { limit: Number.NaN }))
    await expect(
      verifyRequest(verifier, new Request('https://partner.example/cb'), { limit: -5 }),
    ).rejects.toMatchObject({ code: 'invalid_options' })
  })
})

describe('node:http', () => {
  it('uses the default 1 MiB limit', async () => {
    const server = createServer((req, res) => {
      verifyIncomingMessage(verifier, req)
        .then((verification) => {
          if (!verification.ok) return sendRejection(res, verification)
          res.writeHead(200).end(verification.result.scheme)
        })
        .catch(() => res.writeHead(500).end())
    })
    const running = await listen(server)
    open.push(running)
    const body = await smile.callbackBody({ scheme: 'signature' })
    const under = await post(`${running.url}/cb`, JSON.stringify({ ...body, pad: 'x'.repeat(1000 * 1024) }))
    expect(under.status).toBe(200)
    expect(under.text).toBe('signature')
    const over = await post(`${running.url}/cb`, JSON.stringify({ ...body, pad: 'x'.repeat(1024 * 1024) }), {
      chunked: true,
    })
    expect(over.status).toBe(413)
    expect(over.json).toEqual({ error: 'body_too_large' })
  })

  it('answers an empty body with 401 missing_credentials', async () => {
    const server = createServer((req, res) => {
      verifyIncomingMessage(verifier, req)
        .then((verification) =>
          verification.ok ? res.writeHead(200).end() : sendRejection(res, verification),
        )
        .catch(() => res.writeHead(500).end())
    })
    const running = await listen(server)
    open.push(running)
    const reply = await post(`${running.url}/cb`, '')
    expect(reply.status).toBe(401)
    expect(reply.json).toEqual({ error: 'missing_credentials' })
  })
})
