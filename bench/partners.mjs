// Partner lookup among many partners (method and clocks: see lib/harness.mjs): what an unauthenticated
// request costs when it names a partner id that is not configured, or a configured one spelled another
// way ("85" for "085"), next to a request for a known id, on one multi-partner DualModeVerifier.
//
// An unknown id is refused before any crypto, so with an O(1) lookup it costs less than a known id's
// HMAC; a lookup that scans the records grows with the number of partners (on 0.1.0, 10 000 partners
// made an unknown id cost 1.3 ms of CPU). The figures are costs (time per request) relative to a
// known id, so the target reads "≤ 2×".
//
// Run: node bench/partners.mjs [--quick] [--partners 10000] [--clock cpu|wall] [--json out.json]
import { pathToFileURL } from 'node:url'
import { parseArgs, numberFlag } from './lib/args.mjs'
import { printSuite, ratio, runSuite } from './lib/harness.mjs'
import {
  PARTNER_ID,
  T0,
  callbackBody,
  loadLibrary,
  makeApiKey,
  signatureCredentials,
} from './lib/fixtures.mjs'
import { writeJson } from './lib/output.mjs'

const KNOWN = 'known id "085"'
const SPELLED = 'known id spelled "85"'
const UNKNOWN = 'unknown digit id'
const UNKNOWN_TEXT = 'unknown non-digit id'

const refusedAsUnknown = (r) => r?.ok === false && r.reason === 'unknown_partner'

export async function main(flags = {}, log = console.log) {
  const quick = !!flags.quick
  const count = numberFlag(flags, 'partners', 10_000)
  const run = {
    rounds: numberFlag(flags, 'rounds', quick ? 3 : 15),
    roundMs: numberFlag(flags, 'round-ms', quick ? 15 : 200),
    warmupMs: numberFlag(flags, 'warmup-ms', quick ? 30 : 300),
    clock: typeof flags.clock === 'string' ? flags.clock : 'cpu',
    log,
  }
  const many = count.toLocaleString('en').replace(/,/g, ' ')
  const label = `unknown partner id among ${many} / known id`
  log(`# partner lookup among ${count} configured partners${quick ? ' (quick smoke)' : ''}`)
  const { lib, error } = await loadLibrary()
  if (!lib?.DualModeVerifier) {
    log(`(library not built yet: ${error?.message ?? 'missing export'})`)
    return { targets: [{ label, status: 'N/A', measured: 'library not built' }], quick }
  }

  // Digit ids around ours, so that spellings and near misses are realistic; one key for all (the
  // lookup, not key handling, is measured).
  const apiKey = makeApiKey()
  const partners = {}
  for (let k = 0; k < count - 1; k++) {
    const id = String(100_000 + k)
    partners[id] = { signature: new lib.SignatureAuth({ partnerId: id, apiKey }) }
  }
  partners[PARTNER_ID] = { signature: new lib.SignatureAuth({ partnerId: PARTNER_ID, apiKey }) }
  const verifier = new lib.DualModeVerifier({ partners, now: () => T0 })

  // One genuine credential for "085" (no replay store: the same one verifies every time).
  const [credential] = signatureCredentials(apiKey, 1)
  const body = (partnerId) => ({ body: { ...callbackBody(credential), partner_id: partnerId } })
  const known = body(PARTNER_ID)
  const spelled = body('85')
  const unknown = body('999999999')
  const unknownText = body('acme-partner')

  const variants = [
    { name: KNOWN, group: `DualModeVerifier, ${count} partners`, fn: () => verifier.verify(known) },
    { name: SPELLED, baseline: KNOWN, fn: () => verifier.verify(spelled) },
    { name: UNKNOWN, baseline: KNOWN, fn: () => verifier.verify(unknown), check: refusedAsUnknown },
    { name: UNKNOWN_TEXT, baseline: KNOWN, fn: () => verifier.verify(unknownText), check: refusedAsUnknown },
  ]
  const suite = await runSuite({ title: `partner lookup, ${count} partners`, variants, ...run })
  printSuite(suite, log)
  log('  (the ratio column compares rates: above 1× is cheaper than a known id)')

  // Costs relative to a known id: the ratio of the known id's rate to the other's.
  const cost = (name) => ratio(suite, KNOWN, name)
  const figures = [
    [label, UNKNOWN],
    [`unknown non-digit partner id among ${many} / known id`, UNKNOWN_TEXT],
    [`known partner id spelled differently ("85" for "085") among ${many} / known id`, SPELLED],
  ]
  const targets = figures.map(([text, name]) => {
    const r = cost(name)
    const failed = suite.stats[name].failures > 0 || suite.stats[KNOWN].failures > 0
    return {
      label: `${text} ≤ 2×`,
      status: quick ? 'N/A' : r.value <= 2 && !failed ? 'PASS' : 'MISS',
      ratio: r.value,
      max: 2,
      measured:
        `${r.value.toFixed(2)}× the cost (${suite.clock} clock, per-round ${r.min.toFixed(2)}–${r.max.toFixed(2)}), ` +
        `target ≤ 2×${failed ? ' — FAILED operations' : ''}`,
    }
  })
  log('\n## targets (cost relative to a known id, same run)')
  for (const t of targets) log(`${t.status.padEnd(4)}  ${t.label}: ${t.measured}`)
  return { partners: count, suite, targets, quick }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flags = parseArgs()
  const result = await main(flags)
  if (typeof flags.json === 'string') await writeJson(flags.json, result)
}
