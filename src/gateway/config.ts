/**
 * The gateway's configuration: one JSON file, validated with zod. Every error names the field and what it
 * accepts. Keys never live in the file: it names environment variables or files that hold them.
 *
 * Loading is two steps, both pure apart from reading the files the config names: {@link parseGatewayConfig}
 * checks the shape, {@link resolveGatewayConfig} reads the keys and builds the strategies (so a bad key is
 * reported against the field that named it).
 *
 * @internal
 * @module
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'

import { ConfigurationError } from '../errors.js'
import { defaultInstance } from '../verifier/instance-node.js'
import { LegacySecKeyAuth } from '../schemes/sec-key.js'
import { SignatureAuth } from '../schemes/signature.js'
import type { SignerUse } from '../signer.js'
import type { MigrationPolicy } from '../verifier/policy.js'

/**
 * A configuration mistake found while loading the gateway config: `field` is the dotted path of the field
 * (`inbound.listen.port`), `message` says what it accepts. The CLI prints it and exits 2.
 *
 * @example
 * ```ts
 * try {
 *   loadGatewayConfig('./gateway.json', process.env)
 * } catch (error) {
 *   if (error instanceof GatewayConfigError) console.error(`${error.field}: ${error.message}`)
 * }
 * ```
 */
export class GatewayConfigError extends Error {
  /** The dotted path of the offending field, or `(file)` for a file that is not JSON. */
  readonly field: string

  constructor(field: string, message: string) {
    super(message)
    this.name = 'GatewayConfigError'
    this.field = field
  }
}

const LEGACY = ['accept', 'warn', 'reject'] as const
const MODES = ['enforce', 'observe'] as const
const USES = ['signature', 'sec_key'] as const
const RESERVED_PATHS = ['/healthz', '/readyz', '/metrics']

/** A strict object whose unknown-field error lists the allowed fields. */
function strict<T extends z.ZodRawShape>(shape: T, hint?: string) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((key) => `"${key}"`).join(', ')}; allowed: ${Object.keys(shape).join(', ')}${hint === undefined ? '' : ` (${hint})`}`
        : issue.code === 'invalid_type'
          ? 'must be an object'
          : undefined,
  })
}

const text = (what: string) => z.string({ error: `must be ${what}` }).min(1, { error: `must be ${what}` })
/** A whole number from 1 to `max`; every way to miss says the same `what`. */
const wholeNumber = (what: string, max: number) =>
  z
    .number({ error: `must be ${what}` })
    .int({ error: `must be ${what}` })
    .min(1, { error: `must be ${what}` })
    .max(max, { error: `must be ${what}` })
const positiveMs = (what: string) => wholeNumber(what, 2_147_483_647)
const httpUrl = (what: string) =>
  text(what).refine(
    (value) => {
      try {
        const url = new URL(value)
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === ''
      } catch {
        return false
      }
    },
    { error: `must be ${what}` },
  )

const keySource = strict(
  {
    apiKeyEnv: text('the name of an environment variable').optional(),
    apiKeyFile: text('the path of a file').optional(),
  },
  'keys come from apiKeyEnv or apiKeyFile, never from the config itself',
).refine((source) => (source.apiKeyEnv === undefined) !== (source.apiKeyFile === undefined), {
  error: 'give exactly one of apiKeyEnv (an environment variable) or apiKeyFile (a file path)',
})

const isoInstant = text('an ISO 8601 instant such as "2027-03-31T00:00:00Z"').refine(
  (value) => !Number.isNaN(Date.parse(value)),
  { error: 'must be an ISO 8601 instant such as "2027-03-31T00:00:00Z"' },
)

const policy = strict({
  legacy: z.enum(LEGACY, { error: `must be one of ${LEGACY.join(', ')}` }).optional(),
  mode: z.enum(MODES, { error: `must be one of ${MODES.join(', ')}` }).optional(),
  legacySunsetAt: isoInstant.optional(),
  stickyUpgrade: z.boolean({ error: 'must be true or false' }).optional(),
})

const listen = strict({
  host: text('a host name or IP address to listen on, such as "127.0.0.1"').default('127.0.0.1'),
  port: z
    .number({ error: 'must be a whole number from 0 to 65535' })
    .int({ error: 'must be a whole number from 0 to 65535' })
    .min(0, { error: 'must be a whole number from 0 to 65535' })
    .max(65535, { error: 'must be a whole number from 0 to 65535' }),
})

const bodyBytes = z
  .number({ error: 'must be a whole number of bytes from 1 to 104857600' })
  .int({ error: 'must be a whole number of bytes from 1 to 104857600' })
  .min(1, { error: 'must be a whole number of bytes from 1 to 104857600' })
  .max(100 * 1024 * 1024, { error: 'must be a whole number of bytes from 1 to 104857600' })

const routePath = text('a path starting with "/"').refine(
  (path) => path.startsWith('/') && !/[?#\s]/.test(path),
  { error: 'must be a path starting with "/", without query or spaces' },
)

const inbound = strict({
  listen,
  upstream: httpUrl('an http:// or https:// URL without query, such as "http://127.0.0.1:3000"').optional(),
  routes: z
    .array(
      strict({
        path: routePath.refine((path) => !RESERVED_PATHS.includes(path), {
          error: `must not be one of the gateway's own paths (${RESERVED_PATHS.join(', ')})`,
        }),
        upstream: httpUrl('an http:// or https:// URL without query, such as "http://127.0.0.1:3001"'),
      }),
      { error: 'must be a list of { "path", "upstream" }' },
    )
    .optional(),
  maxBodyBytes: bodyBytes.optional(),
  upstreamTimeoutMs: positiveMs('a whole number of milliseconds from 1 to 2147483647').optional(),
  requestTimeoutMs: positiveMs('a whole number of milliseconds from 1 to 2147483647').optional(),
  retryAfterSeconds: z
    .number({ error: 'must be a whole number of seconds from 1 to 3600' })
    .int({ error: 'must be a whole number of seconds from 1 to 3600' })
    .min(1, { error: 'must be a whole number of seconds from 1 to 3600' })
    .max(3600, { error: 'must be a whole number of seconds from 1 to 3600' })
    .optional(),
}).refine((value) => value.upstream !== undefined || (value.routes?.length ?? 0) > 0, {
  error: 'give an upstream, or routes with their own upstream',
})

