/**
 * The ConfigurationError contract of src/errors.ts: thrown for the calling code's own mistakes (options at
 * construction; a few calls whose arguments are the caller's), never for what a request sender controls.
 */
import { describe, expect, it } from 'vitest'
import { verifyRequest, withSmileIdAuth } from '../src/adapters/fetch.js'
import { verifyIncomingMessage } from '../src/adapters/node.js'
import { ConfigurationError } from '../src/errors.js'
import { SignatureAuth } from '../src/schemes/signature.js'
import { MigratingSigner } from '../src/signer.js'
import { createTestKeys } from '../src/testing/test-keys.js'
import { DualModeVerifier } from '../src/verifier/dual-mode.js'

const keys = createTestKeys({ partnerId: '085' })
const signature = new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey })
const verifier = new DualModeVerifier({ signature })

describe('ConfigurationError is thrown only where errors.ts says', () => {
  it("MigratingSigner rejects the caller's own bad arguments with invalid_options", async () => {
    const signer = new MigratingSigner({ signature, use: 'signature' })
    for (const call of [
      () => signer.sign({ routingKey: 42 as never }),
      () => signer.sign(null as never),
      () => signer.signBody('body' as never),
      () => signer.signBody(null as never),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(ConfigurationError)
      await expect(call()).rejects.toMatchObject({ code: 'invalid_options' })
    }
  })

  it('adapter calls reject only for their options, before reading any request', async () => {
    const request = new Request('https://partner.example/cb', { method: 'POST', body: '{}' })
    await expect(verifyRequest(verifier, request, { limit: 0 })).rejects.toMatchObject({
      code: 'invalid_options',
    })
    expect(request.bodyUsed).toBe(false)
    await expect(verifyIncomingMessage(verifier, {} as never, { limit: -1 })).rejects.toMatchObject({
      code: 'invalid_options',
    })
  })

  it('what a request carries never throws in the Fetch adapter: every case resolves to an answer', async () => {
    const handler = withSmileIdAuth(verifier, () => new Response(null, { status: 204 }))
    const bodies: Array<BodyInit | null> = [
      null,
      '',
      '{',
      'null',
      '[]',
      '"x"',
      '{"signature":1}',
      'x'.repeat(2 << 20),
    ]
    for (const body of bodies) {
      const init: RequestInit = body === null ? { method: 'GET' } : { method: 'POST', body }
      const response = await handler(new Request('https://partner.example/cb', init))
      expect([400, 401, 413]).toContain(response.status)
      expect(Object.keys((await response.json()) as object)).toEqual(['error'])
    }
    // A body the app consumed first: the receiving side's bug, answered 500 with a stable code.
    const consumed = new Request('https://partner.example/cb', { method: 'POST', body: '{}' })
    await consumed.text()
    const response = await handler(consumed)
    expect(response.status).toBe(500)
    expect(await response.json()).toEqual({ error: 'body_already_read' })
  })
})
