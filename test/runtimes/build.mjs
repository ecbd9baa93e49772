/**
 * esbuild helpers for the runtime conformance runs and the Worker bundle checks.
 *
 * Two kinds of output, both under `<repo>/tmp/runtimes/` (git-ignored, and inside the package so that the
 * package's self-reference `smileid-auth-shim` and its `#crypto` import map resolve there):
 * - process entries (Node, Bun, Deno): only the test code and the vectors are bundled; every package
 *   import, the library included, stays external so each runtime resolves `smileid-auth-shim`, `jose`,
 *   `zod` and `node-forge` from node_modules with its own export conditions;
 * - Worker bundles: everything bundled, as a user's Worker would be (`--platform=browser`
 *   `--conditions=workerd,worker,browser --format=esm`).
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import * as esbuild from 'esbuild'

export const here = dirname(fileURLToPath(import.meta.url))
export const repoRoot = resolve(here, '..', '..')
export const outRoot = join(repoRoot, 'tmp', 'runtimes')

/** Marker that precedes the JSON report on a process runtime's stdout. */
export const REPORT_MARKER = '@@SMILEID_CONFORMANCE@@'

const loaders = { '.pem': 'text', '.txt': 'text', '.der': 'binary' }

/** The conformance module to run: the real one, or the pre-core placeholder. */
export function suiteFile(placeholder) {
  return placeholder ? './placeholder.mjs' : './conformance.mjs'
}

/**
 * Bundles the process-runtime entry (Node, Bun, Deno). The entry runs the suite, asks the runtime which
 * file `#crypto` resolves to under its own conditions, and prints one marked JSON line.
 */
export async function buildProcessEntry({ placeholder = false } = {}) {
  const outfile = join(outRoot, placeholder ? 'process-placeholder.mjs' : 'process.mjs')
  mkdirSync(outRoot, { recursive: true })
  const contents = `
import { runConformance } from ${JSON.stringify(suiteFile(placeholder))}
function runtimeName() {
  if (typeof globalThis.Bun !== 'undefined') return 'bun ' + globalThis.Bun.version
  if (typeof globalThis.Deno !== 'undefined') return 'deno ' + globalThis.Deno.version.deno
  if (typeof globalThis.process !== 'undefined') return 'node ' + globalThis.process.versions.node
  return 'unknown'
}
// Which crypto backend this runtime picked through the package's \`#crypto\` import map: the file it
// resolves to, and the name the loaded module reports (the same module instance the library uses).
let cryptoModule
let cryptoBackend = 'unknown'
try {
  cryptoModule = import.meta.resolve('#crypto')
  cryptoBackend = (await import('#crypto')).backend.name
} catch (error) {
  cryptoModule = cryptoModule ?? 'unresolved: ' + (error && error.message)
}
let report
try {
  report = await runConformance()
} catch (error) {
  report = { passed: 0, failed: 1, results: [{ name: 'suite loads and runs', ok: false, detail: String(error && error.stack || error) }] }
}
console.log(${JSON.stringify(REPORT_MARKER)} + JSON.stringify({ runtime: runtimeName(), cryptoModule, cryptoBackend, ...report }))
`
  await esbuild.build({
    stdin: { contents, resolveDir: here, sourcefile: 'process-entry.mjs', loader: 'js' },
    bundle: true,
    packages: 'external',
    external: ['#crypto'],
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    loader: loaders,
    outfile,
    absWorkingDir: repoRoot,
    logLevel: 'silent',
  })
  return outfile
}

/** Bundles the suite itself (vectors embedded, packages external) for in-process use by `self-check.mjs`. */
export async function buildSuiteModule() {
  const outfile = join(outRoot, 'suite.mjs')
  mkdirSync(outRoot, { recursive: true })
  await esbuild.build({
    entryPoints: [join(here, 'conformance.mjs')],
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    loader: loaders,
    outfile,
    absWorkingDir: repoRoot,
    logLevel: 'silent',
  })
  return outfile
}

/**
 * Bundles a Worker (module syntax) whose `fetch` runs the suite and answers with the JSON report.
 *
 * `conditions` defaults to what wrangler and a user's own esbuild call use for Workers. With
 * `['node']` the library's `#crypto` resolves to the node:crypto backend instead, which only runs under
 * `nodejs_compat` (`node:*` imports are left to workerd).
 */
