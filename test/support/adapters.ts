/**
 * The one adapter rig of the suite: every adapter, mounted the way a user mounts it, on a real server on
 * 127.0.0.1 (and the fetch handler also called directly with `Request` objects). Each running adapter
 * counts the calls that reached the verifier and collects the errors its framework saw and the statuses
 * it sent, so a test can tell "refused before verification" from "verified and refused". The route
 * answers what the test's {@link Answer} makes of what the handler saw.
 *
 * @module
 */
import 'reflect-metadata'
import { createServer, type Server } from 'node:http'

import { createAdaptorServer } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import {
  Controller,
  HttpCode,
  HttpException,
  Module,
  Post,
  Req,
  UseGuards,
  type ArgumentsHost,
  type HttpServer,
} from '@nestjs/common'
import { BaseExceptionFilter, NestFactory } from '@nestjs/core'
import type { NestExpressApplication } from '@nestjs/platform-express'
import express, { type ErrorRequestHandler } from 'express'
import express4 from 'express4'
import Fastify from 'fastify'
import { Hono } from 'hono'

import type { BodySchema } from '../../src/adapters/body-schema.js'
import type { RequestVerifier } from '../../src/adapters/core.js'
import { smileIdAuth as expressAuth } from '../../src/adapters/express.js'
import { smileIdAuth as fastifyAuth } from '../../src/adapters/fastify.js'
import { withSmileIdAuth } from '../../src/adapters/fetch.js'
import { smileIdAuth as honoAuth } from '../../src/adapters/hono.js'
import { SmileIdAuthGuard, SmileIdAuthResult } from '../../src/adapters/nestjs.js'
import { sendRejection, verifyIncomingMessage } from '../../src/adapters/node.js'
import type { VerificationSuccess } from '../../src/types.js'
import { callFetch, fetchListener, listen, send, type Reply, type Running } from './http.js'

/** The path every adapter is mounted on. */
export const ROUTE = '/smile/callback'

/** The adapters that run on a server on 127.0.0.1. */
export type ServedName =
  'express' | 'express4' | 'express+json' | 'fastify' | 'fetch' | 'node' | 'hono' | 'nestjs' | 'nestjs+json'

/** Every adapter: the served ones, and `fetch-request`, the fetch handler called with `Request` objects. */
export type AdapterName = ServedName | 'fetch-request'

/**
 * One adapter per way of reading the body (the adapter itself in Express, body-parser, Fastify's parser, a
 * Fetch `Request` stream, node:http): the set the hostile suites run against.
 */
export const HOSTILE_ADAPTERS: ServedName[] = ['express', 'express+json', 'fastify', 'fetch', 'node']

/** What a handler makes of the verification result and the body it was given: the route's JSON answer. */
export type Answer = (auth: VerificationSuccess | undefined, body: unknown) => unknown

/** The default {@link Answer}: `{ accepted: true }`, whatever the handler saw. */
export const accepted: Answer = () => ({ accepted: true })

/**
 * An {@link Answer} that shows what the handler saw: `{ scheme, transport, job }`, and `checked: true` when
 * the body is the output of a test schema that marks its output with `__checked`.
 */
export const seen: Answer = (auth, body) => {
  const fields = body as { SmileJobID?: unknown; __checked?: unknown } | undefined
  return {
    scheme: auth?.scheme ?? null,
    transport: auth?.transport ?? null,
    job: fields?.SmileJobID ?? null,
    ...(fields?.__checked === true ? { checked: true } : {}),
  }
}

/** Options for {@link startAdapter}. */
export interface StartOptions {
  /** The adapter's body limit (and the framework parser's, so all refuse at the same size). */
  limit?: number
  /** The server's `requestTimeout` in ms: how long a client may take to send the whole request. */
  requestTimeoutMs?: number
  /** The `body` schema handed to the adapter. */
  body?: BodySchema
  /** What the route answers once the adapter lets a request through; {@link accepted} by default. */
  answer?: Answer
}

