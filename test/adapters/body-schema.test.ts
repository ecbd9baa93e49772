/**
 * The `body` option beyond the conformance table: schemas that throw or answer asynchronously, options
 * checked at construction, and what an `onFailure` hook learns about an `invalid_body` refusal.
 */
import { describe, expect, it } from 'vitest'
import type { BodySchema } from '../../src/adapters/body-schema.js'
import { withSmileIdAuth } from '../../src/adapters/fetch.js'
import { smileIdAuth as expressAuth } from '../../src/adapters/express.js'
import { verifyIncomingMessage } from '../../src/adapters/node.js'
import type { RequestFailure } from '../../src/adapters/core.js'
import { SignatureAuth } from '../../src/schemes/signature.js'
import { smileCallbackSchema } from '../../src/schemas/index.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { SmileServerSimulator } from '../../src/testing/simulator.js'
import { DualModeVerifier } from '../../src/verifier/dual-mode.js'
import { expectConfigurationError } from '../support/assertions.js'

const keys = createTestKeys({ partnerId: '085' })
const smile = new SmileServerSimulator(keys)
const verifier = new DualModeVerifier({
  signature: new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey }),
})

function post(body: unknown): Request {
  return new Request('https://partner.example/smile/callback', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

function schema(validate: BodySchema['~standard']['validate']): BodySchema {
  return { '~standard': { version: 1, vendor: 'test', validate } }
}

const ok = () => Response.json({ handled: true })

describe('body schemas', () => {
  it('a schema that throws is a 400 invalid_body, never a 500, and the handler does not run', async () => {
    let ran = false
    const handler = withSmileIdAuth(
      verifier,
      () => {
        ran = true
        return ok()
      },
      {
        body: schema(() => {
          throw new Error('bug in a refinement')
        }),
      },
    )
    const reply = await handler(post(await smile.callbackBody({ scheme: 'signature' })))
    expect(reply.status).toBe(400)
    expect(await reply.json()).toEqual({ error: 'invalid_body' })
    expect(ran).toBe(false)
  })

  it('an asynchronous schema is awaited, and its output reaches the handler', async () => {
    const handler = withSmileIdAuth(verifier, (_request, { body }) => Response.json(body), {
      body: schema(async (value) => ({ value: { wrapped: value !== null } })),
    })
    const reply = await handler(post(await smile.callbackBody({ scheme: 'signature' })))
    expect(reply.status).toBe(200)
    expect(await reply.json()).toEqual({ wrapped: true })
  })

  it('onFailure learns the verification that passed and the issues, which never reach the client', async () => {
    let failure: RequestFailure | undefined
    const handler = withSmileIdAuth(verifier, ok, {
      body: smileCallbackSchema,
      onFailure: (seen) => {
        failure = seen
        return Response.json({ error: seen.error }, { status: seen.status })
      },
    })
    const body = { ...(await smile.callbackBody({ scheme: 'signature' })), ResultCode: 1012 }
    const reply = await handler(post(body))
    expect(reply.status).toBe(400)
    expect(failure?.error).toBe('invalid_body')
    expect(failure?.auth?.partnerId).toBe('085')
    expect(failure?.issues?.map((issue) => issue.path)).toEqual([['ResultCode']])
    expect(failure?.result).toMatchObject({ ok: false, scheme: 'signature', partnerId: '085' })
  })

  it.each([{}, 'schema', { '~standard': { version: 2, validate: () => ({ value: 1 }) } }, () => true])(
    'refuses a body option that is not a Standard Schema at construction (%j)',
    (body) => {
      const options = { body } as unknown as { body: BodySchema }
      for (const build of [
        () => withSmileIdAuth(verifier, ok, options),
        () => expressAuth({ verifier, ...options }),
      ]) {
        expect(expectConfigurationError(build, 'invalid_options').message).toMatch(/Standard Schema/)
      }
      return expect(verifyIncomingMessage(verifier, {} as never, options)).rejects.toMatchObject({
        code: 'invalid_options',
      })
    },
  )
})