const use = z.union(
  [
    z.enum(USES),
    strict({
      signaturePercent: z
        .number({ error: 'must be a number from 0 to 100' })
        .min(0, { error: 'must be a number from 0 to 100' })
        .max(100, { error: 'must be a number from 0 to 100' }),
    }),
  ],
  { error: 'must be "signature", "sec_key" or { "signaturePercent": 0 to 100 }' },
)

const outbound = strict({
  listen,
  smileBaseUrl: httpUrl(
    'an http:// or https:// URL without query, such as "https://testapi.smileidentity.com"',
  ),
  use: use.default('signature'),
  tls: strict({
    certFile: text('the path of a PEM certificate file'),
    keyFile: text('the path of a PEM key file'),
  }).optional(),
  maxBodyBytes: bodyBytes.optional(),
  timeoutMs: positiveMs('a whole number of milliseconds from 1 to 2147483647').optional(),
  requestTimeoutMs: positiveMs('a whole number of milliseconds from 1 to 2147483647').optional(),
})

const partner = strict({
  signature: keySource.optional(),
  secKey: keySource.optional(),
  policy: policy.optional(),
})

/** The verifier's rule for an audit `instance`: 1 to 128 characters, no control characters. */
const INSTANCE_TEXT = 'a name of 1 to 128 characters without control characters, such as "gateway-1", or null'
const instance = z.union(
  [
    z.null(),
    z
      .string({ error: `must be ${INSTANCE_TEXT}` })
      .min(1, { error: `must be ${INSTANCE_TEXT}` })
      .max(128, { error: `must be ${INSTANCE_TEXT}` })
      // A line break in the name would let it forge lines in text logs that print it.
      .refine((value) => !/[\u0000-\u001f\u007f-\u009f]/.test(value), { error: `must be ${INSTANCE_TEXT}` }),
  ],
  { error: `must be ${INSTANCE_TEXT}` },
)