/** How an adapter reports a body error: this library's `{ error }` codes, or the framework's own. */
export interface BodyErrorCodes {
  /** The JSON field of the code. */
  field: 'error' | 'code'
  /** The code for a body that is not JSON (400). */
  invalidJson: string
  /** The code for a body over the limit (413). */
  tooLarge: string
  /** Where the 413 code is, when not in `field`. */
  tooLargeField?: 'message'
}

/** What a test may expect of an adapter before it starts it. */
export interface Target {
  name: AdapterName
  /** A readable name for test titles. */
  title: string
  /** The codes of 400/413 answers (the framework's own when its parser runs first). */
  bodyErrors: BodyErrorCodes
  /** Whether the audit trail gets the client address. */
  seesSourceIp: boolean
}

/** A started adapter. */
export interface StartedAdapter {
  name: AdapterName
  /** POSTs a body to the route. */
  send(body: string, options?: { headers?: Record<string, string>; chunked?: boolean }): Promise<Reply>
  /** Requests that reached `verifier.verify`. */
  readonly verifyCalls: number
  /**
   * Errors the framework or the bridge saw (an aborted upload, a timeout); in NestJS, the exceptions that
   * are not an `HttpException` (the guard's refusals are answers, not errors).
   */
  readonly errors: unknown[]
  /** The status of every response the adapter started to send, in order. */
  readonly statuses: number[]
  /** Whether 400/413 answers carry this library's `{ error }` codes (not the framework's own). */
  ownBodyErrors: boolean
  close(): Promise<void>
}

/** A started adapter on a server on 127.0.0.1. */
export interface ServedAdapter extends StartedAdapter {
  name: ServedName
  /** The route's URL. */
  url: string
}

const OWN_CODES: BodyErrorCodes = { field: 'error', invalidJson: 'invalid_json', tooLarge: 'body_too_large' }

/** Every adapter, for the suites that run against all of them. */
export const TARGETS: Target[] = [
  { name: 'express', title: 'express, no body parser', bodyErrors: OWN_CODES, seesSourceIp: true },
  { name: 'express4', title: 'express 4, no body parser', bodyErrors: OWN_CODES, seesSourceIp: true },
  {
    name: 'express+json',
    title: 'express after express.json()',
    // body-parser answers first; the app's error handler reports its error type.
    bodyErrors: { field: 'error', invalidJson: 'entity.parse.failed', tooLarge: 'entity.too.large' },
    seesSourceIp: true,
  },
  {
    name: 'fastify',
    title: 'fastify',
    bodyErrors: {
      field: 'code',
      invalidJson: 'FST_ERR_CTP_INVALID_JSON_BODY',
      tooLarge: 'FST_ERR_CTP_BODY_TOO_LARGE',
    },
    seesSourceIp: true,
  },
  { name: 'fetch', title: 'fetch handler behind node:http', bodyErrors: OWN_CODES, seesSourceIp: false },
  {
    name: 'fetch-request',
    title: 'fetch handler called with Request objects',
    bodyErrors: OWN_CODES,
    seesSourceIp: false,
  },
  { name: 'node', title: 'node:http', bodyErrors: OWN_CODES, seesSourceIp: true },
  { name: 'hono', title: 'hono (@hono/node-server)', bodyErrors: OWN_CODES, seesSourceIp: true },
  {
    name: 'nestjs',
    title: 'nestjs (platform-express, body parser off)',
    bodyErrors: OWN_CODES,
    seesSourceIp: true,
  },
  {
    name: 'nestjs+json',
    title: 'nestjs (platform-express, JSON body parser, rawBody: true)',
    // Nest's body parser answers first, in Nest's error format.
    bodyErrors: {
      field: 'error',
      invalidJson: 'Bad Request',
      tooLargeField: 'message',
      tooLarge: 'request entity too large',
    },
    seesSourceIp: true,
  },
]

