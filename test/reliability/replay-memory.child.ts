/**
 * Run by replay-memory.test.ts in a child process started with `node --expose-gc`, after bundling with
 * esbuild: feeds 300 000 unique requests to a `MemoryReplayStore` at its default bound and prints the heap
 * growth after a full collection as one JSON line.
 *
 * Modes: `store` calls `remember()` with keys and fingerprints made exactly as the verifier makes them;
 * `verifier` sends genuinely signed requests through a `DualModeVerifier` (slower: it signs each one).
 */
import { createHash } from 'node:crypto'

import { DualModeVerifier, MemoryReplayStore, SignatureAuth } from '../../src/index.js'

declare const gc: () => void

const mode = process.argv[2] === 'verifier' ? 'verifier' : 'store'
const total = Number(process.argv[3] ?? 300_000)
const NOW = 1_700_000_000_000

function heapAfterGc(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** A SHA-256 hex digest, made the way the verifier makes its replay keys and body fingerprints. */
function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

async function main(): Promise<void> {
  const store = new MemoryReplayStore()
  let maxSize = 0
  let peakHeap = 0
  const sample = (i: number) => {
    maxSize = Math.max(maxSize, store.size)
    if (i % 20_000 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
  }
  let firstKey = ''
  let lastKey = ''
  const before = heapAfterGc()

  if (mode === 'store') {
    const ttl = 600_000
    for (let i = 0; i < total; i++) {
      const key = `signature:085:${sha256Hex(`credential-${i}`)}`
      if (i === 0) firstKey = key
      lastKey = key
      const outcome = await store.remember(key, sha256Hex(`body-${i}`), ttl)
      if (outcome !== 'new') throw new Error(`request ${i} was ${outcome}`)
      sample(i)
    }
  } else {
    const auth = new SignatureAuth({ partnerId: '085', apiKey: 'memory-test-signature-key' })
    // Freshness off: every request stays in the store for the 24 h replay TTL, the worst case for memory.
    const verifier = new DualModeVerifier({
      signature: auth,
      replay: store,
      freshness: false,
      now: () => NOW,
    })
    for (let i = 0; i < total; i++) {
      const credentials = await auth.sign({ timestamp: String(NOW + i) })
      const result = await verifier.verify({ body: { ...credentials, job_id: `job-${i}` } })
      if (!result.ok || result.duplicate) throw new Error(`request ${i} was not accepted as new`)
      sample(i)
    }
  }

  const after = heapAfterGc()
  // The bound is real: the newest entry is still remembered, the oldest was evicted.
  const newest = mode === 'store' ? await store.remember(lastKey, 'other', 600_000) : 'conflict'
  const oldest = mode === 'store' ? await store.remember(firstKey, 'other', 600_000) : 'new'
  process.stdout.write(
    `${JSON.stringify({ mode, total, before, after, growth: after - before, peakHeap, maxSize, size: store.size, newest, oldest })}\n`,
  )
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
