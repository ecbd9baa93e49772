#!/usr/bin/env node
/**
 * Runs the runtime conformance suite in every runtime, then the Worker bundle checks, and prints a table.
 *
 *   node test/runtimes/run.mjs [--install-nodes] [--smoke] [--only <substring>] [--verbose] [--results <file>]
 *
 * --help           prints this usage and exits 0 (an unknown option prints it and exits 2)
 * --install-nodes  first installs the Node 22/24 binaries from npm into scratch dirs outside the repo
 * --smoke          runs the placeholder suite (dependencies + vectors, no library) instead of the real one
 * --only           runs only the runtimes whose name contains the substring (bundle checks still run)
 * --verbose        prints every check of every runtime, not just the failures
 * --results        where to write the JSON results (default .runtime-results.json at the repo root):
 *                  `passed` / `failed` count checks over the runtimes that ran and the bundle checks
 *
 * Before the runtimes, a self-check runs the suite against broken stand-ins of the API: every check must
 * fail against at least one of them, so no check can pass regardless of the library.
 *
 * Exit code: 1 when the self-check or any runtime that ran failed or a bundle check failed; 0 otherwise. A runtime whose
 * binary is missing is shown as "not run" with the reason, never counted as passed.
 * Expects the library built into dist/ (`npm run build`).
 */
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildSizeProbe, repoRoot } from './build.mjs'
import { installExtraNodes, runtimes } from './runners.mjs'
import { runSelfCheck } from './self-check.mjs'

/**
 * Upper bound for the minified, gzipped signature-only Worker bundle. Edge limits are far larger
 * (Cloudflare Workers: 3 MB gzip on the free plan); the budget guards what a signature-only user ships:
 * the verifier, the HMAC path and zod/mini, without the RSA code.
 */
export const SIGNATURE_BUNDLE_BUDGET_GZIP = 24 * 1024
/** Upper bound for the bundle with the legacy scheme (node-forge's RSA included). */
export const DUAL_BUNDLE_BUDGET_GZIP = 128 * 1024

const USAGE = `Usage: node test/runtimes/run.mjs [--install-nodes] [--smoke] [--only <substring>] [--verbose] [--results <file>]

  --install-nodes  first installs the Node 22/24 binaries from npm into scratch dirs outside the repo
  --smoke          runs the placeholder suite (dependencies + vectors, no library) instead of the real one
  --only           runs only the runtimes whose name contains the substring (bundle checks still run)
  --verbose        prints every check of every runtime, not just the failures
  --results        where to write the JSON results (default .runtime-results.json at the repo root)
  --help           prints this text

Needs the library built into dist/ (npm run build). Exit 1 when the self-check, a runtime that ran or a
bundle check failed; 0 otherwise; 2 for a usage error.`

let values
try {
  ;({ values } = parseArgs({
    options: {
      'install-nodes': { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      results: { type: 'string', default: join(repoRoot, '.runtime-results.json') },
      help: { type: 'boolean', default: false },
    },
  }))
} catch (error) {
  console.error(`${error.message}\n\n${USAGE}`)
  process.exit(2)
}
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}

if (!values.smoke && !existsSync(join(repoRoot, 'dist', 'index.js'))) {
  console.error('dist/index.js is missing: run `npm run build` first.')
  process.exit(1)
}

if (values['install-nodes']) await installExtraNodes()

const rows = []
if (!values.smoke) {
  const row = await runSelfCheck()
  rows.push({ ...row, seconds: '-' })
  console.error(`${row.runtime}: ${row.status}${row.reason ? ` (${row.reason})` : ''}`)
}
for (const runtime of runtimes({ placeholder: values.smoke })) {
  if (values.only !== undefined && !runtime.name.includes(values.only)) continue
  const started = Date.now()
  const row = await runtime.run()
  row.seconds = ((Date.now() - started) / 1000).toFixed(1)
  rows.push(row)
  console.error(`${row.runtime}: ${row.status}${row.reason ? ` (${row.reason})` : ''}`)
}

const bundleRows = values.smoke ? [] : await bundleChecks()

printRuntimeTable(rows)
if (bundleRows.length > 0) printBundleTable(bundleRows)
printFailures(rows, values.verbose)

const ran = rows.filter((r) => r.status !== 'not run')
const runtimeFailures = ran.filter((r) => r.status !== 'passed').length
const bundleFailures = bundleRows.filter((b) => b.problems.length > 0).length
const notRun = rows.length - ran.length

