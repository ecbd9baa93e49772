// HTTP benchmark: Express and Fastify callback receivers, with and without the smileid-auth-shim
// middleware on the same route, loaded by autocannon over loopback (127.0.0.1) for a bounded time.
//
// Method: each measurement starts a fresh receiver process (bench/http-server.mjs), warms it up, then
// runs autocannon for `--duration` seconds. Variants are interleaved over `--rounds` rounds (rotated
// order) and the medians are compared. The receiver runs in its own process and the load generator in
// this one: on a 2-core machine each gets one core.
//
// Every mode gets the same kind of requests: a ~1 KB callback body with a fresh signature and a
// distinct timestamp per request (signed here, in the load generator, for every mode alike), so the
// receiver's MemoryReplayStore sees every credential once. The receiver counts duplicates and audit
// outcomes and the run fails loudly if any request was not a 2xx or was a duplicate.
//
// Receivers: bare, with smileIdAuth + MemoryReplayStore, and with smileIdAuth without a replay store
// (`--replay-only` drops the last).
//
// First, in one process (bench/adapter-rigs.mjs, no sockets): the CPU each adapter adds per request over
// the bare framework handling the same request, minus the verification itself (the verifier called
// directly, same input, same suite): the figures of issue 14, on the CPU clock. `--adapter-only` stops
// there; `--frameworks node,express` picks the rigs; `--compare <other build's dist/>` adds that build's
// adapters in front of the same verifier, side by side (e.g. the previous commit, built elsewhere).
//
// Run: node bench/http.mjs [--quick] [--duration 3] [--rounds 5] [--connections 16] [--json out.json]
//      [--profile-receivers <dir>] (a CPU profile of every receiver run; see bench/profile.mjs --summarize)
import crypto from 'node:crypto'
import { fork } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import autocannon from 'autocannon'
import { parseArgs, numberFlag } from './lib/args.mjs'
import { median, printSuite, printTable, formatRate, runSuite } from './lib/harness.mjs'
import { FRAMEWORKS, buildRigs } from './adapter-rigs.mjs'
import { PARTNER_ID, callbackBody, makeApiKey } from './lib/fixtures.mjs'
import { writeJson } from './lib/output.mjs'

const SERVER = fileURLToPath(new URL('./http-server.mjs', import.meta.url))
export const MAX_OVERHEAD = 0.1
/** Issue 14: adapter CPU added per request, in µs, over the bare framework (null: informational). */
export const MAX_ADAPTER_US = { node: 15, fastify: 15, express: 25, fetch: 25, hono: null }
const ADAPTER_NAMES = {
  node: 'node:http',
  express: 'Express',
  fastify: 'Fastify',
  fetch: 'Fetch',
  hono: 'Hono',
}

