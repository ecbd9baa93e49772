// Micro-benchmark harness: every variant runs in the same process, interleaved in batches, so that
// machine noise (other processes, thermal drift, GC) lands on all variants alike.
//
// Method, per suite:
// 1. Warm-up and calibration: each variant runs time-boxed for `warmupMs`; its rate fixes a per-variant
//    op count for one batch (about `roundMs` of work), so every batch is a fixed amount of work.
// 2. `rounds` rounds; in each, every variant runs one batch. The starting variant rotates each round so
//    no variant always runs first (or right after a given other one).
// 3. Per variant: median, min and max of the per-batch ops/s. Ratios are ratios of medians; the range
//    next to a ratio is the min–max of the per-round ratios (both variants measured in the same round).
//
// Clocks: each batch is timed by wall clock and by this process's CPU time (process.cpuUsage: user +
// system, all threads). On an idle machine the two agree for these single-threaded loops; on a shared
// machine the CPU clock leaves out the time the process sat descheduled, which otherwise lands at random
// on some batches. `clock` picks the one the table and ratios use (default cpu); both are recorded.
//
// Fairness: every async variant is awaited once per operation. Sync baselines are wrapped in an
// `async` function and awaited the same way, so baseline and library pay the same one-microtask
// promise cost per call; the suites also show a plain sync loop for the raw baselines, for reference.
import { performance } from 'node:perf_hooks'

/**
 * @typedef {object} Variant
 * @property {string} name        unique label, shown in the table
 * @property {(i: number) => unknown} fn  one operation; `i` counts operations within the batch. Return
 *   the promise itself (do not wrap in another `async` function) so that exactly one promise is awaited.
 * @property {(result: unknown) => boolean} [check]  whether one result is a success (default {@link verified})
 * @property {boolean} [sync]     run in a plain loop without `await` (reference rows only)
 * @property {string} [baseline]  name of the variant this one is compared with in the table
 * @property {string} [group]     table section heading
 * @property {(ctx: { ops: number, round: number }) => unknown} [setup]  untimed, before each batch
 * @property {string} [note]      footnote printed under the table
 */

/** The default result check: a verification that succeeded (`true`, or a result with `ok: true`). */
export const verified = (r) => r === true || r?.ok === true

// Every operation's result is checked inside the timed loop (one call, a few property reads), the same
// for every variant: a benchmark of failing verifications would measure the wrong path.
// Returns [wall ms, CPU ms of this process (all threads: main, GC, libuv pool)].
async function runAsync(fn, check, ops, failures) {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < ops; i++) if (!check(await fn(i))) failures.count++
  const wall = performance.now() - t0
  const c = process.cpuUsage(c0)
  return [wall, (c.user + c.system) / 1000]
}

function runSync(fn, check, ops, failures) {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < ops; i++) if (!check(fn(i))) failures.count++
  const wall = performance.now() - t0
  const c = process.cpuUsage(c0)
  return [wall, (c.user + c.system) / 1000]
}

async function runBatch(variant, ops, failures) {
  const check = variant.check ?? verified
  return variant.sync ? runSync(variant.fn, check, ops, failures) : runAsync(variant.fn, check, ops, failures)
}

/** Median of a list of numbers (mean of the two middle values for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Runs a suite of variants interleaved and returns per-variant statistics.
 *
 * @param {object} options
 * @param {string} options.title
 * @param {Variant[]} options.variants
 * @param {number} [options.rounds=15]
 * @param {number} [options.roundMs=200]   target duration of one batch
 * @param {number} [options.warmupMs=300]
 * @param {number} [options.minOps=32]
 * @param {'cpu' | 'wall'} [options.clock='cpu']  which clock the rates and ratios use (both are recorded)
 * @param {(line: string) => void} [options.log]
 */
