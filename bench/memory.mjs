// Memory: the heap a MemoryReplayStore holds at its default bound (100 000 entries).
//
// Method (needs --expose-gc; the script re-runs itself with it when missing): force GC and read
// heapUsed; fill a store; drop everything else that was allocated for the fill; force GC again and read
// heapUsed. The difference is what the store (and, in the first case, the verifier) keeps alive.
// 1. Through a DualModeVerifier: 110 000 distinct signature callbacks (10 % over the bound, so the
//    store evicts), exactly the keys and fingerprints the verifier stores.
// 2. Directly: 110 000 `remember()` calls with keys and fingerprints of the same shape.
//
// Run: node --expose-gc bench/memory.mjs [--quick] [--json out.json]
import crypto from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from './lib/args.mjs'
import { printTable } from './lib/harness.mjs'
import { PARTNER_ID, T0, loadLibrary, makeApiKey, signatureCredentials } from './lib/fixtures.mjs'
import { writeJson } from './lib/output.mjs'

export const MAX_MIB = 64
const MiB = 1024 * 1024

function settle() {
  for (let i = 0; i < 4; i++) globalThis.gc()
  return process.memoryUsage().heapUsed
}

async function throughVerifier(lib, bound, count) {
  const before = settle()
  let store = new lib.MemoryReplayStore()
  const apiKey = makeApiKey()
  let verifier = new lib.DualModeVerifier({
    partnerId: PARTNER_ID,
    signature: new lib.SignatureAuth({ partnerId: PARTNER_ID, apiKey }),
    replay: store,
    now: () => T0,
  })
  // Generated in slices so the inputs never dominate the heap; each slice is garbage afterwards.
  const slice = 10_000
  let accepted = 0
  for (let from = 0; from < count; from += slice) {
    const creds = signatureCredentials(apiKey, Math.min(slice, count - from), from)
    for (const c of creds) {
      const r = await verifier.verify({ body: { ...c, partner_id: PARTNER_ID } })
      if (r.ok && !r.duplicate) accepted++
    }
  }
  verifier = null
  const after = settle()
  const size = store.size
  store = null
  return { bytes: after - before, size, accepted, count }
}

async function direct(lib, bound, count) {
  const before = settle()
  let store = new lib.MemoryReplayStore()
  // Same shape and kind of strings as the verifier's: `${scheme}:${partnerId}:${sha256 hex}` and a
  // sha256-hex fingerprint, both from digest('hex').
  const hex = (k) => crypto.createHash('sha256').update(String(k)).digest('hex')
  for (let k = 0; k < count; k++) {
    await store.remember(`signature:${PARTNER_ID}:${hex(k)}`, hex(-k - 1), 600_000)
  }
  const after = settle()
  const size = store.size
  store = null
  return { bytes: after - before, size, accepted: count, count }
}

export async function main(flags = {}, log = console.log) {
  const quick = !!flags.quick
  log(`# Memory${quick ? ' (quick smoke: a smaller fill, not the default bound)' : ''}`)
  const { lib, error } = await loadLibrary()
  if (!lib?.MemoryReplayStore || !lib.DualModeVerifier) {
    log(`(MemoryReplayStore or DualModeVerifier not built yet: ${error?.message ?? 'missing export'})`)
    return {
      targets: [
        {
          label: `MemoryReplayStore at its default bound ≤ ${MAX_MIB} MiB`,
          status: 'N/A',
          measured: 'not measured',
        },
      ],
    }
  }
  const bound = 100_000
  const count = quick ? 11_000 : 110_000
  const results = {
    'through DualModeVerifier (signature callbacks)': await throughVerifier(lib, bound, count),
    'direct remember() calls': await direct(lib, bound, count),
  }
  printTable(
    ['fill', 'inserted', 'entries kept', 'heap growth', 'per entry'],
    Object.entries(results).map(([name, r]) => [
      name,
      String(r.accepted),
      String(r.size),
      `${(r.bytes / MiB).toFixed(1)} MiB`,
      `${(r.bytes / r.size).toFixed(0)} B`,
    ]),
    log,
  )
  const worst = Math.max(...Object.values(results).map((r) => r.bytes))
  const full = Object.values(results).every((r) => r.size === Math.min(bound, count))
  const targets = [
    {
      label: `MemoryReplayStore at its default bound ≤ ${MAX_MIB} MiB`,
      status: quick ? 'N/A' : worst / MiB <= MAX_MIB && full ? 'PASS' : 'MISS',
      mib: worst / MiB,
      measured: quick
        ? `quick fill of ${count} entries: ${(worst / MiB).toFixed(1)} MiB (not the bound)`
        : `${(worst / MiB).toFixed(1)} MiB heap growth at ${bound} entries${full ? '' : ' (store not full!)'}`,
    },
  ]
  log('\n## targets')
  for (const t of targets) log(`${t.status.padEnd(4)}  ${t.label}: ${t.measured}`)
  return { results, targets, quick }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (typeof globalThis.gc !== 'function') {
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
      {
        stdio: 'inherit',
      },
    )
    process.exit(r.status ?? 1)
  }
  const flags = parseArgs()
  const result = await main(flags)
  if (typeof flags.json === 'string') await writeJson(flags.json, result)
}