export async function buildWorker({
  name,
  placeholder = false,
  conditions = ['workerd', 'worker', 'browser'],
}) {
  const outfile = join(outRoot, name, 'worker.mjs')
  mkdirSync(dirname(outfile), { recursive: true })
  const contents = `
import { runConformance } from ${JSON.stringify(suiteFile(placeholder))}
export default {
  async fetch() {
    let report
    try {
      report = await runConformance()
    } catch (error) {
      report = { passed: 0, failed: 1, results: [{ name: 'suite loads and runs', ok: false, detail: String(error && error.stack || error) }] }
    }
    const nodeCompat = typeof globalThis.process !== 'undefined' && typeof globalThis.Buffer !== 'undefined'
    return Response.json({ runtime: 'workerd', nodeCompatGlobals: nodeCompat, ...report })
  },
}
`
  const nodeFlavour = conditions.includes('node')
  const result = await esbuild.build({
    stdin: { contents, resolveDir: here, sourcefile: 'worker-entry.mjs', loader: 'js' },
    bundle: true,
    format: 'esm',
    // esbuild adds the `browser` condition on the browser platform, which would outrank `node` in the
    // package's import map; `neutral` adds none, so the node:crypto backend is picked.
    platform: nodeFlavour ? 'neutral' : 'browser',
    ...(nodeFlavour ? { mainFields: ['module', 'main'], plugins: [nodeBuiltinsForRequire] } : {}),
    conditions,
    external: nodeFlavour ? ['node:*'] : [],
    target: 'es2022',
    loader: loaders,
    metafile: true,
    outfile,
    absWorkingDir: repoRoot,
    logLevel: 'silent',
  })
  return { outfile, metafile: result.metafile, ...describeBundle(result.metafile, outfile) }
}

/**
 * Lets CommonJS dependencies (node-forge) `require('crypto')` in an ESM Worker under nodejs_compat, as
 * wrangler arranges: the bare builtin becomes a bundled ESM shim over the external `node:crypto`.
 */
const nodeBuiltinsForRequire = {
  name: 'node-builtins-for-require',
  setup(build) {
    build.onResolve({ filter: /^(crypto)$/ }, (args) => ({ path: args.path, namespace: 'node-builtin' }))
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `export * from 'node:${args.path}'`,
      loader: 'js',
    }))
  },
}

/** Which crypto backend and which notable packages a bundle holds, and its `node:` imports. */
export function describeBundle(metafile, outfile) {
  const output = metafile.outputs[relative(repoRoot, outfile).replace(/\\/g, '/')]
  if (output === undefined) throw new Error(`esbuild metafile has no output ${outfile}`)
  // Only what survived tree-shaking counts: an input with no bytes in the output was dropped.
  const inputs = Object.entries(output.inputs)
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path.replace(/\\/g, '/'))
  const has = (fragment) => inputs.some((p) => p.includes(fragment))
  const nodeImports = [
    ...new Set((output?.imports ?? []).map((i) => i.path).filter((p) => p.startsWith('node:'))),
  ]
  let backend = 'none'
  // The hashing half (`#crypto-hash`) is in every bundle; the RSA half (`#crypto`) only where sec_key is used.
  const node = has('dist/crypto/node-hash.js') || has('dist/crypto/node.js')
  const web = has('dist/crypto/web-hash.js') || has('dist/crypto/portable.js')
  if (node) backend = web ? 'node+web' : 'node'
  else if (web) backend = 'web'
  return {
    backend,
    nodeImports,
    containsForge: has('node_modules/node-forge/'),
    containsZod: has('node_modules/zod/'),
    containsJose: has('node_modules/jose/'),
  }
}

/**
 * Bundles a minimal Worker that uses the verifier, minified, and measures it. `legacy: false` uses only
 * the signature scheme; `legacy: true` adds `LegacySecKeyAuth` with a public api key.
 */
export async function buildSizeProbe({ legacy }) {
  const name = legacy ? 'size-dual' : 'size-signature'
  const outfile = join(outRoot, name, 'worker.mjs')
  mkdirSync(dirname(outfile), { recursive: true })
  const contents = legacy
    ? `
import { DualModeVerifier, LegacySecKeyAuth, SignatureAuth } from 'smileid-auth-shim'
let verifier
export default {
  async fetch(request, env) {
    verifier ??= new DualModeVerifier({
      partnerId: env.PARTNER_ID,
      signature: new SignatureAuth({ partnerId: env.PARTNER_ID, apiKey: env.SIGNATURE_API_KEY }),
      secKey: new LegacySecKeyAuth({ partnerId: env.PARTNER_ID, apiKey: env.SEC_KEY_API_KEY }),
    })
    const result = await verifier.verify({ body: await request.json(), headers: Object.fromEntries(request.headers) })
    return Response.json(result.ok ? { scheme: result.scheme } : { error: result.reason }, { status: result.ok ? 200 : 401 })
  },
}
`
    : `
import { DualModeVerifier, SignatureAuth } from 'smileid-auth-shim'
let verifier
export default {
  async fetch(request, env) {
    verifier ??= new DualModeVerifier({
      partnerId: env.PARTNER_ID,
      signature: new SignatureAuth({ partnerId: env.PARTNER_ID, apiKey: env.SIGNATURE_API_KEY }),
    })
    const result = await verifier.verify({ body: await request.json(), headers: Object.fromEntries(request.headers) })
    return Response.json(result.ok ? { scheme: result.scheme } : { error: result.reason }, { status: result.ok ? 200 : 401 })
  },
}
`
  const result = await esbuild.build({
    stdin: { contents, resolveDir: here, sourcefile: `${name}.mjs`, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    minify: true,
    metafile: true,
    outfile,
    absWorkingDir: repoRoot,
    logLevel: 'silent',
  })
  const bytes = readFileSync(outfile)
  return {
    name,
    outfile,
    bytes: bytes.length,
    gzipBytes: gzipSync(bytes, { level: 9 }).length,
    ...describeBundle(result.metafile, outfile),
  }
}
