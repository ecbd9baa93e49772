/**
 * zod schemas (in zod's tree-shakable `zod/mini` form) for the credential fields and callback bodies, exported
 * for users who validate payloads themselves, and for the verifier's options, checked once at construction.
 *
 * @module
 */
import * as z from 'zod/mini'
import { ConfigurationError } from './errors.js'
import type { SecKeyCredentials, SignatureCredentials } from './types.js'

/**
 * The `signature` scheme's body fields.
 *
 * @example
 * ```ts
 * const parsed = signatureCredentialsSchema.safeParse(body)
 * if (parsed.success) console.log(parsed.data.timestamp)
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
 * secKeyCredentialsSchema.parse({ sec_key: body.sec_key, timestamp: body.timestamp })
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
  /** The partner id. */
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
 * const body = callbackBodySchema.parse(JSON.parse(raw))
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

const dateLike = z.union([
  z.date(),
  z.string().check(z.refine((value) => !Number.isNaN(Date.parse(value)), 'must be a date')),
])

/** @internal The migration policy options. */
export const policySchema = z.strictObject({
  legacy: z.optional(z.enum(['accept', 'warn', 'reject'])),
  mode: z.optional(z.enum(['enforce', 'observe'])),
  legacySunsetAt: z.optional(dateLike),
  stickyUpgrade: z.optional(z.boolean()),
})

const duration = z
  .number()
  .check(z.refine((n) => Number.isFinite(n) && n >= 0, 'must be a non-negative number'))

/** @internal The verifier's freshness options. */
export const freshnessSchema = z.union([
  z.literal(false),
  z.strictObject({ maxAgeMs: z.optional(duration), maxFutureMs: z.optional(duration) }),
])

/**
 * Parses options with a schema, turning zod issues into one {@link ConfigurationError} that names each
 * offending path (values are never echoed: they may be keys).
 *
 * @internal
 */
export function parseOptions<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)'
    return issue.code === 'unrecognized_keys'
      ? `unknown option ${issue.keys.join(', ')}`
      : `${path}: ${issue.message}`
  })
  throw new ConfigurationError('invalid_options', `${what}: ${problems.join('; ')}`)
}