const schema = strict({
  partnerId: text('a partner id such as "085"').optional(),
  signature: keySource.optional(),
  secKey: keySource.optional(),
  partners: z
    .record(text('a partner id such as "085"'), partner, { error: 'must be an object keyed by partner id' })
    .optional(),
  policy: policy.optional(),
  freshness: z
    .union(
      [
        z.literal(false),
        strict({
          maxAgeMs: positiveMs('a whole number of milliseconds from 1 to 2147483647').optional(),
          maxFutureMs: positiveMs('a whole number of milliseconds from 1 to 2147483647').optional(),
        }),
      ],
      { error: 'must be false or { "maxAgeMs", "maxFutureMs" }' },
    )
    .optional(),
  replay: strict({
    redis: strict({
      url: text('a redis:// or rediss:// URL').refine((value) => /^rediss?:\/\/./.test(value), {
        error: 'must be a redis:// or rediss:// URL',
      }),
      prefix: z.string({ error: 'must be a string' }).optional(),
      timeoutMs: positiveMs('a whole number of milliseconds from 1 to 2147483647').optional(),
    }).optional(),
    memory: strict({
      maxEntries: wholeNumber('a whole number of credentials from 1 to 100000000', 100_000_000).optional(),
    }).optional(),
  })
    .refine((replay) => replay.redis === undefined || replay.memory === undefined, {
      error: 'give replay.redis or replay.memory, not both',
    })
    .optional(),
  audit: strict({
    jsonl: text('the path of a JSON-lines file').optional(),
    opentelemetry: z.boolean({ error: 'must be true or false' }).optional(),
  }).optional(),
  inbound: inbound.optional(),
  outbound: outbound.optional(),
  shutdownTimeoutMs: positiveMs('a whole number of milliseconds from 1 to 2147483647').optional(),
  instance: instance.optional(),
})
  .refine((config) => config.inbound !== undefined || config.outbound !== undefined, {
    error: 'give inbound, outbound or both',
  })
  .superRefine((config, context) => {
    const single =
      config.partnerId !== undefined || config.signature !== undefined || config.secKey !== undefined
    if (single && config.partners !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['partners'],
        message: 'give either partnerId/signature/secKey or partners, not both',
      })
    } else if (!single && config.partners === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['partnerId'],
        message: 'give partnerId with signature and/or secKey, or partners',
      })
    } else if (single && config.partnerId === undefined) {
      context.addIssue({ code: 'custom', path: ['partnerId'], message: 'must be a partner id such as "085"' })
    } else if (single && config.signature === undefined && config.secKey === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['signature'],
        message: 'give signature and/or secKey (each { "apiKeyEnv" } or { "apiKeyFile" })',
      })
    }
    for (const [id, entry] of Object.entries(config.partners ?? {})) {
      if (entry.signature === undefined && entry.secKey === undefined) {
        context.addIssue({ code: 'custom', path: ['partners', id], message: 'give signature and/or secKey' })
      }
    }
  })

/** The configuration file's shape after validation (defaults applied, keys not yet read). */
export type GatewayConfigFile = z.output<typeof schema>

/** One listener address. */
export interface GatewayListen {
  /** Host name or address to bind. */
  host: string
  /** TCP port; 0 picks a free one. */
  port: number
}

/** One partner's strategies and policy, keys read. */
export interface GatewayPartner {
  /** The partner id. */
  partnerId: string
  /** The signature strategy, when configured. */
  signature: SignatureAuth | undefined
  /** The legacy strategy (partner role, Smile's public key), when configured. */
  secKey: LegacySecKeyAuth | undefined
  /** The partner's own policy, when configured. */
  policy: MigrationPolicy | undefined
}

/** A fully loaded gateway configuration: keys read, strategies built. */
export interface GatewayConfig {
  /** Every configured partner, by partner id as written in the config. */
  partners: Map<string, GatewayPartner>
  /** `true` for the single-partner form (`partnerId` at the top level). */
  single: boolean
  /** The verifier-wide policy. */
  policy: MigrationPolicy | undefined
  /** The freshness window, as the verifier takes it. */
  freshness: { maxAgeMs?: number; maxFutureMs?: number } | false | undefined
  /** Redis for replay and sticky-upgrade state; `undefined` keeps them in memory. */
  redis: { url: string; prefix: string | undefined; timeoutMs: number | undefined } | undefined
  /** The in-memory replay store's bound (`replay.memory.maxEntries`); `undefined`: its default. */
  memoryMaxEntries: number | undefined
  /** JSONL audit path, when configured. */
  auditJsonl: string | undefined
  /** Whether audit records also go to the OpenTelemetry counter (`audit.opentelemetry`). */
  auditOpenTelemetry: boolean
  /** The inbound (verifying) proxy, when configured. */
  inbound:
    | {
        listen: GatewayListen
        upstream: URL | undefined
        routes: Array<{ path: string; upstream: URL }>
        maxBodyBytes: number
        upstreamTimeoutMs: number
        requestTimeoutMs: number
        retryAfterSeconds: number
      }
    | undefined
  /** The outbound (re-signing) proxy, when configured. */
  outbound:
    | {
        listen: GatewayListen
        smileBaseUrl: URL
        use: SignerUse
        tls: { cert: string; key: string } | undefined
        maxBodyBytes: number
        timeoutMs: number
        requestTimeoutMs: number
      }
    | undefined
  /** How long shutdown waits for in-flight requests before closing their connections. */
  shutdownTimeoutMs: number
  /**
   * Names this gateway in every audit record, inbound and outbound (config `instance`; default the host
   * name, as the verifier's default), so that a fleet's merged logs say which gateway wrote each record.
   * `null` only when the config says `null` or the host name cannot be read.
   */
  instance: string | null
}

