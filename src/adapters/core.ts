/**
 * The one verification flow behind every adapter. A framework file supplies only the ports (headers, the
 * body in whatever state the framework left it, route and source address) and turns the outcome into its
 * own response: 413 for a body over the limit, 400 for a body that is not JSON, 401 `{ error: <reason> }`
 * for a failed verification, 503 with `Retry-After` when the replay store could not be asked, and
 * `Deprecation` / `Sunset` headers on legacy-authenticated requests.
 *
 * Web APIs only: the fetch adapter runs this on Workers, Deno and Bun.
 *
 * @internal
 * @module
 */
import { fromUtf8, utf8 } from '../encoding.js'
import { ConfigurationError } from '../errors.js'
import { describe } from '../option-checks.js'
import type { FailureReason, VerificationFailure, VerificationResult, VerificationSuccess } from '../types.js'
import { checkBody, isBodySchema, type BodySchema, type BodySchemaIssue } from './body-schema.js'

/** Default body size limit: 1 MiB, far above any Smile ID callback. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024

/**
 * Seconds a sender should wait before retrying a request refused with `replay_check_failed` (503). Short:
 * a replay store outage is usually a blip, and a refused callback that is retried soon is not lost.
 */
export const RETRY_AFTER_SECONDS = 5

/**
 * What the adapters need from a verifier. A `DualModeVerifier` fits; so does any object with the same
 * `verify` method (a test double, or a wrapper that adds logging).
 */
export interface RequestVerifier {
  /** Verifies one request. Must not throw on what a caller sends. */
  verify(
    request: { body?: unknown; headers?: Record<string, string>; rawBody?: string },
    context?: { route?: string; sourceIp?: string },
  ): Promise<VerificationResult>
  /**
   * The sunset of the legacy scheme that applies to the partner of `result` (its own policy, or the
   * verifier's), or `null` when none is set. A date adds `Deprecation` and `Sunset` headers to the response
   * to a legacy request. A `DualModeVerifier` has it; without it the adapters read `policy.legacySunsetAt`.
   */
  legacySunsetFor?(result: VerificationResult): Date | null
  /** The verifier's policy, read for the sunset date when {@link RequestVerifier.legacySunsetFor} is absent. */
  readonly policy?: SunsetPolicy | undefined
}

/** The part of a verifier's policy the adapters read. */
export interface SunsetPolicy {
  /** When the legacy scheme stops being accepted; announced on legacy responses as `Deprecation` and `Sunset`. */
  readonly legacySunsetAt?: Date | string | null | undefined
}

/**
 * The `error` code an adapter answers with: a {@link FailureReason} for a failed verification (401; 503 for
 * `replay_check_failed`, which says nothing about the credential: the sender should retry),
 * `invalid_json` for a body that is not JSON (400), `body_incomplete` for an upload that broke off (400),
 * `invalid_body` for an authenticated body that does not match the adapter's `body` schema (400),
 * `body_too_large` above the size limit (413), and `body_already_read` (500) when the server's own code
 * consumed a Fetch request's body before the adapter could read it (a bug on the receiving side, so the
 * sender is told to retry, not that its request is bad).
 */
export type RequestErrorCode =
  FailureReason | 'invalid_json' | 'body_too_large' | 'body_incomplete' | 'invalid_body' | 'body_already_read'

/** A request that passed: the handler runs. `Body` is the body schema's output, `unknown` without one. */
export interface RequestAccepted<Body = unknown> {
  /** `true`: same as `result.ok`, at the top level so that checking it narrows the whole object. */
  ok: true
  /** The successful verification. */
  result: VerificationSuccess
  /**
   * The parsed JSON body (`undefined` when the request had none); with a `body` schema, the schema's
   * output (checked, and transformed if the schema transforms).
   */
  body: Body
  /** Always 200: go on to the handler. */
  status: 200
  /** Always `null`. */
  error: null
  /** Headers to add to the response: `Deprecation` and `Sunset` for a legacy request when a sunset date is set. */
  headers: Record<string, string>
}

