// Gateway benchmark: the inbound verifying proxy (the built CLI, `smileid-auth gateway`) in front of a
// node:http upstream, against the same upstream called directly, over loopback (127.0.0.1).
//
// Method: the upstream and the gateway each run in their own process (the gateway exactly as users run
// it: `node dist/cli/main.js gateway --config …`, JSON access log included, written to /dev/null). Two
// measurements, interleaved direct / gateway over `--rounds` rounds, medians compared:
// - latency: `--latency-requests` sequential POSTs on one keep-alive connection, timed here with
//   process.hrtime (autocannon's latency histogram has whole-millisecond resolution); the gateway's
//   added p50 / p99 is the difference of the two runs' percentiles;
// - throughput: autocannon, `--connections` connections for `--duration` s after a warm-up.
// A third path, a bare node:http proxy (no verification, no log), shows the floor any Node proxy pays.
// Every request is a ~1 KB callback with its own signature and timestamp (replay store in memory on),
// so every request is a full verification; a non-2xx answer fails the run.
//
// Run: node bench/gateway.mjs [--quick] [--duration 3] [--rounds 3] [--connections 16]
//      [--latency-requests 2000] [--json out.json] [--profile-gateway <dir>] (a .cpuprofile of the gateway)
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

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))
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

async function startGateway(dir, upstreamPort, apiKey, profileDir) {
  const port = await freePort()
  const config = join(dir, 'gateway.json')
  writeFileSync(
    config,
    JSON.stringify({
      partnerId: PARTNER_ID,
      signature: { apiKeyEnv: 'BENCH_SIGNATURE_KEY' },
      inbound: { listen: { host: '127.0.0.1', port }, upstream: `http://127.0.0.1:${upstreamPort}` },
    }),
  )
  const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'gateway', '--config', config], {
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

/** Sequential requests on one keep-alive connection; returns sorted latencies in ms. */
async function latencyRun(port, count, nextBody) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
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
  const warm = Math.min(200, count)
  for (let i = 0; i < warm; i++) await once(nextBody())
  const samples = []
  for (let i = 0; i < count; i++) samples.push(await once(nextBody()))
  agent.destroy()
  return samples.sort((a, b) => a - b)
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
    latencyRequests: numberFlag(flags, 'latency-requests', quick ? 200 : 2000),
  }
  log(`# gateway benchmark${quick ? ' (quick smoke: numbers are not meaningful)' : ''}`)
  log(
    `inbound proxy (built CLI) vs direct upstream, 127.0.0.1; latency: ${options.latencyRequests} sequential ` +
      `requests per run; throughput: autocannon ${options.connections} connections, ${options.duration} s after ` +
      `${options.warmup} s warm-up; ${options.rounds} round(s); ~1 KB signed callbacks, every credential distinct`,
  )
  if (!existsSync(CLI)) {
    log('(dist/cli/main.js missing: run npm run build; gateway benchmark skipped)')
    const targets = [
      { label: 'gateway adds ≤ 1 ms p50 and ≤ 3 ms p99', status: 'N/A', measured: 'not built' },
      { label: 'gateway sustains ≥ 80 % of the upstream req/s', status: 'N/A', measured: 'not built' },
    ]
    if (typeof flags.json === 'string') await writeJson(flags.json, { targets })
    return { targets }
  }

  const apiKey = makeApiKey()
  const dir = mkdtempSync(join(os.tmpdir(), 'smileid-bench-gateway-'))
  const upstream = await startUpstream()
  const profileDir = typeof flags['profile-gateway'] === 'string' ? flags['profile-gateway'] : undefined
  const gateway = await startGateway(dir, upstream.port, apiKey, profileDir)
  const bare = await startUpstream('--bare-proxy', [String(upstream.port)])
  const problems = []
  const samples = { direct: [], gateway: [], 'bare proxy': [] }
  try {
    const nextBody = bodyFactory(apiKey)
    for (let round = 0; round < options.rounds; round++) {
      const names = ['direct', 'gateway', 'bare proxy']
      const order = names.map((_, k) => names[(round + k) % names.length])
      for (const name of order) {
        const port = { direct: upstream.port, gateway: gateway.port, 'bare proxy': bare.port }[name]
        const latencies = await latencyRun(port, options.latencyRequests, nextBody)
        await load(port, options.warmup, options.connections, nextBody)
        // CPU per request of the process answering (the gateway also pays for its upstream's share).
        const pid = { direct: upstream.pid, gateway: gateway.pid, 'bare proxy': bare.pid }[name]
        const cpuBefore = cpuMicros(pid)
        const r = await load(port, options.duration, options.connections, nextBody)
        const cpuAfter = cpuMicros(pid)
        if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
          problems.push(
            `${name} round ${round + 1}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`,
          )
        }
        const m = {
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          rps: r.requests.average,
          cpuUsPerRequest:
            cpuBefore === null || cpuAfter === null
              ? null
              : (cpuAfter - cpuBefore) / Math.max(1, r.requests.total),
        }
        samples[name].push(m)
        log(
          `  round ${round + 1}: ${name.padEnd(8)} p50 ${m.p50.toFixed(3)} ms  p99 ${m.p99.toFixed(3)} ms  ` +
            `${formatRate(m.rps).padStart(7)} req/s` +
            (m.cpuUsPerRequest === null
              ? ''
              : `  ${name} process CPU ${m.cpuUsPerRequest.toFixed(0)} µs/req`),
        )
      }
    }
  } finally {
    await gateway.stop()
    await bare.stop()
    await upstream.stop()
    rmSync(dir, { recursive: true, force: true })
  }

  const summary = {}
  for (const name of ['direct', 'gateway', 'bare proxy']) {
    const s = samples[name]
    summary[name] = {
      p50: median(s.map((m) => m.p50)),
      p99: median(s.map((m) => m.p99)),
      rps: median(s.map((m) => m.rps)),
      cpuUsPerRequest: s.some((m) => m.cpuUsPerRequest === null)
        ? null
        : median(s.map((m) => m.cpuUsPerRequest)),
    }
  }
  const addedP50 = summary.gateway.p50 - summary.direct.p50
  const addedP99 = summary.gateway.p99 - summary.direct.p99
  const share = summary.gateway.rps / summary.direct.rps
  log('')
  printTable(
    ['path', 'p50 ms', 'p99 ms', 'median req/s'],
    ['direct', 'gateway', 'bare proxy'].map((name) => [
      name,
      summary[name].p50.toFixed(3),
      summary[name].p99.toFixed(3),
      formatRate(summary[name].rps),
    ]),
    log,
  )
  if (summary.gateway.cpuUsPerRequest !== null && summary.direct.cpuUsPerRequest !== null) {
    log(
      `CPU per request: gateway process ${summary.gateway.cpuUsPerRequest.toFixed(0)} µs ` +
        `(≈ ${formatRate(1e6 / summary.gateway.cpuUsPerRequest)} req/s per core), ` +
        `bare node:http proxy ${summary['bare proxy'].cpuUsPerRequest?.toFixed(0)} µs, ` +
        `upstream ${summary.direct.cpuUsPerRequest.toFixed(0)} µs`,
    )
  }
  log(
    `gateway adds ${addedP50.toFixed(3)} ms p50, ${addedP99.toFixed(3)} ms p99; sustains ${(share * 100).toFixed(1)} % of direct req/s`,
  )
  for (const p of problems) log(`!! ${p}`)
  if (problems.length > 0) process.exitCode = 1
  const status = (ok) => (quick ? 'N/A' : ok && problems.length === 0 ? 'PASS' : 'MISS')
  const targets = [
    {
      label: `gateway adds ≤ ${MAX_P50_MS} ms p50 and ≤ ${MAX_P99_MS} ms p99 over a direct call`,
      status: status(addedP50 <= MAX_P50_MS && addedP99 <= MAX_P99_MS),
      measured: `+${addedP50.toFixed(3)} ms p50, +${addedP99.toFixed(3)} ms p99 (gateway ${summary.gateway.p50.toFixed(3)} / ${summary.gateway.p99.toFixed(3)} ms, direct ${summary.direct.p50.toFixed(3)} / ${summary.direct.p99.toFixed(3)} ms)`,
    },
    {
      label: `gateway sustains ≥ ${MIN_THROUGHPUT * 100} % of the upstream's req/s`,
      status: status(share >= MIN_THROUGHPUT),
      measured:
        `${(share * 100).toFixed(1)} % (${formatRate(summary.gateway.rps)} vs ${formatRate(summary.direct.rps)} req/s` +
        (summary.gateway.cpuUsPerRequest === null
          ? ')'
          : `; gateway CPU ${summary.gateway.cpuUsPerRequest.toFixed(0)} µs/req vs upstream ${summary.direct.cpuUsPerRequest.toFixed(0)} µs/req)`),
    },
  ]
  if (typeof flags.json === 'string') await writeJson(flags.json, { options, summary, samples, targets })
  return { summary, targets }
}

// --- entry: the upstream role (a plain callback handler in its own process), or the benchmark -------
if (process.argv[2] === '--bare-proxy') {
  // The floor for any node:http reverse proxy: read the body, forward it on a keep-alive agent, relay the
  // answer. No verification, no headers rewritten, no log, no metrics.
  const target = Number(process.argv[4])
  const agent = new Agent({ keepAlive: true, maxSockets: 256, noDelay: true })
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const upstream = request(
        {
          host: '127.0.0.1',
          port: target,
          path: req.url,
          method: req.method,
          agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers)
          answer.pipe(res)
        },
      )
      upstream.on('error', () => res.destroy())
      upstream.end(body)
    })
  })
  server.listen(Number(process.argv[3]), '127.0.0.1', () => process.send?.('ready'))
  process.on('message', (m) => m === 'exit' && server.close(() => process.exit(0)))
} else if (process.argv[2] === '--upstream') {
  const server = createServer((req, res) => {
    let size = 0
    req.on('data', (chunk) => (size += chunk.length))
    req.on('end', () => {
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