/** Drops keys whose value is `undefined` (zod keeps them; the strategies' options are exact). */
function compact<T extends object>(
  value: T | undefined,
): { [K in keyof T]: Exclude<T[K], undefined> } | undefined {
  if (value === undefined) return undefined
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>
  }
}

function fieldOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.')
}

/**
 * Validates the shape of a parsed config file. Throws {@link GatewayConfigError} naming the first bad field.
 *
 * @example
 * ```ts
 * const file = parseGatewayConfig({ partnerId: '085', signature: { apiKeyEnv: 'SMILEID_API_KEY' },
 *   inbound: { listen: { port: 8787 }, upstream: 'http://127.0.0.1:3000' } })
 * ```
 */
export function parseGatewayConfig(value: unknown): GatewayConfigFile {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  // A union lists every branch's complaints; the branch-level message is the clear one.
  let path = issue.path
  let message = issue.message
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path = [...path, issue.keys[0]!]
  if (issue.code === 'invalid_value' && !message.startsWith('must')) {
    message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
  }
  throw new GatewayConfigError(fieldOf(path), message)
}

/** Where keys come from: environment variables and files. Injected so that tests control both. */
export interface KeyEnvironment {
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>
  /** Reads a file as UTF-8. Default `readFileSync`. */
  readFile?: (path: string) => string
}

