/**
 * Runtime conformance suite for smileid-auth-shim: the same vectors and checks as the strategy and
 * verifier tests (both schemes, cross-SDK vectors, tampered inputs, the dual-mode verifier), written
 * against the public API only and with nothing runtime-specific, so it runs unchanged on Node, Bun,
 * Deno and workerd. `run.mjs` bundles it with the vectors (see `build.mjs`) and runs it in each.
 *
 * Time is fixed: the vectors are from November 2023, so every check passes `freshness: false` or an
 * explicit `now`. Failure details name the vector (its timestamp or encoding), never a key or credential.
 */
import * as shim from 'smileid-auth-shim'
import * as fetchShim from 'smileid-auth-shim/fetch'
import { fixtures } from './fixtures.mjs'

/** 2023-11-14T22:13:20.000Z, the instant every vector was made for. */
const T0 = 1_700_000_000_000
const WINDOW = { maxAgeMs: 300_000, maxFutureMs: 300_000 }

class CheckFailed extends Error {}

function assert(condition, message) {
  if (!condition) throw new CheckFailed(message)
}

function describe(result) {
  if (result === null || typeof result !== 'object') return `non-object result (${typeof result})`
  return result.ok
    ? `ok (scheme ${result.scheme}, warnings [${result.warnings}])`
    : `rejected: ${result.reason}`
}

/** Asserts an accepted result with the given fields. */
function expectOk(result, expected, label) {
  assert(result?.ok === true, `${label}: expected ok, got ${describe(result)}`)
  for (const [field, value] of Object.entries(expected)) {
    assert(
      Object.is(result[field], value),
      `${label}: ${field} is ${JSON.stringify(result[field])}, expected ${JSON.stringify(value)}`,
    )
  }
  assert(Array.isArray(result.warnings), `${label}: warnings is not an array`)
  assert(typeof result.keyId === 'string' && result.keyId.length > 0, `${label}: keyId missing`)
}

/** Asserts a rejected result with the given reason code. */
function expectFail(result, reason, label) {
  assert(result?.ok === false, `${label}: expected ${reason}, got ${describe(result)}`)
  assert(result.reason === reason, `${label}: reason is ${result.reason}, expected ${reason}`)
  assert(typeof result.message === 'string', `${label}: message missing`)
}

/** Asserts that `fn` throws a ConfigurationError with `code`. */
function expectConfigError(api, fn, code, label) {
  let thrown
  try {
    fn()
  } catch (error) {
    thrown = error
  }
  assert(thrown !== undefined, `${label}: did not throw`)
  assert(
    thrown instanceof api.ConfigurationError,
    `${label}: threw ${thrown?.name ?? typeof thrown}, not ConfigurationError`,
  )
  assert(thrown.code === code, `${label}: code ${thrown.code}, expected ${code}`)
}

/** Replaces the character at `index` with another one of the same alphabet. */
function mutateAt(text, index, alphabet) {
  const current = text[index]
  const next = alphabet[(alphabet.indexOf(current) + 1) % alphabet.length]
  return text.slice(0, index) + next + text.slice(index + 1)
}
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const HEX_ALPHABET = '0123456789abcdef'

/** The instant each signature-vector spelling denotes, and whether it carries no zone. */
function expectedInstant(timestamp) {
  const naive = /T\d\d:\d\d:\d\d(?:\.\d+)?$/.test(timestamp)
  return { ms: T0 + (timestamp.includes('.123') ? 123 : 0), naive }
}

/**
 * Runs every check and returns `{ passed, failed, results: [{ name, ok, detail }] }`.
 *
 * `options.api` and `options.fetchApi` replace the library's core and `/fetch` entries (the negative
 * control in `self-check.mjs` passes broken stand-ins to prove each check can fail).
 */
