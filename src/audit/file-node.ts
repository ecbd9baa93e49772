/**
 * The append-only audit file of {@link jsonlAuditSink} on runtimes with node:fs. Writes whole lines or
 * nothing: a write that breaks off (disk full) is cut back to the last complete line, so a reader never
 * meets a torn line. The file is reopened after any error and when its path names another file
 * (removed, or renamed by log rotation).
 *
 * @internal
 * @module
 */
import { open, stat, type FileHandle } from 'node:fs/promises'
import type { AppendError, AuditFile } from './sinks.js'

/** Opens nothing yet: the file is opened on the first append, and again after an error or a reopen. */
export function openAuditFile(path: string): AuditFile {
  let handle: FileHandle | null = null
  let inode = -1
  // Set when a torn tail could not be cut back: the next write starts on a fresh line.
  let dirtyTail = false

  async function ensureOpen(): Promise<FileHandle> {
    if (handle !== null) return handle
    const opened = await open(path, 'a+')
    try {
      const info = await opened.stat()
      inode = info.ino
      // A file left without its final newline (a crash mid-write) must not glue our first line to it.
      if (info.size > 0) {
        const last = Buffer.alloc(1)
        const { bytesRead } = await opened.read(last, 0, 1, info.size - 1)
        if (bytesRead === 1 && last[0] !== 0x0a) dirtyTail = true
      }
    } catch (error) {
      await opened.close().catch(() => undefined)
      throw error
    }
    handle = opened
    return opened
  }

  async function drop(): Promise<void> {
    const old = handle
    handle = null
    if (old !== null) await old.close().catch(() => undefined)
  }

  return {
    async append(text: string): Promise<void> {
      let file: FileHandle
      try {
        file = await ensureOpen()
      } catch (error) {
        throw failed(error, 0)
      }
      const body = Buffer.from(dirtyTail ? `\n${text}` : text, 'utf8')
      const lead = dirtyTail ? 1 : 0
      let done = 0
      try {
        while (done < body.length) {
          const { bytesWritten } = await file.write(body, done, body.length - done)
          if (bytesWritten <= 0) throw Object.assign(new Error('no bytes written'), { code: 'EIO' })
          done += bytesWritten
        }
        dirtyTail = false
      } catch (error) {
        // Keep whole lines only: cut the file back to the end of the last complete line written.
        const lastNewline = done > 0 ? body.lastIndexOf(0x0a, done - 1) : -1
        const keep = lastNewline + 1
        const tail = done - keep
        if (tail > 0) {
          try {
            const info = await file.stat()
            await file.truncate(info.size - tail)
            dirtyTail = false
          } catch {
            dirtyTail = true
          }
        } else if (keep > 0) dirtyTail = false
        await drop()
        throw failed(error, Math.max(0, keep - lead))
      }
    },
    async moved(): Promise<boolean> {
      if (handle === null) return false
      try {
        return (await stat(path)).ino !== inode
      } catch {
        return true
      }
    },
    reopen: drop,
    close: drop,
  }
}

function failed(error: unknown, writtenBytes: number): AppendError {
  const cause = error instanceof Error ? error : new Error(String(error))
  return Object.assign(cause, { writtenBytes })
}
