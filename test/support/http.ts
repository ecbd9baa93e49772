/**
 * Loopback HTTP for the tests, one of each: a server on 127.0.0.1 with a free port, a node:http bridge for
 * Fetch API handlers (the way a Node host such as @hono/node-server runs them), a client that can send what
 * well-behaved clients do not (repeated headers, chunked bodies, no content type), a direct caller for
 * Fetch handlers, and raw-socket helpers for bodies cut off mid-way.
 *
 * @module
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'

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

/** A Fetch API handler, as the adapters' fetch entry and Fetch frameworks build them. */
export type FetchHandler = (request: Request) => Response | Promise<Response>

/**
 * A node:http request listener that runs a Fetch API handler, the way Node hosts for Fetch handlers do. A
 * handler that throws gets a 500 (or a closed response, when the head already went out); `onError` sees
 * the error first.
 */
export function fetchListener(
  handler: FetchHandler,
  onError: (error: unknown) => void = () => undefined,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const respond = async () => {
      const response = await handler(toRequest(req))
      const headers: Record<string, string> = {}
      response.headers.forEach((value, name) => (headers[name] = value))
      res.writeHead(response.status, headers)
      res.end(Buffer.from(await response.arrayBuffer()))
    }
    respond().catch((error: unknown) => {
      onError(error)
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  }
}

/** Serves a Fetch API handler over node:http. */
export function serveFetch(handler: FetchHandler): Promise<Running> {
  return listen(createServer(fetchListener(handler)))
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

/** A response as the client saw it. */
export interface Reply {
  status: number
  /** Response headers, lowercase names; a repeated header is joined with `, `. */
  headers: Record<string, string>
  text: string
  json: Record<string, unknown> | undefined
}

/** Options of {@link send}. */
export interface SendOptions {
  /** Headers; a list sends the header once per value. */
  headers?: Record<string, string | string[]>
  /** Send without Content-Length (Transfer-Encoding: chunked). */
  chunked?: boolean
  /**
   * Content-Type; `null` sends none. Default: a `content-type` in `headers`, else `application/json`.
   */
  contentType?: string | null
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

/** POSTs `body` and reads the whole answer. A server that answers before reading the upload is not an error. */
export function send(url: string, body: string | Uint8Array, options: SendOptions = {}): Promise<Reply> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body)
  const headers: Record<string, string | string[]> = { ...options.headers }
  const hasContentType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')
  if (options.contentType !== undefined) {
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'content-type') delete headers[name]
    if (options.contentType !== null) headers['content-type'] = options.contentType
  } else if (!hasContentType) {
    headers['content-type'] = 'application/json'
  }
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
        resolve({ status: res.statusCode ?? 0, headers: flatten(res.headers), text, json })
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

/** {@link send}, under the name the adapter suites use. */
export const post = send

/** Sends a `Request` straight to a Fetch API handler and reads the reply like {@link send}. */
export async function callFetch(
  handler: FetchHandler,
  url: string,
  body: string,
  options: Pick<SendOptions, 'chunked'> & { headers?: Record<string, string> } = {},
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
