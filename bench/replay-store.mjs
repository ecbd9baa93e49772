// MemoryReplayStore under churn: the cost of one `remember()` of a new credential once the store is at
// its bound, as a function of how many inserts (each evicting the oldest entry) the store has already
// absorbed. A long-running receiver at its bound lives at the right-hand end of this table, so the cost
// must stay flat there.
//
// Method: fill a store to `--bound` (default 100 000, the default bound), then alternately churn (insert
// new keys, untimed) and time a window of `--window` inserts (CPU clock), up to `--churn` inserts in all.
// Keys and fingerprints have the verifier's shape (`scheme:partner:sha256hex`, sha256 hex).
//
// Run: node bench/replay-store.mjs [--quick] [--bound 100000] [--churn 200000] [--window 5000] [--json out.json]
import crypto from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { parseArgs, numberFlag } from './lib/args.mjs'
import { printTable } from './lib/harness.mjs'
import { PARTNER_ID, loadLibrary } from './lib/fixtures.mjs'
import { writeJson } from './lib/output.mjs'

const hex = (k) => crypto.createHash('sha256').update(`churn ${k}`).digest('hex')

export async function main(flags = {}, log = console.log) {
  const quick = !!flags.quick
  const bound = numberFlag(flags, 'bound', quick ? 10_000 : 100_000)
  const churn = numberFlag(flags, 'churn', quick ? 20_000 : 200_000)
  const window = numberFlag(flags, 'window', quick ? 1_000 : 5_000)
  const steps = 8
  log(`# MemoryReplayStore.remember() at its bound${quick ? ' (quick smoke: a small bound)' : ''}`)
  const { lib, error } = await loadLibrary()
  if (!lib?.MemoryReplayStore) {
    log(`(MemoryReplayStore not built yet: ${error?.message ?? 'missing export'})`)
    return { rows: [], quick }
  }
  const keys = Array.from({ length: bound + churn + steps * window }, (_, k) => [
    `signature:${PARTNER_ID}:${hex(k)}`,
    hex(-k - 1),
  ])
  const store = new lib.MemoryReplayStore({ maxEntries: bound })
  let k = 0
  for (; k < bound; k++) await store.remember(keys[k][0], keys[k][1], 600_000)

  const rows = []
  const timeWindow = async () => {
    const c0 = process.cpuUsage()
    for (let j = 0; j < window; j++, k++) await store.remember(keys[k][0], keys[k][1], 600_000)
    const c = process.cpuUsage(c0)
    return (c.user + c.system) / window
  }
  for (let step = 0; step <= steps; step++) {
    const target = bound + Math.round((churn * step) / steps)
    while (k < target) (await store.remember(keys[k][0], keys[k][1], 600_000), k++)
    const churned = k - bound
    const us = await timeWindow()
    rows.push({ churned, usPerInsert: us, size: store.size })
  }
  printTable(
    ['inserts absorbed at the bound', 'µs per new remember() (CPU)', 'entries'],
    rows.map((r) => [String(r.churned), r.usPerInsert.toFixed(2), String(r.size)]),
    log,
  )
  const first = rows[0].usPerInsert
  const worst = Math.max(...rows.map((r) => r.usPerInsert))
  const last = rows[rows.length - 1].usPerInsert
  log(
    `\nlast window / first window: ${(last / first).toFixed(2)}×; worst / first: ${(worst / first).toFixed(2)}×`,
  )
  // A suite check rather than an issue target: eviction must not grow with the store's history.
  const targets = [
    {
      label: 'suite check: remember() at the bound stays flat under churn (last window ≤ 2× first)',
      status: quick ? 'N/A' : last <= 2 * first ? 'PASS' : 'MISS',
      measured: `${first.toFixed(2)} → ${last.toFixed(2)} µs per insert after ${rows[rows.length - 1].churned} evicting inserts`,
    },
  ]
  log(`${targets[0].status.padEnd(4)}  ${targets[0].label}: ${targets[0].measured}`)
  return { bound, churn, window, rows, targets, quick }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flags = parseArgs()
  const result = await main(flags)
  if (typeof flags.json === 'string') await writeJson(flags.json, result)
}