/** A request that was refused: answer `status` with `{ error }`. */
export interface RequestRejected {
  /** `false`: same as `result.ok`. */
  ok: false
  /**
   * The failed verification. For a body that was too large or not JSON, the verifier never ran and this is
   * a `malformed_credentials` failure; {@link RequestRejected.error} says which. For `invalid_body` the
   * credential verified (see {@link RequestRejected.auth}) and this failure only carries the scheme and
   * partner.
   */
  result: VerificationFailure
  /** For `invalid_body` only: the verification that passed before the body failed its schema. */
  auth?: VerificationSuccess
  /** For `invalid_body` only: what the schema found. For your logs; never sent to the client. */
  issues?: ReadonlyArray<BodySchemaIssue>
  /** The parsed JSON body when there was one. */
  body: unknown
  /**
   * 400 (not JSON, or not matching the body schema), 401 (verification failed), 413 (over the size limit)
   * or 503 (`replay_check_failed`: the
   * replay store could not be asked, so the request was neither accepted nor found bad; retry later).
   */
  status: 400 | 401 | 413 | 500 | 503
  /** The code to send as `{ error }`. Never contains a key, signature or sec_key. */
  error: RequestErrorCode
  /** Headers to add to the response: `Retry-After` with a 503, none otherwise. */
  headers: Record<string, string>
}

/**
 * The outcome of verifying one HTTP request: branch on `ok`.
 *
 * @example
 * ```ts
 * const verification = await verifyRequest(verifier, request)
 * if (!verification.ok) {
 *   return Response.json({ error: verification.error }, { status: verification.status })
 * }
 * console.log(verification.result.scheme)
 * ```
 */
export type RequestVerification<Body = unknown> = RequestAccepted<Body> | RequestRejected

/** A rejected verification as a framework's `onFailure` hook receives it. */
export type RequestFailure = RequestRejected

/** Options every adapter accepts. */
export interface RequestLimitOptions {
  /** Largest body read, in bytes. Default 1 MiB. Above it the adapter answers 413 `body_too_large`. */
  limit?: number
}

/** A body read from a stream with a limit. */
export type BodyRead = { ok: true; bytes: Uint8Array } | { ok: false }

/** The state a framework left the request body in. */
export type BodyPort =
  /** A body parser ran; `raw` is the exact bytes when the framework kept them. */
  | { kind: 'parsed'; value: unknown; raw?: Uint8Array | string | undefined }
  /** The raw body is at hand (a framework's raw/text parser, or a `rawBody` stash). */
  | { kind: 'raw'; raw: Uint8Array | string }
  /** Nobody read the body yet: read it with the limit. */
  | { kind: 'stream'; read: (limit: number) => Promise<BodyRead> }

/** What a framework file supplies. */
export interface RequestPorts {
  /** Request headers, lowercase names, repeated values joined with `, `. */
  headers: Record<string, string>
  /** The body. */
  body: BodyPort
  /** The route, for the audit trail. */
  route?: string | undefined
  /** The client address, for the audit trail. */
  sourceIp?: string | undefined
}

/** A body with anything but whitespace (the test stops at the first such character; no trimmed copy). */
const NOT_BLANK = /\S/

/** Runs the shared flow: size limit, JSON, verification, body schema, response headers. */
export async function verifyPorts(
  verifier: RequestVerifier,
  ports: RequestPorts,
  limit: number,
  schema?: BodySchema,
): Promise<RequestVerification> {
  const declared = ports.headers['content-length']
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit) return tooLarge()

  let body: unknown
  let rawBody: string | undefined
  const port = ports.body
  if (port.kind === 'stream') {
    let read: BodyRead
    try {
      read = await port.read(limit)
    } catch {
      // The upload broke off (client gone, connection reset): nothing complete to verify.
      return rejected(400, 'body_incomplete', 'the body ended before it was complete', undefined)
    }
    if (!read.ok) return tooLarge()
    rawBody = fromUtf8(read.bytes)
  } else if (port.raw !== undefined) {
    if (byteLength(port.raw) > limit) return tooLarge()
    rawBody = typeof port.raw === 'string' ? port.raw : fromUtf8(port.raw)
  }
  if (port.kind === 'parsed') {
    body = port.value
  } else if (rawBody !== undefined && NOT_BLANK.test(rawBody)) {
    try {
      body = JSON.parse(rawBody) as unknown
    } catch {
      return rejected(400, 'invalid_json', 'the body is not JSON', undefined)
    }
  }

  const context: { route?: string; sourceIp?: string } = {}
  if (ports.route !== undefined) context.route = ports.route
  if (ports.sourceIp !== undefined) context.sourceIp = ports.sourceIp
  const input: { body?: unknown; headers: Record<string, string>; rawBody?: string } = {
    headers: ports.headers,
  }
  if (body !== undefined) input.body = body
  // An empty body is no body: there is nothing to fingerprint, and '' is not JSON.
  if (rawBody !== undefined && rawBody !== '') input.rawBody = rawBody

  const result = await verifier.verify(input, context)
  if (!result.ok) {
    // The replay store was unreachable: the credential may be fine. 401 would tell the sender it is bad and
    // make it give up; 503 + Retry-After (RFC 9110 §10.2.3) makes it retry, so nothing is lost.
    if (result.reason === 'replay_check_failed') {
      return {
        ok: false,
        result,
        body,
        status: 503,
        error: result.reason,
        headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
      }
    }
    return { ok: false, result, body, status: 401, error: result.reason, headers: {} }
  }
  const headers = result.legacy ? sunsetHeaders(verifier, result) : {}
  if (schema !== undefined) {
    // After the verification, never before: an unauthenticated sender learns nothing about the schema.
    const checked = await checkBody(schema, body)
    if (!checked.ok) {
      return {
        ok: false,
        result: {
          ok: false,
          scheme: result.scheme,
          reason: 'malformed_credentials',
          message: 'the body does not match the schema',
          partnerId: result.partnerId,
        },
        auth: result,
        issues: checked.issues,
        body,
        status: 400,
        error: 'invalid_body',
        headers,
      }
    }
    body = checked.value
  }
  return { ok: true, result, body, status: 200, error: null, headers }
}

