/**
 * Every adapter mounted on a real server on 127.0.0.1, the way a user mounts it: the one adapter rig of the
 * suite. Each server counts the calls that reached the verifier, collects the errors its framework saw and
 * the statuses it sent, so a test can tell "refused before verification" from "verified and refused".
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse, type ServerOptions } from 'node:http'

import express from 'express'
import Fastify from 'fastify'

import type { RequestVerifier } from '../../src/adapters/core.js'
import { smileIdAuth as expressAuth } from '../../src/adapters/express.js'
import { smileIdAuth as fastifyAuth } from '../../src/adapters/fastify.js'
import { withSmileIdAuth } from '../../src/adapters/fetch.js'
import { sendRejection, verifyIncomingMessage } from '../../src/adapters/node.js'
import type { DualModeVerifier } from '../../src/index.js'
import { listen, toRequest } from './http.js'

export const ROUTE = '/smile/callback'

export type AdapterName = 'express' | 'express+json' | 'fastify' | 'fetch' | 'node'
export const ADAPTERS: AdapterName[] = ['express', 'express+json', 'fastify', 'fetch', 'node']

/** Options for {@link startAdapter}. */
export interface StartOptions {
  /** The adapter's body limit (and express.json()'s / Fastify's, so all refuse at the same size). */
  limit?: number
  /** The server's `requestTimeout` in ms: how long a client may take to send the whole request. */
  requestTimeoutMs?: number
}

/** A running adapter. */
export interface RunningAdapter {
  name: AdapterName
  url: string
  /** Requests that reached `verifier.verify`. */
  readonly verifyCalls: number
  /** Errors the framework or the bridge saw (an aborted upload, a timeout). */
  readonly errors: unknown[]
  /** The status of every response the server started to send, in order. */
  readonly statuses: number[]
  /** Whether 400/413 answers carry this library's `{ error }` codes (not the framework's own). */
  ownBodyErrors: boolean
  close(): Promise<void>
}

function serverOptions(options: StartOptions): ServerOptions {
  const timeout = options.requestTimeoutMs
  if (timeout === undefined) return {}
  // Node checks request timeouts every connectionsCheckingInterval (30 s by default).
  return { requestTimeout: timeout, headersTimeout: timeout, connectionsCheckingInterval: 50 }
}

/** Starts one adapter in front of `verifier`; the route answers 200 `{ accepted: true }` when it runs. */
export async function startAdapter(
  name: AdapterName,
  verifier: DualModeVerifier,
  options: StartOptions = {},
): Promise<RunningAdapter> {
  let verifyCalls = 0
  const errors: unknown[] = []
  const statuses: number[] = []
  /** Records each response's status as the adapter (or the framework) ends it. */
  const recording =
    (listener: (req: IncomingMessage, res: ServerResponse) => void) =>
    (req: IncomingMessage, res: ServerResponse) => {
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
      res.end = ((...args: unknown[]) => {
        statuses.push(res.statusCode)
        return end(...args)
      }) as typeof res.end
      listener(req, res)
    }
  const counted: RequestVerifier = {
    verify: (request, context) => {
      verifyCalls++
      return verifier.verify(request, context)
    },
    policy: verifier.policy,
  }
  const limit = options.limit
  const limitOption = limit === undefined ? {} : { limit }
  const accepted = { accepted: true }
  let url: string
  let close: () => Promise<void>

  if (name === 'express' || name === 'express+json') {
    const app = express()
    if (name === 'express+json') app.use(express.json({ limit: limit ?? 1024 * 1024 }))
    app.post(
      ROUTE,
      expressAuth({ verifier: counted, ...limitOption }),
      (_req, res) => void res.json(accepted),
    )
    // Record, then let Express's own final handler answer as it would in production.
    app.use((error: unknown, _req: express.Request, _res: express.Response, next: express.NextFunction) => {
      errors.push(error)
      next(error)
    })
    // Express's final handler prints errors unless the environment is "test".
    app.set('env', 'test')
    const server = createServer(serverOptions(options), recording(app))
    ;({ url, close } = await listen(server))
  } else if (name === 'fastify') {
    const app = Fastify({
      logger: false,
      ...(limit === undefined ? {} : { bodyLimit: limit }),
      ...(options.requestTimeoutMs === undefined
        ? {}
        : { requestTimeout: options.requestTimeoutMs, http: serverOptions(options) }),
    })
    app.addHook('onError', async (_request, _reply, error) => void errors.push(error))
    await app.register(async (scope) => {
      await scope.register(fastifyAuth, { verifier: counted, ...limitOption })
      scope.post(ROUTE, async () => accepted)
    })
    url = await app.listen({ host: '127.0.0.1', port: 0 })
    close = () => app.close()
  } else if (name === 'fetch') {
    const handler = withSmileIdAuth(counted, () => Response.json(accepted), limitOption)
    const server = createServer(
      serverOptions(options),
      recording((req, res) => {
        const respond = async () => {
          const response = await handler(toRequest(req))
          const headers: Record<string, string> = {}
          response.headers.forEach((value, key) => (headers[key] = value))
          res.writeHead(response.status, headers)
          res.end(Buffer.from(await response.arrayBuffer()))
        }
        respond().catch((error: unknown) => {
          errors.push(error)
          if (!res.headersSent) res.writeHead(500)
          res.end()
        })
      }),
    )
    ;({ url, close } = await listen(server))
  } else {
    const server = createServer(
      serverOptions(options),
      recording((req, res) => {
        verifyIncomingMessage(counted, req, limitOption).then(
          (verification) => {
            if (!verification.ok) return sendRejection(res, verification)
            // As the adapter's docs tell users: an accepted request's Deprecation / Sunset headers go out too.
            for (const [header, value] of Object.entries(verification.headers)) res.setHeader(header, value)
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(accepted))
          },
          (error: unknown) => {
            errors.push(error)
            res.destroy()
          },
        )
      }),
    )
    ;({ url, close } = await listen(server))
  }

  return {
    name,
    url: url + ROUTE,
    get verifyCalls() {
      return verifyCalls
    },
    errors,
    statuses,
    ownBodyErrors: name !== 'express+json' && name !== 'fastify',
    close,
  }
}
