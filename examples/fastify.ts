/**
 * Fastify: the `smileIdAuth` plugin covers the routes of the scope that registers it.
 *
 * Fastify parses the JSON itself (its own 400 and 413 answer bad or oversized bodies); failed verification
 * answers 401 `{ error: <reason> }`, a verified body that is not an Enhanced KYC callback 400 `invalid_body`.
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import type { DualModeVerifier } from 'smileid-auth-shim'
import { smileIdAuth } from 'smileid-auth-shim/fastify'
import { enhancedKycCallbackSchema, type EnhancedKycCallback } from 'smileid-auth-shim/schemas'
import { verifierFromEnv } from './verifier.js'

export async function createApp(verifier: DualModeVerifier): Promise<FastifyInstance> {
  const app = Fastify()
  // A scope for the Smile ID routes: the plugin's hook covers these and nothing else.
  await app.register(async (smile) => {
    await smile.register(smileIdAuth, { verifier, body: enhancedKycCallbackSchema })
    // Fastify types a body through the route's generic; the plugin has checked it against the schema.
    smile.post<{ Body: EnhancedKycCallback }>('/smile/callback', async (request) => ({
      received: request.body.SmileJobID,
      result: request.body.ResultCode,
      scheme: request.smileIdAuth?.scheme,
    }))
  })
  app.get('/health', async () => ({ ok: true }))
  return app
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = await createApp(verifierFromEnv(process.env))
  await app.listen({ port: Number(process.env.PORT ?? 3000) })
}
