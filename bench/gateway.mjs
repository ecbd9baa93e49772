// Gateway benchmark: the inbound verifying proxy (the built CLI, `smileid-auth gateway`) in front of a
// node:http upstream, against the same upstream called directly, over loopback (127.0.0.1).
//
// What it measures, and why this way:
// - Every path runs in its own process: the upstream, the gateway exactly as users run it
//   (`node dist/cli/main.js gateway --config …`, JSON access log included, written to /dev/null), and a
//   bare proxy on the gateway's own stack (node:http server, undici pool; no verification, no log, no
//   metrics) showing the floor a Node proxy pays.
//   Paths are interleaved over `--rounds` rounds and medians compared, so a burst of load from other work
//   on the machine hits all of them alike.
// - Latency at a fixed request rate (`--rate`, default 400 req/s over `--latency-connections`
//   keep-alive connections, `--latency-seconds` s), well below what any path saturates at: the figure is
//   what a request pays, not how long it queues behind others. Open loop: requests are sent on schedule
//   whatever the answers before them did, and a request waiting for a free connection counts that wait;
//   timed with process.hrtime (autocannon's histogram has whole-millisecond resolution). The gateway's
//   added p50 / p99 is the difference between the gateway's and the direct path's percentiles.
// - Throughput at saturation: autocannon, `--connections` connections for `--duration` s after a
//   warm-up, with the CPU time (user + system, from /proc) each process used per request. On this machine
//   autocannon, the upstream and the gateway share 2 cores, so the saturated req/s ratio mostly says how
//   the scheduler split the cores: direct runs 2 processes, the gateway path 3. The CPU per request is
//   what decides capacity, so it is printed next to req/s, with the same comparison made on equal CPU:
//   the upstream alone gets 1e6 / u requests per CPU-second, the upstream behind the gateway
//   1e6 / (u + g). With a trivial upstream (u ≈ 20 µs) no proxy can keep 80 % of it; the bench prints
//   the upstream cost at which the gateway would (u ≥ 4 g on shared CPU, u ≥ 0.8 g with a core of its
//   own), and `--upstream-work-us N` makes the upstream spend N µs of CPU per request, like an app that
//   parses, queries and renders, to measure that case directly.
// Every request is a ~1 KB callback with its own signature and timestamp (replay store in memory, sized
// to keep every credential of the run),
// so every request is a full verification; a non-2xx answer fails the run. Runs are bounded in time:
// about rounds × 3 × (latency-seconds + warm-up + duration) seconds.
//
// Run: node bench/gateway.mjs [--quick] [--rounds 3] [--rate 400] [--latency-seconds 3]
//      [--latency-connections 4] [--duration 3] [--connections 16] [--upstream-work-us 0]
//      [--cli dist/cli/main.js] [--json out.json] [--profile-gateway <dir>] (a .cpuprofile of the gateway)
import crypto from 'node:crypto'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, createServer, request } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { parseArgs, numberFlag } from './lib/args.mjs'
import { median, printTable, formatRate } from './lib/harness.mjs'
import { PARTNER_ID, callbackBody, makeApiKey } from './lib/fixtures.mjs'
import { writeJson } from './lib/output.mjs'

const DEFAULT_CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))
export const MAX_P50_MS = 1
export const MAX_P99_MS = 3
export const MIN_THROUGHPUT = 0.8

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createNetServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

async function waitFor(url, ms = 15_000) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    try {
      const res = await fetch(url)
      if (res.ok) return
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${url} did not come up`)
}

async function startUpstream(role = '--upstream', extra = []) {
  const port = await freePort()
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), role, String(port), ...extra], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)))
  })
  return {
    port,
    pid: child.pid,
    stop: () => new Promise((resolve) => (child.once('exit', resolve), child.send('exit'))),
  }
}

async function startGateway(cli, dir, upstreamPort, apiKey, profileDir) {
  const port = await freePort()
  const config = join(dir, 'gateway.json')
  writeFileSync(
    config,
    JSON.stringify({
      partnerId: PARTNER_ID,
      signature: { apiKeyEnv: 'BENCH_SIGNATURE_KEY' },
      // Sized as an operator would for this rate (docs/gateway.md): every credential of the run stays
      // remembered, none is evicted.
      replay: { memory: { maxEntries: 2_000_000 } },
      inbound: { listen: { host: '127.0.0.1', port }, upstream: `http://127.0.0.1:${upstreamPort}` },
    }),
  )
  const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]
  const child = spawn(process.execPath, [...nodeArgs, cli, 'gateway', '--config', config], {
    env: { ...process.env, BENCH_SIGNATURE_KEY: apiKey },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  await waitFor(`http://127.0.0.1:${port}/healthz`)
  return {
    port,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve)
        child.kill('SIGTERM')
      }),
  }
}