/** The JSON body of a rejection: `{ error }`, nothing else, so nothing secret can leak. */
export function rejectionBody(verification: RequestRejected): { error: RequestErrorCode } {
  return { error: verification.error }
}

/**
 * Normalises Node-style headers (lowercase names, string or array values). Node already gives lowercase
 * names and string values for all but a few headers, so the common case is one copy per header, with no
 * per-header array or string built.
 */
export function nodeHeaders(
  headers: Record<string, string | string[] | number | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {}
  const names = Object.keys(headers)
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!
    const value = headers[name]
    if (value === undefined) continue
    out[isLowerCase(name) ? name : name.toLowerCase()] =
      typeof value === 'string' ? value : Array.isArray(value) ? value.join(', ') : String(value)
  }
  return out
}

/** Whether a header name has no ASCII capital (what Node hands over), so lowercasing it would change nothing. */
function isLowerCase(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c >= 65 && c <= 90) return false
  }
  return true
}

/** Normalises a Fetch API `Headers` (its names are lowercase already). */
export function webHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  headers.forEach((value, name) => {
    out[name] = value
  })
  return out
}

function bodyHint(body: unknown): string {
  if (typeof body === 'function') return '; pass the schema object, not a function that makes one'
  // zod before 3.24 has safeParse but not the Standard Schema interface.
  if (typeof (body as { safeParse?: unknown } | null)?.safeParse === 'function') {
    return '; this schema does not implement Standard Schema (~standard): upgrade zod to 3.24 or later'
  }
  return ''
}

/**
 * Validates an adapter's hook options (`onFailure`, a `sourceIp` reader) once, at construction: a hook
 * that is not a function would otherwise fail on the first rejected request, as a 500.
 */
export function checkHooks(options: object, names: readonly string[], where: string): void {
  for (const name of names) {
    const value: unknown = (options as Record<string, unknown>)[name]
    if (value === undefined || typeof value === 'function') continue
    throw new ConfigurationError(
      'invalid_options',
      `${where}: ${name} must be a function (got ${describe(value)})` +
        (name === 'onFailure' && typeof value === 'object' && value !== null
          ? '; pass (failure, …) => a response, not a response'
          : ''),
    )
  }
}

/**
 * The path of a request target (`/a/b?x=1` → `/a/b`), for the audit trail: a slice, not a split into an
 * array per request.
 */
export function pathOf(target: string): string {
  const query = target.indexOf('?')
  return query === -1 ? target : target.slice(0, query)
}

/**
 * The path of an absolute URL as a Fetch `Request` serialises it (`https://host:8080/a/b?x=1` → `/a/b`),
 * read from the text instead of parsing a `URL` per request. `undefined` when it is not such a URL.
 */
export function pathOfUrl(url: string): string | undefined {
  const scheme = url.indexOf('://')
  if (scheme === -1) return undefined
  const slash = url.indexOf('/', scheme + 3)
  if (slash === -1) return '/'
  let end = url.length
  const query = url.indexOf('?', slash)
  if (query !== -1) end = query
  const hash = url.indexOf('#', slash)
  if (hash !== -1 && hash < end) end = hash
  return url.slice(slash, end)
}