export async function runSuite({
  title,
  variants,
  rounds = 15,
  roundMs = 200,
  warmupMs = 300,
  minOps = 32,
  clock = 'cpu',
  log = console.log,
}) {
  if (clock !== 'cpu' && clock !== 'wall') throw new Error(`clock must be cpu or wall, got ${clock}`)
  const names = new Set()
  for (const v of variants) {
    if (names.has(v.name)) throw new Error(`duplicate variant name: ${v.name}`)
    names.add(v.name)
  }
  log(`\n## ${title}`)
  log(`calibrating ${variants.length} variants (${warmupMs} ms each)…`)

  // Warm-up doubles as calibration: run in chunks until warmupMs has elapsed.
  const opsPerBatch = new Map()
  const failures = new Map(variants.map((v) => [v.name, { count: 0 }]))
  for (const v of variants) {
    let chunk = 16
    let done = 0
    let elapsed = 0
    const warmupFailures = { count: 0 }
    while (elapsed < warmupMs) {
      await v.setup?.({ ops: chunk, round: -1 })
      elapsed += (await runBatch(v, chunk, warmupFailures))[0]
      done += chunk
      if (chunk < 4096) chunk *= 2
    }
    if (warmupFailures.count > 0) failures.get(v.name).count += warmupFailures.count
    const rate = (done / elapsed) * 1000
    opsPerBatch.set(v.name, Math.max(minOps, Math.round((rate * roundMs) / 1000)))
  }

  log(`running ${rounds} rounds × ${variants.length} variants (~${roundMs} ms per batch)…`)
  const wallSamples = new Map(variants.map((v) => [v.name, []]))
  const cpuSamples = new Map(variants.map((v) => [v.name, []]))
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(round + k) % variants.length]
      const ops = opsPerBatch.get(v.name)
      await v.setup?.({ ops, round })
      const [wall, cpu] = await runBatch(v, ops, failures.get(v.name))
      wallSamples.get(v.name).push((ops / wall) * 1000)
      cpuSamples.get(v.name).push((ops / cpu) * 1000)
    }
  }

  const summarize = (s) => ({ median: median(s), min: Math.min(...s), max: Math.max(...s), samples: s })
  const stats = {}
  for (const v of variants) {
    const wall = summarize(wallSamples.get(v.name))
    const cpu = summarize(cpuSamples.get(v.name))
    stats[v.name] = {
      // The primary clock's numbers at the top level; both clocks kept for the record.
      ...(clock === 'cpu' ? cpu : wall),
      wall,
      cpu,
      opsPerBatch: opsPerBatch.get(v.name),
      failures: failures.get(v.name).count,
    }
    if (stats[v.name].failures > 0) {
      log(`!! ${v.name}: ${stats[v.name].failures} operations did not verify; its numbers are not valid`)
      process.exitCode = 1
    }
  }
  // A variant without a group belongs to the previous variant's group.
  let group = null
  const described = variants.map((v) => {
    group = v.group ?? group
    return { name: v.name, group, baseline: v.baseline ?? null, sync: !!v.sync, note: v.note ?? null }
  })
  return { title, rounds, roundMs, clock, variants: described, stats }
}

/**
 * Ratio of medians of `a` over `b`, with the min–max of the per-round ratios.
 * Returns null when either variant was not measured.
 */
export function ratio(result, a, b) {
  const sa = result.stats[a]
  const sb = result.stats[b]
  if (!sa || !sb) return null
  const perRound = sa.samples.map((x, i) => x / sb.samples[i])
  return { value: sa.median / sb.median, min: Math.min(...perRound), max: Math.max(...perRound) }
}

/** Formats ops/s compactly: 123 456 → "123.5k". */
export function formatRate(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}k`
  return n.toFixed(0)
}

/** Formats a ratio with two decimals and a trailing ×. */
export function formatRatio(r) {
  return `${r.toFixed(2)}×`
}

/** Prints rows as an aligned text table; numeric-looking cells are right-aligned. */
export function printTable(headers, rows, log = console.log) {
  // Section rows (a single cell) and blank rows (null) do not widen the columns.
  const cellRows = rows.filter((r) => r !== null && r.length > 1)
  const widths = headers.map((h, i) => Math.max(h.length, ...cellRows.map((r) => String(r[i] ?? '').length)))
  const numeric = (s) => /^[\d.,\s%×kM+−-]+$/.test(s) && /\d/.test(s)
  const line = (cells) =>
    cells
      .map((c, i) => {
        const s = String(c ?? '')
        return numeric(s) ? s.padStart(widths[i]) : s.padEnd(widths[i])
      })
      .join('  ')
      .trimEnd()
  log(line(headers))
  log(
    widths
      .map((w) => '-'.repeat(w))
      .join('  ')
      .trimEnd(),
  )
  for (const r of rows) log(r === null ? '' : r.length === 1 ? String(r[0]) : line(r))
}

/** Prints a suite result as a table: median ops/s, min–max, and the ratio to each row's baseline. */
export function printSuite(result, log = console.log) {
  const rows = []
  let group = undefined
  for (const v of result.variants) {
    if (v.group !== group) {
      if (group !== undefined) rows.push(null)
      group = v.group
      if (group) rows.push([`[${group}]`])
    }
    const s = result.stats[v.name]
    const r = v.baseline ? ratio(result, v.name, v.baseline) : null
    rows.push([
      v.name,
      formatRate(s.median),
      formatRate((result.clock === 'cpu' ? s.wall : s.cpu).median),
      `${formatRate(s.min)}–${formatRate(s.max)}`,
      r ? `${formatRatio(r.value)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : '',
      r ? v.baseline : '',
      s.failures > 0 ? `FAILED ×${s.failures}` : '',
    ])
  }
  const [primary, other] = result.clock === 'cpu' ? ['CPU', 'wall'] : ['wall', 'CPU']
  printTable(
    ['variant', `ops/s (${primary})`, `(${other})`, 'min–max', 'ratio (per-round range)', 'vs', ''],
    rows,
    log,
  )
  for (const v of result.variants) if (v.note) log(`  * ${v.name}: ${v.note}`)
}
