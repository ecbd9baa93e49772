// Crypto micro benchmarks (method and clocks: see lib/harness.mjs): verification and signing, raw node:crypto and WebCrypto/node-forge
// baselines, the official SDKs (smile-identity-core 1.3.0 and 3.2.1), and this library on its Node and
// portable (WebCrypto + node-forge) backends. Run: `node bench/verify.mjs [--quick] [--json out.json]`.
//
// Every verifying variant cycles through a pool of distinct pre-signed credentials (so no cache can
// stand in for verification) and every result is checked. Variants with a replay store get a fresh
// MemoryReplayStore per batch, pre-filled to its default bound (100 000 entries, so every insert also
// evicts), and a pool of credentials that are all distinct within the batch.
import crypto from 'node:crypto'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { parseArgs, numberFlag } from './lib/args.mjs'
import { printSuite, ratio, runSuite } from './lib/harness.mjs'
import {
  PARTNER_ID,
  T0,
  callbackBody,
  hmacSignature,
  loadLibrary,
  makeApiKey,
  rsaKeyPair,
  secKeyCredentials,
  secKeyHash,
  signatureCredentials,
} from './lib/fixtures.mjs'
import { writeJson } from './lib/output.mjs'

const require = createRequire(import.meta.url)
const { RSA_PKCS1_PADDING } = crypto.constants

/**
 * Targets of issues 6 and 14 that this suite measures, each against a baseline measured in the same run:
 * [label, suite, numerator, denominator, minimum ratio].
 */
export const TARGETS = [
  [
    'SignatureAuth.verify / raw HMAC ≥ 0.85×',
    'sig',
    'ours: SignatureAuth.verify',
    'raw: createHmac+timingSafeEqual',
    0.85,
  ],
  [
    'DualModeVerifier (signature, audit) / raw HMAC ≥ 0.80×',
    'sig',
    'ours: DualModeVerifier+audit',
    'raw: createHmac+timingSafeEqual',
    0.8,
  ],
  [
    'DualModeVerifier (signature, audit) / SDK 3.2.1 ≥ 1.3×',
    'sig',
    'ours: DualModeVerifier+audit',
    'sdk 3.2.1: confirm_signature',
    1.3,
  ],
  [
    'LegacySecKeyAuth.verify / raw publicDecrypt + sha256 check (RSA-1024) ≥ 0.90×',
    'rsa1024',
    'ours: LegacySecKeyAuth.verify',
    'raw: publicDecrypt (cached key)',
    0.9,
  ],
  [
    'DualModeVerifier (sec_key, audit) / raw publicDecrypt + sha256 check ≥ 0.85×',
    'rsa1024',
    'ours: DualModeVerifier+audit',
    'raw: publicDecrypt (cached key)',
    0.85,
  ],
  [
    'DualModeVerifier (sec_key, audit) / SDK 1.3.0 confirm_sec_key ≥ 10×',
    'rsa1024',
    'ours: DualModeVerifier+audit',
    'sdk 1.3.0: confirm_sec_key',
    10,
  ],
  // The same four on bodies that stay in the CPU cache, as a body a receiver has just parsed does: the
  // variants above cycle through more ~1 KB bodies than the cache holds, and touching a cold body costs
  // misses that the raw baselines, which read no body, never pay.
  ...[
    ['signature', 'sig', 'raw HMAC', 'raw: createHmac+timingSafeEqual', 0.8],
    ['signature', 'sig', 'SDK 3.2.1', 'sdk 3.2.1: confirm_signature', 1.3],
    ['sec_key', 'rsa1024', 'raw publicDecrypt + sha256 check', 'raw: publicDecrypt (cached key)', 0.85],
    ['sec_key', 'rsa1024', 'SDK 1.3.0 confirm_sec_key', 'sdk 1.3.0: confirm_sec_key', 10],
  ].map(([scheme, suite, what, baseline, min]) => [
    `DualModeVerifier (${scheme}, audit, warm bodies) / ${what} ≥ ${min}×`,
    suite,
    'ours: DualModeVerifier+audit (warm bodies)',
    baseline,
    min,
  ]),
]

