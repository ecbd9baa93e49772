/**
 * Opens an append-only file for {@link jsonlAuditSink} on runtimes with node:fs.
 *
 * @internal
 * @module
 */
import { createWriteStream } from 'node:fs'
import type { LineWritable } from './sinks.js'

/** An append stream on `path`; errors surface as the stream's `error` event. */
export function openAppendFile(path: string): LineWritable {
  return createWriteStream(path, { flags: 'a', encoding: 'utf8' })
}
