/**
 * The relay both gateway listeners share (src/gateway/forward.ts), in process: a node:http front server
 * calling `relay` toward a scripted upstream on loopback. What a proxy gets wrong when its HTTP client
 * changes: bodies cut off or stalled mid-answer, hop-by-hop headers, repeated headers, HEAD, connection
 * reuse, back-pressure, a client that leaves, and an upstream that closes every connection.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { createUpstreamPool, relay, type UpstreamPool } from '../../src/gateway/forward.js'
import { listen, type Running } from '../support/http.js'

type Script = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void

let script: Script = (_req, res) => res.end('ok')
const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }> = []
const upstreamSockets = new Set<Socket>()
let upstream: Running
let pool: UpstreamPool
let front: Running
let frontTimeoutMs = 2000
const relayed: Array<{ status: number; reason: string | null }> = []

beforeAll(async () => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      script(req, res, body)
    })
  })
  server.on('connection', (socket) => {
    upstreamSockets.add(socket)
    socket.on('close', () => upstreamSockets.delete(socket))
  })
  upstream = await listen(server)
  pool = createUpstreamPool({ connectTimeoutMs: 1000 })
  front = await listen(
    createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        void relay(
          pool,
          {
            target: new URL(`${upstream.url}/base`),
            path: req.url ?? '/',
            method: req.method ?? 'GET',
            headers: { 'x-test': 'yes' },
            body: Buffer.concat(chunks),
            timeoutMs: frontTimeoutMs,
            responseHeaders: { 'x-added': 'gateway', 'x-owned': 'gateway' },
          },
          res,
        ).then((outcome) => relayed.push(outcome))
      })
    }),
  )
})

afterAll(async () => {
  pool.destroy()
  await front.close()
  await upstream.close()
})

afterEach(() => {
  seen.length = 0
  relayed.length = 0
  frontTimeoutMs = 2000
  script = (_req, res) => res.end('ok')
})

/** One request to the front server; resolves with what the client saw, or how the connection ended. */
function call(
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string } | { broken: string }> {
  return new Promise((resolve) => {
    const req = request(`${front.url}${path}`, { method }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      )
      res.on('aborted', () => resolve({ broken: 'aborted' }))
      res.on('error', (error) => resolve({ broken: error.message }))
    })
    req.on('error', (error) => resolve({ broken: error.message }))
    req.end(body)
  })
}

async function settled(count = 1): Promise<void> {
  for (let i = 0; i < 200 && relayed.length < count; i++) await new Promise((r) => setTimeout(r, 5))
}