const isSignature = (r) => typeof r?.signature === 'string' && typeof r.timestamp === 'string'
const isSecKey = (r) => typeof r?.sec_key === 'string'
const fresh = (r) => r?.ok === true && r.duplicate === false

/** A counting audit sink: the cheapest real sink, so the table shows the cost of building events. */
function countingSink() {
  const counts = { accepted: 0, rejected: 0, would_reject: 0 }
  const sink = (event) => {
    counts[event.outcome]++
  }
  return { sink, counts }
}

/** Loads the library (dist/) and its portable backend; missing pieces are reported, not fatal. */
async function loadOurs(log) {
  const { lib, error } = await loadLibrary()
  if (!lib) {
    log(`(library not built or not importable: ${error?.code ?? error?.message}; our variants are skipped)`)
    return { lib: null, portable: null }
  }
  let portable = null
  try {
    const url = pathToFileURL(new URL('../dist/crypto/portable.js', import.meta.url).pathname).href
    portable = (await import(url)).backend ?? null
  } catch (e) {
    log(`(portable backend not importable: ${e.code ?? e.message}; portable variants are skipped)`)
  }
  return { lib, portable }
}

/** Keys and fingerprints shaped like the verifier's (`scheme:partner:sha256hex`, sha256 hex), made once. */
let prefillEntries = []
function prefillKeys(entries) {
  const hex = (k) => crypto.createHash('sha256').update(`prefill ${k}`).digest('hex')
  while (prefillEntries.length < entries) {
    const k = prefillEntries.length
    prefillEntries.push([`signature:${PARTNER_ID}:${hex(k)}`, hex(-k - 1)])
  }
  return prefillEntries
}

/** Fills a replay store to `entries` so that every later insert also evicts the oldest entry. */
async function prefill(store, entries) {
  const keys = prefillKeys(entries)
  for (let k = 0; k < entries; k++) await store.remember(keys[k][0], keys[k][1], 600_000)
}

