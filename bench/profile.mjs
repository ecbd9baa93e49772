// Profiles one verification path: builds it, then runs it in a loop under the V8 sampling profiler
// (the same profiler as `node --cpu-prof`, started after set-up so key generation and pre-signing stay
// out) and prints where the time goes: self time by function and by file.
//
// Run: node bench/profile.mjs <case> [--seconds 5] [--top 25] [--lines dist/] [--out file.cpuprofile]
// `--lines <substring>` adds self time per source line for the files whose URL contains it.
// `node bench/profile.mjs --summarize file.cpuprofile` summarizes an existing profile instead (for example
// one written by `node bench/http.mjs --profile-receivers <dir>`).
// Adapter cases: adapter-node, adapter-express, adapter-fastify, adapter-fetch, adapter-hono (a signature
// callback through the framework and the adapter, in process: bench/adapter-rigs.mjs; add --bare for the
// framework alone). Look at the frames under dist/adapters.
// Cases: signature-auth, dual-signature, dual-signature-replay[-raw], legacy-auth, dual-sec-key, dual-sec-key-replay
// (`-raw`: the request carries rawBody, as the adapters pass it).
import { readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs, numberFlag } from './lib/args.mjs'
import { printTable } from './lib/harness.mjs'
import { FRAMEWORKS, buildRigs } from './adapter-rigs.mjs'
import {
  PARTNER_ID,
  T0,
  callbackBody,
  loadLibrary,
  makeApiKey,
  rsaKeyPair,
  secKeyCredentials,
  signatureCredentials,
} from './lib/fixtures.mjs'

const CASES = [
  'signature-auth',
  'dual-signature',
  'dual-signature-replay',
  'dual-signature-replay-raw',
  'legacy-auth',
  'dual-sec-key',
  'dual-sec-key-replay',
  ...FRAMEWORKS.map((fw) => `adapter-${fw}`),
]

/** Builds the case, then verifies in a loop for `seconds` under the profiler; returns the profile. */
async function profileCase(name, seconds, flags = {}) {
  if (name.startsWith('adapter-')) return profileAdapter(name.slice('adapter-'.length), seconds, !!flags.bare)
  const { lib, error } = await loadLibrary()
  if (!lib) throw error
  const apiKey = makeApiKey()
  const replay = name.includes('-replay')
  const raw = name.endsWith('-raw')
  const secKey = name.includes('sec-key') || name === 'legacy-auth'
  // Enough distinct credentials that a replay store never sees one twice.
  const count = replay ? (secKey ? 40_000 : 400_000) : 4096
  const rsa = secKey ? rsaKeyPair(1024) : null
  const creds = secKey ? secKeyCredentials(rsa, count) : signatureCredentials(apiKey, count)
  const strategy = secKey
    ? { secKey: new lib.LegacySecKeyAuth({ partnerId: PARTNER_ID, apiKey: rsa.apiKey }) }
    : { signature: new lib.SignatureAuth({ partnerId: PARTNER_ID, apiKey }) }
  let audited = 0
  let verify
  if (name === 'signature-auth' || name === 'legacy-auth') {
    const auth = strategy.secKey ?? strategy.signature
    verify = (i) => auth.verify(creds[i % count])
  } else {
    const bodies = creds.map((c, k) => {
      const body = callbackBody(c, k)
      return raw ? { body, rawBody: JSON.stringify(body) } : { body }
    })
    const verifier = new lib.DualModeVerifier({
      partnerId: PARTNER_ID,
      ...strategy,
      audit: () => void audited++,
      now: () => T0,
      ...(replay ? { replay: new lib.MemoryReplayStore() } : {}),
    })
    verify = (i) => verifier.verify(bodies[i % count])
  }
  // Warm up (JIT) before profiling; a replay case keeps its first credentials for this.
  for (let w = 0; w < 2000; w++) await verify(count - 1 - w)
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  const end = performance.now() + seconds * 1000
  let i = 0
  let failed = 0
  while (performance.now() < end) {
    for (let k = 0; k < 256; k++) {
      const r = await verify(i++)
      if (!r.ok || r.duplicate) failed++
    }
    if (replay && i >= count - 2256) break
  }
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  console.log(`${name}: ${i} verifications profiled, ${failed} failed, ${audited} audit events`)
  return profile
}

