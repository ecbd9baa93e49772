/**
 * Loopback HTTP helpers for the adapter tests: a node:http bridge for Fetch API handlers (the way a
 * Node host such as @hono/node-server runs them) and a small client that can send chunked bodies.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A server listening on 127.0.0.1. */
export interface Running {
  url: string
  close(): Promise<void>
}

/** Listens on 127.0.0.1 with a free port. */
export async function listen(server: Server): Promise<Running> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** Serves a Fetch API handler over node:http. */
export function serveFetch(handler: (request: Request) => Response | Promise<Response>): Promise<Running> {
  const server = createServer((req, res) => {
    const respond = async () => {
      const response = await handler(toRequest(req))
      const headers: Record<string, string> = {}
      response.headers.forEach((value, name) => (headers[name] = value))
      res.writeHead(response.status, headers)
      res.end(Buffer.from(await response.arrayBuffer()))
    }
    respond().catch(() => {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  })
  return listen(server)
}

/**
 * A Fetch `Request` over a node:http request, as Node hosts for Fetch handlers build it. The stream errors
 * when the client goes away before the end, so a reader never waits forever.
 */
export function toRequest(req: IncomingMessage): Request {
  const headers = new Headers()
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
  if (req.method === 'GET' || req.method === 'HEAD')
    return new Request(`http://127.0.0.1${req.url ?? '/'}`, { headers })
  let open = true
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      req.on('data', (chunk: Buffer) => open && controller.enqueue(new Uint8Array(chunk)))
      req.on('end', () => {
        if (open) controller.close()
        open = false
      })
      const fail = () => {
        if (open) controller.error(new Error('the client went away before the end of the body'))
        open = false
      }
      req.on('error', fail)
      req.on('close', () => !req.complete && fail())
    },
    cancel() {
      open = false
      req.resume()
    },
  })
  const init: RequestInit & { duplex: 'half' } = {
    method: req.method ?? 'POST',
    headers,
    body,
    duplex: 'half',
  }
  return new Request(`http://127.0.0.1${req.url ?? '/'}`, init)
}

/** A response read by {@link post}. */
export interface Reply {
  status: number
  headers: Record<string, string>
  text: string
  json: Record<string, unknown> | undefined
}

/** POSTs `body` with node:http; `chunked` sends it without a content-length. */
export function post(
  url: string,
  body: string,
  options: { headers?: Record<string, string>; chunked?: boolean } = {},
): Promise<Reply> {
  const bytes = Buffer.from(body, 'utf8')
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers }
  if (options.chunked) headers['transfer-encoding'] = 'chunked'
  else headers['content-length'] = String(bytes.length)
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
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
        const flat: Record<string, string> = {}
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
        }
        resolve({ status: res.statusCode ?? 0, headers: flat, text, json })
      })
      res.on('error', reject)
    })
    // The server may answer (413) and stop reading before the upload ends: that is not a test failure.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error)
    })
    if (options.chunked) {
      for (let offset = 0; offset < bytes.length; offset += 16 * 1024)
        req.write(bytes.subarray(offset, offset + 16 * 1024))
    } else {
      req.write(bytes)
    }
    req.end()
  })
}

/** Sends a `Request` straight to a Fetch API handler and reads the reply like {@link post}. */
export async function callFetch(
  handler: (request: Request) => Response | Promise<Response>,
  url: string,
  body: string,
  options: { headers?: Record<string, string>; chunked?: boolean } = {},
): Promise<Reply> {
  const bytes = new TextEncoder().encode(body)
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers }
  let payload: BodyInit
  if (options.chunked) {
    payload = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += 16 * 1024)
          controller.enqueue(bytes.subarray(offset, offset + 16 * 1024))
        controller.close()
      },
    })
  } else {
    payload = body
    headers['content-length'] = String(bytes.length)
  }
  const init: RequestInit & { duplex?: 'half' } = { method: 'POST', headers, body: payload, duplex: 'half' }
  const response = await handler(new Request(url, init))
  const text = await response.text()
  let json: Record<string, unknown> | undefined
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    json = undefined
  }
  const flat: Record<string, string> = {}
  response.headers.forEach((value, name) => (flat[name] = value))
  return { status: response.status, headers: flat, text, json }
}
