/**
 * Express: Smile ID callbacks verified by the `smileIdAuth` middleware.
 *
 * Works with or without `express.json()` in front. Refused requests get 401 `{ error: <reason> }`, 503 with
 * `Retry-After` when the replay store is down, a body that is not JSON 400, a verified body that is not an
 * Enhanced KYC callback 400 `invalid_body`, a body over 1 MiB 413 (with `express.json()` in front, its own
 * 400/413 come first). `req.body` is typed from the schema.
 */
import { pathToFileURL } from 'node:url'
import express from 'express'
import type { DualModeVerifier } from 'smileid-auth-shim'
import { smileIdAuth } from 'smileid-auth-shim/express'
import { enhancedKycCallbackSchema } from 'smileid-auth-shim/schemas'
import { verifierFromEnv } from './verifier.js'

export function createApp(verifier: DualModeVerifier): express.Express {
  const app = express()
  app.post('/smile/callback', smileIdAuth({ verifier, body: enhancedKycCallbackSchema }), (req, res) => {
    // req.body: EnhancedKycCallback. req.smileIdAuth: which scheme, which key, any warnings (legacy_scheme
    // during the migration), and the partner to trust (never the body's partner_id).
    res.json({ received: req.body.SmileJobID, result: req.body.ResultCode, scheme: req.smileIdAuth?.scheme })
  })
  return app
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3000)
  createApp(verifierFromEnv(process.env)).listen(port, () => console.log(`listening on :${port}`))
}