/** What every mount gets: the counting verifier, the test's options, and where framework errors go. */
interface MountContext {
  verifier: RequestVerifier
  options: StartOptions
  answer: Answer
  errors: unknown[]
}

/** An app on a node:http server that does not listen yet. */
interface Mounted {
  server: Server
  /** Starts listening on 127.0.0.1 with a free port. */
  listen(): Promise<Running>
}

/** The options every adapter takes, from the test's options. */
function adapterOptions({ limit, body }: StartOptions): { limit?: number; body?: BodySchema } {
  return { ...(limit === undefined ? {} : { limit }), ...(body === undefined ? {} : { body }) }
}

/** A verifier that counts the requests that reach `verify`, and is otherwise `verifier`. */
function counting(verifier: RequestVerifier, onVerify: () => void): RequestVerifier {
  return {
    verify: (request, context) => {
      onVerify()
      return verifier.verify(request, context)
    },
    ...(verifier.legacySunsetFor ? { legacySunsetFor: verifier.legacySunsetFor.bind(verifier) } : {}),
    ...(verifier.policy === undefined ? {} : { policy: verifier.policy }),
  }
}

/** Records the status of each response of `server` as it ends, whoever ends it. */
function recordStatuses(server: Server, statuses: number[]): void {
  server.prependListener('request', (_req, res) => {
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res
    res.end = ((...args: unknown[]) => {
      statuses.push(res.statusCode)
      return end(...args)
    }) as typeof res.end
  })
}

/** Bounds how long a client may take to send a request (Node checks every 50 ms instead of every 30 s). */
function limitRequestTime(server: Server, ms: number): void {
  server.requestTimeout = ms
  server.headersTimeout = ms
  // A public property that Node reads when the server starts listening, missing from @types/node.
  ;(server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 50
}

/** A server that {@link listen} starts. */
function onNodeServer(server: Server): Mounted {
  return { server, listen: () => listen(server) }
}

/**
 * Express 5, or Express 4, with the adapter on the route; `json` puts express.json() in front, with the
 * same limit. The error handler records what reaches it and answers `{ error: <body-parser's type> }`.
 */
function mountExpress(context: MountContext, version: 4 | 5, json: boolean): Mounted {
  const app = version === 5 ? express() : express4()
  // Express's final handler prints errors unless the environment is "test".
  app.set('env', 'test')
  if (json) app.use(express.json({ limit: context.options.limit ?? 1024 * 1024 }))
  app.post(
    ROUTE,
    expressAuth({ verifier: context.verifier, ...adapterOptions(context.options) }),
    (req, res) => void res.json(context.answer(req.smileIdAuth, req.body)),
  )
  const onError: ErrorRequestHandler = (error: { status?: number; type?: string }, _req, res, next) => {
    context.errors.push(error)
    if (res.headersSent) return next(error)
    res.status(error.status ?? 500).json({ error: error.type ?? 'internal' })
  }
  app.use(onError)
  return onNodeServer(createServer(app))
}

/** Fastify with the plugin in a scope, and Fastify's body limit set to the adapter's. */
async function mountFastify(context: MountContext): Promise<Mounted> {
  const { limit } = context.options
  const app = Fastify({ logger: false, ...(limit === undefined ? {} : { bodyLimit: limit }) })
  app.addHook('onError', async (_request, _reply, error) => void context.errors.push(error))
  await app.register(async (scope) => {
    await scope.register(fastifyAuth, { verifier: context.verifier, ...adapterOptions(context.options) })
    scope.post(ROUTE, async (request) => context.answer(request.smileIdAuth, request.body))
  })
  return {
    server: app.server,
    listen: async () => {
      const url = await app.listen({ host: '127.0.0.1', port: 0 })
      return { url, close: () => app.close() }
    },
  }
}

/** The fetch adapter's handler. */
function fetchHandler(context: MountContext): (request: Request) => Promise<Response> {
  return withSmileIdAuth(
    context.verifier,
    (_request, { auth, body }) => Response.json(context.answer(auth, body)),
    adapterOptions(context.options),
  )
}

/** The fetch adapter's handler behind node:http, the way Node hosts for Fetch handlers run it. */
function mountFetch(context: MountContext): Mounted {
  const listener = fetchListener(fetchHandler(context), (error) => context.errors.push(error))
  return onNodeServer(createServer(listener))
}

/** node:http with `verifyIncomingMessage`; an accepted request's Deprecation / Sunset headers go out too. */
function mountNode(context: MountContext): Mounted {
  const server = createServer((req, res) => {
    verifyIncomingMessage(context.verifier, req, adapterOptions(context.options)).then(
      (verification) => {
        if (!verification.ok) return sendRejection(res, verification)
        for (const [header, value] of Object.entries(verification.headers)) res.setHeader(header, value)
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(context.answer(verification.result, verification.body)))
      },
      (error: unknown) => {
        context.errors.push(error)
        res.destroy()
      },
    )
  })
  return onNodeServer(server)
}

