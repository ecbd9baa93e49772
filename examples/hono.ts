/**
 * Hono: a middleware built on `verifyRequest` from `smileid-auth-shim/fetch`. Runs wherever Hono runs
 * (Bun, Deno, Workers, Node through a Fetch bridge such as @hono/node-server).
 *
 * `verifyRequest` reads the body, so the handler takes the parsed body from the context, not `c.req.json()`.
 */
import { Hono } from 'hono'
import type { DualModeVerifier, VerificationSuccess } from 'smileid-auth-shim'
import { verifyRequest } from 'smileid-auth-shim/fetch'

interface Callback {
  SmileJobID?: string
  ResultCode?: string
}

type SmileIdVariables = { smileIdAuth: VerificationSuccess; smileIdBody: unknown }

export function createApp(verifier: DualModeVerifier): Hono<{ Variables: SmileIdVariables }> {
  const app = new Hono<{ Variables: SmileIdVariables }>()

  app.use('/smile/*', async (c, next) => {
    const verification = await verifyRequest(verifier, c.req.raw)
    if (!verification.ok) return c.json({ error: verification.error }, verification.status)
    c.set('smileIdAuth', verification.result)
    c.set('smileIdBody', verification.body)
    await next()
    // Deprecation / Sunset for legacy requests, when the policy has a sunset date.
    for (const [name, value] of Object.entries(verification.headers)) c.header(name, value)
  })

  app.post('/smile/callback', (c) => {
    const callback = c.get('smileIdBody') as Callback
    return c.json({
      received: callback.SmileJobID,
      result: callback.ResultCode,
      scheme: c.get('smileIdAuth').scheme,
    })
  })
  return app
}