/** Calls `set` for every header of an outcome; no entries array for the usual empty set. */
export function eachHeader(
  headers: Record<string, string>,
  set: (name: string, value: string) => void,
): void {
  const names = Object.keys(headers)
  for (let i = 0; i < names.length; i++) set(names[i]!, headers[names[i]!]!)
}

/** Validates an adapter's `body` option once, at construction. */
export function checkBodyOption(body: unknown, where: string): BodySchema | undefined {
  if (body === undefined) return undefined
  if (!isBodySchema(body)) {
    throw new ConfigurationError(
      'invalid_options',
      `${where}: body must be a Standard Schema (for example a schema from smileid-auth-shim/schemas or zod) ` +
        `(got ${describe(body)})${bodyHint(body)}`,
    )
  }
  return body
}

/** Validates adapter options once, at construction. Returns the body limit. */
export function checkAdapterOptions(verifier: unknown, limit: unknown, where: string): number {
  if (
    typeof verifier !== 'object' ||
    verifier === null ||
    typeof (verifier as RequestVerifier).verify !== 'function'
  ) {
    throw new ConfigurationError(
      'invalid_options',
      `${where} needs a verifier (a DualModeVerifier with a verify method) (got ${describe(verifier)})` +
        // The option-object adapters take { verifier }; passing the verifier itself is the usual slip.
        (verifier === undefined && (where === 'smileIdAuth' || where === 'SmileIdAuthGuard')
          ? `; pass it inside the options: ${where === 'smileIdAuth' ? 'smileIdAuth' : 'new SmileIdAuthGuard'}({ verifier })`
          : ''),
    )
  }
  if (limit === undefined) return DEFAULT_BODY_LIMIT
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit <= 0) {
    const hint =
      typeof limit === 'string'
        ? '; pass a number such as 1_048_576, not a size string'
        : typeof limit === 'number' && limit > 0 && Number.isFinite(limit) && limit < 2 ** 53
          ? `; round it, for example ${String(Math.ceil(limit))}`
          : ''
    throw new ConfigurationError(
      'invalid_options',
      `${where}: limit must be a positive whole number of bytes (default ${DEFAULT_BODY_LIMIT}) ` +
        `(got ${describe(limit)})${hint}`,
    )
  }
  return limit
}

/**
 * `Deprecation` (RFC 9745) and `Sunset` (RFC 8594) for a request authenticated with the legacy scheme, when
 * the partner's policy names a sunset date. The library knows no earlier deprecation date, so both carry the
 * sunset: the scheme is deprecated, and stops working, then.
 */
function sunsetHeaders(verifier: RequestVerifier, result: VerificationSuccess): Record<string, string> {
  let sunsetAt: Date | string | null | undefined
  try {
    sunsetAt =
      typeof verifier.legacySunsetFor === 'function'
        ? verifier.legacySunsetFor(result)
        : verifier.policy?.legacySunsetAt
  } catch {
    // A custom verifier whose lookup fails: the request is authenticated; it only goes without the headers.
    return {}
  }
  if (sunsetAt === undefined || sunsetAt === null) return {}
  const date = sunsetAt instanceof Date ? sunsetAt : new Date(sunsetAt)
  const ms = date.getTime()
  if (Number.isNaN(ms)) return {}
  // RFC 9745 wants a structured-field Date (`@` + epoch seconds); RFC 8594 an IMF-fixdate, which toUTCString() is.
  return { deprecation: `@${Math.floor(ms / 1000)}`, sunset: date.toUTCString() }
}

/**
 * The answer for a Fetch request whose body something else already read: a typed 500, not a throw, so a
 * wrapped handler never turns the misuse into an unhandled rejection.
 */
export function bodyAlreadyRead(): RequestRejected {
  return {
    ok: false,
    result: {
      ok: false,
      scheme: null,
      reason: 'malformed_credentials',
      message: 'the request body was already read before verification: pass request.clone()',
      partnerId: null,
    },
    body: undefined,
    status: 500,
    error: 'body_already_read',
    headers: {},
  }
}

function tooLarge(): RequestRejected {
  return rejected(413, 'body_too_large', 'the body is larger than the limit', undefined)
}

function rejected(
  status: 400 | 413,
  error: RequestErrorCode,
  message: string,
  body: unknown,
): RequestRejected {
  return {
    ok: false,
    result: { ok: false, scheme: null, reason: 'malformed_credentials', message, partnerId: null },
    body,
    status,
    error,
    headers: {},
  }
}

function byteLength(raw: Uint8Array | string): number {
  return typeof raw === 'string' ? utf8(raw).length : raw.length
}