/** Profiles one framework rig (with the adapter, or bare with `--bare`) for `seconds`. */
async function profileAdapter(fw, seconds, bare) {
  const { rigs } = await buildRigs([fw])
  const run = bare ? rigs[fw].bare : rigs[fw].auth
  for (let w = 0; w < 3000; w++) await run(w)
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  const end = performance.now() + seconds * 1000
  let i = 0
  let failed = 0
  while (performance.now() < end) for (let k = 0; k < 64; k++) if ((await run(i++)) !== 200) failed++
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  console.log(`adapter-${fw}${bare ? ' (bare)' : ''}: ${i} requests profiled, ${failed} not 200`)
  return profile
}

/**
 * Sums self samples per call-frame (function + location) and per file from a .cpuprofile. Samples are
 * counted rather than weighted by their time deltas: on a shared machine a delta also holds the time the
 * process sat descheduled, which would be charged to whatever ran next.
 */
function summarize(profile, root) {
  const dt = new Map()
  for (const id of profile.samples) dt.set(id, (dt.get(id) ?? 0) + 1)
  let total = 0
  const byFn = new Map()
  const byFile = new Map()
  for (const node of profile.nodes) {
    const t = dt.get(node.id) ?? 0
    // Idle samples (waiting for I/O) are not cost.
    if (t === 0 || node.callFrame.functionName === '(idle)') continue
    total += t
    const f = node.callFrame
    const file = (f.url || '(native)')
      .replace(pathToFileURL(root).href, '')
      .replace(/^.*node_modules\//, 'node_modules/')
    const fn = `${f.functionName || '(anonymous)'} ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`
    byFn.set(fn, (byFn.get(fn) ?? 0) + t)
    byFile.set(file, (byFile.get(file) ?? 0) + t)
  }
  return { total, byFn, byFile }
}

async function main() {
  const flags = parseArgs()
  const name = process.argv.slice(2).find((a) => !a.startsWith('--'))
  let profile
  if (typeof flags.summarize === 'string') {
    profile = JSON.parse(readFileSync(flags.summarize, 'utf8'))
  } else if (!CASES.includes(name)) {
    console.error(
      `usage: node bench/profile.mjs <${CASES.join('|')}> [--seconds 5] [--top 25] [--out file.cpuprofile]`,
    )
    process.exit(2)
  } else {
    profile = await profileCase(name, numberFlag(flags, 'seconds', 5), flags)
  }
  if (typeof flags.out === 'string') writeFileSync(flags.out, JSON.stringify(profile))
  const root = fileURLToPath(new URL('..', import.meta.url))
  const { total, byFn, byFile } = summarize(profile, root)
  const top = numberFlag(flags, 'top', 25)
  const pct = (t) => `${((t / total) * 100).toFixed(1)} %`
  const rows = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, t]) => [k, pct(t)])
  console.log(`\nself time by function (${total} samples, idle excluded)`)
  printTable(['function', 'self'], rows(byFn))
  console.log('\nself time by file')
  printTable(['file', 'self'], rows(byFile))
  if (typeof flags.lines === 'string') printLines(profile, flags.lines, total, top)
}

/** Self samples per source line for the files whose URL contains `filter` (from V8's position ticks). */
function printLines(profile, filter, total, top) {
  const byLine = new Map()
  for (const node of profile.nodes) {
    const url = node.callFrame.url
    if (!url.includes(filter) || !node.positionTicks) continue
    for (const { line, ticks } of node.positionTicks) {
      const key = `${url}:${line}`
      byLine.set(key, (byLine.get(key) ?? 0) + ticks)
    }
  }
  const sources = new Map()
  const text = (url, line) => {
    if (!sources.has(url)) sources.set(url, readFileSync(fileURLToPath(url), 'utf8').split('\n'))
    return (sources.get(url)[line - 1] ?? '').trim().slice(0, 100)
  }
  const rows = [...byLine]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, ticks]) => {
      const at = key.lastIndexOf(':')
      const url = key.slice(0, at)
      const line = Number(key.slice(at + 1))
      return [
        `${url.split('/').slice(-2).join('/')}:${line}`,
        `${((ticks / total) * 100).toFixed(1)} %`,
        text(url, line),
      ]
    })
  console.log(`\nself time by line (files matching "${filter}")`)
  printTable(['line', 'self', 'source'], rows)
}

await main()
