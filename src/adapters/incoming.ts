/**
 * Reads a Node `IncomingMessage` body with a size limit. Shared by the Express, NestJS and node:http adapters
 * and the test kit's simulator. Uses only the stream interface, so it imports nothing at run time.
 *
 * @internal
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { BodyPort, BodyRead } from './core.js'

/** A Node request as Express-style middleware sees it: a body parser may have left `body` (and `rawBody`). */
type ParsedIncoming = IncomingMessage & { body?: unknown; rawBody?: unknown; _body?: unknown }

/**
 * The state an Express-style stack (Express, NestJS on platform-express) left the body in: parsed by a body
 * parser (with the exact bytes when a `verify` hook or NestJS's `rawBody: true` kept them as `req.rawBody`),
 * raw bytes or text from `express.raw()` / `express.text()`, or still unread.
 */
export function incomingBodyPort(req: ParsedIncoming): BodyPort {
  const stash = req.rawBody
  const raw = typeof stash === 'string' || stash instanceof Uint8Array ? stash : undefined
  // A body parser ran when it consumed the stream (body-parser also marks `req._body`).
  if (req._body === true || req.readableEnded) {
    const parsed: unknown = req.body
    // express.raw() and express.text() leave bytes or text: parse them here.
    if (typeof parsed === 'string' || parsed instanceof Uint8Array) return { kind: 'raw', raw: parsed }
    return { kind: 'parsed', value: parsed, raw }
  }
  if (raw !== undefined) return { kind: 'raw', raw }
  return { kind: 'stream', read: (max) => readIncomingBody(req, max) }
}

/**
 * Collects the body until it ends, or gives up at `limit` bytes. Past the limit the rest of the body is
 * discarded as it arrives (not destroyed), so the caller can answer 413 at once on the same connection.
 */
export function readIncomingBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  // Someone consumed the stream already (a body parser that left no body): waiting would never end.
  if (req.readableEnded) return Promise.resolve({ ok: true, bytes: new Uint8Array(0) })
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = []
    let size = 0
    const onData = (chunk: Uint8Array | string) => {
      const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk
      size += bytes.length
      if (size > limit) {
        cleanup()
        req.resume() // keep the stream flowing with no listener: the rest is dropped
        resolve({ ok: false })
        return
      }
      chunks.push(bytes)
    }
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const onEnd = () => {
      cleanup()
      resolve({ ok: true, bytes: concat(chunks, size) })
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    // An aborted upload ends with 'close' and no 'end'.
    const onClose = () => {
      if (req.readableEnded) return
      cleanup()
      reject(new Error('the request was aborted before its body was read'))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
    req.resume() // in case someone paused the stream: a 'data' listener alone would not restart it
  })
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}
