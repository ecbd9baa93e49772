/**
 * Every adapter, mounted the way a user would, behind one interface so that one conformance suite runs
 * against all of them. Each handler answers `{ scheme, transport, job }` so the suite can see what the
 * handler saw.
 */
import 'reflect-metadata'
import { createServer, type Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { Controller, HttpCode, Module, Post, Req, UseGuards } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import type { NestExpressApplication } from '@nestjs/platform-express'
import { Hono } from 'hono'
import express, { type ErrorRequestHandler } from 'express'
import express4 from 'express4'
import Fastify from 'fastify'
import { smileIdAuth as expressAuth } from '../../src/adapters/express.js'
import { smileIdAuth as fastifyAuth } from '../../src/adapters/fastify.js'
import { withSmileIdAuth } from '../../src/adapters/fetch.js'
import { smileIdAuth as honoAuth } from '../../src/adapters/hono.js'
import { SmileIdAuthGuard, SmileIdAuthResult } from '../../src/adapters/nestjs.js'
import { sendRejection, verifyIncomingMessage } from '../../src/adapters/node.js'
import type { RequestVerifier } from '../../src/adapters/core.js'
import type { BodySchema } from '../../src/adapters/body-schema.js'
import type { VerificationSuccess } from '../../src/types.js'
import { callFetch, listen, post, serveFetch, type Reply } from '../support/http.js'

export const ROUTE = '/smile/callback'

/** How a target reports a body error: our `{ error }` codes, or the framework's own. */
export interface BodyErrorCodes {
  field: 'error' | 'code'
  invalidJson: string
  tooLarge: string
  /** Where the 413 code is, when not in `field`. */
  tooLargeField?: 'message'
}

export interface Target {
  name: string
  /** The framework answers 400/413 itself (its parser ran first). */
  bodyErrors: BodyErrorCodes
  /** Whether the audit trail gets the client address. */
  seesSourceIp: boolean
  start(verifier: RequestVerifier, limit: number, options?: StartOptions): Promise<Started>
}

/** Adapter options a conformance table can vary. */
export interface StartOptions {
  /** The `body` schema handed to the adapter. */
  body?: BodySchema | undefined
}

export interface Started {
  send(body: string, options?: { headers?: Record<string, string>; chunked?: boolean }): Promise<Reply>
  close(): Promise<void>
}

const OUR_CODES: BodyErrorCodes = { field: 'error', invalidJson: 'invalid_json', tooLarge: 'body_too_large' }

export function seen(auth: VerificationSuccess | undefined, body: unknown) {
  const fields = body as { SmileJobID?: unknown; __checked?: unknown } | undefined
  return {
    scheme: auth?.scheme ?? null,
    transport: auth?.transport ?? null,
    job: fields?.SmileJobID ?? null,
    // A body schema in the tests marks its output, so the suite can see the handler got the output.
    ...(fields?.__checked === true ? { checked: true } : {}),
  }
}

function overHttp(running: { url: string; close(): Promise<void> }): Started {
  return { send: (body, options) => post(running.url + ROUTE, body, options), close: () => running.close() }
}

/**
 * A NestJS app with one controller, decorated by calling the decorators (no decorator syntax, so no
 * compiler flags): `@Controller()`, `@Post()`, `@UseGuards(guard)` and `@SmileIdAuthResult()` on the
 * handler's first parameter; the second parameter is the request, through Nest's own `@Req()`.
 */
async function startNest(
  guard: SmileIdAuthGuard,
  options: { bodyParser: boolean; rawBody?: boolean; jsonLimit?: number },
): Promise<Started> {
  class CallbackController {
    handle(auth: VerificationSuccess | undefined, req: { body?: unknown }) {
      return seen(auth, req.body)
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
  class AppModule {}
  Reflect.decorate([Module({ controllers: [CallbackController] })], AppModule)
  const { jsonLimit, ...create } = options
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: false, ...create })
  if (jsonLimit !== undefined) app.useBodyParser('json', { limit: jsonLimit })
  await app.listen(0, '127.0.0.1')
  const { port } = (app.getHttpServer() as Server).address() as { port: number }
  return overHttp({ url: `http://127.0.0.1:${port}`, close: () => app.close() })
}

export const targets: Target[] = [
  {
    name: 'express, no body parser',
    bodyErrors: OUR_CODES,
    seesSourceIp: true,
    async start(verifier, limit, options) {
      const app = express()
      app.post(ROUTE, expressAuth({ verifier, limit, body: options?.body }), (req, res) => {
        res.json(seen(req.smileIdAuth, req.body))
      })
      return overHttp(await listen(createServer(app)))
    },
  },
  {
    name: 'express 4, no body parser',
    bodyErrors: OUR_CODES,
    seesSourceIp: true,
    async start(verifier, limit, options) {
      const app = express4()
      app.post(ROUTE, expressAuth({ verifier, limit, body: options?.body }), (req, res) => {
        res.json(seen(req.smileIdAuth, req.body))
      })
      return overHttp(await listen(createServer(app)))
    },
  },
  {
    name: 'express after express.json()',
    // body-parser answers first; the app's error handler reports its error type.
    bodyErrors: { field: 'error', invalidJson: 'entity.parse.failed', tooLarge: 'entity.too.large' },
    seesSourceIp: true,
    async start(verifier, limit, options) {
      const app = express()
      app.use(express.json({ limit }))
      app.post(ROUTE, expressAuth({ verifier, limit, body: options?.body }), (req, res) => {
        res.json(seen(req.smileIdAuth, req.body))
      })
      const onError: ErrorRequestHandler = (error: { status?: number; type?: string }, _req, res, _next) => {
        res.status(error.status ?? 500).json({ error: error.type ?? 'internal' })
      }
      app.use(onError)
      return overHttp(await listen(createServer(app)))
    },
  },
  {
    name: 'fastify',
    bodyErrors: {
      field: 'code',
      invalidJson: 'FST_ERR_CTP_INVALID_JSON_BODY',
      tooLarge: 'FST_ERR_CTP_BODY_TOO_LARGE',
    },
    seesSourceIp: true,
    async start(verifier, limit, options) {
      const app = Fastify()
      await app.register(async (scope) => {
        await scope.register(fastifyAuth, { verifier, limit, body: options?.body })
        scope.post(ROUTE, async (request) => seen(request.smileIdAuth, request.body))
      })
      await app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.server.address() as { port: number }
      return overHttp({ url: `http://127.0.0.1:${port}`, close: () => app.close() })
    },
  },
  {
    name: 'fetch handler behind node:http',
    bodyErrors: OUR_CODES,
    seesSourceIp: false,
    async start(verifier, limit, options) {
      const handler = withSmileIdAuth(
        verifier,
        (_request, { auth, body }) => Response.json(seen(auth, body)),
        { limit, body: options?.body },
      )
      return overHttp(await serveFetch(handler))
    },
  },
  {
    name: 'fetch handler called with Request objects',
    bodyErrors: OUR_CODES,
    seesSourceIp: false,
    async start(verifier, limit, options) {
      const handler = withSmileIdAuth(
        verifier,
        (_request, { auth, body }) => Response.json(seen(auth, body)),
        { limit, body: options?.body },
      )
      return {
        send: (body, options) => callFetch(handler, `https://partner.example${ROUTE}`, body, options),
        close: async () => undefined,
      }
    },
  },
  {
    name: 'node:http',
    bodyErrors: OUR_CODES,
    seesSourceIp: true,
    async start(verifier, limit, options) {
      const server = createServer((req, res) => {
        verifyIncomingMessage(verifier, req, { limit, body: options?.body })
          .then((verification) => {
            if (!verification.ok) return sendRejection(res, verification)
            for (const [name, value] of Object.entries(verification.headers)) res.setHeader(name, value)
            res.writeHead(200, { 'content-type': 'application/json' })
            res.end(JSON.stringify(seen(verification.result, verification.body)))
          })
          .catch(() => {
            res.writeHead(500).end()
          })
      })
      return overHttp(await listen(server))
    },
  },
  {
    name: 'hono (@hono/node-server)',
    bodyErrors: OUR_CODES,
    seesSourceIp: true,
    async start(verifier, limit, options) {
      const app = new Hono()
      app.post(
        ROUTE,
        honoAuth({
          verifier,
          limit,
          body: options?.body,
          sourceIp: (c) => getConnInfo(c).remote.address,
        }),
        (c) => c.json(seen(c.get('smileIdAuth'), c.get('smileIdBody'))),
      )
      return overHttp(await listen(createAdaptorServer({ fetch: app.fetch }) as Server))
    },
  },
  {
    name: 'nestjs (platform-express, body parser off)',
    bodyErrors: OUR_CODES,
    seesSourceIp: true,
    start: (verifier, limit, options) =>
      startNest(new SmileIdAuthGuard({ verifier, limit, body: options?.body }), { bodyParser: false }),
  },
  {
    name: 'nestjs (platform-express, JSON body parser, rawBody: true)',
    // Nest's body parser answers first, in Nest's error format.
    bodyErrors: {
      field: 'error',
      invalidJson: 'Bad Request',
      tooLargeField: 'message',
      tooLarge: 'request entity too large',
    },
    seesSourceIp: true,
    start: (verifier, limit, options) =>
      startNest(new SmileIdAuthGuard({ verifier, limit, body: options?.body }), {
        bodyParser: true,
        rawBody: true,
        jsonLimit: limit,
      }),
  },
]