/**
 * Fresh signature, distinct timestamp per call: the current time with microsecond digits from a counter
 * (`…:05.123042Z`; SDKs send up to 9 fraction digits), so every credential is new and none grows stale
 * however long the run (a count-down of whole milliseconds leaves the 5-minute window after 300 000).
 */
function bodyFactory(apiKey) {
  const rest = JSON.stringify(callbackBody({}, 0)).slice(1)
  let lastMs = 0
  let counter = 0
  return () => {
    const now = Date.now()
    if (now !== lastMs) {
      lastMs = now
      counter = 0
    }
    const micros = String(counter++ % 1000).padStart(3, '0')
    const timestamp = `${new Date(now).toISOString().slice(0, 23)}${micros}Z`
    const signature = crypto
      .createHmac('sha256', apiKey)
      .update(timestamp + PARTNER_ID + 'sid_request')
      .digest('base64')
    return `{"signature":"${signature}","timestamp":"${timestamp}",${rest}`
  }
}

/** CPU time (user + system) a process has used, in microseconds, from /proc (Linux); null elsewhere. */
function cpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the command name; in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100
  } catch {
    return null
  }
}

/**
 * Open-loop fixed-rate load: request i is due at start + i / rate, sent then whatever the answers before it
 * did, over a pool of `connections` keep-alive connections. Its latency counts from the moment it was
 * handed to node:http to the end of its response, so waiting for a free connection (a path that cannot
 * keep up) is counted; the sender's own timer lateness is not. Returns sorted latencies in ms (a warm-up
 * second is not counted).
 */
