/**
 * The verifier's option checks (zod), checked once at construction. Only the verifier imports this file;
 * the public schemas live in `src/schemas/` (the `smileid-auth-shim/schemas` entry).
 *
 * @internal
 * @module
 */
import * as z from 'zod/mini'
import { ConfigurationError } from './errors.js'

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
