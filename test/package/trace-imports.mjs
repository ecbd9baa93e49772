/**
 * Records every module URL a Node process resolves, through a module-resolution hook registered with
 * `node --import`. Used to prove what the core entry loads (and what it does not) on a given code path.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const HOOKS = `
import { appendFileSync } from 'node:fs'
let out
export function initialize(data) {
  out = data.out
}
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context)
  appendFileSync(out, resolved.url + '\\n')
  return resolved
}
`

const REGISTER = `
import { register } from 'node:module'
register('./trace-hooks.mjs', import.meta.url, { data: { out: process.env.SMILEID_TRACE_FILE } })
`

/** Packages that must never load on the core entry's signature path. */
export const FORBIDDEN_ON_SIGNATURE_PATH = [
  'node-forge',
  'express',
  'fastify',
  'hono',
  '@nestjs/common',
  '@nestjs/core',
  'redis',
  '@redis/client',
  'ioredis',
]

/** The npm package a resolved URL belongs to (`@scope/name` or `name`), or `null` outside node_modules. */
export function packageOf(url) {
  const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  return match ? match[1] : null
}

/**
 * Runs `code` as an ES module file in `dir` (which must be where `smileid-auth-shim` resolves: the
 * package itself, or a project that has it in node_modules) and returns every URL resolved, with the
 * process's exit code and output.
 */
export function traceImports({ dir, code, nodeBinary = process.execPath, timeoutMs = 60_000 }) {
  const scratch = mkdtempSync(join(tmpdir(), 'smileid-trace-'))
  const out = join(scratch, 'resolved.txt')
  writeFileSync(out, '')
  mkdirSync(dir, { recursive: true })
  const script = join(dir, `trace-${process.pid}-${Date.now()}.mjs`)
  writeFileSync(join(scratch, 'trace-hooks.mjs'), HOOKS)
  writeFileSync(join(scratch, 'register.mjs'), REGISTER)
  writeFileSync(script, code)
  return new Promise((resolvePromise) => {
    let stdout = ''
    let stderr = ''
    const child = spawn(nodeBinary, ['--import', pathToFileURL(join(scratch, 'register.mjs')).href, script], {
      cwd: dir,
      env: { ...process.env, SMILEID_TRACE_FILE: out },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (exitCode) => {
      clearTimeout(timer)
      const urls = [...new Set(readFileSync(out, 'utf8').split('\n').filter(Boolean))]
      rmSync(scratch, { recursive: true, force: true })
      rmSync(script, { force: true })
      resolvePromise({
        exitCode,
        stdout,
        stderr,
        urls,
        packages: [...new Set(urls.map(packageOf).filter(Boolean))],
      })
    })
  })
}

/** Scripts for the three code paths the import checks compare. Each prints `OK` when its verification passed. */
export function pathScripts({ signatureVector, secKeyVector, partnerSample, publicApiKey, privateKeyPem }) {
  const j = JSON.stringify
  return {
    signature: `
import { DualModeVerifier, SignatureAuth } from 'smileid-auth-shim'
const signature = new SignatureAuth({ partnerId: ${j(signatureVector.partnerId)}, apiKey: ${j(signatureVector.apiKey)} })
const verifier = new DualModeVerifier({ partnerId: ${j(signatureVector.partnerId)}, signature, freshness: false })
const body = { signature: ${j(signatureVector.signature)}, timestamp: ${j(signatureVector.timestamp)} }
const direct = await signature.verify(body)
const viaVerifier = await verifier.verify({ body })
console.log(direct.ok && viaVerifier.ok && viaVerifier.scheme === 'signature' ? 'OK' : 'FAILED ' + JSON.stringify(viaVerifier))
`,
    secKeyPublic: `
import { LegacySecKeyAuth } from 'smileid-auth-shim'
const legacy = new LegacySecKeyAuth({ partnerId: '085', apiKey: ${j(publicApiKey)} })
const result = await legacy.verify({ sec_key: ${j(secKeyVector.server_sec_key)}, timestamp: ${j(secKeyVector.timestamp)} })
console.log(result.ok ? 'OK' : 'FAILED ' + result.reason)
`,
    secKeyPrivate: `
import { LegacySecKeyAuth } from 'smileid-auth-shim'
const server = new LegacySecKeyAuth({ partnerId: '085', privateKey: ${j(privateKeyPem)} })
const result = await server.verify({ sec_key: ${j(partnerSample.sec_key)}, timestamp: ${j(partnerSample.timestamp)} })
console.log(result.ok ? 'OK' : 'FAILED ' + result.reason)
`,
  }
}

/** Loads the vectors `pathScripts` needs from the repo's test/vectors. */
export function loadPathVectors(repoRoot) {
  const sig = JSON.parse(readFileSync(join(repoRoot, 'test/vectors/signature_vectors.json'), 'utf8'))
  const sk = JSON.parse(readFileSync(join(repoRoot, 'test/vectors/sec_key_vectors.json'), 'utf8'))
  return {
    signatureVector: { partnerId: sig.partner_id, apiKey: sig.api_key, ...sig.vectors[0] },
    secKeyVector: sk['server_direction_sec_keys(deterministic)'][0],
    partnerSample: sk.partner_direction_samples[0],
    publicApiKey: sk.api_key_encodings.b64_spki_pem,
    privateKeyPem: sk['private_key_pem(test only)'],
  }
}
