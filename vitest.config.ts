import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url))

// Two projects: the whole suite runs on the node:crypto backend; the scheme tests run again on the
// WebCrypto + node-forge backend that Workers and browsers get, through the same `#crypto` import.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    // Many files wait more than they compute (Redis servers, child processes, sockets, timers): one worker
    // more than there are cores keeps the CPU busy. The default (one per spare core) is a single worker on
    // a 2-core machine, which took the suite 90 s here against 48 s with three.
    maxWorkers: availableParallelism() + 1,
    // The JSON results feed .ci/run's closing "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        resolve: {
          alias: {
            '#crypto-hash': src('crypto/node-hash.ts'),
            '#crypto': src('crypto/node.ts'),
            '#audit-file': src('audit/file-node.ts'),
            '#instance': src('verifier/instance-node.ts'),
          },
        },
        test: {
          name: 'node-crypto',
          include: ['test/**/*.test.ts'],
          exclude: ['test/runtimes/**', 'node_modules/**'],
        },
      },
      {
        extends: true,
        resolve: {
          alias: {
            '#crypto-hash': src('crypto/web-hash.ts'),
            '#crypto': src('crypto/portable.ts'),
            '#audit-file': src('audit/file-node.ts'),
            '#instance': src('verifier/instance-node.ts'),
          },
        },
        test: { name: 'web-crypto', include: ['test/schemes/**/*.test.ts', 'test/crypto/**/*.test.ts'] },
      },
    ],
  },
})
