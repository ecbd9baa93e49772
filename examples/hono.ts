/**
 * Hono: the native `smileIdAuth` middleware of `smileid-auth-shim/hono`. Runs wherever Hono runs (Bun,
 * Deno, Workers, Node through @hono/node-server). The result and the typed body are in Hono's context.
 */
import { Hono } from 'hono'
import type { DualModeVerifier } from 'smileid-auth-shim'
import { smileIdAuth } from 'smileid-auth-shim/hono'
import { enhancedKycCallbackSchema } from 'smileid-auth-shim/schemas'

export function createApp(verifier: DualModeVerifier): Hono {
  const app = new Hono()
  app.post('/smile/callback', smileIdAuth({ verifier, body: enhancedKycCallbackSchema }), (c) => {
    const callback = c.get('smileIdBody') // EnhancedKycCallback
    return c.json({
      received: callback.SmileJobID,
      result: callback.ResultCode,
      scheme: c.get('smileIdAuth').scheme,
    })
  })
  return app
}
