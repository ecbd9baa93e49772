// `smileid-auth audit` against the least any reader of the same log must do: a minimal readline +
// JSON.parse loop over the same bytes. Three inputs: one file of N events, the same events in 4 files
// (a fleet, merged), and the one file gzip-compressed. Each run is a fresh child process (as a user runs
// the CLI), timed by its own CPU clock (user + system, all threads, zlib included), with its peak RSS.
// Rounds alternate baseline and audit so that machine noise lands on both.
//
// Targets (issue 13): audit CPU ≤ 1.3× the baseline for each input; RSS ≤ 100 MB.
//
// Run: npm run build && node bench/audit.mjs [--events 1000000] [--rounds 3] [--quick] [--json out.json]
import { spawnSync } from 'node:child_process'
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { createGunzip, createGzip } from 'node:zlib'
import { numberFlag, parseArgs } from './lib/args.mjs'
import { printTable } from './lib/harness.mjs'
import { writeJson } from './lib/output.mjs'

const SELF = fileURLToPath(import.meta.url)
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))
const flags = parseArgs()

// Child modes: report CPU and peak RSS of this process to the file named by BENCH_STATS on exit.
function reportOnExit(extra = () => ({})) {
  process.on('exit', () => {
    const usage = process.resourceUsage()
    const stats = {
      cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
      maxRssMB: usage.maxRSS / 1024,
      ...extra(),
    }
    writeFileSync(process.env.BENCH_STATS, JSON.stringify(stats))
  })
}

if (flags.child === 'baseline') {
  // The minimal loop: every line read and parsed, nothing else.
  let lines = 0
  reportOnExit(() => ({ lines }))
  for (const path of process.argv.slice(process.argv.indexOf('--files') + 1)) {
    const file = createReadStream(path)
    const input = path.endsWith('.gz') ? file.pipe(createGunzip()) : file
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (line.length === 0) continue
      JSON.parse(line)
      lines++
    }
  }
} else if (flags.child === 'audit') {
  reportOnExit()
  const files = process.argv.slice(process.argv.indexOf('--files') + 1)
  process.argv = [process.argv[0], CLI, 'audit', ...files, '--json']
  await import(CLI)
} else {
  await main()
}

function child(mode, files) {
  const statsPath = join(os.tmpdir(), `smileid-bench-audit-${process.pid}-${mode}.json`)
  const r = spawnSync(process.execPath, [SELF, '--child', mode, '--files', ...files], {
    env: { ...process.env, BENCH_STATS: statsPath },
    stdio: ['ignore', 'ignore', 'inherit'],
    maxBuffer: 1024 * 1024,
  })
  if (mode === 'baseline' && r.status !== 0) throw new Error(`baseline exited ${r.status}`)
  const stats = JSON.parse(readText(statsPath))
  rmSync(statsPath, { force: true })
  return { ...stats, status: r.status }
}

function readText(path) {
  return readFileSync(path, 'utf8')
}

