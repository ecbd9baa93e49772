/**
 * Reading a request body from a file or stdin, and parsing it as JSON without ever quoting it: the
 * engine's JSON error messages repeat part of the input, which may be a credential.
 *
 * @internal
 * @module
 */
import { readFile, stat } from 'node:fs/promises'
import { helpHint } from './args.js'
import { UsageError, type CliContext } from './context.js'

/** Bodies are small; anything bigger is the wrong file. */
const MAX_BODY_BYTES = 10 * 1024 * 1024

/**
 * Reads the body named by `path` (`-` or nothing for stdin) as text.
 *
 * @example
 * ```ts
 * const { text, source } = await readBody(context, 'verify', positionals[0])
 * ```
 */
export async function readBody(
  context: CliContext,
  command: string,
  path: string | undefined,
): Promise<{ text: string; source: string }> {
  if (path === undefined || path === '-') {
    if (path === undefined && context.stdin.isTTY === true) {
      throw new UsageError('give a file with the request body, or pipe it on stdin', helpHint(command))
    }
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of context.stdin) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      size += buffer.length
      if (size > MAX_BODY_BYTES)
        throw new UsageError('stdin holds more than 10 MB: that is not a request body')
      chunks.push(buffer)
    }
    return { text: Buffer.concat(chunks).toString('utf8'), source: 'stdin' }
  }
  return { text: await readTextFile(path, MAX_BODY_BYTES), source: path }
}

/**
 * Reads a small text file, turning file-system errors into one-line usage errors.
 *
 * @example
 * ```ts
 * const pem = await readTextFile('private.pem', 64 * 1024)
 * ```
 */
export async function readTextFile(path: string, maxBytes: number): Promise<string> {
  try {
    const info = await stat(path)
    if (info.isDirectory()) throw new UsageError(`${path} is a directory`)
    if (info.size > maxBytes) throw new UsageError(`${path} is larger than ${Math.round(maxBytes / 1024)} KB`)
    return await readFile(path, 'utf8')
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`cannot read ${path}: ${fileErrorText(error)}`)
  }
}

/**
 * A short reason for a file-system error, without the engine's full message.
 *
 * @example
 * ```ts
 * fileErrorText(Object.assign(new Error(), { code: 'ENOENT' })) // 'no such file'
 * ```
 */
export function fileErrorText(error: unknown): string {
  const code = (error as { code?: unknown }).code
  switch (code) {
    case 'ENOENT':
      return 'no such file'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EISDIR':
      return 'is a directory'
    default:
      return typeof code === 'string' ? code : 'read failed'
  }
}

/**
 * Parses a JSON object, or throws a usage error that says where the JSON broke but not what it held.
 *
 * @example
 * ```ts
 * const body = parseJsonObject(text, 'callback.json')
 * ```
 */
export function parseJsonObject(text: string, source: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new UsageError(`${source} is not valid JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${source} must hold a JSON object (the request body)`)
  }
  return value as Record<string, unknown>
}

/**
 * Parses `-H 'Name: value'` flags into a header record, as Node reads request headers: a name given
 * more than once keeps every value (in order), so that the claim reader refuses a repeated SmileID
 * header exactly as a verifier does, instead of the CLI choosing one copy. The value is never quoted
 * back in errors.
 *
 * @example
 * ```ts
 * parseHeaders('verify', ['SmileID-Partner-ID: 085']) // { 'smileid-partner-id': '085' }
 * parseHeaders('verify', ['SmileID-Partner-ID: 085', 'SmileID-Partner-ID: 212']) // { 'smileid-partner-id': ['085', '212'] }
 * ```
 */
export function parseHeaders(
  command: string,
  lines: readonly string[] | undefined,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {}
  for (const line of lines ?? []) {
    const colon = line.indexOf(':')
    const name = colon > 0 ? line.slice(0, colon).trim() : ''
    if (!/^[A-Za-z0-9-]+$/.test(name)) {
      throw new UsageError("--header must look like 'Name: value'", helpHint(command))
    }
    const key = name.toLowerCase()
    const value = line.slice(colon + 1).trim()
    const previous = headers[key]
    headers[key] = previous === undefined ? value : [previous, value].flat()
  }
  return headers
}