/** Hono on @hono/node-server, with the client address from the connection. */
function mountHono(context: MountContext): Mounted {
  const app = new Hono()
  app.post(
    ROUTE,
    honoAuth({
      verifier: context.verifier,
      ...adapterOptions(context.options),
      sourceIp: (c) => getConnInfo(c).remote.address,
    }),
    (c) => c.json(context.answer(c.get('smileIdAuth'), c.get('smileIdBody'))),
  )
  app.onError((error, c) => {
    context.errors.push(error)
    return c.text('Internal Server Error', 500)
  })
  return onNodeServer(createAdaptorServer({ fetch: app.fetch }) as Server)
}

/**
 * A NestJS controller class with one handler, decorated by calling the decorators (no decorator syntax, so
 * no compiler flags): `@Controller()`, `@Post()`, `@UseGuards(guard)` and `@SmileIdAuthResult()` on the
 * handler's first parameter; the second parameter is the request, through Nest's own `@Req()`.
 */
function nestController(guard: SmileIdAuthGuard, answer: Answer): new () => object {
  class CallbackController {
    handle(auth: VerificationSuccess | undefined, req: { body?: unknown }) {
      return answer(auth, req.body)
    }
  }
  const handle = Object.getOwnPropertyDescriptor(CallbackController.prototype, 'handle')!
  Reflect.decorate(
    [Post(ROUTE.split('/')[2]!), HttpCode(200), UseGuards(guard)],
    CallbackController.prototype,
    'handle',
    handle,
  )
  SmileIdAuthResult()(CallbackController.prototype, 'handle', 0)
  Req()(CallbackController.prototype, 'handle', 1)
  Reflect.decorate([Controller(ROUTE.split('/')[1]!)], CallbackController)
  return CallbackController
}

/**
 * Nest's default exception filter, recording each exception that is not an answer (an `HttpException`,
 * such as the guard's refusals) before it answers as Nest does.
 */
class RecordingFilter extends BaseExceptionFilter {
  constructor(
    applicationRef: HttpServer,
    private readonly errors: unknown[],
  ) {
    super(applicationRef)
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (!(exception instanceof HttpException)) this.errors.push(exception)
    super.catch(exception, host)
  }
}

/** NestJS on platform-express with the guard; `json` turns Nest's JSON body parser on, with `rawBody`. */
async function mountNest(context: MountContext, json: boolean): Promise<Mounted> {
  const guard = new SmileIdAuthGuard({ verifier: context.verifier, ...adapterOptions(context.options) })
  class AppModule {}
  Reflect.decorate([Module({ controllers: [nestController(guard, context.answer)] })], AppModule)
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule,
    json ? { logger: false, bodyParser: true, rawBody: true } : { logger: false, bodyParser: false },
  )
  const { limit } = context.options
  if (json && limit !== undefined) app.useBodyParser('json', { limit })
  app.useGlobalFilters(new RecordingFilter(app.getHttpAdapter(), context.errors))
  const server = app.getHttpServer() as Server
  return {
    server,
    listen: async () => {
      await app.listen(0, '127.0.0.1')
      const { port } = server.address() as { port: number }
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() }
    },
  }
}

