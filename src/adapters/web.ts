/**
 * Fetch API helpers shared by the fetch and Hono adapters: a size-limited body read and response headers.
 * Web APIs only.
 *
 * @internal
 * @module
 */
import type { BodyRead } from './core.js'

/** Reads the body stream up to `limit` bytes, cancelling it past the limit. */
export async function readWebBody(request: Request, limit: number): Promise<BodyRead> {
  if (request.body === null) return { ok: true, bytes: new Uint8Array(0) }
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.length
    if (size > limit) {
      await reader.cancel().catch(() => undefined)
      return { ok: false }
    }
    chunks.push(value)
  }
  // The usual small body arrives in one chunk, which the reader hands over to us: no copy.
  if (chunks.length === 1) return { ok: true, bytes: chunks[0]! }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return { ok: true, bytes }
}

/** Adds headers to a handler's response; copies it when its headers are immutable (a fetched response). */
export function withHeaders(response: Response, headers: Record<string, string>): Response {
  const names = Object.keys(headers)
  if (names.length === 0) return response
  try {
    for (const name of names) response.headers.set(name, headers[name]!)
    return response
  } catch {
    const copy = new Response(response.body, response)
    for (const name of names) copy.headers.set(name, headers[name]!)
    return copy
  }
}