export async function runConformance(options = {}) {
  const api = options.api ?? shim
  const fetchApi = options.fetchApi ?? fetchShim
  const results = []

  async function check(name, fn) {
    try {
      await fn()
      results.push({ name, ok: true, detail: '' })
    } catch (error) {
      const detail =
        error instanceof CheckFailed
          ? error.message
          : `threw ${error?.name ?? 'error'}: ${error?.message ?? error}`
      results.push({ name, ok: false, detail: String(detail).slice(0, 500) })
    }
  }

  const sig = fixtures.signature
  const sk = fixtures.secKey
  const signatureAuth = () => new api.SignatureAuth({ partnerId: sig.partnerId, apiKey: sig.apiKey })
  const publicAuth = (apiKey = sk.apiKeys.b64_spki_pem) =>
    new api.LegacySecKeyAuth({ partnerId: sk.partnerId, apiKey })
  const privateAuth = (privateKey = sk.privateKeys.pkcs8) =>
    new api.LegacySecKeyAuth({ partnerId: sk.partnerId, privateKey })

  // ---- signature scheme -------------------------------------------------------------------------------

  await check('signature: all 11 cross-SDK timestamp spellings verify', async () => {
    const auth = signatureAuth()
    for (const v of sig.vectors) {
      const result = await auth.verify({ signature: v.signature, timestamp: v.timestamp })
      expectOk(
        result,
        { scheme: 'signature', partnerId: sig.partnerId, timestamp: v.timestamp, legacy: false },
        v.timestamp,
      )
      assert(!result.keyId.includes(sig.apiKey), `${v.timestamp}: keyId reveals the api key`)
    }
  })

  await check('signature: sign() reproduces every vector byte for byte', async () => {
    const auth = signatureAuth()
    for (const v of sig.vectors) {
      const signed = await auth.sign({ timestamp: v.timestamp })
      assert(signed.timestamp === v.timestamp, `${v.timestamp}: timestamp not echoed`)
      assert(signed.signature === v.signature, `${v.timestamp}: signature differs from the SDKs'`)
    }
  })

  await check('signature: issuedAt read from every spelling; naive ones flagged', async () => {
    const auth = signatureAuth()
    for (const v of sig.vectors) {
      const result = await auth.verify({ signature: v.signature, timestamp: v.timestamp })
      assert(result.ok, `${v.timestamp}: ${describe(result)}`)
      const { ms, naive } = expectedInstant(v.timestamp)
      assert(result.issuedAt instanceof Date, `${v.timestamp}: issuedAt is not a Date`)
      assert(
        result.issuedAt.getTime() === ms,
        `${v.timestamp}: issuedAt ${result.issuedAt.getTime()}, expected ${ms}`,
      )
      assert(
        result.warnings.includes('timestamp_naive') === naive,
        `${v.timestamp}: timestamp_naive warning should be ${naive}`,
      )
    }
  })

  await check('signature: partner id signed verbatim ("085" and "85" differ)', async () => {
    const [asPortal, asInt] = sig.partnerIdVariants
    const auth085 = signatureAuth()
    const auth85 = new api.SignatureAuth({ partnerId: asInt.partner_id, apiKey: sig.apiKey })
    expectOk(await auth085.verify(asPortal), { partnerId: '085' }, '"085" vector, partner "085"')
    expectFail(await auth085.verify(asInt), 'invalid_signature', '"85" vector, partner "085"')
    expectOk(await auth85.verify(asInt), { partnerId: '85' }, '"85" vector, partner "85"')
    expectFail(await auth85.verify(asPortal), 'invalid_signature', '"085" vector, partner "85"')
  })

  await check('signature: JS SDK test-suite vector (api key "1234", partner "002")', async () => {
    const v = sig.jsSuite
    const auth = new api.SignatureAuth({ partnerId: v.partner_id, apiKey: v.api_key })
    expectOk(
      await auth.verify({ signature: v.signature, timestamp: v.timestamp }),
      { partnerId: '002' },
      'js suite',
    )
    assert(
      (await auth.sign({ timestamp: v.timestamp })).signature === v.signature,
      'sign() differs from the JS suite',
    )
  })

  await check(
    'signature: JSON-number timestamps as String(n), and Node SDK 3.x ISO form with timestamp_coerced',
    async () => {
      const auth = signatureAuth()
      for (const n of sig.numeric) {
        const [stringForm, isoForm] = [
          Object.entries(n).find(([k]) => k.startsWith('ruby/php'))[1],
          Object.entries(n).find(([k]) => k.startsWith('node>=3.1.0'))[1],
        ]
        const plain = await auth.verify({ signature: stringForm, timestamp: n.input })
        expectOk(plain, { timestamp: n.input }, `${n.input} as String(n)`)
        assert(
          !plain.warnings.includes('timestamp_coerced'),
          `${n.input} as String(n): unexpected timestamp_coerced`,
        )
        const coerced = await auth.verify({ signature: isoForm, timestamp: n.input })
        expectOk(coerced, { timestamp: n.input }, `${n.input} as Node 3.x ISO`)
        assert(
          coerced.warnings.includes('timestamp_coerced'),
          `${n.input} as Node 3.x ISO: no timestamp_coerced warning`,
        )
      }
    },
  )

  await check('signature: Java 1.0.x local-time value verifies only as the string it hashed', async () => {
    const bug = sig.javaLocalTimeBug
    const auth = signatureAuth()
    expectOk(
      await auth.verify({ signature: bug.signature, timestamp: bug.string_actually_hashed }),
      {},
      'as hashed',
    )
    expectFail(
      await auth.verify({ signature: bug.signature, timestamp: new Date(bug.timestamp_ms).toISOString() }),
      'invalid_signature',
      'as the UTC instant',
    )
  })

  await check('signature: tampered signature rejected as invalid_signature', async () => {
    const auth = signatureAuth()
    const v = sig.vectors[0]
    for (const index of [0, 7, 21, 41, 42]) {
      const tampered = mutateAt(v.signature, index, BASE64_ALPHABET)
      expectFail(
        await auth.verify({ signature: tampered, timestamp: v.timestamp }),
        'invalid_signature',
        `char ${index} changed`,
      )
    }
  })

  await check("signature: tampered timestamp and other vectors' signatures rejected", async () => {
    const auth = signatureAuth()
    const [a, b] = sig.vectors
    expectFail(
      await auth.verify({ signature: a.signature, timestamp: '2023-11-14T22:13:21.000Z' }),
      'invalid_signature',
      '+1 s',
    )
    expectFail(
      await auth.verify({ signature: a.signature, timestamp: b.timestamp }),
      'invalid_signature',
      'equivalent spelling',
    )
    expectFail(
      await auth.verify({ signature: a.signature, timestamp: ` ${a.timestamp}` }),
      'invalid_signature',
      'leading space',
    )
  })

  await check('signature: wrong api key rejected', async () => {
    const auth = new api.SignatureAuth({ partnerId: sig.partnerId, apiKey: `${sig.apiKey}x` })
    const v = sig.vectors[0]
    expectFail(
      await auth.verify({ signature: v.signature, timestamp: v.timestamp }),
      'invalid_signature',
      'other key',
    )
  })

  await check('signature: malformed and missing credentials', async () => {
    const auth = signatureAuth()
    const v = sig.vectors[0]
    const cases = [
      [{ signature: v.signature.slice(0, 43), timestamp: v.timestamp }, 'malformed_credentials', 'unpadded'],
      [
        { signature: v.signature.replace(/\+/g, '-').replace(/\//g, '_'), timestamp: v.timestamp },
        'malformed_credentials',
        'url-safe',
      ],
      [{ signature: `${v.signature}AAAA`, timestamp: v.timestamp }, 'malformed_credentials', 'too long'],
      [{ signature: 12345, timestamp: v.timestamp }, 'malformed_credentials', 'number'],
      [{ timestamp: v.timestamp }, 'missing_credentials', 'no signature'],
      [{ signature: v.signature }, 'missing_credentials', 'no timestamp'],
      [{ signature: '', timestamp: v.timestamp }, 'missing_credentials', 'empty signature'],
      [null, 'missing_credentials', 'null'],
      ['signature', 'malformed_credentials', 'a string'],
    ]
    for (const [credentials, reason, label] of cases)
      expectFail(await auth.verify(credentials), reason, label)
  })

  await check(
    'signature: key rotation — all keys verify, the first signs, keyId names the match',
    async () => {
      const v = sig.vectors[0]
      const rotated = new api.SignatureAuth({
        partnerId: sig.partnerId,
        apiKey: ['new-key-not-yet-live', sig.apiKey],
      })
      const single = signatureAuth()
      const other = new api.SignatureAuth({ partnerId: sig.partnerId, apiKey: 'new-key-not-yet-live' })
      const viaRotated = await rotated.verify({ signature: v.signature, timestamp: v.timestamp })
      const viaSingle = await single.verify({ signature: v.signature, timestamp: v.timestamp })
      expectOk(viaRotated, {}, 'old key in rotation list')
      expectOk(viaSingle, {}, 'single key')
      assert(viaRotated.keyId === viaSingle.keyId, 'keyId differs for the same key')
      const signedByNew = await rotated.sign({ timestamp: v.timestamp })
      assert(signedByNew.signature !== v.signature, 'rotation list did not sign with its first key')
      const viaNew = await other.verify(signedByNew)
      expectOk(viaNew, {}, 'new key')
      assert(viaNew.keyId !== viaSingle.keyId, 'two keys share a keyId')
    },
  )

  await check('signature: freshness window when asked (expired, future, unreadable)', async () => {
    const auth = signatureAuth()
    const v = sig.vectors[0]
    const at = (now) => ({ freshness: { ...WINDOW, now } })
    expectOk(await auth.verify(v, at(T0 + 299_000)), {}, '299 s old')
    expectOk(await auth.verify(v, at(new Date(T0 - 299_000))), {}, '299 s ahead (Date now)')
    expectFail(await auth.verify(v, at(T0 + 301_000)), 'timestamp_expired', '301 s old')
    expectFail(
      await auth.verify(
        v,
        at(() => T0 - 301_000),
      ),
      'timestamp_in_future',
      '301 s ahead (clock now)',
    )
    const odd = await auth.sign({ timestamp: 'not a time' })
    expectOk(await auth.verify(odd), {}, 'unreadable timestamp without freshness')
    expectFail(await auth.verify(odd, at(T0)), 'malformed_credentials', 'unreadable timestamp with freshness')
  })

  await check('signature: configuration errors throw ConfigurationError with a stable code', () => {
    expectConfigError(
      api,
      () => new api.SignatureAuth({ partnerId: 85, apiKey: sig.apiKey }),
      'invalid_partner_id',
      'numeric partner id',
    )
    expectConfigError(
      api,
      () => new api.SignatureAuth({ partnerId: '', apiKey: sig.apiKey }),
      'invalid_partner_id',
      'empty partner id',
    )
    expectConfigError(
      api,
      () => new api.SignatureAuth({ partnerId: '085', apiKey: '' }),
      'missing_key',
      'empty api key',
    )
    expectConfigError(
      api,
      () => new api.SignatureAuth({ partnerId: '085', apiKey: [] }),
      'missing_key',
      'empty key list',
    )
  })

  // ---- sec_key scheme ---------------------------------------------------------------------------------

  await check(
    'sec_key: server-direction vectors verify with the public key in every api-key encoding',
    async () => {
      const keyIds = new Set()
      for (const [encoding, apiKey] of Object.entries(sk.apiKeys)) {
        const auth = publicAuth(apiKey)
        for (const v of sk.serverDirection) {
          const result = await auth.verify({ sec_key: v.server_sec_key, timestamp: v.timestamp })
          expectOk(
            result,
            { scheme: 'sec_key', partnerId: sk.partnerId, timestamp: v.timestamp, legacy: true },
            `${encoding}, ${v.timestamp}`,
          )
          keyIds.add(result.keyId)
        }
      }
      assert(keyIds.size === 1, `one key, ${keyIds.size} different keyIds across encodings`)
    },
  )

  await check(
    'sec_key: server role signs the deterministic vectors byte for byte (PKCS#1 and PKCS#8)',
    async () => {
      for (const [format, privateKey] of Object.entries(sk.privateKeys)) {
        const auth = privateAuth(privateKey)
        for (const v of sk.serverDirection) {
          const signed = await auth.sign({ timestamp: v.timestamp })
          assert(signed.timestamp === v.timestamp, `${format}, ${v.timestamp}: timestamp not echoed`)
          assert(
            signed.sec_key === v.server_sec_key,
            `${format}, ${v.timestamp}: sec_key differs from the vector`,
          )
        }
      }
    },
  )

  await check('sec_key: partner-direction SDK samples verify with the private key', async () => {
    const auth = privateAuth()
    for (const s of sk.partnerDirection) {
      const result = await auth.verify({ sec_key: s.sec_key, timestamp: s.timestamp })
      expectOk(result, { scheme: 'sec_key', timestamp: s.timestamp, legacy: true }, `${s.sdk} ${s.version}`)
    }
  })

  await check('sec_key: partner sign() is randomized and round-trips through the server role', async () => {
    const partner = publicAuth()
    const server = privateAuth(sk.privateKeys.pkcs1)
    const a = await partner.sign({ timestamp: T0 })
    const b = await partner.sign({ timestamp: T0 })
    assert(a.timestamp === T0, 'timestamp not echoed')
    assert(a.sec_key !== b.sec_key, 'two type-2 encryptions are identical')
    assert(a.sec_key.split('|')[1] === b.sec_key.split('|')[1], 'hash halves differ for one timestamp')
    expectOk(await server.verify(a), { timestamp: T0 }, 'first value')
    expectOk(await server.verify(b), { timestamp: T0 }, 'second value')
    const defaulted = await partner.sign()
    assert(
      typeof defaulted.timestamp === 'number' && Number.isInteger(defaulted.timestamp),
      'default timestamp is not epoch ms',
    )
    expectOk(await server.verify(defaulted), {}, 'default timestamp')
  })

  await check(
    'sec_key: hash half is sha256hex(int(partner id) + ":" + timestamp) for s, ms and strings',
    async () => {
      const server = privateAuth()
      for (const v of sk.hashHalves) {
        const signed = await server.sign({ timestamp: v.timestamp })
        assert(
          signed.sec_key.split('|')[1] === v.hash_half,
          `${JSON.stringify(v.timestamp)}: hash half differs`,
        )
      }
    },
  )

  await check('sec_key: Ruby MIME line breaks in the RSA half are accepted', async () => {
    const auth = publicAuth()
    for (const v of sk.serverDirection) {
      const [rsaHalf, hashHalf] = v.server_sec_key.split('|')
      const wrapped = `${rsaHalf.replace(/(.{60})/g, '$1\n')}\n|${hashHalf}`
      expectOk(await auth.verify({ sec_key: wrapped, timestamp: v.timestamp }), {}, `${v.timestamp}`)
    }
  })

  await check('sec_key: tampered values rejected as invalid_sec_key', async () => {
    const auth = publicAuth()
    const [v, w] = sk.serverDirection
    const [rsaHalf, hashHalf] = v.server_sec_key.split('|')
    const [, otherHash] = w.server_sec_key.split('|')
    const cases = [
      [`${rsaHalf}|${mutateAt(hashHalf, 5, HEX_ALPHABET)}`, v.timestamp, 'hash half changed'],
      [`${mutateAt(rsaHalf, 10, BASE64_ALPHABET)}|${hashHalf}`, v.timestamp, 'RSA half changed'],
      [v.server_sec_key, v.timestamp + 1, 'timestamp changed'],
      [v.server_sec_key, String(v.timestamp * 1000), 'seconds presented as ms'],
      [`${rsaHalf}|${otherHash}`, w.timestamp, 'RSA half of another value, consistent hash half'],
      [`${'A'.repeat(rsaHalf.length - 4)}AAA=|${hashHalf}`, v.timestamp, 'garbage RSA half'],
      [`${rsaHalf.slice(4)}|${hashHalf}`, v.timestamp, 'short RSA half'],
      [
        sk.partnerDirection[0].sec_key,
        sk.partnerDirection[0].timestamp,
        'partner-direction value given to the public key',
      ],
    ]
    for (const [secKey, timestamp, label] of cases) {
      expectFail(await auth.verify({ sec_key: secKey, timestamp }), 'invalid_sec_key', label)
    }
    const server = privateAuth()
    expectFail(
      await server.verify({ sec_key: v.server_sec_key, timestamp: v.timestamp }),
      'invalid_sec_key',
      'server-direction value given to the private key',
    )
    const s = sk.partnerDirection[0]
    expectFail(
      await server.verify({ sec_key: s.sec_key, timestamp: s.timestamp + 1 }),
      'invalid_sec_key',
      'partner value, timestamp changed',
    )
  })

  await check('sec_key: malformed and missing credentials', async () => {
    const auth = publicAuth()
    const v = sk.serverDirection[0]
    const [rsaHalf, hashHalf] = v.server_sec_key.split('|')
    const cases = [
      [{ sec_key: rsaHalf, timestamp: v.timestamp }, 'malformed_credentials', 'no hash half'],
      [
        { sec_key: `${rsaHalf}|${hashHalf.toUpperCase()}`, timestamp: v.timestamp },
        'malformed_credentials',
        'upper-case hex',
      ],
      [{ sec_key: `${rsaHalf}|${hashHalf}|x`, timestamp: v.timestamp }, 'malformed_credentials', 'two bars'],
      [
        { sec_key: `%%%|${hashHalf}`, timestamp: v.timestamp },
        'malformed_credentials',
        'RSA half not base64',
      ],
      [{ timestamp: v.timestamp }, 'missing_credentials', 'no sec_key'],
      [{ sec_key: v.server_sec_key }, 'missing_credentials', 'no timestamp'],
      [undefined, 'missing_credentials', 'undefined'],
    ]
    for (const [credentials, reason, label] of cases)
      expectFail(await auth.verify(credentials), reason, label)
  })

  await check('sec_key: issuedAt and freshness for second and millisecond timestamps', async () => {
    const auth = publicAuth()
    for (const v of sk.serverDirection.filter((x) => typeof x.timestamp === 'number')) {
      const credentials = { sec_key: v.server_sec_key, timestamp: v.timestamp }
      const result = await auth.verify(credentials)
      expectOk(result, {}, `${v.timestamp}`)
      assert(
        result.issuedAt?.getTime() === T0,
        `${v.timestamp}: issuedAt ${result.issuedAt?.getTime()}, expected ${T0}`,
      )
      expectOk(
        await auth.verify(credentials, { freshness: { ...WINDOW, now: T0 + 60_000 } }),
        {},
        `${v.timestamp}, 1 min old`,
      )
      expectFail(
        await auth.verify(credentials, { freshness: { ...WINDOW, now: T0 + 600_000 } }),
        'timestamp_expired',
        `${v.timestamp}, 10 min old`,
      )
      expectFail(
        await auth.verify(credentials, { freshness: { ...WINDOW, now: T0 - 600_000 } }),
        'timestamp_in_future',
        `${v.timestamp}, 10 min ahead`,
      )
    }
  })

  await check('sec_key: configuration errors throw ConfigurationError with a stable code', () => {
    const apiKey = sk.apiKeys.b64_spki_pem
    const L = api.LegacySecKeyAuth
    expectConfigError(
      api,
      () => new L({ partnerId: 'abc', apiKey }),
      'invalid_partner_id',
      'non-digit partner id',
    )
    expectConfigError(
      api,
      () => new L({ partnerId: '085', apiKey: 'bm90IGEga2V5' }),
      'invalid_api_key',
      'not a key',
    )
    expectConfigError(
      api,
      () => new L({ partnerId: '085', privateKey: apiKey }),
      'invalid_private_key',
      'public key as private',
    )
    expectConfigError(api, () => new L({ partnerId: '085' }), 'missing_key', 'no key')
    expectConfigError(
      api,
      () => new L({ partnerId: '085', apiKey, privateKey: sk.privateKeys.pkcs8 }),
      'invalid_options',
      'both keys',
    )
  })

  // ---- dual-mode verifier -----------------------------------------------------------------------------

  const sigVector = sig.vectors[0]
  const skVector = sk.serverDirection[2] // ISO string timestamp: same instant as sigVector
  const signatureBody = (extra = {}) => ({
    partner_id: '085',
    signature: sigVector.signature,
    timestamp: sigVector.timestamp,
    ...extra,
  })
  const secKeyBody = (extra = {}) => ({
    partner_id: '085',
    sec_key: skVector.server_sec_key,
    timestamp: skVector.timestamp,
    ...extra,
  })
  const verifier = (extra = {}) =>
    new api.DualModeVerifier({
      partnerId: '085',
      signature: signatureAuth(),
      secKey: publicAuth(),
      freshness: false,
      ...extra,
    })

  await check('verifier: accepts both schemes and reports which one', async () => {
    const v = verifier()
    expectOk(
      await v.verify({ body: signatureBody() }),
      { scheme: 'signature', legacy: false, transport: 'body', duplicate: false },
      'signature body',
    )
    expectOk(
      await v.verify({ body: secKeyBody() }),
      { scheme: 'sec_key', legacy: true, transport: 'body' },
      'sec_key body',
    )
    expectOk(
      await v.verify({ body: { sec_key: skVector.server_sec_key, timestamp: skVector.timestamp } }),
      { scheme: 'sec_key', partnerId: '085' },
      'no partner id in body',
    )
  })

  await check('verifier: SmileID-* headers, case-insensitive', async () => {
    const headers = {
      'smileid-partner-id': '085',
      'SmileID-Request-Signature': sigVector.signature,
      'SMILEID-TIMESTAMP': sigVector.timestamp,
    }
    expectOk(
      await verifier().verify({ headers, body: { job: 1 } }),
      { scheme: 'signature', transport: 'headers' },
      'plain object',
    )
    expectOk(
      await verifier().verify({ headers: new Headers(headers), body: { job: 1 } }),
      { transport: 'headers' },
      'Headers instance',
    )
  })

  await check(
    'verifier: a legacy value in a `signature` field is classified as sec_key by its shape',
    async () => {
      const result = await verifier().verify({
        body: { signature: skVector.server_sec_key, timestamp: skVector.timestamp },
      })
      expectOk(result, { scheme: 'sec_key', legacy: true }, 'job_status style')
    },
  )

  await check('verifier: with both credentials a bad signature never falls back to sec_key', async () => {
    const tampered = mutateAt(sigVector.signature, 3, BASE64_ALPHABET)
    const body = { ...secKeyBody(), signature: tampered }
    const result = await verifier().verify({ body })
    expectFail(result, 'invalid_signature', 'bad signature + good sec_key')
    assert(result.scheme === 'signature', `scheme ${result.scheme}, expected signature`)
    expectOk(
      await verifier().verify({ body: { ...secKeyBody(), signature: sigVector.signature } }),
      { scheme: 'signature' },
      'both good',
    )
  })

  await check('verifier: tampered and missing credentials rejected with their reason', async () => {
    const v = verifier()
    expectFail(
      await v.verify({ body: signatureBody({ timestamp: '2023-11-14T22:13:21.000Z' }) }),
      'invalid_signature',
      'signature timestamp changed',
    )
    expectFail(
      await v.verify({ body: secKeyBody({ timestamp: `${skVector.timestamp} ` }) }),
      'invalid_sec_key',
      'sec_key timestamp changed',
    )
    expectFail(
      await v.verify({ body: { partner_id: '085', job: 1 } }),
      'missing_credentials',
      'no credentials',
    )
    expectFail(
      await v.verify({ body: signatureBody({ partner_id: '086' }) }),
      'unknown_partner',
      'other partner',
    )
  })

  await check('verifier: legacy policy warn / reject / sunset', async () => {
    const warned = await verifier({ policy: { legacy: 'warn' } }).verify({ body: secKeyBody() })
    expectOk(warned, { scheme: 'sec_key' }, 'warn')
    assert(warned.warnings.includes('legacy_scheme'), 'warn: no legacy_scheme warning')
    const rejected = await verifier({ policy: { legacy: 'reject' } }).verify({ body: secKeyBody() })
    expectFail(rejected, 'scheme_not_allowed', 'reject')
    const sunset = verifier({ policy: { legacySunsetAt: new Date(T0 - 1000) }, now: () => T0 })
    expectFail(await sunset.verify({ body: secKeyBody() }), 'scheme_not_allowed', 'after sunset')
    expectOk(
      await sunset.verify({ body: signatureBody() }),
      { scheme: 'signature' },
      'signature after sunset',
    )
  })

  await check('verifier: default 5-minute freshness with an injected clock', async () => {
    const at = (ms) =>
      new api.DualModeVerifier({
        partnerId: '085',
        signature: signatureAuth(),
        secKey: publicAuth(),
        now: () => ms,
      })
    expectOk(await at(T0 + 240_000).verify({ body: signatureBody() }), {}, 'signature, 4 min old')
    expectOk(await at(T0 - 240_000).verify({ body: secKeyBody() }), {}, 'sec_key, 4 min ahead')
    expectFail(
      await at(T0 + 360_000).verify({ body: signatureBody() }),
      'timestamp_expired',
      'signature, 6 min old',
    )
    expectFail(
      await at(T0 + 360_000).verify({ body: secKeyBody() }),
      'timestamp_expired',
      'sec_key, 6 min old',
    )
    expectFail(
      await at(T0 - 360_000).verify({ body: signatureBody() }),
      'timestamp_in_future',
      'signature, 6 min ahead',
    )
  })

  await check('verifier: replay store — redelivery is a duplicate, another body is replayed', async () => {
    const v = verifier({ replay: new api.MemoryReplayStore(), now: () => T0 })
    const body = signatureBody({ job_id: 'job-1' })
    expectOk(await v.verify({ body }), { duplicate: false }, 'first delivery')
    expectOk(await v.verify({ body: { ...body } }), { duplicate: true }, 'redelivery')
    expectFail(
      await v.verify({ body: { ...body, job_id: 'job-2' } }),
      'replayed',
      'same credential, other body',
    )
  })

  await check('verifier: verifyOrThrow throws VerificationError with the reason code', async () => {
    const v = verifier()
    let thrown
    try {
      await v.verifyOrThrow({
        body: signatureBody({ signature: mutateAt(sigVector.signature, 0, BASE64_ALPHABET) }),
      })
    } catch (error) {
      thrown = error
    }
    assert(
      thrown instanceof api.VerificationError,
      `threw ${thrown?.name ?? 'nothing'}, not VerificationError`,
    )
    assert(
      thrown.code === 'invalid_signature' && thrown.result?.reason === 'invalid_signature',
      `code ${thrown.code}`,
    )
    const ok = await v.verifyOrThrow({ body: signatureBody() })
    expectOk(ok, { scheme: 'signature' }, 'valid request')
  })

  await check(
    'verifier: JSON-number timestamp signed by Node SDK 3.x accepted with timestamp_coerced',
    async () => {
      const n = sig.numeric[0]
      const isoForm = Object.entries(n).find(([k]) => k.startsWith('node>=3.1.0'))[1]
      const result = await verifier().verify({
        body: { partner_id: '085', signature: isoForm, timestamp: n.input },
      })
      expectOk(result, { scheme: 'signature', timestamp: n.input }, 'numeric timestamp')
      assert(result.warnings.includes('timestamp_coerced'), 'no timestamp_coerced warning')
    },
  )

  await check('verifier: one audit event per verification, without secrets', async () => {
    const events = []
    const v = verifier({ audit: (event) => events.push(event) })
    await v.verify({ body: signatureBody() }, { route: '/callback' })
    await v.verify({ body: secKeyBody() })
    await v.verify({ body: signatureBody({ timestamp: '2023-11-14T22:13:21.000Z' }) })
    assert(events.length === 3, `${events.length} events for 3 verifications`)
    const [first, second, third] = events
    assert(
      first.outcome === 'accepted' && first.scheme === 'signature' && first.route === '/callback',
      'first event wrong',
    )
    assert(second.outcome === 'accepted' && second.scheme === 'sec_key', 'second event wrong')
    assert(third.outcome === 'rejected' && third.reason === 'invalid_signature', 'third event wrong')
    const text = JSON.stringify(events)
    for (const secret of [
      sig.apiKey,
      sigVector.signature,
      skVector.server_sec_key,
      skVector.server_sec_key.split('|')[0],
    ]) {
      assert(!text.includes(secret), 'an audit event contains a key or credential')
    }
  })

  await check(
    'signer: MigratingSigner bodies and headers are accepted by a Smile-side verifier',
    async () => {
      const server = new api.DualModeVerifier({
        partnerId: '085',
        signature: signatureAuth(),
        secKey: privateAuth(),
        now: () => T0,
      })
      for (const use of ['signature', 'sec_key']) {
        const signer = new api.MigratingSigner({ signature: signatureAuth(), secKey: publicAuth(), use })
        const timestamp = use === 'signature' ? new Date(T0).toISOString() : T0
        const body = await signer.signBody({ job_id: 'job-9' }, { timestamp })
        assert(
          body.partner_id === '085' && body.job_id === 'job-9' && body.timestamp === timestamp,
          `${use}: signBody fields`,
        )
        expectOk(await server.verify({ body }), { scheme: use }, `${use} body`)
        const signed = await signer.sign({ timestamp })
        assert(signed.scheme === use, `${use}: sign() reports ${signed.scheme}`)
        expectOk(await server.verify({ body: signed.credentials }), { scheme: use }, `${use} credentials`)
      }
      const signer = new api.MigratingSigner({ signature: signatureAuth(), use: 'signature' })
      const headers = await signer.headers({ timestamp: new Date(T0).toISOString() })
      expectOk(
        await server.verify({ headers, body: {} }),
        { scheme: 'signature', transport: 'headers' },
        'headers()',
      )
    },
  )

  // ---- Fetch API adapter (the entry Workers, Bun and Deno use) ----------------------------------------------

  const post = (body, headers = {}) =>
    new Request('https://partner.example/smile/callback', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })

  await check('fetch adapter: withSmileIdAuth hands verified Requests to the handler', async () => {
    const seen = []
    const handle = fetchApi.withSmileIdAuth(verifier(), (request, { auth, body }, env) => {
      seen.push({ scheme: auth.scheme, jobId: body.job_id, env })
      return Response.json({ scheme: auth.scheme })
    })
    const viaSignature = await handle(post(signatureBody({ job_id: 'a' })), 'env-binding')
    const viaSecKey = await handle(post(secKeyBody({ job_id: 'b' })), 'env-binding')
    assert(
      viaSignature.status === 200 && viaSecKey.status === 200,
      `statuses ${viaSignature.status}, ${viaSecKey.status}`,
    )
    assert((await viaSecKey.json()).scheme === 'sec_key', 'handler response lost')
    assert(
      seen.length === 2 && seen[0].scheme === 'signature' && seen[1].scheme === 'sec_key',
      'handler saw the wrong schemes',
    )
    assert(
      seen[0].jobId === 'a' && seen[1].env === 'env-binding',
      'handler lost the body or the extra arguments',
    )
  })

  await check(
    'fetch adapter: refusals answer 401 { error: reason } or 400 for non-JSON, handler not called',
    async () => {
      let calls = 0
      const handle = fetchApi.withSmileIdAuth(verifier(), () => {
        calls++
        return new Response('handled')
      })
      const tampered = await handle(
        post(signatureBody({ signature: mutateAt(sigVector.signature, 9, BASE64_ALPHABET) })),
      )
      assert(tampered.status === 401, `tampered: status ${tampered.status}`)
      assert((await tampered.json()).error === 'invalid_signature', 'tampered: error code')
      const missing = await handle(post({ job_id: 'x' }))
      assert(
        missing.status === 401 && (await missing.json()).error === 'missing_credentials',
        'missing: status or code',
      )
      const notJson = await handle(post('{not json'))
      assert(notJson.status === 400, `not JSON: status ${notJson.status}`)
      assert(calls === 0, `handler called ${calls} times for refused requests`)
    },
  )

  await check('fetch adapter: verifyRequest reads SmileID-* headers from a Request', async () => {
    const request = post(
      { job_id: 'h' },
      {
        'SmileID-Partner-ID': '085',
        'SmileID-Request-Signature': sigVector.signature,
        'SmileID-Timestamp': sigVector.timestamp,
      },
    )
    const verification = await fetchApi.verifyRequest(verifier(), request)
    assert(
      verification.ok === true && verification.status === 200,
      `status ${verification.status}, error ${verification.error}`,
    )
    expectOk(verification.result, { scheme: 'signature', transport: 'headers' }, 'headers')
    assert(verification.body?.job_id === 'h', 'body not returned')
  })

  const passed = results.filter((r) => r.ok).length
  return { passed, failed: results.length - passed, results }
}
