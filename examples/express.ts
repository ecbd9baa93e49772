/**
 * Express: Smile ID callbacks verified by the `smileIdAuth` middleware.
 *
 * Works with or without `express.json()` in front. Refused requests get 401 `{ error: <reason> }`, a body
 * that is not JSON 400, a body over 1 MiB 413 (with `express.json()` in front, its own 400/413 come first).
 */
import { pathToFileURL } from 'node:url'
import express from 'express'
import type { DualModeVerifier } from 'smileid-auth-shim'
import { smileIdAuth } from 'smileid-auth-shim/express'
import { verifierFromEnv } from './verifier.js'

/** The callback shape this app reads (Smile ID sends more). */
interface Callback {
  SmileJobID?: string
  ResultCode?: string
}

export function createApp(verifier: DualModeVerifier): express.Express {
  const app = express()
  app.post('/smile/callback', smileIdAuth({ verifier }), (req, res) => {
    const callback = req.body as Callback
    // req.smileIdAuth is typed: which scheme, which key, any warnings (legacy_scheme during the migration).
    res.json({ received: callback.SmileJobID, result: callback.ResultCode, scheme: req.smileIdAuth?.scheme })
  })
  return app
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3000)
  createApp(verifierFromEnv(process.env)).listen(port, () => console.log(`listening on :${port}`))
}