function readKey(
  source: { apiKeyEnv?: string | undefined; apiKeyFile?: string | undefined },
  field: string,
  keys: KeyEnvironment,
): string {
  if (source.apiKeyEnv !== undefined) {
    const value = keys.env[source.apiKeyEnv]
    if (value === undefined || value.trim() === '') {
      throw new GatewayConfigError(
        `${field}.apiKeyEnv`,
        `the environment variable ${source.apiKeyEnv} is not set or empty`,
      )
    }
    return value.trim()
  }
  const path = source.apiKeyFile!
  let value: string
  try {
    value = (keys.readFile ?? ((file: string) => readFileSync(file, 'utf8')))(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new GatewayConfigError(
      `${field}.apiKeyFile`,
      `cannot read ${path}${code === undefined ? '' : ` (${code})`}`,
    )
  }
  if (value.trim() === '') throw new GatewayConfigError(`${field}.apiKeyFile`, `${path} is empty`)
  return value.trim()
}

function build<T>(field: string, make: () => T): T {
  try {
    return make()
  } catch (error) {
    // Strategy messages never quote a key.
    if (error instanceof ConfigurationError) throw new GatewayConfigError(field, error.message)
    throw error
  }
}

function readFile(path: string, field: string, keys: KeyEnvironment): string {
  try {
    return (keys.readFile ?? ((file: string) => readFileSync(file, 'utf8')))(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new GatewayConfigError(field, `cannot read ${path}${code === undefined ? '' : ` (${code})`}`)
  }
}

function partnerOf(
  id: string,
  entry: {
    signature?: Parameters<typeof readKey>[0] | undefined
    secKey?: Parameters<typeof readKey>[0] | undefined
    policy?: Record<string, unknown> | undefined
  },
  prefix: string,
  keys: KeyEnvironment,
): GatewayPartner {
  const signature =
    entry.signature === undefined
      ? undefined
      : build(
          `${prefix}signature`,
          () =>
            new SignatureAuth({
              partnerId: id,
              apiKey: readKey(entry.signature!, `${prefix}signature`, keys),
            }),
        )
  const secKey =
    entry.secKey === undefined
      ? undefined
      : build(
          `${prefix}secKey`,
          () =>
            new LegacySecKeyAuth({ partnerId: id, apiKey: readKey(entry.secKey!, `${prefix}secKey`, keys) }),
        )
  return { partnerId: id, signature, secKey, policy: compact(entry.policy) as MigrationPolicy | undefined }
}

/**
 * Reads the keys a validated config names and builds the strategies. Throws {@link GatewayConfigError}
 * naming the field whose variable or file is missing or holds an unusable key.
 *
 * @example
 * ```ts
 * const config = resolveGatewayConfig(parseGatewayConfig(json), { env: process.env })
 * ```
 */
export function resolveGatewayConfig(file: GatewayConfigFile, keys: KeyEnvironment): GatewayConfig {
  const partners = new Map<string, GatewayPartner>()
  const single = file.partners === undefined
  if (single) {
    const id = file.partnerId!
    partners.set(id, partnerOf(id, { signature: file.signature, secKey: file.secKey }, '', keys))
  } else {
    for (const [id, entry] of Object.entries(file.partners!)) {
      partners.set(id, partnerOf(id, entry, `partners.${id}.`, keys))
    }
  }
  const inbound = file.inbound
  const outbound = file.outbound
  if (outbound !== undefined) {
    const percent =
      outbound.use === 'signature' ? 100 : outbound.use === 'sec_key' ? 0 : outbound.use.signaturePercent
    for (const [id, entry] of partners) {
      const where = single ? '' : `partners.${id}.`
      if (percent > 0 && entry.signature === undefined) {
        throw new GatewayConfigError(
          `${where}signature`,
          'outbound.use can pick the signature scheme, so the signature key is needed',
        )
      }
      if (percent < 100 && entry.secKey === undefined) {
        throw new GatewayConfigError(
          `${where}secKey`,
          'outbound.use can pick the sec_key scheme, so the sec_key API key is needed',
        )
      }
    }
  }
  return {
    partners,
    single,
    policy: compact(file.policy) as MigrationPolicy | undefined,
    freshness: file.freshness === false ? false : compact(file.freshness),
    redis:
      file.replay?.redis === undefined
        ? undefined
        : {
            url: file.replay.redis.url,
            prefix: file.replay.redis.prefix,
            timeoutMs: file.replay.redis.timeoutMs,
          },
    memoryMaxEntries: file.replay?.memory?.maxEntries,
    auditJsonl: file.audit?.jsonl,
    auditOpenTelemetry: file.audit?.opentelemetry ?? false,
    inbound:
      inbound === undefined
        ? undefined
        : {
            listen: inbound.listen,
            upstream: inbound.upstream === undefined ? undefined : new URL(inbound.upstream),
            // Longest path first, so the most specific route wins.
            routes: (inbound.routes ?? [])
              .map((route) => ({ path: route.path, upstream: new URL(route.upstream) }))
              .sort((a, b) => b.path.length - a.path.length),
            maxBodyBytes: inbound.maxBodyBytes ?? 1024 * 1024,
            upstreamTimeoutMs: inbound.upstreamTimeoutMs ?? 30_000,
            requestTimeoutMs: inbound.requestTimeoutMs ?? 30_000,
            retryAfterSeconds: inbound.retryAfterSeconds ?? 5,
          },
    outbound:
      outbound === undefined
        ? undefined
        : {
            listen: outbound.listen,
            smileBaseUrl: new URL(outbound.smileBaseUrl),
            use: outbound.use,
            tls:
              outbound.tls === undefined
                ? undefined
                : {
                    cert: readFile(outbound.tls.certFile, 'outbound.tls.certFile', keys),
                    key: readFile(outbound.tls.keyFile, 'outbound.tls.keyFile', keys),
                  },
            maxBodyBytes: outbound.maxBodyBytes ?? 1024 * 1024,
            timeoutMs: outbound.timeoutMs ?? 60_000,
            requestTimeoutMs: outbound.requestTimeoutMs ?? 30_000,
          },
    shutdownTimeoutMs: file.shutdownTimeoutMs ?? 10_000,
    instance: file.instance === undefined ? defaultInstance() : file.instance,
  }
}

/**
 * Reads, parses, validates and resolves a gateway config file in one step.
 *
 * @example
 * ```ts
 * const config = loadGatewayConfig('/etc/smileid/gateway.json', { env: process.env })
 * ```
 * @throws {@link GatewayConfigError} for a file that cannot be read, is not JSON, or has a bad field.
 */
export function loadGatewayConfig(path: string, keys: KeyEnvironment): GatewayConfig {
  let text: string
  try {
    text = (keys.readFile ?? ((file: string) => readFileSync(file, 'utf8')))(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new GatewayConfigError('(file)', `cannot read ${path}${code === undefined ? '' : ` (${code})`}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text) as unknown
  } catch (error) {
    throw new GatewayConfigError('(file)', `${path} is not valid JSON (${(error as Error).message})`)
  }
  return resolveGatewayConfig(parseGatewayConfig(value), keys)
}