const summary = {
  passed: ran.reduce((n, r) => n + r.passed, 0) + bundleRows.length - bundleFailures,
  failed: ran.reduce((n, r) => n + r.failed, 0) + bundleFailures,
  notRun: rows.filter((r) => r.status === 'not run').map((r) => ({ runtime: r.runtime, reason: r.reason })),
  runtimes: rows.map(({ results, ...row }) => ({ ...row, failures: results.filter((r) => !r.ok) })),
  bundles: bundleRows.map(({ metafile, ...bundle }) => bundle),
}
writeFileSync(values.results, `${JSON.stringify(summary, null, 2)}\n`)
console.log(
  `\nruntimes: ${ran.length - runtimeFailures} passed, ${runtimeFailures} failed, ${notRun} not run;` +
    ` bundle checks: ${bundleRows.length - bundleFailures} passed, ${bundleFailures} failed`,
)
process.exit(runtimeFailures + bundleFailures > 0 ? 1 : 0)

async function bundleChecks() {
  const out = []
  for (const legacy of [false, true]) {
    const budget = legacy ? DUAL_BUNDLE_BUDGET_GZIP : SIGNATURE_BUNDLE_BUDGET_GZIP
    try {
      const probe = await buildSizeProbe({ legacy })
      const problems = []
      if (probe.nodeImports.length > 0) problems.push(`imports ${probe.nodeImports.join(', ')}`)
      if (probe.backend !== 'web') problems.push(`crypto backend ${probe.backend}, expected web`)
      // node-forge is only for the legacy scheme: a signature-only Worker must not ship it.
      if (!legacy && probe.containsForge) problems.push('contains node-forge')
      if (probe.gzipBytes > budget) problems.push(`gzip ${probe.gzipBytes} B over budget ${budget} B`)
      out.push({ ...probe, budget, problems })
    } catch (error) {
      out.push({
        name: legacy ? 'size-dual' : 'size-signature',
        budget,
        problems: [`esbuild failed: ${error.message.replace(/\s+/g, ' ')}`],
      })
    }
  }
  return out
}

function table(headers, data) {
  const widths = headers.map((h, i) => Math.max(h.length, ...data.map((row) => String(row[i]).length)))
  const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |'
  console.log(line(headers))
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|')
  for (const row of data) console.log(line(row))
}

function printRuntimeTable(list) {
  console.log(`\nRuntime conformance (${values.smoke ? 'smoke: placeholder suite' : 'smileid-auth-shim'})\n`)
  table(
    ['runtime', 'result', 'checks passed', 'failed', 'crypto backend', 'time (s)', 'note'],
    list.map((r) => [
      r.runtime,
      r.status,
      r.status === 'not run' ? '-' : r.passed,
      r.status === 'not run' ? '-' : r.failed,
      r.backend,
      r.seconds,
      r.status === 'passed' ? (r.version ?? '') : r.reason,
    ]),
  )
}

function printBundleTable(list) {
  console.log(
    '\nWorker bundles (esbuild --platform=browser --conditions=workerd,worker,browser --minify, gzip -9)\n',
  )
  table(
    [
      'bundle',
      'bytes',
      'gzip bytes',
      'budget (gzip)',
      'node: imports',
      'backend',
      'node-forge',
      'zod',
      'result',
    ],
    list.map((b) => [
      b.name === 'size-signature' ? 'signature only' : 'signature + sec_key',
      b.bytes ?? '-',
      b.gzipBytes ?? '-',
      b.budget,
      b.nodeImports?.length ? b.nodeImports.join(' ') : 'none',
      b.backend ?? '-',
      b.containsForge === undefined ? '-' : b.containsForge ? 'yes' : 'no',
      b.containsZod === undefined ? '-' : b.containsZod ? 'yes' : 'no',
      b.problems.length === 0 ? 'ok' : `FAILED: ${b.problems.join('; ')}`,
    ]),
  )
}

function printFailures(list, verbose) {
  for (const row of list) {
    const shown = row.results.filter((r) => verbose || !r.ok)
    if (shown.length === 0) continue
    console.log(`\n${row.runtime}:`)
    for (const r of shown)
      console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}${r.detail ? ` — ${r.detail}` : ''}`)
  }
}
