import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  FORBIDDEN_ON_SIGNATURE_PATH,
  loadPathVectors,
  pathScripts,
  traceImports,
  type TraceResult,
} from './trace-imports.mjs'

// Runs the built package (dist/) in a child Node process with a resolve hook and looks at every module it
// loaded. The scripts live under tmp/ inside the package so `smileid-auth-shim` resolves by self-reference.
const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const scratch = fileURLToPath(new URL('../../tmp/package-trace/', import.meta.url))
const scripts = pathScripts(loadPathVectors(repoRoot))

describe('what the core entry loads on Node', () => {
  const traces: Partial<Record<keyof typeof scripts, TraceResult>> = {}

  beforeAll(async () => {
    if (!existsSync(new URL('../../dist/index.js', import.meta.url)))
      throw new Error('dist/ is missing: run `npm run build`')
    for (const [name, code] of Object.entries(scripts) as Array<[keyof typeof scripts, string]>) {
      traces[name] = await traceImports({ dir: scratch, code })
    }
  })

  it('signature path: verifies, and loads no framework, no Redis client and no node-forge', () => {
    const trace = traces.signature!
    expect(trace.stdout.trim(), trace.stderr).toBe('OK')
    expect(trace.urls.some((url) => url.endsWith('/dist/index.js'))).toBe(true)
    expect(trace.urls.some((url) => url.endsWith('/dist/crypto/node.js'))).toBe(true)
    expect(trace.packages.filter((name) => FORBIDDEN_ON_SIGNATURE_PATH.includes(name))).toEqual([])
  })

  it('sec_key public-key path: node:crypto does the RSA, node-forge stays unloaded', () => {
    const trace = traces.secKeyPublic!
    expect(trace.stdout.trim(), trace.stderr).toBe('OK')
    expect(trace.packages).not.toContain('node-forge')
  })

  it('the trace sees lazy loads: the private-key path loads node-forge on demand', () => {
    const trace = traces.secKeyPrivate!
    expect(trace.stdout.trim(), trace.stderr).toBe('OK')
    expect(trace.packages).toContain('node-forge')
  })
})

describe('zod loads only with the schemas entry', () => {
  it('the adapters load no zod, even with a body schema option in their API; /schemas loads it', async () => {
    const adapters = await traceImports({
      dir: scratch,
      code: [
        "import { withSmileIdAuth } from 'smileid-auth-shim/fetch'",
        "import { smileIdAuth } from 'smileid-auth-shim/hono'",
        "import { verifyIncomingMessage } from 'smileid-auth-shim/node'",
        "console.log([withSmileIdAuth, smileIdAuth, verifyIncomingMessage].every((f) => typeof f === 'function') ? 'OK' : 'NO')",
      ].join('\n'),
    })
    expect(adapters.stdout.trim(), adapters.stderr).toBe('OK')
    expect(adapters.packages).not.toContain('zod')
    expect(adapters.packages).not.toContain('hono') // type-only import of the framework

    const schemas = await traceImports({
      dir: scratch,
      code: "import { enhancedKycCallbackSchema } from 'smileid-auth-shim/schemas'\nconsole.log(enhancedKycCallbackSchema.safeParse({}).success === false ? 'OK' : 'NO')",
    })
    expect(schemas.stdout.trim(), schemas.stderr).toBe('OK')
    expect(schemas.packages).toContain('zod')
  })
})
