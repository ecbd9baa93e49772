/**
 * Every adapter mounted on a real server on 127.0.0.1, the way a user mounts it, plus a client that can send
 * what well-behaved clients do not: repeated headers, chunked bodies, bodies cut off mid-way, slow bodies.
 *
 * Each server counts the calls that reached the verifier and collects the errors its framework saw, so a
 * test can tell "refused before verification" from "verified and refused".
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  type ServerOptions,
} from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'

import express from 'express'
import Fastify from 'fastify'

import type { RequestVerifier } from '../../src/adapters/core.js'
import { smileIdAuth as expressAuth } from '../../src/adapters/express.js'
import { smileIdAuth as fastifyAuth } from '../../src/adapters/fastify.js'
import { withSmileIdAuth } from '../../src/adapters/fetch.js'
import { sendRejection, verifyIncomingMessage } from '../../src/adapters/node.js'
import type { DualModeVerifier } from '../../src/index.js'
import { toRequest } from '../adapters/http.js'

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

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
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
    url = await listen(server)
    close = () => closeServer(server)
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
    url = await listen(server)
    close = () => closeServer(server)
  } else {
    const server = createServer(
      serverOptions(options),
      recording((req, res) => {
        verifyIncomingMessage(counted, req, limitOption).then(
          (verification) => {
            if (!verification.ok) return sendRejection(res, verification)
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(accepted))
          },
          (error: unknown) => {
            errors.push(error)
            res.destroy()
          },
        )
      }),
    )
    url = await listen(server)
    close = () => closeServer(server)
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

/** A response as the client saw it. */
export interface Reply {
  status: number
  text: string
  json: Record<string, unknown> | undefined
  headers: Record<string, string | string[] | undefined>
}

/** Options of {@link send}. */
export interface SendOptions {
  /** Headers; a list sends the header once per value. */
  headers?: Record<string, string | string[]>
  /** Send without Content-Length (Transfer-Encoding: chunked). */
  chunked?: boolean
  /** Content-Type; `null` sends none. Default `application/json`. */
  contentType?: string | null
}

/** POSTs `body` and reads the whole answer. A server that answers before reading the upload is not an error. */
export function send(url: string, body: string | Uint8Array, options: SendOptions = {}): Promise<Reply> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body)
  const headers: Record<string, string | string[]> = { ...options.headers }
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json'
  if (options.chunked) headers['transfer-encoding'] = 'chunked'
  else headers['content-length'] = String(bytes.length)
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: Record<string, unknown> | undefined
        try {
          json = JSON.parse(text) as Record<string, unknown>
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, text, json, headers: res.headers })
      })
      res.on('error', reject)
    })
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error)
    })
    for (let offset = 0; offset < bytes.length || offset === 0; offset += 64 * 1024) {
      req.write(bytes.subarray(offset, offset + 64 * 1024))
      if (bytes.length === 0) break
    }
    req.end()
  })
}

/** What a raw-socket exchange ended with. */
export interface RawOutcome {
  /** The status line's code, when the server answered before the socket closed. */
  status: number | null
  /** Everything the server sent. */
  text: string
}

/** Opens a raw TCP connection to the server of `url`. */
export function rawConnect(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Collects what the server sends until it closes the connection. */
export function readUntilClosed(socket: Socket): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text)
      resolve({ status: match ? Number(match[1]) : null, text })
    })
  })
}

/** The head of a POST to `url` with the given header lines. */
export function requestHead(url: string, lines: string[]): string {
  const { pathname, host } = new URL(url)
  return [`POST ${pathname} HTTP/1.1`, `Host: ${host}`, ...lines, '', ''].join('\r\n')
}
