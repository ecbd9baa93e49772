/**
 * Fastify: the `smileIdAuth` plugin covers the routes of the scope that registers it.
 *
 * Fastify parses the JSON itself (its own 400 and 413 answer bad or oversized bodies); failed verification
 * answers 401 `{ error: <reason> }`.
 */
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance } from 'fastify'
import type { DualModeVerifier } from 'smileid-auth-shim'
import { smileIdAuth } from 'smileid-auth-shim/fastify'
import { verifierFromEnv } from './verifier.js'

interface Callback {
  SmileJobID?: string
  ResultCode?: string
}

export async function createApp(verifier: DualModeVerifier): Promise<FastifyInstance> {
  const app = Fastify()
  // A scope for the Smile ID routes: the plugin's hook covers these and nothing else.
  await app.register(async (smile) => {
    await smile.register(smileIdAuth, { verifier })
    smile.post<{ Body: Callback }>('/smile/callback', async (request) => ({
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
