/**
 * A Cloudflare Worker (also Deno and Bun: `export default { fetch }`). Keys come from the Worker's
 * bindings (`wrangler secret put SMILEID_API_KEY`). Bundled for Workers, the library uses WebCrypto and
 * needs no `nodejs_compat` flag.
 */
import type { DualModeVerifier } from 'smileid-auth-shim'
import { withSmileIdAuth, type SmileIdAuthContext } from 'smileid-auth-shim/fetch'
import { enhancedKycCallbackSchema, type EnhancedKycCallback } from 'smileid-auth-shim/schemas'
import { verifierFromEnv, type SmileIdEnv } from './verifier.js'

interface Env extends SmileIdEnv {
  SMILEID_PARTNER_ID: string
  SMILEID_API_KEY: string
}

async function handle(
  _request: Request,
  { auth, body }: SmileIdAuthContext<EnhancedKycCallback>,
  _env: Env,
): Promise<Response> {
  return Response.json({ received: body.SmileJobID, result: body.ResultCode, scheme: auth.scheme })
}

// One verifier per isolate and bindings object: keys are parsed once, not per request.
let cached: { env: Env; fetch: (request: Request, env: Env) => Promise<Response> } | undefined

function handlerFor(env: Env) {
  if (cached?.env !== env) {
    const verifier: DualModeVerifier = verifierFromEnv(env)
    cached = { env, fetch: withSmileIdAuth(verifier, handle, { body: enhancedKycCallbackSchema }) }
  }
  return cached.fetch
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method !== 'POST' || new URL(request.url).pathname !== '/smile/callback') {
      return new Response('not found', { status: 404 })
    }
    return handlerFor(env)(request, env)
  },
}
