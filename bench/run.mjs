// Runs the whole benchmark suite, each part in its own process, and prints every target of issue 6
// with PASS / MISS (N/A when a part could not measure it, e.g. before the library is built).
//
// Run: npm run bench                       (builds first; full run, several minutes)
//      node bench/run.mjs --quick          (smoke: a few iterations of everything, numbers meaningless)
//      node bench/run.mjs --parts verify,memory [--json all.json] [--markdown table.md]
// Other flags are passed to every part (each reads the ones it knows: --clock, --duration, --runs, …).
// Exit status: 1 when a part crashed or an operation failed to verify; a MISS alone does not fail.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from './lib/args.mjs'
import { printTable } from './lib/harness.mjs'
import { toMarkdown } from './lib/markdown.mjs'
import { writeJson } from './lib/output.mjs'

const PARTS = {
  verify: { script: 'verify.mjs', title: 'verification and signing' },
  http: { script: 'http.mjs', title: 'HTTP middleware' },
  'cold-start': { script: 'cold-start.mjs', title: 'cold start' },
  memory: { script: 'memory.mjs', title: 'memory', nodeArgs: ['--expose-gc'] },
  'replay-store': { script: 'replay-store.mjs', title: 'replay store under churn' },
  partners: { script: 'partners.mjs', title: 'partner lookup among many partners' },
  fingerprint: { script: 'fingerprint.mjs', title: 'replay fingerprint of a 1 MB body' },
  opentelemetry: { script: 'opentelemetry.mjs', title: 'OpenTelemetry audit sink' },
  gateway: { script: 'gateway.mjs', title: 'gateway inbound proxy' },
  audit: { script: 'audit.mjs', title: 'audit CLI over large logs' },
}

function machine() {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8')
    } catch {
      return ''
    }
  })()
  return {
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  }
}

const flags = parseArgs()
const args = process.argv.slice(2)
// Flags meant for run.mjs only are not passed on.
const passOn = []
for (let i = 0; i < args.length; i++) {
  if (['--parts', '--json', '--markdown'].includes(args[i])) i++
  else if (!/^--(parts|json|markdown)=/.test(args[i])) passOn.push(args[i])
}
const parts = typeof flags.parts === 'string' ? flags.parts.split(',') : Object.keys(PARTS)
for (const p of parts)
  if (!PARTS[p]) throw new Error(`unknown part ${p}; parts: ${Object.keys(PARTS).join(', ')}`)

const info = {
  ...machine(),
  startedAt: new Date().toISOString(),
  loadAvgStart: os.loadavg(),
  quick: !!flags.quick,
}
console.log(
  `# smileid-auth-shim benchmarks${flags.quick ? ' — QUICK SMOKE, numbers are not meaningful' : ''}`,
)
console.log(`${info.cpu}, ${info.nproc} CPUs, node ${info.node}, ${info.platform}`)
console.log(`load average at start: ${info.loadAvgStart.map((l) => l.toFixed(2)).join(' ')}`)
if (info.loadAvgStart[0] > info.nproc / 2) {
  console.log(
    '!! the machine is busy: wall-clock rates (HTTP, cold start) will be noisy; CPU-clock ratios hold up better',
  )
}
console.log('')

const dir = mkdtempSync(join(os.tmpdir(), 'smileid-bench-'))
const results = {}
const errors = []
try {
  for (const p of parts) {
    const { script, nodeArgs = [] } = PARTS[p]
    const out = join(dir, `${p}.json`)
    const r = spawnSync(
      process.execPath,
      [...nodeArgs, fileURLToPath(new URL(`./${script}`, import.meta.url)), ...passOn, '--json', out],
      { stdio: 'inherit' },
    )
    if (r.status !== 0) errors.push(`${p} exited with status ${r.status}`)
    try {
      results[p] = JSON.parse(readFileSync(out, 'utf8'))
    } catch {
      results[p] = null
    }
    console.log('')
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
info.loadAvgEnd = os.loadavg()
info.finishedAt = new Date().toISOString()

console.log('# summary: targets of issue 6 (ratios from this run, this machine)')
const rows = []
for (const p of parts) {
  const targets = results[p]?.targets ?? [
    { label: `${PARTS[p].title}: no result`, status: 'N/A', measured: 'part failed' },
  ]
  for (const t of targets) rows.push([t.status, t.label, t.measured])
}
printTable(['', 'target', 'measured'], rows)
console.log(`\nload average at end: ${info.loadAvgEnd.map((l) => l.toFixed(2)).join(' ')}`)
for (const e of errors) console.log(`!! ${e}`)

if (typeof flags.json === 'string') await writeJson(flags.json, { machine: info, results })
if (typeof flags.markdown === 'string') writeFileSync(flags.markdown, toMarkdown({ machine: info, results }))
if (errors.length > 0) process.exitCode = 1
