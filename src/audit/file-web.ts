/**
 * Stand-in for runtimes without a file system (Workers, browsers): a path cannot be opened there.
 *
 * @internal
 * @module
 */
import { ConfigurationError } from '../errors.js'
import type { AuditFile } from './sinks.js'

/** Always throws: pass a writable stream to `jsonlAuditSink` on this runtime. */
export function openAuditFile(path: string): AuditFile {
  void path
  throw new ConfigurationError(
    'invalid_options',
    'jsonlAuditSink: this runtime has no file system: pass a writable stream instead of a path',
  )
}