/** Builds the app of a served adapter. */
function mount(name: ServedName, context: MountContext): Mounted | Promise<Mounted> {
  switch (name) {
    case 'express':
      return mountExpress(context, 5, false)
    case 'express4':
      return mountExpress(context, 4, false)
    case 'express+json':
      return mountExpress(context, 5, true)
    case 'fastify':
      return mountFastify(context)
    case 'fetch':
      return mountFetch(context)
    case 'node':
      return mountNode(context)
    case 'hono':
      return mountHono(context)
    case 'nestjs':
      return mountNest(context, false)
    case 'nestjs+json':
      return mountNest(context, true)
  }
}

/** The {@link Target} entry of an adapter. */
function targetOf(name: AdapterName): Target {
  return TARGETS.find((target) => target.name === name)!
}

/** How a test reaches a started adapter. */
type Transport = Pick<StartedAdapter, 'send' | 'close'> & { url?: string }

/** Mounts a served adapter, records its statuses, bounds its request time if asked, and listens. */
async function serve(name: ServedName, context: MountContext, statuses: number[]): Promise<Transport> {
  const mounted = await mount(name, context)
  recordStatuses(mounted.server, statuses)
  const { requestTimeoutMs } = context.options
  if (requestTimeoutMs !== undefined) limitRequestTime(mounted.server, requestTimeoutMs)
  const running = await mounted.listen()
  const url = running.url + ROUTE
  return { url, send: (body, options) => send(url, body, options), close: () => running.close() }
}

/** The fetch handler, sent `Request` objects without a server; records the status of each answer. */
function callDirectly(context: MountContext, statuses: number[]): Transport {
  if (context.options.requestTimeoutMs !== undefined) {
    throw new Error('fetch-request has no server, so no request timeout to set')
  }
  const handler = fetchHandler(context)
  return {
    send: async (body, options) => {
      const reply = await callFetch(handler, `https://partner.example${ROUTE}`, body, options)
      statuses.push(reply.status)
      return reply
    },
    close: async () => undefined,
  }
}

/**
 * Starts one adapter in front of `verifier`. A served adapter listens on 127.0.0.1 with a free port;
 * `fetch-request` sends `Request` objects straight to the fetch handler (it has no URL, and no request
 * timeout to set).
 *
 * @throws when `requestTimeoutMs` is given for `fetch-request`.
 */
export async function startAdapter(
  name: ServedName,
  verifier: RequestVerifier,
  options?: StartOptions,
): Promise<ServedAdapter>
export async function startAdapter(
  name: AdapterName,
  verifier: RequestVerifier,
  options?: StartOptions,
): Promise<StartedAdapter>
export async function startAdapter(
  name: AdapterName,
  verifier: RequestVerifier,
  options: StartOptions = {},
): Promise<StartedAdapter> {
  let verifyCalls = 0
  const statuses: number[] = []
  const context: MountContext = {
    verifier: counting(verifier, () => verifyCalls++),
    options,
    answer: options.answer ?? accepted,
    errors: [],
  }
  const transport =
    name === 'fetch-request' ? callDirectly(context, statuses) : await serve(name, context, statuses)
  // The getter must stay on the target: Object.assign copies a source getter's value, not the getter.
  const observed = {
    name,
    get verifyCalls() {
      return verifyCalls
    },
    errors: context.errors,
    statuses,
    ownBodyErrors: targetOf(name).bodyErrors === OWN_CODES,
  }
  return Object.assign(observed, transport)
}
