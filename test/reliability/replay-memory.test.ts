/**
 * `MemoryReplayStore` stays bounded: 300 000 unique requests at the default bound (100 000 entries) grow
 * the heap by at most 64 MiB after a full collection, and the store never holds more than its bound.
 *
 * Measured in a child process (`node --expose-gc`) so the test runner's own heap does not blur the numbers;
 * the child is src bundled by esbuild into a temporary file.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { bundleSrc } from '../support/esbuild.js'

const MiB = 1024 * 1024

let dir: string
let child: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smileid-replay-memory-'))
  child = join(dir, 'child.mjs')
  // src, all of it: the package's "imports" map would point the bundle at dist/.
  await bundleSrc({
    runtime: 'node',
    entryPoints: [fileURLToPath(new URL('./replay-memory.child.ts', import.meta.url))],
    outfile: child,
  })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

interface Measurement {
  mode: string
  total: number
  growth: number
  maxSize: number
  size: number
  newest: string
  oldest: string
}

function measure(mode: 'store' | 'verifier', total: number): Measurement {
  const run = spawnSync(process.execPath, ['--expose-gc', child, mode, String(total)], {
    encoding: 'utf8',
    timeout: 120_000,
  })
  // Flooding past the bound evicts unexpired entries, which the store warns about exactly once (its
  // documented SMILEID_REPLAY_EVICTION warning); anything else on stderr is a failure.
  const warnings = run.stderr
    .split('\n')
    .filter((line) => line.length > 0 && !line.includes('--trace-warnings'))
  expect(warnings).toHaveLength(1)
  expect(warnings[0]).toMatch(/^\(node:\d+\) \[SMILEID_REPLAY_EVICTION\] SmileIdReplayWarning: /)
  expect(run.status).toBe(0)
  return JSON.parse(run.stdout) as Measurement
}

describe('MemoryReplayStore memory', () => {
  it(
    'grows the heap by at most 64 MiB over 300 000 unique requests at the default bound',
    { timeout: 120_000 },
    () => {
      const result = measure('store', 300_000)
      expect(result.total).toBe(300_000)
      expect(result.maxSize).toBe(100_000)
      expect(result.size).toBe(100_000)
      expect(result.growth).toBeLessThanOrEqual(64 * MiB)
      // The bound evicts the oldest entries, and only those.
      expect([result.newest, result.oldest]).toEqual(['conflict', 'new'])
    },
  )

  it(
    'stays bounded the same way behind a DualModeVerifier with signed requests',
    { timeout: 120_000 },
    () => {
      // 110 000 signed requests: past the bound by 10 000 evictions (signing each one costs more than the store).
      const result = measure('verifier', 110_000)
      expect(result.maxSize).toBe(100_000)
      expect(result.size).toBe(100_000)
      expect(result.growth).toBeLessThanOrEqual(64 * MiB)
    },
  )
})