function median(values) {
  const s = [...values].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function generate(dir, events) {
  const DAY = 86_400_000
  const now = Date.now()
  let seed = 7
  const rnd = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648
  const one = join(dir, 'one.jsonl')
  const fleet = [1, 2, 3, 4].map((n) => join(dir, `web-${n}.jsonl`))
  const outOne = createWriteStream(one)
  const outFleet = fleet.map((path) => createWriteStream(path))
  const write = async (stream, text) => {
    if (!stream.write(text)) await new Promise((resolve) => stream.once('drain', resolve))
  }
  const BATCH = 1000
  for (let i = 0; i < events; i += BATCH) {
    const lines = []
    for (let j = i; j < Math.min(events, i + BATCH); j++) {
      const forged = rnd() < 0.1
      const legacy = !forged && rnd() < 0.15
      const time = new Date(now - 60 * DAY + Math.floor((j / events) * 60 * DAY)).toISOString()
      lines.push(
        JSON.stringify({
          time,
          direction: 'incoming',
          partnerId: forged ? `f${Math.floor(rnd() * 1e6)}` : String(80 + Math.floor(rnd() * 20)),
          scheme: legacy ? 'sec_key' : 'signature',
          outcome: forged ? 'rejected' : 'accepted',
          reason: forged ? 'invalid_signature' : null,
          keyId: forged ? null : legacy ? 'rsa:Xb2kq0aa' : 'hmac:3f9a12c0d4e5b6a7',
          transport: 'body',
          warnings: legacy ? ['legacy_scheme'] : [],
          route: '/smile/callback',
          sourceIp: '10.0.0.8',
          source_sdk: legacy ? 'javascript' : 'rest_api',
          source_sdk_version: legacy ? '1.3.0' : '1.0.0',
          authenticated: !forged,
          instance: `web-${1 + (j % 4)}`,
        }),
      )
    }
    await write(outOne, lines.join('\n') + '\n')
    for (let n = 0; n < 4; n++) {
      const part = lines.filter((_, k) => (i + k) % 4 === n)
      if (part.length > 0) await write(outFleet[n], part.join('\n') + '\n')
    }
  }
  await Promise.all([outOne, ...outFleet].map((s) => new Promise((resolve) => s.end(resolve))))
  const gz = join(dir, 'one.jsonl.gz')
  await pipeline(createReadStream(one), createGzip({ level: 6 }), createWriteStream(gz))
  return { one: [one], fleet, gzip: [gz] }
}

async function main() {
  const quick = flags.quick === true
  const events = numberFlag(flags, 'events', quick ? 100_000 : 1_000_000)
  const rounds = numberFlag(flags, 'rounds', quick ? 1 : 3)
  const log = (text) => console.log(text)
  log(
    `## audit: CLI vs a minimal readline + JSON.parse loop (${events.toLocaleString('en-US')} events, ${rounds} round(s))`,
  )
  const dir = mkdtempSync(join(os.tmpdir(), 'smileid-bench-audit-'))
  try {
    const inputs = await generate(dir, events)
    log(
      `log: ${(statSync(inputs.one[0]).size / 1024 / 1024).toFixed(0)} MB plain, ${(statSync(inputs.gzip[0]).size / 1024 / 1024).toFixed(0)} MB gzip`,
    )
    const rows = []
    const targets = []
    const results = {}
    for (const [name, files] of Object.entries({
      'one file': inputs.one,
      '4 files merged': inputs.fleet,
      gzip: inputs.gzip,
    })) {
      const base = []
      const cli = []
      let rss = 0
      let baseRss = 0
      for (let round = 0; round < rounds; round++) {
        // Alternate which runs first.
        const pair = round % 2 === 0 ? ['baseline', 'audit'] : ['audit', 'baseline']
        for (const mode of pair) {
          const r = child(mode, files)
          if (mode === 'baseline') {
            base.push(r.cpuMs)
            baseRss = Math.max(baseRss, r.maxRssMB)
          } else {
            if (r.status === 2 || r.status === null) throw new Error(`audit exited ${r.status}`)
            cli.push(r.cpuMs)
            rss = Math.max(rss, r.maxRssMB)
          }
        }
      }
      const ratio = median(cli) / median(base)
      results[name] = {
        baselineMs: median(base),
        auditMs: median(cli),
        ratio,
        maxRssMB: rss,
        baselineRssMB: baseRss,
      }
      rows.push([
        name,
        `${median(base).toFixed(0)} ms`,
        `${median(cli).toFixed(0)} ms`,
        `${ratio.toFixed(2)}×`,
        `${rss.toFixed(0)} MB`,
        `${baseRss.toFixed(0)} MB`,
      ])
      const status = (ok) => (quick ? 'N/A' : ok ? 'PASS' : 'MISS')
      targets.push({
        label: `audit ${name}: CPU ≤ 1.3× readline + JSON.parse`,
        status: status(ratio <= 1.3),
        measured: `${ratio.toFixed(2)}×`,
      })
      targets.push({
        label: `audit ${name}: RSS ≤ 100 MB`,
        status: status(rss <= 100),
        measured: `${rss.toFixed(0)} MB`,
      })
    }
    printTable(
      [
        'input',
        'readline + JSON.parse',
        'smileid-auth audit',
        'ratio',
        'audit peak RSS',
        'baseline peak RSS',
      ],
      rows,
    )
    for (const t of targets) log(`${t.status.padEnd(4)}  ${t.label}: ${t.measured}`)
    if (typeof flags.json === 'string')
      await writeJson(flags.json, { events, rounds, results, targets, quick })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
