/**
 * One runner per runtime. Each returns a row for the summary table:
 * `{ runtime, status: 'passed' | 'failed' | 'not run', passed, failed, backend, reason, results }`.
 * A runtime whose binary is missing is `not run` with the reason, never `passed`.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { REPORT_MARKER, buildProcessEntry, buildWorker, outRoot, repoRoot } from './build.mjs'

const RUN_TIMEOUT_MS = 180_000

/**
 * Node majors tested besides the one running this script, with the exact npm package that ships each
 * binary (`node-<platform>-<arch>`, published by the Node.js project's npm distribution).
 */
export const EXTRA_NODES = [
  { major: 22, version: '22.23.5' },
  { major: 24, version: '24.22.3' },
]

/** Where `--install-nodes` puts, and the runners look for, the extra Node binaries (outside the repo). */
export function nodeInstallDir(major) {
  return process.env[`SMILEID_NODE${major}_DIR`] ?? join(tmpdir(), 'smileid-runtimes', `node${major}`)
}

function nodePackageName() {
  return `node-${process.platform}-${process.arch}`
}

function extraNodeBinary(major) {
  const fromEnv = process.env[`SMILEID_NODE${major}_BIN`]
  if (fromEnv) return fromEnv
  return join(nodeInstallDir(major), 'node_modules', nodePackageName(), 'bin', 'node')
}

const installFailures = new Map()

/** Installs the extra Node binaries from npm into scratch directories outside the repo. */
export async function installExtraNodes(log = console.error) {
  for (const { major, version } of EXTRA_NODES) {
    if (existsSync(extraNodeBinary(major))) continue
    const dir = nodeInstallDir(major)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'package.json'), '{"private":true}\n')
    log(`installing ${nodePackageName()}@${version} into ${dir}`)
    const { code, stderr } = await exec(
      'npm',
      ['install', '--no-audit', '--no-fund', '--no-save', `${nodePackageName()}@${version}`],
      {
        cwd: dir,
        timeout: 300_000,
      },
    )
    if (code !== 0) {
      const why = `npm install ${nodePackageName()}@${version} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`
      installFailures.set(major, why)
      log(why)
    }
  }
}

/** Spawns a command and collects its output; never rejects. */
export function exec(command, args, { cwd = repoRoot, timeout = RUN_TIMEOUT_MS, env } = {}) {
  return new Promise((resolvePromise) => {
    let stdout = ''
    let stderr = ''
    let settled = false
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      stderr += `\n[killed after ${timeout} ms]`
    }, timeout)
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const done = (code, error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolvePromise({ code, stdout, stderr, error })
    }
    child.on('error', (error) => done(null, error))
    child.on('close', (code) => done(code))
  })
}

function notRun(runtime, reason) {
  return { runtime, status: 'not run', passed: 0, failed: 0, backend: '-', reason, results: [] }
}

/** Turns a conformance report into a table row. */
export function rowFromReport(runtime, report, backend) {
  const failed = report.failed
  const passed = report.passed
  const total = report.results?.length ?? 0
  // A report that checks nothing is not a pass.
  const ok = failed === 0 && passed > 0 && passed === total
  return {
    runtime,
    status: ok ? 'passed' : 'failed',
    passed,
    failed: ok ? 0 : Math.max(failed, 1),
    backend,
    reason: ok ? '' : firstFailure(report),
    results: report.results ?? [],
    version: report.runtime,
  }
}

function firstFailure(report) {
  const first = report.results?.find((r) => !r.ok)
  if (first === undefined) return report.passed === 0 ? 'no checks ran' : 'inconsistent report'
  return `${first.name}: ${first.detail}`.replace(/\s+/g, ' ').slice(0, 300)
}

function backendFromModule(url) {
  if (typeof url !== 'string') return 'unknown'
  if (url.endsWith('/dist/crypto/node.js')) return 'node'
  if (url.endsWith('/dist/crypto/portable.js')) return 'web'
  return `unknown (${url})`
}

async function runProcess(runtime, command, args, entry) {
  const { code, stdout, stderr, error } = await exec(command, [...args, entry])
  if (error) return notRun(runtime, `${basename(command)} could not start: ${error.message}`)
  const line = stdout.split('\n').find((l) => l.startsWith(REPORT_MARKER))
  if (line === undefined) {
    const tail = (stderr || stdout).trim().split('\n').slice(-4).join(' | ')
    return {
      ...notRun(runtime, ''),
      status: 'failed',
      failed: 1,
      reason: `exit ${code}, no report: ${tail}`.slice(0, 400),
    }
  }
  const report = JSON.parse(line.slice(REPORT_MARKER.length))
  const resolved = backendFromModule(report.cryptoModule)
  // The file the import map resolved to and the backend the loaded module names must agree.
  const backend =
    resolved === report.cryptoBackend ? resolved : `${resolved}? module says ${report.cryptoBackend}`
  const row = rowFromReport(runtime, report, backend)
  if (code !== 0 && row.status === 'passed')
    return { ...row, status: 'failed', failed: 1, reason: `exit code ${code}` }
  return row
}

const bin = (name) => join(repoRoot, 'node_modules', '.bin', name)