export async function main(flags = {}, log = console.log) {
  const quick = !!flags.quick
  const run = {
    rounds: numberFlag(flags, 'rounds', quick ? 3 : 15),
    roundMs: numberFlag(flags, 'round-ms', quick ? 15 : 200),
    warmupMs: numberFlag(flags, 'warmup-ms', quick ? 30 : 300),
    clock: typeof flags.clock === 'string' ? flags.clock : 'cpu',
    log,
  }
  const pools = quick
    ? { sig: 256, 1024: 64, 2048: 16, 4096: 4 }
    : { sig: 4096, 1024: 2000, 2048: 500, 4096: 128 }
  const replayBound = quick ? 1_000 : 100_000
  const only = typeof flags.only === 'string' ? flags.only.split(',') : null
  const want = (suite) => !only || only.includes(suite)

  log(
    `# Verification and signing micro benchmarks${quick ? ' (quick smoke: numbers are not meaningful)' : ''}`,
  )
  const { lib, portable } = await loadOurs(log)
  const SdkV1 = require('smile-identity-core').Signature
  const SdkV3 = require('smile-identity-core-3').Signature

  const apiKey = makeApiKey()
  const hmacKey = crypto.createSecretKey(Buffer.from(apiKey, 'utf8'))
  log('generating RSA keys (1024, 2048, 4096) and pre-signing credentials…')
  const rsa = { 1024: rsaKeyPair(1024), 2048: rsaKeyPair(2048), 4096: rsaKeyPair(4096) }
  const sigPool = signatureCredentials(apiKey, pools.sig)
  const secPools = {}
  for (const bits of [1024, 2048, 4096]) secPools[bits] = secKeyCredentials(rsa[bits], pools[bits])
  // Bodies as a receiver gets them, from JSON.parse (every adapter hands the verifier parsed JSON): objects
  // built with spread read up to 10× slower (docs/performance.md), a cost no receiver pays.
  const parsed = (body) => JSON.parse(JSON.stringify(body))
  const sigBodies = sigPool.map((c, k) => ({ body: parsed(callbackBody(c, k)) }))
  const WARM = Math.min(256, sigBodies.length / 4)
  const warmBodies = sigBodies.slice(0, WARM)
  const secBodies = secPools[1024].map((c, k) => ({ body: parsed(callbackBody(c, k)) }))
  const WARM_SEC = Math.min(256, secBodies.length / 4)

  // --- raw baselines -------------------------------------------------------------------------------
  // HMAC with a cached KeyObject: measured a little faster than a string key on this machine, so the
  // baseline is the stricter one.
  const rawHmacVerify = (c) => {
    const expected = crypto
      .createHmac('sha256', hmacKey)
      .update(c.timestamp + PARTNER_ID + 'sid_request')
      .digest()
    const given = Buffer.from(c.signature, 'base64')
    return given.length === expected.length && crypto.timingSafeEqual(given, expected)
  }
  // The complete minimal check a correct verifier must do: decrypt, recompute the hash, compare both.
  const rawSecKeyVerify = (key, c) => {
    const bar = c.sec_key.indexOf('|')
    let decrypted
    try {
      decrypted = crypto.publicDecrypt(
        { key, padding: RSA_PKCS1_PADDING },
        Buffer.from(c.sec_key.slice(0, bar), 'base64'),
      )
    } catch {
      return false
    }
    const expected = Buffer.from(secKeyHash(c.timestamp), 'latin1')
    const half = Buffer.from(c.sec_key.slice(bar + 1), 'latin1')
    return (
      decrypted.length === expected.length &&
      half.length === expected.length &&
      crypto.timingSafeEqual(decrypted, expected) &&
      crypto.timingSafeEqual(half, expected)
    )
  }

  const webHmacKey = await crypto.webcrypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(apiKey),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  )
  const encoder = new TextEncoder()
  const forge = require('node-forge')
  const forgeKey = forge.pki.publicKeyFromPem(rsa[1024].publicPem)

  const suites = {}

  // --- signature verification ------------------------------------------------------------------------
  if (want('sig')) {
    const N = sigPool.length
    const v = [
      {
        name: 'raw: createHmac+timingSafeEqual',
        group: 'raw node:crypto',
        fn: async (i) => rawHmacVerify(sigPool[i % N]),
      },
      {
        name: 'raw: createHmac (sync loop)',
        sync: true,
        fn: (i) => rawHmacVerify(sigPool[i % N]),
        baseline: 'raw: createHmac+timingSafeEqual',
        note: 'reference only: the same check without an await per call',
      },
      {
        name: 'raw web: subtle.verify HMAC',
        group: 'raw WebCrypto',
        baseline: 'raw: createHmac+timingSafeEqual',
        fn: (i) => {
          const c = sigPool[i % N]
          return crypto.webcrypto.subtle.verify(
            'HMAC',
            webHmacKey,
            Buffer.from(c.signature, 'base64'),
            encoder.encode(c.timestamp + PARTNER_ID + 'sid_request'),
          )
        },
      },
    ]
    const sdk1 = new SdkV1(PARTNER_ID, apiKey)
    const sdk3 = new SdkV3(PARTNER_ID, apiKey)
    v.push(
      {
        name: 'sdk 1.3.0: confirm_signature',
        group: 'official SDKs',
        baseline: 'raw: createHmac+timingSafeEqual',
        fn: async (i) => sdk1.confirm_signature(sigPool[i % N].timestamp, sigPool[i % N].signature),
      },
      {
        name: 'sdk 3.2.1: confirm_signature',
        baseline: 'raw: createHmac+timingSafeEqual',
        fn: async (i) => sdk3.confirm_signature(sigPool[i % N].timestamp, sigPool[i % N].signature),
      },
    )
    if (lib?.SignatureAuth) {
      const auth = new lib.SignatureAuth({ partnerId: PARTNER_ID, apiKey })
      v.push({
        name: 'ours: SignatureAuth.verify',
        group: 'smileid-auth-shim (node backend)',
        baseline: 'raw: createHmac+timingSafeEqual',
        fn: (i) => auth.verify(sigPool[i % N]),
      })
    }
    if (lib?.SignatureAuth && lib.DualModeVerifier) {
      const auth = new lib.SignatureAuth({ partnerId: PARTNER_ID, apiKey })
      const { sink } = countingSink()
      const dual = new lib.DualModeVerifier({
        partnerId: PARTNER_ID,
        signature: auth,
        audit: sink,
        now: () => T0,
      })
      v.push(
        {
          name: 'ours: DualModeVerifier+audit',
          baseline: 'raw: createHmac+timingSafeEqual',
          fn: (i) => dual.verify(sigBodies[i % N]),
          note: 'single partner, default policy and freshness, a counting audit sink',
        },
        {
          name: 'ours: DualModeVerifier+audit (warm bodies)',
          baseline: 'raw: createHmac+timingSafeEqual',
          fn: (i) => dual.verify(warmBodies[i % WARM]),
          note:
            `the same, cycling through ${WARM} bodies that stay in the CPU cache, as a body a receiver has just ` +
            `parsed does; ${N} distinct ~1 KB bodies do not fit and cost cache misses the raw baseline does not pay`,
        },
        replayVariant(lib, {
          name: 'ours: DualModeVerifier+audit+replay',
          baseline: 'ours: DualModeVerifier+audit',
          replayBound,
          makeVerifier: (replay) =>
            new lib.DualModeVerifier({
              partnerId: PARTNER_ID,
              signature: auth,
              audit: sink,
              replay,
              now: () => T0,
            }),
          makeBodies: (from, count) =>
            signatureCredentials(apiKey, count, from).map((c, k) => ({ body: callbackBody(c, from + k) })),
          note: 'the body fingerprint is computed from the parsed body (no rawBody given)',
        }),
        replayVariant(lib, {
          name: 'ours: DualModeVerifier+audit+replay (rawBody)',
          baseline: 'ours: DualModeVerifier+audit',
          replayBound,
          makeVerifier: (replay) =>
            new lib.DualModeVerifier({
              partnerId: PARTNER_ID,
              signature: auth,
              audit: sink,
              replay,
              now: () => T0,
            }),
          makeBodies: (from, count) =>
            signatureCredentials(apiKey, count, from).map((c, k) => {
              const body = callbackBody(c, from + k)
              return { body, rawBody: JSON.stringify(body) }
            }),
          note: 'the request carries rawBody (as the adapters pass it), so the fingerprint hashes those bytes',
        }),
      )
    }
    if (lib?.SignatureAuth) {
      if (portable) {
        const webAuth = new lib.SignatureAuth({ partnerId: PARTNER_ID, apiKey, backend: portable })
        v.push({
          name: 'ours (portable): SignatureAuth.verify',
          group: 'smileid-auth-shim (portable backend: WebCrypto)',
          baseline: 'raw web: subtle.verify HMAC',
          fn: (i) => webAuth.verify(sigPool[i % N]),
        })
      }
    }
    suites.sig = await runSuite({ title: 'signature verification (HMAC-SHA256)', variants: v, ...run })
    printSuite(suites.sig, log)
  }

  // --- sec_key verification, RSA-1024 (the portal's key size) -------------------------------------------
  if (want('rsa1024')) {
    const pool = secPools[1024]
    const N = pool.length
    const key = rsa[1024].publicKey
    const sdk1 = new SdkV1(PARTNER_ID, rsa[1024].apiKey)
    const v = [
      {
        name: 'raw: publicDecrypt (cached key)',
        group: 'raw node:crypto',
        fn: async (i) => rawSecKeyVerify(key, pool[i % N]),
        note: 'publicDecrypt with a KeyObject made once, plus the sha256 recompute and both constant-time compares',
      },
      {
        name: 'raw: publicDecrypt only',
        baseline: 'raw: publicDecrypt (cached key)',
        check: (r) => r.length === 64,
        fn: async (i) => {
          const s = pool[i % N].sec_key
          return crypto.publicDecrypt(
            { key, padding: RSA_PKCS1_PADDING },
            Buffer.from(s.slice(0, s.indexOf('|')), 'base64'),
          )
        },
        note: 'reference only: the RSA operation alone, no hash recompute or compare',
      },
      {
        name: 'raw: publicDecrypt (sync loop)',
        sync: true,
        baseline: 'raw: publicDecrypt (cached key)',
        fn: (i) => rawSecKeyVerify(key, pool[i % N]),
      },
      {
        name: 'raw forge: rsa.decrypt (type 1)',
        group: 'raw node-forge',
        baseline: 'raw: publicDecrypt (cached key)',
        fn: async (i) => {
          const c = pool[i % N]
          const bar = c.sec_key.indexOf('|')
          const decrypted = forge.pki.rsa.decrypt(
            forge.util.decode64(c.sec_key.slice(0, bar)),
            forgeKey,
            true,
          )
          return decrypted === secKeyHash(c.timestamp) && decrypted === c.sec_key.slice(bar + 1)
        },
      },
      {
        name: 'sdk 1.3.0: confirm_sec_key',
        group: 'official SDKs',
        baseline: 'raw: publicDecrypt (cached key)',
        fn: async (i) => sdk1.confirm_sec_key(pool[i % N].timestamp, pool[i % N].sec_key),
        note: 'parses the key PEM on every call',
      },
    ]
    if (lib?.LegacySecKeyAuth) {
      const auth = new lib.LegacySecKeyAuth({ partnerId: PARTNER_ID, apiKey: rsa[1024].apiKey })
      v.push({
        name: 'ours: LegacySecKeyAuth.verify',
        group: 'smileid-auth-shim (node backend)',
        baseline: 'raw: publicDecrypt (cached key)',
        fn: (i) => auth.verify(pool[i % N]),
      })
    }
    if (lib?.LegacySecKeyAuth && lib.DualModeVerifier) {
      const auth = new lib.LegacySecKeyAuth({ partnerId: PARTNER_ID, apiKey: rsa[1024].apiKey })
      const { sink } = countingSink()
      const dual = new lib.DualModeVerifier({
        partnerId: PARTNER_ID,
        secKey: auth,
        audit: sink,
        now: () => T0,
      })
      v.push(
        {
          name: 'ours: DualModeVerifier+audit',
          baseline: 'raw: publicDecrypt (cached key)',
          fn: (i) => dual.verify(secBodies[i % N]),
          note: 'single partner, default policy (legacy accepted) and freshness, a counting audit sink',
        },
        {
          name: 'ours: DualModeVerifier+audit (warm bodies)',
          baseline: 'raw: publicDecrypt (cached key)',
          fn: (i) => dual.verify(secBodies[i % WARM_SEC]),
          note: `the same, cycling through ${WARM_SEC} bodies that stay in the CPU cache`,
        },
        replayVariant(lib, {
          name: 'ours: DualModeVerifier+audit+replay',
          baseline: 'ours: DualModeVerifier+audit',
          replayBound,
          makeVerifier: (replay) =>
            new lib.DualModeVerifier({
              partnerId: PARTNER_ID,
              secKey: auth,
              audit: sink,
              replay,
              now: () => T0,
            }),
          makeBodies: (from, count) =>
            secKeyCredentials(rsa[1024], count, from).map((c, k) => ({ body: callbackBody(c, from + k) })),
        }),
      )
    }
    if (lib?.LegacySecKeyAuth) {
      if (portable) {
        const webAuth = new lib.LegacySecKeyAuth({
          partnerId: PARTNER_ID,
          apiKey: rsa[1024].apiKey,
          backend: portable,
        })
        v.push({
          name: 'ours (portable): LegacySecKeyAuth.verify',
          group: 'smileid-auth-shim (portable backend: node-forge)',
          baseline: 'raw forge: rsa.decrypt (type 1)',
          fn: (i) => webAuth.verify(pool[i % N]),
        })
      }
    }
    suites.rsa1024 = await runSuite({ title: 'sec_key verification, RSA-1024', variants: v, ...run })
    printSuite(suites.rsa1024, log)
  }

  // --- sec_key verification, larger keys -------------------------------------------------------------
  if (want('rsa-large')) {
    const v = []
    for (const bits of [2048, 4096]) {
      const pool = secPools[bits]
      const N = pool.length
      const key = rsa[bits].publicKey
      const sdk1 = new SdkV1(PARTNER_ID, rsa[bits].apiKey)
      const raw = `raw: publicDecrypt (cached key) ${bits}`
      v.push(
        { name: raw, group: `RSA-${bits}`, fn: async (i) => rawSecKeyVerify(key, pool[i % N]) },
        {
          name: `sdk 1.3.0: confirm_sec_key ${bits}`,
          baseline: raw,
          fn: async (i) => sdk1.confirm_sec_key(pool[i % N].timestamp, pool[i % N].sec_key),
        },
      )
      if (lib?.LegacySecKeyAuth) {
        const auth = new lib.LegacySecKeyAuth({ partnerId: PARTNER_ID, apiKey: rsa[bits].apiKey })
        v.push({
          name: `ours: LegacySecKeyAuth.verify ${bits}`,
          baseline: raw,
          fn: (i) => auth.verify(pool[i % N]),
        })
        if (portable) {
          const webAuth = new lib.LegacySecKeyAuth({
            partnerId: PARTNER_ID,
            apiKey: rsa[bits].apiKey,
            backend: portable,
          })
          v.push({
            name: `ours (portable): LegacySecKeyAuth.verify ${bits}`,
            baseline: raw,
            fn: (i) => webAuth.verify(pool[i % N]),
          })
        }
      }
    }
    suites.rsaLarge = await runSuite({
      title: 'sec_key verification, RSA-2048 and RSA-4096',
      variants: v,
      ...run,
    })
    printSuite(suites.rsaLarge, log)
  }

  // --- signing -----------------------------------------------------------------------------------------
  if (want('sign')) {
    const sdk1 = new SdkV1(PARTNER_ID, apiKey)
    const sdk3 = new SdkV3(PARTNER_ID, apiKey)
    const sdk1Sec = new SdkV1(PARTNER_ID, rsa[1024].apiKey)
    const pub = rsa[1024].publicKey
    const priv = rsa[1024].privateKey
    const rawSecKey = (encrypt, key) => {
      const timestamp = Date.now()
      const hash = secKeyHash(timestamp)
      const block = encrypt({ key, padding: RSA_PKCS1_PADDING }, Buffer.from(hash, 'latin1'))
      return { sec_key: `${block.toString('base64')}|${hash}`, timestamp }
    }
    const v = [
      {
        name: 'raw: createHmac sign',
        group: 'signature (HMAC)',
        check: isSignature,
        fn: async () => {
          const timestamp = new Date().toISOString()
          return { signature: hmacSignature(hmacKey, timestamp), timestamp }
        },
      },
      {
        name: 'sdk 1.3.0: generate_signature',
        baseline: 'raw: createHmac sign',
        check: isSignature,
        fn: async () => sdk1.generate_signature(),
      },
      {
        name: 'sdk 3.2.1: generate_signature',
        baseline: 'raw: createHmac sign',
        check: isSignature,
        fn: async () => sdk3.generate_signature(),
      },
    ]
    if (lib?.SignatureAuth) {
      const auth = new lib.SignatureAuth({ partnerId: PARTNER_ID, apiKey })
      v.push({
        name: 'ours: SignatureAuth.sign',
        baseline: 'raw: createHmac sign',
        check: isSignature,
        fn: () => auth.sign(),
      })
      if (portable) {
        const webAuth = new lib.SignatureAuth({ partnerId: PARTNER_ID, apiKey, backend: portable })
        v.push({
          name: 'ours (portable): SignatureAuth.sign',
          baseline: 'raw: createHmac sign',
          check: isSignature,
          fn: () => webAuth.sign(),
        })
      }
    }
    v.push(
      {
        name: 'raw: publicEncrypt (partner→Smile)',
        group: 'sec_key RSA-1024, partner → Smile (public key)',
        check: isSecKey,
        fn: async () => rawSecKey(crypto.publicEncrypt, pub),
      },
      {
        name: 'sdk 1.3.0: generate_sec_key',
        baseline: 'raw: publicEncrypt (partner→Smile)',
        check: isSecKey,
        fn: async () => sdk1Sec.generate_sec_key(),
      },
    )
    if (lib?.LegacySecKeyAuth) {
      const auth = new lib.LegacySecKeyAuth({ partnerId: PARTNER_ID, apiKey: rsa[1024].apiKey })
      v.push({
        name: 'ours: LegacySecKeyAuth.sign (public)',
        baseline: 'raw: publicEncrypt (partner→Smile)',
        check: isSecKey,
        fn: () => auth.sign(),
      })
      if (portable) {
        const webAuth = new lib.LegacySecKeyAuth({
          partnerId: PARTNER_ID,
          apiKey: rsa[1024].apiKey,
          backend: portable,
        })
        v.push({
          name: 'ours (portable): LegacySecKeyAuth.sign (public)',
          baseline: 'raw: publicEncrypt (partner→Smile)',
          check: isSecKey,
          fn: () => webAuth.sign(),
        })
      }
    }
    v.push({
      name: 'raw: privateEncrypt (Smile→partner)',
      group: 'sec_key RSA-1024, Smile → partner (private key)',
      check: isSecKey,
      fn: async () => rawSecKey(crypto.privateEncrypt, priv),
    })
    if (lib?.LegacySecKeyAuth) {
      const auth = new lib.LegacySecKeyAuth({ partnerId: PARTNER_ID, privateKey: rsa[1024].privatePem })
      v.push({
        name: 'ours: LegacySecKeyAuth.sign (private)',
        baseline: 'raw: privateEncrypt (Smile→partner)',
        check: isSecKey,
        fn: () => auth.sign(),
      })
      if (portable) {
        const webAuth = new lib.LegacySecKeyAuth({
          partnerId: PARTNER_ID,
          privateKey: rsa[1024].privatePem,
          backend: portable,
        })
        v.push({
          name: 'ours (portable): LegacySecKeyAuth.sign (private)',
          baseline: 'raw: privateEncrypt (Smile→partner)',
          check: isSecKey,
          fn: () => webAuth.sign(),
        })
      }
    }
    suites.sign = await runSuite({ title: 'signing', variants: v, ...run })
    printSuite(suites.sign, log)
  }

  const targets = evaluateTargets(suites, quick)
  log('\n## targets (ratios of medians, same run)')
  for (const t of targets) log(`${t.status.padEnd(4)}  ${t.label}: ${t.measured}`)
  return { suites, targets, quick }
}