async function latencyRun(port, { rate, seconds, connections }, nextBody) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const once = (body) =>
    new Promise((resolve, reject) => {
      const started = process.hrtime.bigint()
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/callback',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume()
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`))
            else resolve(Number(process.hrtime.bigint() - started) / 1e6)
          })
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  const warmup = Math.min(1, seconds)
  const total = Math.round(rate * (seconds + warmup))
  const skip = Math.round(rate * warmup)
  const interval = 1e9 / rate
  const start = process.hrtime.bigint()
  const pending = []
  const samples = []
  let sent = 0
  while (sent < total) {
    const elapsed = Number(process.hrtime.bigint() - start)
    const dueNow = Math.min(total, Math.floor(elapsed / interval) + 1)
    for (; sent < dueNow; sent++) {
      const index = sent
      pending.push(once(nextBody()).then((ms) => index >= skip && samples.push(ms)))
    }
    // Sleep until the next request is due. Timers are coarse (≥ 1 ms, later on a busy machine): a late
    // wake-up sends what fell due at once, so the rate holds on average.
    const next = Number(start) + sent * interval - Number(process.hrtime.bigint())
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.floor(next / 1e6))))
  }
  await Promise.all(pending)
  agent.destroy()
  return samples.sort((x, y) => x - y)
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

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
            setupRequest: (r) => ({ ...r, body: nextBody() }),
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    )
  })
}

export async function main(flags = {}, log = console.log) {
  const quick = !!flags.quick
  const options = {
    duration: numberFlag(flags, 'duration', quick ? 1 : 3),
    warmup: numberFlag(flags, 'warmup', quick ? 0.5 : 1),
    rounds: numberFlag(flags, 'rounds', quick ? 1 : 3),
    connections: numberFlag(flags, 'connections', 16),
    rate: numberFlag(flags, 'rate', quick ? 200 : 400),
    latencySeconds: numberFlag(flags, 'latency-seconds', quick ? 1 : 3),
    latencyConnections: numberFlag(flags, 'latency-connections', 4),
    upstreamWorkUs: flags['upstream-work-us'] === undefined ? 0 : Number(flags['upstream-work-us']),
  }
  if (!Number.isFinite(options.upstreamWorkUs) || options.upstreamWorkUs < 0) {
    throw new Error(`--upstream-work-us expects a number ≥ 0, got ${flags['upstream-work-us']}`)
  }
  const cli = typeof flags.cli === 'string' ? flags.cli : DEFAULT_CLI
  log(`# gateway benchmark${quick ? ' (quick smoke: numbers are not meaningful)' : ''}`)
  log(
    `inbound proxy (built CLI) vs direct upstream, 127.0.0.1; latency: open loop at ${options.rate} req/s over ` +
      `${options.latencyConnections} connections for ${options.latencySeconds} s; throughput: autocannon ` +
      `${options.connections} connections, ${options.duration} s after ${options.warmup} s warm-up; ` +
      `${options.rounds} round(s); ~1 KB signed callbacks, every credential distinct; upstream work ` +
      `${options.upstreamWorkUs} µs CPU per request`,
  )
  if (!existsSync(cli)) {
    log(`(${cli} missing: run npm run build; gateway benchmark skipped)`)
    const targets = [
      { label: 'gateway adds ≤ 1 ms p50 and ≤ 3 ms p99', status: 'N/A', measured: 'not built' },
      { label: 'gateway sustains ≥ 80 % of the upstream req/s', status: 'N/A', measured: 'not built' },
    ]
    if (typeof flags.json === 'string') await writeJson(flags.json, { targets })
    return { targets }
  }

  const apiKey = makeApiKey()
  const dir = mkdtempSync(join(os.tmpdir(), 'smileid-bench-gateway-'))
  const upstream = await startUpstream('--upstream', [String(options.upstreamWorkUs)])
  const profileDir = typeof flags['profile-gateway'] === 'string' ? flags['profile-gateway'] : undefined
  let gateway
  let bare
  const problems = []
  const names = ['direct', 'gateway', 'bare proxy']
  const samples = { direct: [], gateway: [], 'bare proxy': [] }
  try {
    gateway = await startGateway(cli, dir, upstream.port, apiKey, profileDir)
    bare = await startUpstream('--bare-proxy', [String(upstream.port)])
    const nextBody = bodyFactory(apiKey)
    const latency = {
      rate: options.rate,
      seconds: options.latencySeconds,
      connections: options.latencyConnections,
    }
    for (let round = 0; round < options.rounds; round++) {
      const order = names.map((_, k) => names[(round + k) % names.length])
      for (const name of order) {
        const port = { direct: upstream.port, gateway: gateway.port, 'bare proxy': bare.port }[name]
        const latencies = await latencyRun(port, latency, nextBody)
        await load(port, options.warmup, options.connections, nextBody)
        // CPU per request of the process answering, and of the upstream behind it (direct: the same).
        const pid = { direct: upstream.pid, gateway: gateway.pid, 'bare proxy': bare.pid }[name]
        const before = { own: cpuMicros(pid), upstream: cpuMicros(upstream.pid) }
        const r = await load(port, options.duration, options.connections, nextBody)
        const after = { own: cpuMicros(pid), upstream: cpuMicros(upstream.pid) }
        if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
          problems.push(
            `${name} round ${round + 1}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`,
          )
        }
        const perRequest = (a, b) =>
          a === null || b === null ? null : (b - a) / Math.max(1, r.requests.total)
        const m = {
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          rps: r.requests.average,
          cpuUsPerRequest: perRequest(before.own, after.own),
          upstreamCpuUsPerRequest: perRequest(before.upstream, after.upstream),
        }
        samples[name].push(m)
        log(
          `  round ${round + 1}: ${name.padEnd(10)} p50 ${m.p50.toFixed(3)} ms  p99 ${m.p99.toFixed(3)} ms  ` +
            `${formatRate(m.rps).padStart(7)} req/s` +
            (m.cpuUsPerRequest === null ? '' : `  CPU ${m.cpuUsPerRequest.toFixed(0)} µs/req`) +
            (name === 'direct' || m.upstreamCpuUsPerRequest === null
              ? ''
              : ` (+ upstream ${m.upstreamCpuUsPerRequest.toFixed(0)} µs/req)`),
        )
      }
    }
  } finally {
    await gateway?.stop()
    await bare?.stop()
    await upstream.stop()
    rmSync(dir, { recursive: true, force: true })
  }

  const summary = {}
  const mid = (s, key) => (s.some((m) => m[key] === null) ? null : median(s.map((m) => m[key])))
  for (const name of names) {
    const s = samples[name]
    summary[name] = {
      p50: median(s.map((m) => m.p50)),
      p99: median(s.map((m) => m.p99)),
      rps: median(s.map((m) => m.rps)),
      cpuUsPerRequest: mid(s, 'cpuUsPerRequest'),
    }
  }
  const addedP50 = summary.gateway.p50 - summary.direct.p50
  const addedP99 = summary.gateway.p99 - summary.direct.p99
  const share = summary.gateway.rps / summary.direct.rps
  log('')
  printTable(
    ['path', `p50 ms @${options.rate}/s`, `p99 ms @${options.rate}/s`, 'saturated req/s', 'CPU µs/req'],
    names.map((name) => [
      name,
      summary[name].p50.toFixed(3),
      summary[name].p99.toFixed(3),
      formatRate(summary[name].rps),
      summary[name].cpuUsPerRequest === null ? 'n/a' : summary[name].cpuUsPerRequest.toFixed(0),
    ]),
    log,
  )
  const g = summary.gateway.cpuUsPerRequest
  const u = summary.direct.cpuUsPerRequest
  let cpuNote = ''
  if (g !== null && u !== null) {
    const equalCpuShare = u / (u + g)
    log(
      `CPU per request: gateway ${g.toFixed(0)} µs (≈ ${formatRate(1e6 / g)} req/s per core), bare ` +
        `proxy ${summary['bare proxy'].cpuUsPerRequest?.toFixed(0)} µs, upstream ${u.toFixed(0)} µs`,
    )
    log(
      `on equal CPU the gateway path keeps ${(equalCpuShare * 100).toFixed(1)} % of the upstream's rate; it would ` +
        `keep ≥ ${MIN_THROUGHPUT * 100} % in front of an upstream spending ≥ ${(4 * g).toFixed(0)} µs CPU per ` +
        `request on shared cores, or ≥ ${(MIN_THROUGHPUT * g).toFixed(0)} µs with a core of its own`,
    )
    cpuNote = `; CPU ${g.toFixed(0)} µs/req vs upstream ${u.toFixed(0)} µs/req, on equal CPU ${(equalCpuShare * 100).toFixed(1)} %`
  }
  log(
    `gateway adds ${addedP50.toFixed(3)} ms p50, ${addedP99.toFixed(3)} ms p99 at ${options.rate} req/s; ` +
      `sustains ${(share * 100).toFixed(1)} % of direct req/s at saturation`,
  )
  for (const p of problems) log(`!! ${p}`)
  if (problems.length > 0) process.exitCode = 1
  const status = (ok) => (quick ? 'N/A' : ok && problems.length === 0 ? 'PASS' : 'MISS')
  const targets = [
    {
      label: `gateway adds ≤ ${MAX_P50_MS} ms p50 and ≤ ${MAX_P99_MS} ms p99 over a direct call`,
      status: status(addedP50 <= MAX_P50_MS && addedP99 <= MAX_P99_MS),
      measured: `+${addedP50.toFixed(3)} ms p50, +${addedP99.toFixed(3)} ms p99 at ${options.rate} req/s (gateway ${summary.gateway.p50.toFixed(3)} / ${summary.gateway.p99.toFixed(3)} ms, direct ${summary.direct.p50.toFixed(3)} / ${summary.direct.p99.toFixed(3)} ms)`,
    },
    {
      label: `gateway sustains ≥ ${MIN_THROUGHPUT * 100} % of the upstream's req/s`,
      status: status(share >= MIN_THROUGHPUT),
      measured:
        `${(share * 100).toFixed(1)} % at saturation (${formatRate(summary.gateway.rps)} vs ${formatRate(summary.direct.rps)} req/s, ` +
        `upstream work ${options.upstreamWorkUs} µs/req${cpuNote})`,
    },
  ]
  if (typeof flags.json === 'string') await writeJson(flags.json, { options, summary, samples, targets })
  return { summary, targets }
}

