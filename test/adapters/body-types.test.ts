/**
 * Type-level tests (checked by `tsc`, run as no-ops by vitest): a `body` schema types the handler's body
 * in every adapter, and no schema leaves the old types (`unknown`, Express's `any`).
 */
import express from 'express'
import { Hono } from 'hono'
import { smileIdAuth as honoAuth } from '../../src/adapters/hono.js'
import { SmileIdAuthGuard, SmileIdAuthResult } from '../../src/adapters/nestjs.js'
import type { VerificationSuccess } from '../../src/types.js'
import { describe, expectTypeOf, it } from 'vitest'
import { smileIdAuth as expressAuth } from '../../src/adapters/express.js'
import { verifyRequest, withSmileIdAuth } from '../../src/adapters/fetch.js'
import { verifyIncomingMessage } from '../../src/adapters/node.js'
import type { RequestVerifier } from '../../src/adapters/core.js'
import type { IncomingMessage } from 'node:http'
import {
  enhancedKycCallbackSchema,
  jobStatusResponseSchema,
  type EnhancedKycCallback,
  type JobStatusResponse,
} from '../../src/schemas/index.js'

const verifier: RequestVerifier = {
  verify: () =>
    Promise.resolve({
      ok: false,
      scheme: null,
      reason: 'missing_credentials',
      message: 'none',
      partnerId: null,
    }),
}

describe('typed bodies', () => {
  it('fetch: withSmileIdAuth and verifyRequest', async () => {
    withSmileIdAuth(
      verifier,
      (_request, { body }) => {
        expectTypeOf(body).toEqualTypeOf<EnhancedKycCallback>()
        expectTypeOf(body.ResultCode).toEqualTypeOf<string>()
        expectTypeOf(body.PartnerParams.job_id).toEqualTypeOf<string>()
        return new Response(null)
      },
      { body: enhancedKycCallbackSchema },
    )
    withSmileIdAuth(verifier, (_request, { body }) => {
      expectTypeOf(body).toEqualTypeOf<unknown>()
      return new Response(null)
    })
    const verification = await verifyRequest(verifier, new Request('https://x.example'), {
      body: jobStatusResponseSchema,
    })
    if (verification.ok) expectTypeOf(verification.body).toEqualTypeOf<JobStatusResponse>()
  })

  it('express: req.body in the handler after the middleware', () => {
    const app = express()
    app.post('/a', expressAuth({ verifier, body: enhancedKycCallbackSchema }), (req, res) => {
      expectTypeOf(req.body).toEqualTypeOf<EnhancedKycCallback>()
      res.sendStatus(200)
    })
    app.post('/b', expressAuth({ verifier }), (req, res) => {
      expectTypeOf(req.body).toBeAny()
      res.sendStatus(200)
    })
  })

  it('node: verifyIncomingMessage', () => {
    // Type-only: never called (it would need a live request).
    const check = async (req: IncomingMessage) => {
      const verification = await verifyIncomingMessage(verifier, req, { body: enhancedKycCallbackSchema })
      if (verification.ok) expectTypeOf(verification.body.SmileJobID).toEqualTypeOf<string>()
    }
    expectTypeOf(check).toBeFunction()
  })

  it('hono: c.get() is typed, with and without a schema', () => {
    const app = new Hono()
    app.post('/a', honoAuth({ verifier, body: enhancedKycCallbackSchema }), (c) => {
      expectTypeOf(c.get('smileIdAuth')).toEqualTypeOf<VerificationSuccess>()
      expectTypeOf(c.get('smileIdBody')).toEqualTypeOf<EnhancedKycCallback>()
      return c.json({ job: c.get('smileIdBody').SmileJobID })
    })
    app.post('/b', honoAuth({ verifier }), (c) => {
      expectTypeOf(c.get('smileIdBody')).toEqualTypeOf<unknown>()
      return c.body(null, 204)
    })
    // Chained, the middleware types the whole app.
    const typed = new Hono()
      .use(honoAuth({ verifier }))
      .post('/c', (c) => c.json(c.get('smileIdAuth').scheme))
    expectTypeOf(typed).not.toBeAny()
  })

  it('nestjs: a guard built with a verifier, a parameter decorator', () => {
    expectTypeOf(new SmileIdAuthGuard({ verifier }).canActivate).returns.toEqualTypeOf<Promise<boolean>>()
    expectTypeOf(SmileIdAuthResult()).toEqualTypeOf<ParameterDecorator>()
  })
})