/** A percentage with an explicit sign. */
export const signed = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`

function startServer(framework, mode, apiKey, profileDir) {
  return new Promise((resolve, reject) => {
    const child = fork(SERVER, [framework, mode], {
      env: { ...process.env, BENCH_API_KEY: apiKey },
      // --profile-receivers <dir>: a .cpuprofile per receiver run (read with bench/profile.mjs --summarize).
      execArgv: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`${framework}/${mode} receiver exited with ${code}`)))
    child.on('message', (m) => {
      if (m?.type === 'ready') resolve({ child, port: m.port })
    })
  })
}

function serverStats(child) {
  return new Promise((resolve) => {
    child.on('message', (m) => {
      if (m?.type === 'stats') resolve(m.stats)
    })
    child.send('stats')
  })
}

function stopServer(child) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit')
    child.once('exit', resolve)
    child.send('exit')
  })
}

/**
 * A request body factory: a callback body with a fresh signature over a distinct timestamp for every
 * call. Timestamps count down one millisecond per request from the start of the run, so they stay
 * well inside the receiver's 5-minute freshness window for any run shorter than ~300 000 requests.
 */
function bodyFactory(apiKey) {
  const rest = JSON.stringify(callbackBody({}, 0)).slice(1)
  const hmacKey = crypto.createSecretKey(Buffer.from(apiKey, 'utf8'))
  const start = Date.now()
  let k = 0
  return () => {
    const timestamp = new Date(start - k++).toISOString()
    const signature = crypto
      .createHmac('sha256', hmacKey)
      .update(timestamp + PARTNER_ID + 'sid_request')
      .digest('base64')
    return `{"signature":"${signature}","timestamp":"${timestamp}",${rest}`
  }
}

function load(port, seconds, connections, nextBody) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/callback',
            headers: { 'content-type': 'application/json' },
            setupRequest: (request) => ({ ...request, body: nextBody() }),
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    )
  })
}

async function measure(variant, apiKey, options) {
  const { child, port } = await startServer(variant.framework, variant.mode, apiKey, options.profileDir)
  try {
    const nextBody = bodyFactory(apiKey)
    await load(port, options.warmup, options.connections, nextBody)
    child.send('mark')
    const r = await load(port, options.duration, options.connections, nextBody)
    const stats = await serverStats(child)
    const problems = []
    if (r.non2xx > 0) problems.push(`${r.non2xx} non-2xx responses`)
    if (r.errors > 0 || r.timeouts > 0) problems.push(`${r.errors} errors, ${r.timeouts} timeouts`)
    if (stats.duplicates > 0) problems.push(`${stats.duplicates} duplicate credentials`)
    if (variant.mode !== 'bare' && stats.audit.accepted !== stats.handled) {
      problems.push(`audit accepted ${stats.audit.accepted} of ${stats.handled} handled`)
    }
    return {
      rps: r.requests.average,
      p99: r.latency.p99,
      p50: r.latency.p50,
      total: r.requests.total,
      cpuUsPerRequest: stats.window.cpuUs / Math.max(1, stats.window.handled),
      problems,
    }
  } finally {
    await stopServer(child)
  }
}

async function adapterAvailable(framework) {
  try {
    await import(`smileid-auth-shim/${framework}`)
    const lib = await import('smileid-auth-shim')
    return typeof lib.DualModeVerifier === 'function' && typeof lib.MemoryReplayStore === 'function'
  } catch {
    return false
  }
}

/** µs of CPU per operation from an ops/s rate. */
const usPerOp = (rate) => 1e6 / rate

/**
 * The adapter CPU suite: per framework, bare and with the adapter, plus the direct verification, all
 * interleaved in one process on the CPU clock. Returns the suite and one target per framework.
 */
export async function adapterCpu(flags = {}, log = console.log) {
  const quick = !!flags.quick
  const frameworks = typeof flags.frameworks === 'string' ? flags.frameworks.split(',') : FRAMEWORKS
  const compare = typeof flags.compare === 'string' ? flags.compare : undefined
  const { rigs, verify } = await buildRigs(frameworks, { compare })
  const ok = (status) => status === 200
  const variants = [
    { name: 'verifier.verify (direct, adapter input)', fn: verify, group: 'verification alone' },
  ]
  for (const fw of frameworks) {
    const bare = `${ADAPTER_NAMES[fw]} bare`
    variants.push({ name: bare, fn: rigs[fw].bare, check: ok, group: ADAPTER_NAMES[fw] })
    variants.push({ name: `${ADAPTER_NAMES[fw]} + adapter`, fn: rigs[fw].auth, check: ok, baseline: bare })
    if (compare !== undefined)
      variants.push({
        name: `${ADAPTER_NAMES[fw]} + adapter (--compare build)`,
        fn: rigs[fw].authCompare,
        check: ok,
        baseline: bare,
      })
  }
  const suite = await runSuite({
    title: 'adapter CPU per request (in process, no sockets; signature callback, no replay store)',
    variants,
    rounds: numberFlag(flags, 'adapter-rounds', quick ? 2 : 40),
    roundMs: quick ? 50 : 80,
    warmupMs: quick ? 100 : 400,
    clock: 'cpu',
    log,
  })
  printSuite(suite, log)
  const verifyName = variants[0].name
  const figures = {}
  const rows = []
  for (const fw of frameworks) {
    const a = suite.stats[`${ADAPTER_NAMES[fw]} + adapter`]
    const b = suite.stats[`${ADAPTER_NAMES[fw]} bare`]
    const v = suite.stats[verifyName]
    // The figure per round (all three measured in that round, close together), and its median: sturdier
    // on a shared machine than a difference of medians, as a slow round shifts all three alike.
    const perRound = a.samples.map((x, i) => usPerOp(x) - usPerOp(b.samples[i]) - usPerOp(v.samples[i]))
    const addedPerRound = a.samples.map((x, i) => usPerOp(x) - usPerOp(b.samples[i]))
    const added = median(addedPerRound)
    const adapter = median(perRound)
    figures[fw] = {
      bareUs: usPerOp(b.median),
      authUs: usPerOp(a.median),
      verifyUs: usPerOp(v.median),
      addedUs: added,
      adapterUs: adapter,
      min: Math.min(...perRound),
      max: Math.max(...perRound),
    }
    const c = suite.stats[`${ADAPTER_NAMES[fw]} + adapter (--compare build)`]
    if (c) {
      const cmp = c.samples.map((x, i) => usPerOp(x) - usPerOp(b.samples[i]) - usPerOp(v.samples[i]))
      figures[fw].compareUs = median(cmp)
      figures[fw].compareMin = Math.min(...cmp)
      figures[fw].compareMax = Math.max(...cmp)
    }
    rows.push([
      ADAPTER_NAMES[fw],
      usPerOp(b.median).toFixed(1),
      usPerOp(a.median).toFixed(1),
      usPerOp(v.median).toFixed(1),
      signed(added),
      `${signed(adapter)} (${signed(figures[fw].min)}…${signed(figures[fw].max)})`,
      ...(c
        ? [
            `${signed(figures[fw].compareUs)} (${signed(figures[fw].compareMin)}…${signed(figures[fw].compareMax)})`,
          ]
        : []),
    ])
  }
  log(
    '\nCPU µs per request (bare, + adapter, verify: medians; added and adapter: median of the per-round ' +
      'figures, adapter = with adapter − bare − verify, with the per-round range)',
  )
  printTable(
    [
      'framework',
      'bare',
      '+ adapter',
      'verify alone',
      'added',
      'adapter alone',
      ...(compare !== undefined ? ['adapter alone, --compare build'] : []),
    ],
    rows,
    log,
  )
  const targets = frameworks.map((fw) => {
    const f = figures[fw]
    const max = MAX_ADAPTER_US[fw]
    const measured =
      `${signed(f.adapterUs)} µs (per-round ${signed(f.min)}…${signed(f.max)}): ${f.authUs.toFixed(1)} µs with the adapter, ` +
      `${f.bareUs.toFixed(1)} bare, ${f.verifyUs.toFixed(1)} the verification itself (CPU clock, one process)`
    if (max === null)
      return {
        label: `${ADAPTER_NAMES[fw]} adapter CPU per request (informational)`,
        status: 'INFO',
        measured,
        ...f,
      }
    return {
      label: `${ADAPTER_NAMES[fw]} adapter CPU added per request ≤ +${max} µs over the bare framework`,
      status: quick ? 'N/A' : f.adapterUs <= max ? 'PASS' : 'MISS',
      measured,
      ...f,
    }
  })
  return { suite, figures, targets }
}

export async function main(flags = {}, log = console.log) {
  const quick = !!flags.quick
  const adapter = await adapterCpu(flags, log)
  if (flags['adapter-only']) {
    log('\n## targets')
    for (const t of adapter.targets) log(`${t.status.padEnd(4)}  ${t.label}: ${t.measured}`)
    return { adapter, targets: adapter.targets, quick }
  }
  const options = {
    duration: numberFlag(flags, 'duration', quick ? 1 : 3),
    warmup: numberFlag(flags, 'warmup', quick ? 0.5 : 1),
    rounds: numberFlag(flags, 'rounds', quick ? 1 : 5),
    connections: numberFlag(flags, 'connections', 16),
    profileDir: typeof flags['profile-receivers'] === 'string' ? flags['profile-receivers'] : undefined,
    replayOnly: !!flags['replay-only'],
  }
  log(`# HTTP benchmark${quick ? ' (quick smoke: numbers are not meaningful)' : ''}`)
  log(
    `autocannon, 127.0.0.1, ${options.connections} connections, ${options.duration} s per run after ${options.warmup} s warm-up, ` +
      `${options.rounds} round(s), POST /callback with a ~1 KB JSON body; replay protection on, every credential distinct`,
  )

  const variants = []
  for (const framework of ['express', 'fastify']) {
    variants.push({ name: `${framework} bare`, framework, mode: 'bare' })
    if (await adapterAvailable(framework)) {
      variants.push({ name: `${framework} + smileIdAuth`, framework, mode: 'auth' })
      if (!options.replayOnly)
        variants.push({ name: `${framework} + smileIdAuth, no replay`, framework, mode: 'auth-noreplay' })
    } else
      log(
        `(smileid-auth-shim/${framework} or the verifier not built yet: ${framework} + smileIdAuth skipped)`,
      )
  }

  const apiKey = makeApiKey()
  const samples = new Map(variants.map((v) => [v.name, []]))
  const problems = []
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(round + k) % variants.length]
      const m = await measure(v, apiKey, options)
      log(
        `  round ${round + 1}: ${v.name.padEnd(20)} ${formatRate(m.rps).padStart(7)} req/s  p99 ${m.p99} ms  ` +
          `receiver CPU ${m.cpuUsPerRequest.toFixed(0)} µs/req`,
      )
      samples.get(v.name).push(m)
      for (const p of m.problems) problems.push(`${v.name} round ${round + 1}: ${p}`)
    }
  }

  const summary = {}
  for (const v of variants) {
    const s = samples.get(v.name)
    summary[v.name] = {
      rps: median(s.map((m) => m.rps)),
      rpsMin: Math.min(...s.map((m) => m.rps)),
      rpsMax: Math.max(...s.map((m) => m.rps)),
      p99: median(s.map((m) => m.p99)),
      p50: median(s.map((m) => m.p50)),
      cpuUsPerRequest: median(s.map((m) => m.cpuUsPerRequest)),
      samples: s,
    }
  }
  // Throughput overhead (the target) and receiver CPU per request (robust to a client-bound run).
  // Keyed by the auth variant's name.
  const overhead = {}
  const cpuOverhead = {}
  for (const v of variants) {
    if (v.mode === 'bare') continue
    const bare = summary[`${v.framework} bare`]
    const auth = summary[v.name]
    overhead[v.name] = 1 - auth.rps / bare.rps
    cpuOverhead[v.name] = auth.cpuUsPerRequest / bare.cpuUsPerRequest - 1
  }

  log('')
  printTable(
    [
      'receiver',
      'median req/s',
      'min–max',
      'p50 ms',
      'p99 ms',
      'req/s overhead',
      'CPU µs/req',
      'CPU overhead',
    ],
    variants.map((v) => {
      const s = summary[v.name]
      const o = overhead[v.name]
      const c = cpuOverhead[v.name]
      return [
        v.name,
        formatRate(s.rps),
        `${formatRate(s.rpsMin)}–${formatRate(s.rpsMax)}`,
        String(s.p50),
        String(s.p99),
        o === undefined ? '' : `${(o * 100).toFixed(1)} %`,
        s.cpuUsPerRequest.toFixed(0),
        c === undefined ? '' : `${signed(c * 100)} %`,
      ]
    }),
    log,
  )
  for (const p of problems) log(`!! ${p}`)
  if (problems.length > 0) process.exitCode = 1

  const targets = variants
    .filter((v) => v.mode !== 'bare')
    .map((v) => {
      const label = `${v.framework} middleware overhead ≤ ${MAX_OVERHEAD * 100} % of req/s (${v.mode === 'auth' ? 'replay store on' : 'no replay store'})`
      const o = overhead[v.name]
      return {
        label,
        status: quick ? 'N/A' : o <= MAX_OVERHEAD && problems.length === 0 ? 'PASS' : 'MISS',
        overhead: o,
        measured:
          `${(o * 100).toFixed(1)} % (median req/s ${formatRate(summary[v.name].rps)} vs ` +
          `${formatRate(summary[`${v.framework} bare`].rps)}; receiver CPU per request ${signed(cpuOverhead[v.name] * 100)} %)`,
      }
    })
  for (const framework of ['express', 'fastify']) {
    if (!variants.some((v) => v.framework === framework && v.mode !== 'bare')) {
      targets.push({
        label: `${framework} middleware overhead ≤ ${MAX_OVERHEAD * 100} % of req/s`,
        status: 'N/A',
        measured: 'not measured',
      })
    }
  }
  targets.unshift(...adapter.targets)
  log('\n## targets')
  for (const t of targets) log(`${t.status.padEnd(4)}  ${t.label}: ${t.measured}`)
  return { adapter, options, summary, overhead, cpuOverhead, problems, targets, quick }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flags = parseArgs()
  const result = await main(flags)
  if (typeof flags.json === 'string') await writeJson(flags.json, result)
}
