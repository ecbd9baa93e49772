// Replay fingerprint of a 1 MB body, per adapter path, against a JSON.parse of the same body (issue 12,
// item 11: ≤ 2×). Each adapter hands the verifier either the raw body (node:http, Fetch, Express or
// Fastify with a raw-body stash) or a body its framework parsed (express.json(), Fastify's own JSON
// parser); the parsed bodies here are the ones real Express and Fastify apps produced from the bytes.
// Two body shapes: structured (a thousand job records) and one large string (an image in base64).
// The sorted-key canonical JSON the verifier used before is printed for reference, not as a target.
//
// Run: node bench/fingerprint.mjs [--quick] [--rounds 15] [--json out.json]   (needs `npm run build`)
import { once } from 'node:events'
import http from 'node:http'
import { pathToFileURL } from 'node:url'
import { parseArgs, numberFlag } from './lib/args.mjs'
import { formatRatio, printSuite, ratio, runSuite } from './lib/harness.mjs'
import { callbackBody, makeApiKey, signatureCredentials } from './lib/fixtures.mjs'
import { writeJson } from './lib/output.mjs'

export const MAX_RATIO = 2
const CREDENTIAL_FIELDS = new Set(['signature', 'sec_key', 'timestamp'])

/** About 1 MB of JSON text in each shape, carrying a signature credential at the top level. */
function bodies() {
  const [credentials] = signatureCredentials(makeApiKey(), 1)
  const structured = { ...callbackBody(credentials), History: [] }
  for (let k = 0; JSON.stringify(structured).length < 1_000_000; k++) {
    structured.History.push(callbackBody({}, k))
  }
  const image = { ...callbackBody(credentials), ImageData: 'iVBORw0KGgo'.repeat(91_000) }
  return { structured: JSON.stringify(structured), 'one large string': JSON.stringify(image) }
}

/** The body real express.json() hands the middleware after reading `text` from a socket. */
async function parsedByExpress(text) {
  const { default: express } = await import('express')
  const app = express()
  let captured
  app.post('/', express.json({ limit: '4mb' }), (req, res) => {
    captured = req.body
    res.end()
  })
  const server = http.createServer(app).listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: text,
  })
  server.close()
  return captured
}

/** The body Fastify's own JSON parser hands a hook. */
async function parsedByFastify(text) {
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ bodyLimit: 4 * 1024 * 1024 })
  let captured
  app.post('/', async (request) => {
    captured = request.body
    return ''
  })
  await app.inject({
    method: 'POST',
    url: '/',
    headers: { 'content-type': 'application/json' },
    payload: text,
  })
  await app.close()
  return captured
}

/** The fingerprint text the verifier built before (sorted keys, hand-joined), for reference. */
function sortedCanonicalJson(value, omit, depth = 0) {
  if (depth > 256) throw new RangeError('body is nested too deeply')
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ','
      out += sortedCanonicalJson(value[i], undefined, depth + 1)
    }
    return out + ']'
  }
  let out = '{'
  for (const key of Object.keys(value).sort()) {
    if (omit !== undefined && omit.has(key)) continue
    if (out.length > 1) out += ','
    out += JSON.stringify(key) + ':' + sortedCanonicalJson(value[key], undefined, depth + 1)
  }
  return out + '}'
}

export async function main(flags = {}, log = console.log) {
  const quick = !!flags.quick
  log(`# Replay fingerprint of a 1 MB body${quick ? ' (quick smoke: numbers are not meaningful)' : ''}`)
  let fingerprint
  let sha256Hex
  try {
    ;({ bodyFingerprint: fingerprint } = await import('../dist/replay/fingerprint.js'))
    ;({
      hashBackend: { sha256Hex },
    } = await import('../dist/crypto/node-hash.js'))
  } catch (error) {
    log(`(dist/replay/fingerprint.js not built yet: ${error.message})`)
    return {
      suites: [],
      targets: [{ label: 'replay fingerprint of a 1 MB body', status: 'N/A', measured: 'not built' }],
      quick,
    }
  }
  const options = {
    rounds: numberFlag(flags, 'rounds', quick ? 3 : 15),
    roundMs: numberFlag(flags, 'round-ms', quick ? 20 : 200),
    warmupMs: numberFlag(flags, 'warmup-ms', quick ? 30 : 300),
    minOps: quick ? 2 : 8,
    clock: flags.clock === 'wall' ? 'wall' : 'cpu',
    log,
  }
  const isHex = (r) => typeof r === 'string' && r.length === 64
  const suites = []
  const targets = []
  for (const [shape, text] of Object.entries(bodies())) {
    const express = await parsedByExpress(text)
    const fastify = await parsedByFastify(text)
    const paths = [
      ['node:http / Fetch (raw bytes)', { rawBody: text }],
      ['Express, raw-body stash (raw bytes)', { rawBody: text }],
      ['Express, express.json() (parsed)', { body: express }],
      ['Fastify, built-in JSON parser (parsed)', { body: fastify }],
    ]
    const variants = [
      { name: 'JSON.parse of the body', fn: () => JSON.parse(text), check: (r) => r !== null, sync: true },
      ...paths.map(([name, input]) => ({
        name: `fingerprint: ${name}`,
        fn: () => fingerprint(input, CREDENTIAL_FIELDS),
        check: isHex,
        sync: true,
        baseline: 'JSON.parse of the body',
      })),
      {
        name: 'reference: sorted canonical JSON + SHA-256 (0.1.0), parsed body',
        fn: () => sha256Hex(sortedCanonicalJson(express, CREDENTIAL_FIELDS)),
        check: isHex,
        sync: true,
        baseline: 'JSON.parse of the body',
      },
    ]
    const suite = await runSuite({
      title: `${shape} body, ${(text.length / 1e6).toFixed(2)} MB`,
      variants,
      ...options,
    })
    printSuite(suite, log)
    suites.push(suite)
    for (const [name] of paths) {
      // Rates are operations per second: time(fingerprint) / time(parse) = rate(parse) / rate(fingerprint).
      const r = ratio(suite, 'JSON.parse of the body', `fingerprint: ${name}`)
      targets.push({
        label: `1 MB body fingerprint / JSON.parse ≤ ${MAX_RATIO}×: ${name}, ${shape}`,
        status: quick || !r ? 'N/A' : r.value <= MAX_RATIO ? 'PASS' : 'MISS',
        measured: r
          ? `${formatRatio(r.value)} (rounds ${r.min.toFixed(2)}–${r.max.toFixed(2)})`
          : 'not measured',
        ratio: r?.value ?? null,
      })
    }
    const before = ratio(
      suite,
      'JSON.parse of the body',
      'reference: sorted canonical JSON + SHA-256 (0.1.0), parsed body',
    )
    if (before)
      log(`reference: the sorted canonical JSON of 0.1.0 cost ${formatRatio(before.value)} a JSON.parse`)
  }
  log('\n## targets')
  for (const t of targets) log(`${t.status.padEnd(4)}  ${t.label}: ${t.measured}`)
  return { suites, targets, quick }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flags = parseArgs()
  const result = await main(flags)
  if (typeof flags.json === 'string') await writeJson(flags.json, result)
}