describe('relay', () => {
  it('sends the path under the base, the headers and the body; relays status, headers and body', async () => {
    script = (_req, res) => {
      res.setHeader('x-owned', 'upstream')
      res.writeHead(201, { 'content-type': 'text/plain' })
      res.end('created')
    }
    const answer = await call('POST', '/cb?x=1', '{"a":1}')
    expect(answer).toMatchObject({ status: 201, body: 'created' })
    if ('broken' in answer) throw new Error('broken')
    expect(answer.headers['x-owned']).toBe('upstream') // the target's own value wins
    expect(answer.headers['x-added']).toBe('gateway')
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/base/cb?x=1', body: Buffer.from('{"a":1}') })
    expect(seen[0]!.headers).toMatchObject({
      'x-test': 'yes',
      host: new URL(upstream.url).host,
      'content-length': '7',
    })
    await settled()
    expect(relayed[0]).toEqual({ status: 201, reason: null })
  })

  it('a body-less GET carries no Content-Length; an empty POST carries 0', async () => {
    await call('GET', '/g')
    await call('POST', '/p')
    expect(seen[0]!.headers['content-length']).toBeUndefined()
    expect(seen[0]!.headers['transfer-encoding']).toBeUndefined()
    expect(seen[1]!.headers['content-length']).toBe('0')
  })

  it('hop-by-hop response headers, and those Connection names, are not relayed; repeated ones all are', async () => {
    script = (_req, res) => {
      res.writeHead(
        200,
        [
          ['connection', 'x-private'],
          ['x-private', 'secret-hop'],
          ['keep-alive', 'timeout=5'],
          ['set-cookie', 'a=1'],
          ['set-cookie', 'b=2'],
          ['content-length', '2'],
        ].flat(),
      )
      res.end('ok')
    }
    const answer = await call('GET', '/h')
    if ('broken' in answer) throw new Error(answer.broken)
    expect(answer.headers['x-private']).toBeUndefined()
    expect(answer.headers['set-cookie']).toEqual(['a=1', 'b=2'])
    expect(answer.body).toBe('ok')
  })

  it('HEAD: the status and headers are relayed, with no body', async () => {
    script = (_req, res) => {
      res.writeHead(200, { 'content-length': '5', 'content-type': 'text/plain' })
      res.end()
    }
    const answer = await call('HEAD', '/head')
    expect(answer).toMatchObject({ status: 200, body: '' })
  })

  it('an informational 103 Early Hints before the answer: the final answer is relayed, whole', async () => {
    script = (_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' }, () => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('final')
      })
    }
    expect(await call('GET', '/hints')).toMatchObject({ status: 200, body: 'final' })
    await settled()
    expect(relayed[0]).toEqual({ status: 200, reason: null })
  })

  it('an answer cut off mid-body breaks the client connection instead of ending a short body', async () => {
    script = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' })
      res.write('partial')
      setTimeout(() => res.socket?.destroy(), 20)
    }
    const answer = await call('GET', '/cut')
    expect(answer).toHaveProperty('broken')
  })

  it('a target silent mid-body past the timeout breaks the client connection', async () => {
    frontTimeoutMs = 150
    script = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' })
      res.write('partial') // and nothing more
    }
    const started = Date.now()
    const answer = await call('GET', '/stall')
    expect(answer).toHaveProperty('broken')
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('a target that never answers: 504 upstream_timeout; nothing listening: 502 upstream_unreachable', async () => {
    frontTimeoutMs = 150
    script = () => undefined
    expect(await call('GET', '/silent')).toMatchObject({ status: 504, body: '{"error":"upstream_timeout"}' })
    const dead = await freePortNumber()
    const res = await relayOnce(`http://127.0.0.1:${dead}`, 500)
    expect(res).toEqual({ status: 502, reason: 'upstream_unreachable' })
  })

  it('a target that accepts the connection but never completes it: 504, within the connect timeout', async () => {
    // A listener that never reads nor answers, with a full backlog, leaves the TCP connect pending on
    // some kernels; on others it connects and then says nothing. Either way the answer is a timeout.
    const mute = createNetServer(() => undefined)
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', () => resolve()))
    const { port } = mute.address() as AddressInfo
    const outcome = await relayOnce(`http://127.0.0.1:${port}`, 200)
    mute.close()
    expect(outcome).toEqual({ status: 504, reason: 'upstream_timeout' })
  })

  it('sequential requests reuse one keep-alive connection to the target', async () => {
    const before = new Set(upstreamSockets)
    for (let i = 0; i < 20; i++) expect(await call('POST', `/seq/${i}`, 'x')).toMatchObject({ status: 200 })
    const opened = [...upstreamSockets].filter((s) => !before.has(s))
    expect(opened.length).toBeLessThanOrEqual(1)
  })

  it('a target that closes every connection (Connection: close) keeps working', async () => {
    script = (_req, res) => {
      res.setHeader('connection', 'close')
      res.end('bye')
    }
    for (let i = 0; i < 10; i++)
      expect(await call('POST', '/close', 'x')).toMatchObject({ status: 200, body: 'bye' })
  })

  it('a large answer is streamed whole (back-pressure holds, nothing lost)', async () => {
    const size = 8 * 1024 * 1024
    script = (_req, res) => {
      res.writeHead(200, { 'content-length': String(size) })
      const piece = Buffer.alloc(64 * 1024, 0x61)
      let sent = 0
      const pump = () => {
        while (sent < size) {
          sent += piece.length
          if (!res.write(piece)) return void res.once('drain', pump)
        }
        res.end()
      }
      pump()
    }
    const answer = await call('GET', '/big')
    if ('broken' in answer) throw new Error(answer.broken)
    expect(answer.body.length).toBe(size)
  })

  it('a client that leaves before the answer stops the forwarded request (499 recorded)', async () => {
    let upstreamClosed = false
    script = (req) => {
      req.socket.once('close', () => (upstreamClosed = true))
    }
    const client: Socket = connect(Number(new URL(front.url).port), '127.0.0.1')
    client.write('GET /leave HTTP/1.1\r\nhost: x\r\n\r\n')
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    client.destroy()
    await settled()
    expect(relayed[0]).toEqual({ status: 499, reason: null })
    for (let i = 0; i < 100 && !upstreamClosed; i++) await new Promise((r) => setTimeout(r, 5))
    expect(upstreamClosed).toBe(true)
  })
})

async function freePortNumber(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Relays one GET through a pool of its own to `target`, from a front server of its own; resolves with the outcome. */
async function relayOnce(
  target: string,
  timeoutMs: number,
): Promise<{ status: number; reason: string | null }> {
  const pool = createUpstreamPool({ connectTimeoutMs: timeoutMs })
  try {
    return await new Promise((resolve) => {
      const server = createServer((_req, reply) => {
        void relay(
          pool,
          {
            target: new URL(target),
            path: '/',
            method: 'GET',
            headers: {},
            body: new Uint8Array(0),
            timeoutMs,
          },
          reply,
        ).then(resolve)
      })
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo
        request(`http://127.0.0.1:${port}/`, (r) => r.resume().on('end', () => server.close())).end()
      })
    })
  } finally {
    pool.destroy()
  }
}
