/**
 * Body schemas for the adapters: anything that implements Standard Schema v1 (https://standardschema.dev),
 * which zod, valibot and arktype schemas all do. The adapters call the schema only through its
 * `~standard.validate`, so they import no schema library: the schemas of `smileid-auth-shim/schemas` load
 * zod only where a user imports them.
 *
 * @module
 */

/** One problem a schema found; `path` locates it in the body. */
export interface BodySchemaIssue {
  /** The schema's description of the problem. */
  readonly message: string
  /** Where in the body, as keys or `{ key }` segments. */
  readonly path?: ReadonlyArray<PropertyKey | BodySchemaPathSegment> | undefined
}

/** A path segment as an object (Standard Schema allows both forms). */
export interface BodySchemaPathSegment {
  /** The key of the segment. */
  readonly key: PropertyKey
}

/** What a schema's `validate` returns: the (possibly transformed) value, or the issues. */
export type BodySchemaResult<Output> =
  | {
      /** The checked value. */
      readonly value: Output
      /** Absent on success. */
      readonly issues?: undefined
    }
  | {
      /** What the schema found wrong. */
      readonly issues: ReadonlyArray<BodySchemaIssue>
    }

/**
 * A Standard Schema v1 for the body: for example any schema of `smileid-auth-shim/schemas`, or your own zod
 * schema. Its output type becomes the handler's body type.
 */
export interface BodySchema<Output = unknown> {
  /** The Standard Schema interface. */
  readonly '~standard': {
    /** Always 1. */
    readonly version: 1
    /** The library the schema comes from, for example `"zod"`. */
    readonly vendor: string
    /** Checks a value. */
    readonly validate: (value: unknown) => BodySchemaResult<Output> | Promise<BodySchemaResult<Output>>
    /** Type-only: the schema's input and output types. */
    readonly types?: BodySchemaTypes<Output> | undefined
  }
}

/** Type-only carrier of a schema's input and output types. */
export interface BodySchemaTypes<Output> {
  /** What the schema accepts. */
  readonly input: unknown
  /** What the schema returns: the handler's body type. */
  readonly output: Output
}

/**
 * The body type a handler gets for an adapter's `body` option: the schema's output, or `unknown` without one.
 */
export type BodyOf<S> = S extends BodySchema<infer Output> ? Output : unknown

/** Options that take a body schema. */
export interface BodySchemaOptions<S extends BodySchema | undefined = undefined> {
  /**
   * Checks the body after the credential verified: a body that does not match answers 400
   * `{ error: 'invalid_body' }` and the handler does not run. The handler gets the schema's output.
   */
  body?: S
}

/** Outcome of {@link checkBody}. */
export type BodyCheck = { ok: true; value: unknown } | { ok: false; issues: ReadonlyArray<BodySchemaIssue> }

/**
 * Runs a schema over a body. A schema that throws (a buggy refinement) counts as a failed check: the adapter
 * answers 400, never 500, and the handler never sees an unchecked body.
 *
 * @internal
 */
export async function checkBody(schema: BodySchema, body: unknown): Promise<BodyCheck> {
  let result: BodySchemaResult<unknown>
  try {
    result = await schema['~standard'].validate(body)
  } catch {
    return { ok: false, issues: [{ message: 'the body schema threw while checking the body' }] }
  }
  if (result.issues !== undefined) return { ok: false, issues: result.issues }
  return { ok: true, value: result.value }
}

/**
 * Whether a value looks like a Standard Schema; checked once, when the adapter is built.
 *
 * @internal
 */
export function isBodySchema(value: unknown): value is BodySchema {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false
  const standard = (value as { '~standard'?: unknown })['~standard']
  return (
    typeof standard === 'object' &&
    standard !== null &&
    (standard as { version?: unknown }).version === 1 &&
    typeof (standard as { validate?: unknown }).validate === 'function'
  )
}