/** The runtimes, in table order. Each entry builds what it needs lazily. */
export function runtimes({ placeholder = false } = {}) {
  let entryPromise
  const entry = () => (entryPromise ??= buildProcessEntry({ placeholder }))
  const list = [
    {
      name: `node ${process.versions.node} (this node)`,
      run: async () => runProcess(`node ${process.versions.node}`, process.execPath, [], await entry()),
    },
    ...EXTRA_NODES.map(({ major, version }) => ({
      name: `node ${major}`,
      run: async () => {
        const binary = extraNodeBinary(major)
        if (!existsSync(binary)) {
          return notRun(
            `node ${major}`,
            installFailures.get(major) ??
              `no binary at ${binary}: run with --install-nodes (npm ${nodePackageName()}@${version}) or set SMILEID_NODE${major}_BIN`,
          )
        }
        return runProcess(`node ${major}`, binary, [], await entry())
      },
    })),
    {
      name: 'bun',
      run: async () => {
        if (!existsSync(bin('bun')))
          return notRun('bun', 'node_modules/.bin/bun missing (npm package `bun` not installed)')
        return runProcess('bun', bin('bun'), [], await entry())
      },
    },
    {
      name: 'deno',
      run: async () => {
        if (!existsSync(bin('deno')))
          return notRun('deno', 'node_modules/.bin/deno missing (npm package `deno` not installed)')
        // Deno reads package.json and resolves npm packages from the existing node_modules
        // (`manual`); `--cached-only` keeps it off the network. No permissions are granted: the library needs none.
        return runProcess(
          'deno',
          bin('deno'),
          ['run', '--no-prompt', '--node-modules-dir=manual', '--cached-only'],
          await entry(),
        )
      },
    },
    {
      name: 'workerd',
      run: () => runWorkerd({ name: 'workerd', bundle: 'worker-web', placeholder, nodejsCompat: false }),
    },
    {
      name: 'workerd + nodejs_compat',
      run: () =>
        runWorkerd({
          name: 'workerd + nodejs_compat',
          bundle: 'worker-web',
          placeholder,
          nodejsCompat: true,
        }),
    },
    {
      name: 'workerd + nodejs_compat, `node` condition',
      run: () =>
        runWorkerd({
          name: 'workerd + nodejs_compat, `node` condition',
          bundle: 'worker-node',
          placeholder,
          nodejsCompat: true,
          conditions: ['node'],
        }),
    },
  ]
  return list
}

/**
 * The Workers compatibility date the conformance Worker declares. node:fs (reached through the audit file
 * sink in the `node`-condition bundle) exists under nodejs_compat only from dates in late 2025 on.
 */
export const COMPATIBILITY_DATE = '2026-01-01'

function capnpConfig({ nodejsCompat }) {
  const flags = nodejsCompat ? '"nodejs_compat"' : ''
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .conformanceWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const conformanceWorker :Workerd.Worker = (
  modules = [ (name = "worker.mjs", esModule = embed "worker.mjs") ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  compatibilityFlags = [${flags}],
);
`
}

const builtWorkers = new Map()

/**
 * Serves the bundled Worker with workerd on an ephemeral loopback port (reported on a control fd),
 * fetches the report once, then stops workerd (SIGTERM, SIGKILL after a grace period).
 */
export async function runWorkerd({ name, bundle, placeholder, nodejsCompat, conditions }) {
  if (!existsSync(bin('workerd')))
    return notRun(name, 'node_modules/.bin/workerd missing (npm package `workerd` not installed)')
  const key = `${bundle}${placeholder ? '-placeholder' : ''}`
  if (!builtWorkers.has(key)) builtWorkers.set(key, buildWorker({ name: key, placeholder, conditions }))
  let built
  try {
    built = await builtWorkers.get(key)
  } catch (error) {
    return {
      ...notRun(name, ''),
      status: 'failed',
      failed: 1,
      reason: `esbuild failed: ${error.message}`.slice(0, 400),
    }
  }
  const dir = dirname(built.outfile)
  const configFile = join(dir, nodejsCompat ? 'config-compat.capnp' : 'config.capnp')
  writeFileSync(configFile, capnpConfig({ nodejsCompat }))

  const child = spawn(bin('workerd'), ['serve', '--control-fd=3', configFile], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.on('data', (d) => (stderr += d))
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })))
  const started = new Promise((resolvePort, reject) => {
    let control = ''
    child.stdio[3].on('data', (d) => {
      control += d
      for (const line of control.split('\n')) {
        try {
          const message = JSON.parse(line)
          if (message.event === 'listen' && message.socket === 'http') resolvePort(message.port)
        } catch {
          // partial line; wait for more
        }
      }
    })
    child.on('error', reject)
    void exited.then(({ code, signal }) =>
      reject(new Error(`workerd exited (${code ?? signal}) before listening`)),
    )
  })

  let row
  try {
    const port = await withTimeout(started, 30_000, 'workerd did not start listening within 30 s')
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(RUN_TIMEOUT_MS) })
    const text = await response.text()
    let report
    try {
      report = JSON.parse(text)
    } catch {
      throw new Error(`HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`)
    }
    row = rowFromReport(name, report, built.backend)
    row.version = `workerd (${nodejsCompat ? 'nodejs_compat' : 'no compat flags'}; node globals: ${report.nodeCompatGlobals})`
    if (built.nodeImports.length > 0 && !nodejsCompat) {
      row = {
        ...row,
        status: 'failed',
        failed: row.failed + 1,
        reason: `bundle imports ${built.nodeImports.join(', ')}`,
      }
    }
  } catch (error) {
    const tail = stderr.trim().split('\n').slice(-4).join(' | ')
    row = {
      ...notRun(name, ''),
      status: 'failed',
      failed: 1,
      reason: `${error.message}${tail ? ` — ${tail}` : ''}`.slice(0, 400),
    }
  } finally {
    await stop(child, exited)
  }
  row.backend = built.backend
  return row
}

function withTimeout(promise, ms, message) {
  let timer
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms))),
  ]).finally(() => clearTimeout(timer))
}

async function stop(child, exited) {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

export { outRoot }