/**
 * A DualModeVerifier variant with a MemoryReplayStore, in the steady state of a busy receiver: one store
 * for the whole suite, pre-filled to `replayBound` before the first batch (so every insert also evicts),
 * and every request of the suite distinct (each batch takes credentials never used before).
 */
function replayVariant(lib, { name, baseline, replayBound, makeVerifier, makeBodies, note }) {
  let bodies = []
  let next = 0
  let start = 0
  let verifier = null
  return {
    name,
    baseline,
    check: fresh,
    note:
      `one MemoryReplayStore for the whole suite, pre-filled to ${replayBound} entries; every request distinct` +
      (note ? `; ${note}` : ''),
    async setup({ ops }) {
      if (verifier === null) {
        const store = new lib.MemoryReplayStore({ maxEntries: replayBound })
        await prefill(store, replayBound)
        verifier = makeVerifier(store)
      }
      if (bodies.length < next + ops)
        bodies = bodies.concat(makeBodies(bodies.length, next + ops - bodies.length))
      start = next
      next += ops
    },
    fn: (i) => verifier.verify(bodies[start + i]),
  }
}

// In a quick smoke the numbers mean nothing: targets are reported, not judged.
function evaluateTargets(suites, quick) {
  return TARGETS.map(([label, suite, a, b, min]) => {
    const result = suites[suite]
    const r = result ? ratio(result, a, b) : null
    if (!r) return { label, status: 'N/A', measured: 'not measured', ratio: null, min }
    const other = result.clock === 'cpu' ? 'wall' : 'cpu'
    const otherRatio = result.stats[a][other].median / result.stats[b][other].median
    const failed = result.stats[a].failures > 0 || result.stats[b].failures > 0
    return {
      label,
      status: quick ? 'N/A' : r.value >= min && !failed ? 'PASS' : 'MISS',
      ratio: r.value,
      otherRatio,
      min,
      measured:
        `${r.value.toFixed(2)}× (${result.clock} clock, per-round ${r.min.toFixed(2)}–${r.max.toFixed(2)}; ` +
        `${other} clock ${otherRatio.toFixed(2)}×), target ≥ ${min}×${failed ? ' — FAILED verifications' : ''}`,
    }
  })
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flags = parseArgs()
  const result = await main(flags)
  if (typeof flags.json === 'string') await writeJson(flags.json, result)
}
