/**
 * A Next.js App Router route handler (`app/api/smile/callback/route.ts`), written against the Fetch API
 * types only: `withSmileIdAuth` wraps a `(Request) => Response` function, and Next.js passes its route
 * context through as an extra argument.
 *
 * Set `export const runtime = 'nodejs'` (the default) or 'edge': the fetch adapter uses Web APIs only.
 */
import { withSmileIdAuth } from 'smileid-auth-shim/fetch'
import { enhancedKycCallbackSchema } from 'smileid-auth-shim/schemas'
import { verifierFromEnv } from './verifier.js'

// Built once per server instance; a missing key fails at start-up, not on the first callback.
const verifier = verifierFromEnv(process.env)

export const POST = withSmileIdAuth(
  verifier,
  async (_request, { auth, body }) => {
    // body: EnhancedKycCallback. Store the result, enqueue work… then answer quickly: Smile ID retries
    // callbacks that fail.
    return Response.json({ received: body.SmileJobID, result: body.ResultCode, scheme: auth.scheme })
  },
  { body: enhancedKycCallbackSchema },
)