// --- entry: the upstream role (a plain callback handler in its own process), or the benchmark -------
if (process.argv[2] === '--bare-proxy') {
  // The floor for a Node reverse proxy on the gateway's own stack (a node:http server, an undici
  // keep-alive pool toward the upstream): read the body, forward it, relay the answer. No verification,
  // no headers rewritten, no log, no metrics.
  const { Agent: Pool } = await import('undici')
  const target = `http://127.0.0.1:${Number(process.argv[4])}`
  const pool = new Pool({ connections: 256, keepAliveTimeout: 30_000 })
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      pool.dispatch(
        {
          origin: target,
          path: req.url,
          method: req.method,
          headers: { 'content-type': 'application/json' },
          body,
        },
        {
          onRequestStart() {},
          onResponseStart(_, status, headers) {
            delete headers.connection
            delete headers['keep-alive']
            delete headers['transfer-encoding']
            res.writeHead(status, headers)
          },
          onResponseData(controller, chunk) {
            if (!res.write(chunk)) {
              controller.pause()
              res.once('drain', () => controller.resume())
            }
          },
          onResponseEnd: () => res.end(),
          onResponseError: () => res.destroy(),
        },
      )
    })
  })
  server.listen(Number(process.argv[3]), '127.0.0.1', () => process.send?.('ready'))
  process.on('message', (m) => m === 'exit' && server.close(() => process.exit(0)))
} else if (process.argv[2] === '--upstream') {
  // Optional CPU work per request (µs), standing in for what an application does with a callback.
  const work = BigInt(Math.round(Number(process.argv[4] ?? 0) * 1000))
  const server = createServer((req, res) => {
    let size = 0
    req.on('data', (chunk) => (size += chunk.length))
    req.on('end', () => {
      if (work > 0n) {
        const until = process.hrtime.bigint() + work
        while (process.hrtime.bigint() < until) {
          // busy: this is the work
        }
      }
      const payload = `{"received":${size}}`
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(payload.length) })
      res.end(payload)
    })
  })
  server.keepAliveTimeout = 60_000
  server.listen(Number(process.argv[3]), '127.0.0.1', () => process.send?.('ready'))
  process.on('message', (m) => m === 'exit' && server.close(() => process.exit(0)))
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main(parseArgs())
}
