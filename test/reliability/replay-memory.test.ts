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

import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const MiB = 1024 * 1024
const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url))

let dir: string
let child: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smileid-replay-memory-'))
  child = join(dir, 'child.mjs')
  await build({
    entryPoints: [fileURLToPath(new URL('./replay-memory.child.ts', import.meta.url))],
    outfile: child,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    plugins: [
      {
        // The package's "imports" map points at dist/; the test measures src.
        name: 'subpath-imports',
        setup(b) {
          b.onResolve({ filter: /^#crypto$/ }, () => ({ path: src('crypto/node.ts') }))
          b.onResolve({ filter: /^#audit-file$/ }, () => ({ path: src('audit/file-node.ts') }))
        },
      },
    ],
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
  // 300 000 unique requests at a bound of 100 000 evict unexpired entries: the store says so, once.
  const warnings = run.stderr.match(/\[SMILEID_REPLAY_EVICTION\]/g) ?? []
  expect(warnings).toHaveLength(1)
  const rest = run.stderr
    .split('\n')
    .filter(
      (line) =>
        line !== '' && !line.includes('SMILEID_REPLAY_EVICTION') && !line.includes('--trace-warnings'),
    )
  expect(rest).toEqual([])
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
