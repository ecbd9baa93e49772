/**
 * `smileid-auth-shim/schemas`: zod schemas and TypeScript types of the credential fields and of Smile ID's
 * callback and job-status bodies. Pass one to an adapter as `{ body: schema }` to get a typed, validated
 * body in your handler. This entry loads zod; the core entry does not.
 *
 * @example
 * ```ts
 * import { enhancedKycCallbackSchema } from 'smileid-auth-shim/schemas'
 * import { withSmileIdAuth } from 'smileid-auth-shim/fetch'
 * import { DualModeVerifier, SignatureAuth } from 'smileid-auth-shim'
 *
 * const verifier = new DualModeVerifier({
 *   partnerId: '085',
 *   signature: new SignatureAuth({ partnerId: '085', apiKey: process.env.SMILEID_API_KEY ?? 'key' }),
 * })
 * export const POST = withSmileIdAuth(
 *   verifier,
 *   (_request, { body }) => Response.json({ job: body.SmileJobID, code: body.ResultCode }),
 *   { body: enhancedKycCallbackSchema },
 * )
 * ```
 *
 * @packageDocumentation
 */
export { callbackBodySchema, secKeyCredentialsSchema, signatureCredentialsSchema } from './credentials.js'
export type { CallbackBody } from './credentials.js'
export {
  actionsSchema,
  biometricKycCallbackSchema,
  businessVerificationCallbackSchema,
  documentVerificationCallbackSchema,
  enhancedKycCallbackSchema,
  jobStatusResponseSchema,
  partnerParamsSchema,
  smartSelfieCallbackSchema,
  smileCallbackSchema,
} from './callbacks.js'
export type {
  BiometricKycCallback,
  BusinessVerificationCallback,
  DocumentVerificationCallback,
  EnhancedKycCallback,
  JobStatusResponse,
  PartnerParams,
  SmartSelfieCallback,
  SmileActions,
  SmileAntifraud,
  SmileCallback,
  SmileFlag,
  SmileIdentityInfo,
  SmileSuspectUser,
} from './callbacks.js'
