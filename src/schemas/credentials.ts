/**
 * zod schemas of the credential fields of both schemes and of the authentication fields of a callback body.
 *
 * @module
 */
import * as z from 'zod/mini'
import type { SecKeyCredentials, SignatureCredentials } from '../types.js'

/**
 * The `signature` scheme's body fields.
 *
 * @example
 * ```ts
 * import { signatureCredentialsSchema } from 'smileid-auth-shim/schemas'
 *
 * const parsed = signatureCredentialsSchema.safeParse({ signature: 'x', timestamp: '2026-01-01T00:00:00Z' })
 * if (!parsed.success) console.log('not a signature credential')
 * ```
 */
export const signatureCredentialsSchema: z.ZodMiniType<SignatureCredentials> = z.object({
  signature: z.string().check(z.regex(/^[A-Za-z0-9+/]{43}=$/)),
  timestamp: z.string().check(z.minLength(1), z.maxLength(64)),
})

/**
 * The legacy `sec_key` scheme's body fields.
 *
 * @example
 * ```ts
 * import { secKeyCredentialsSchema } from 'smileid-auth-shim/schemas'
 *
 * const parsed = secKeyCredentialsSchema.safeParse({ sec_key: 'abc|def', timestamp: 1700000000000 })
 * console.log(parsed.success) // false: the hash half is not 64 hex digits
 * ```
 */
export const secKeyCredentialsSchema: z.ZodMiniType<SecKeyCredentials> = z.object({
  sec_key: z.string().check(z.maxLength(4096), z.regex(/^[A-Za-z0-9+/=\r\n]+\|[0-9a-f]{64}$/)),
  timestamp: z.union([z.number(), z.string().check(z.minLength(1), z.maxLength(64))]),
})

/** The authentication-related fields of a Smile ID callback body, as {@link callbackBodySchema} checks them. */
export interface CallbackBody {
  /** The signature (or, in legacy job-status responses, a sec_key). */
  signature?: string | undefined
  /** The legacy sec_key. */
  sec_key?: string | undefined
  /** The timestamp the credential was made for. */
  timestamp?: number | string | undefined
  /** The partner id. Trust the verifier's `result.partnerId`, not this field. */
  partner_id?: string | number | undefined
  /** The partner id, as some payloads name it. */
  smile_client_id?: string | number | undefined
  /** The SDK that made the request, for the audit trail. */
  source_sdk?: string | undefined
  /** That SDK's version. */
  source_sdk_version?: string | undefined
  /** Every other field of the callback, untouched. */
  [field: string]: unknown
}

/**
 * The authentication-related fields of a Smile ID callback body; other fields pass through untouched.
 *
 * @example
 * ```ts
 * import { callbackBodySchema } from 'smileid-auth-shim/schemas'
 *
 * const body = callbackBodySchema.parse(JSON.parse('{"partner_id":"085","source_sdk":"rest_api"}'))
 * console.log(body.partner_id, body.source_sdk)
 * ```
 */
export const callbackBodySchema: z.ZodMiniType<CallbackBody> = z.looseObject({
  signature: z.optional(z.string()),
  sec_key: z.optional(z.string()),
  timestamp: z.optional(z.union([z.number(), z.string()])),
  partner_id: z.optional(z.union([z.string(), z.number()])),
  smile_client_id: z.optional(z.union([z.string(), z.number()])),
  source_sdk: z.optional(z.string()),
  source_sdk_version: z.optional(z.string()),
})
