/**
 * Hono and NestJS beyond the conformance table: Hono's body cache (a body read before and after the
 * middleware), onFailure hooks, and options checked at construction.
 */
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { smileIdAuth } from '../../src/adapters/hono.js'
import { SmileIdAuthGuard } from '../../src/adapters/nestjs.js'
import { ConfigurationError } from '../../src/errors.js'
import { SignatureAuth } from '../../src/schemes/signature.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { SmileServerSimulator } from '../../src/testing/simulator.js'
import { DualModeVerifier } from '../../src/verifier/dual-mode.js'
import { expectConfigurationError } from '../support/assertions.js'

const keys = createTestKeys({ partnerId: '085' })
const smile = new SmileServerSimulator(keys)
const verifier = new DualModeVerifier({
  signature: new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey }),
})

function post(body: string): Request {
  return new Request('http://partner.example/smile/callback', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  })
}

describe('hono', () => {
  it('c.req.json() still works in the handler after the middleware read the body', async () => {
    const app = new Hono()
    app.post('/smile/callback', smileIdAuth({ verifier }), async (c) => {
      const again = (await c.req.json()) as { SmileJobID?: string }
      return c.json({
        again: again.SmileJobID,
        stored: (c.get('smileIdBody') as { SmileJobID?: string }).SmileJobID,
      })
    })
    const body = await smile.callbackBody({ scheme: 'signature' })
    const response = await app.fetch(post(JSON.stringify(body)))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ again: body.SmileJobID, stored: body.SmileJobID })
  })

  it('verifies a body an earlier middleware already read through c.req (from the cache), with the limit', async () => {
    const body = JSON.stringify(await smile.callbackBody({ scheme: 'signature' }))
    for (const [limit, status] of [
      [undefined, 200],
      [body.length - 1, 413],
    ] as const) {
      const app = new Hono()
      app.use(async (c, next) => {
        await c.req.text() // a logger, say
        await next()
      })
      app.post('/smile/callback', smileIdAuth({ verifier, ...(limit ? { limit } : {}) }), (c) =>
        c.json({ scheme: c.get('smileIdAuth').scheme }),
      )
      // Chunked: no content-length, so only the read itself can enforce the limit.
      const stream = new Request('http://partner.example/smile/callback', {
        method: 'POST',
        body: new Blob([body]).stream(),
        duplex: 'half',
      } as RequestInit)
      const response = await app.fetch(stream)
      expect(response.status).toBe(status)
    }
  })

  it('onFailure answers a refused request', async () => {
    const app = new Hono()
    app.post(
      '/smile/callback',
      smileIdAuth({ verifier, onFailure: (failure, c) => c.text(`no: ${failure.error}`, 418) }),
      (c) => c.text('handled'),
    )
    const response = await app.fetch(post('{}'))
    expect(response.status).toBe(418)
    expect(await response.text()).toBe('no: missing_credentials')
  })

  it('checks its options at once', () => {
    expectConfigurationError(() => smileIdAuth({} as never), 'invalid_options')
    expectConfigurationError(() => smileIdAuth({ verifier, limit: 0 }), 'invalid_options')
    expectConfigurationError(() => smileIdAuth({ verifier, body: {} as never }), 'invalid_options')
  })
})

describe('nestjs', () => {
  it('checks its options at construction', () => {
    expectConfigurationError(() => new SmileIdAuthGuard({} as never), 'invalid_options')
    expectConfigurationError(() => new SmileIdAuthGuard({ verifier, limit: 1.5 }), 'invalid_options')
    expect(() => new SmileIdAuthGuard({ verifier, body: 'schema' as never })).toThrow(ConfigurationError)
  })
})
