import { beforeAll, describe, expect, it } from 'vitest'

import {
  isSecKeyShape,
  partnerIdText,
  partnerKey,
  readClaim,
  readCredentialClaim,
  readHeader,
  readPartnerClaim,
  readTimestampClaim,
  samePartner,
  type ClaimResult,
} from '../src/claims.js'
import type { VerificationResult } from '../src/index.js'
import { SmileServerSimulator } from '../src/testing/simulator.js'
import {
  API_KEY,
  NOW,
  PARTNER,
  PRIVATE_KEY,
  SEC_KEY_API_KEY,
  dualVerifier,
  secKeyBody,
  signatureAuth,
  signatureBody,
} from './verifier/helpers.js'
import { mimeWrap } from './schemes/helpers.js'

describe('partner id equality', () => {
  it.each([
    ['085', '85', true],
    ['085', '0085', true],
    ['0', '000', true],
    ['085', '085', true],
    ['085', '850', false],
    ['085', '86', false],
    ['acme', 'acme', true],
    ['acme', 'ACME', false],
    ['085', ' 85', false],
    ['085', '85.0', false],
    ['085', '+85', false],
    // Beyond 15 digits an id is compared as it is: no float rounding decides identity.
    ['0000000000000085', '85', false],
    ['9007199254740993', '9007199254740992', false],
  ])('%j and %j: same partner %s', (a, b, same) => {
    expect(samePartner(a, b)).toBe(same)
    expect(samePartner(b, a)).toBe(same)
    expect(partnerKey(a) === partnerKey(b)).toBe(same)
  })

  it('reads partner id claims as text', () => {
    expect([partnerIdText('085'), partnerIdText(85), partnerIdText(0)]).toEqual(['085', '85', '0'])
    for (const bad of [
      '',
      'x'.repeat(65),
      -1,
      1.5,
      Number.NaN,
      2 ** 53,
      {},
      ['085'],
      true,
      null,
      undefined,
    ]) {
      expect(partnerIdText(bad)).toBeNull()
    }
  })
})

describe('readHeader', () => {
  it('reads plain objects in any case, Node arrays and Fetch Headers', () => {
    expect(readHeader({ 'SmileID-Timestamp': 'a' }, 'SmileID-Timestamp')).toBe('a')
    expect(readHeader({ 'smileid-timestamp': 'a' }, 'SmileID-Timestamp')).toBe('a')
    expect(readHeader({ 'SMILEID-TIMESTAMP': 'a' }, 'SmileID-Timestamp')).toBe('a')
    expect(readHeader({ 'smileid-timestamp': ['a'] }, 'SmileID-Timestamp')).toBe('a')
    expect(readHeader(new Headers({ 'SmileID-Timestamp': 'a' }), 'SmileID-Timestamp')).toBe('a')
    expect(readHeader({}, 'SmileID-Timestamp')).toBeUndefined()
    expect(readHeader(undefined, 'SmileID-Timestamp')).toBeUndefined()
  })

  it('gives null for a duplicated or unreadable header, and never throws', () => {
    expect(readHeader({ 'smileid-timestamp': ['a', 'b'] }, 'SmileID-Timestamp')).toBeNull()
    expect(readHeader({ 'smileid-timestamp': { a: 1 } }, 'SmileID-Timestamp')).toBeNull()
    const throwing = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom')
        },
      },
    )
    expect(readHeader(throwing, 'SmileID-Timestamp')).toBeNull()
    expect(
      readHeader(
        {
          get: () => {
            throw new Error('boom')
          },
        },
        'SmileID-Timestamp',
      ),
    ).toBeNull()
  })
})

describe('shapes', () => {
  const rsa = 'QUJD'.repeat(32)
  it.each([
    [`${rsa}|${'a'.repeat(64)}`, true],
    [`${rsa}|${'A'.repeat(64)}`, true],
    [`${mimeWrap(rsa)}|${'a'.repeat(64)}`, true],
    [` ${rsa}|${'a'.repeat(64)}\n`, true],
    [`${rsa}|${'a'.repeat(63)}`, false],
    [`${rsa}|${'g'.repeat(64)}`, false],
    [`${rsa}|${'a'.repeat(64)}|x`, false],
    [`|${'a'.repeat(64)}`, false],
    [`${'A'.repeat(4096)}|${'a'.repeat(64)}`, false],
    ['tQ6xq6Bj7sM3AzV1bAxs1jK5TgBaebIp8Vx0vtvYdmM=', false],
    [42, false],
  ])('isSecKeyShape(%j) is %s', (value, shape) => {
    expect(isSecKeyShape(value)).toBe(shape)
  })

  it('reads timestamp claims without altering them', () => {
    expect(readTimestampClaim('2023-11-14T22:13:20.000Z')).toEqual({
      ok: true,
      value: '2023-11-14T22:13:20.000Z',
    })
    expect(readTimestampClaim(1_700_000_000)).toEqual({ ok: true, value: 1_700_000_000 })
    for (const missing of [undefined, null, '']) {
      expect(readTimestampClaim(missing)).toMatchObject({ ok: false, reason: 'missing_credentials' })
    }
    for (const bad of ['x'.repeat(65), Number.NaN, Infinity, {}, ['1'], true]) {
      expect(readTimestampClaim(bad)).toMatchObject({ ok: false, reason: 'malformed_credentials' })
    }
  })
})

// ---------------------------------------------------------------------------------------------------
// Every combination of partner claims: header, partner_id and smile_client_id, each absent or one of
// several spellings, over every transport. Any two that name different partners are malformed.
// ---------------------------------------------------------------------------------------------------

/** A spelling of a partner id claim and the partner it denotes (`null`: absent). */
const SPELLINGS: Array<{ value: unknown; partner: string | null }> = [
  { value: undefined, partner: null },
  { value: '085', partner: '85' },
  { value: '85', partner: '85' },
  { value: 85, partner: '85' },
  { value: '212', partner: '212' },
]
const HEADER_SPELLINGS = SPELLINGS.filter((s) => typeof s.value !== 'number')

type Transport = 'body signature' | 'body sec_key' | 'sec_key in signature field' | 'headers'
const TRANSPORTS: Transport[] = ['body signature', 'body sec_key', 'sec_key in signature field', 'headers']

const COMBINATIONS = TRANSPORTS.flatMap((transport) =>
  HEADER_SPELLINGS.flatMap((header) =>
    SPELLINGS.flatMap((partnerId) =>
      SPELLINGS.map((smileClientId) => ({ transport, header, partnerId, smileClientId })),
    ),
  ),
)

let signed: Record<Transport, { body: Record<string, unknown>; headers: Record<string, string> }>

beforeAll(async () => {
  const sig = await signatureBody()
  const sec = await secKeyBody()
  const { sec_key, ...secRest } = sec
  const headerCredentials = await signatureAuth().sign({ timestamp: new Date(NOW) })
  signed = {
    'body signature': { body: sig, headers: {} },
    'body sec_key': { body: sec, headers: {} },
    'sec_key in signature field': { body: { ...secRest, signature: sec_key }, headers: {} },
    headers: {
      body: { job_id: 'job-1' },
      headers: {
        'SmileID-Request-Signature': headerCredentials.signature,
        'SmileID-Timestamp': headerCredentials.timestamp,
      },
    },
  }
})

/**
 * The test kit's Smile ID simulator over the vector keys, at the vectors' instant. It plays Smile's side:
 * it checks partner → Smile sec_keys (type-2), so the table's Smile → partner sec_keys (type-1) fail its
 * crypto as `invalid_sec_key`, and, as Smile's API does, it needs a partner id on every request. Everything
 * else, what a request claims included, it must read exactly as the verifier does.
 */
function simulator(): SmileServerSimulator {
  const keys = {
    partnerId: PARTNER,
    signatureApiKey: API_KEY,
    secKeyApiKey: SEC_KEY_API_KEY,
    secKeyPrivateKey: PRIVATE_KEY,
  }
  return new SmileServerSimulator(keys, { now: () => NOW })
}

/** How the simulator must answer a request that `readClaim` read as `claim` and the verifier answered with `result`. */
function expectSimulatorParity(
  simulated: VerificationResult,
  result: VerificationResult,
  claim: ClaimResult,
  at: string,
): void {
  expect(simulated.scheme, at).toBe(result.scheme)
  if (!claim.ok) {
    // Claims the reader refuses: the same refusal as the verifier's, for the same partner (none).
    expect(result, at).toMatchObject({ ok: false, reason: claim.reason })
    expect(simulated, at).toMatchObject({ ok: false, reason: claim.reason, partnerId: result.partnerId })
  } else if (claim.partnerId === null) {
    expect(simulated, at).toMatchObject({ ok: false, reason: 'missing_credentials' })
  } else if (!samePartner(claim.partnerId, PARTNER)) {
    expect(result, at).toMatchObject({ ok: false, reason: 'unknown_partner' })
    expect(simulated, at).toMatchObject({ ok: false, reason: 'unknown_partner' })
  } else if (result.ok && result.scheme === 'sec_key') {
    // The verifier's type-1 sec_key is not what a partner sends Smile.
    expect(simulated, at).toMatchObject({ ok: false, reason: 'invalid_sec_key' })
  } else if (result.ok) {
    expect(simulated, at).toMatchObject({ ok: true, transport: result.transport })
  } else {
    expect(simulated, at).toMatchObject({ ok: false, reason: result.reason })
  }
}

function requestFor(c: (typeof COMBINATIONS)[number]) {
  const { body, headers } = signed[c.transport]
  const withClaims: Record<string, unknown> = { ...body }
  if (c.partnerId.value !== undefined) withClaims.partner_id = c.partnerId.value
  if (c.smileClientId.value !== undefined) withClaims.smile_client_id = c.smileClientId.value
  const withHeaders: Record<string, string> = { ...headers }
  if (c.header.value !== undefined) withHeaders['SmileID-Partner-ID'] = c.header.value as string
  return { body: withClaims, headers: withHeaders }
}

const label = (c: (typeof COMBINATIONS)[number]) =>
  `${c.transport}: header ${JSON.stringify(c.header.value)}, partner_id ${JSON.stringify(c.partnerId.value)}, smile_client_id ${JSON.stringify(c.smileClientId.value)}`

describe('conflicting partner claims, every combination', () => {
  it(`covers ${COMBINATIONS.length} combinations`, () => {
    expect(COMBINATIONS.length).toBe(4 * 4 * 5 * 5)
  })

  it('readClaim and DualModeVerifier refuse every disagreement as malformed_credentials', async () => {
    const verifier = dualVerifier()
    let conflicts = 0
    for (const c of COMBINATIONS) {
      const named = new Set(
        [c.header, c.partnerId, c.smileClientId].map((s) => s.partner).filter((p) => p !== null),
      )
      const claim = readClaim(requestFor(c).body, requestFor(c).headers)
      // readClaim reads the partner inline (hot path); readPartnerClaim is the same rule, standalone.
      const partner = readPartnerClaim(
        requestFor(c).body,
        requestFor(c).headers,
        c.transport === 'headers' ? 'headers' : 'body',
      )
      expect(partner.ok, label(c)).toBe(named.size <= 1)
      if (partner.ok && claim.ok) {
        expect([partner.partnerId, partner.source, partner.isNumber], label(c)).toEqual([
          claim.partnerId,
          claim.partnerIdSource,
          claim.partnerIdIsNumber,
        ])
      }
      const result = await verifier.verify(requestFor(c))
      const scheme = c.transport === 'headers' || c.transport === 'body signature' ? 'signature' : 'sec_key'
      if (named.size > 1) {
        conflicts++
        expect(claim, label(c)).toMatchObject({
          ok: false,
          reason: 'malformed_credentials',
          partnerId: null,
          scheme,
        })
        expect(result, label(c)).toMatchObject({
          ok: false,
          reason: 'malformed_credentials',
          partnerId: null,
          scheme,
        })
      } else if (named.has('212')) {
        expect(claim, label(c)).toMatchObject({ ok: true, scheme })
        expect(result, label(c)).toMatchObject({ ok: false, reason: 'unknown_partner', scheme })
      } else {
        expect(claim, label(c)).toMatchObject({ ok: true, scheme })
        // One partner, however spelled: attributed to the configured id, never to the request's spelling.
        expect(result, label(c)).toMatchObject({ ok: true, scheme, partnerId: PARTNER })
      }
    }
    // Per transport, 100 combinations of which 55 agree: 1 naming nobody, 47 naming only 085 in some
    // spelling (3 × 4 × 4 − 1), 7 naming only 212 (2 × 2 × 2 − 1).
    expect(conflicts).toBe(4 * 45)
  })

  it('the test kit simulator refuses every disagreement as the verifier does, in both schemes', async () => {
    const verifier = dualVerifier()
    const smile = simulator()
    let accepted = 0
    for (const c of COMBINATIONS) {
      const claim = readClaim(requestFor(c).body, requestFor(c).headers)
      const result = await verifier.verify(requestFor(c))
      const { body, headers } = requestFor(c)
      const simulated = await smile.verifyPartnerRequest(body, { headers })
      expectSimulatorParity(simulated, result, claim, label(c))
      if (simulated.ok) accepted++
    }
    // Signature requests (body and headers) naming only 085, in any spelling: 47 each.
    expect(accepted).toBe(2 * 47)
  })

  it('readCredentialClaim reads the credential whatever the partner claims say, for tools that report both', () => {
    const body = { partner_id: '085', smile_client_id: '212', signature: 'x', timestamp: 't' }
    expect(readCredentialClaim(body)).toEqual({
      ok: true,
      scheme: 'signature',
      transport: 'body',
      credentials: { signature: 'x', timestamp: 't' },
      credential: 'x',
      timestamp: 't',
      both: false,
      secKeyInSignatureField: false,
    })
    expect(readPartnerClaim(body, undefined)).toMatchObject({ ok: false, reason: 'malformed_credentials' })
    expect(readClaim(body)).toMatchObject({ ok: false, reason: 'malformed_credentials', scheme: 'signature' })
    expect(readCredentialClaim(throwingGetter('signature'))).toMatchObject({
      ok: false,
      reason: 'malformed_credentials',
    })
  })

  it("reports the transport's own spelling when the claims agree", () => {
    const body = { partner_id: '085', smile_client_id: 85, signature: 'x', timestamp: 't' }
    expect(readClaim(body, { 'SmileID-Partner-ID': '0085' })).toMatchObject({
      partnerId: '085',
      partnerIdSource: 'partner_id',
      partnerIdIsNumber: false,
    })
    expect(readPartnerClaim({ smile_client_id: 85 }, undefined)).toEqual({
      ok: true,
      partnerId: '85',
      source: 'smile_client_id',
      isNumber: true,
    })
    expect(
      readClaim(body, {
        'SmileID-Partner-ID': '0085',
        'SmileID-Request-Signature': 's',
        'SmileID-Timestamp': 't',
      }),
    ).toMatchObject({ transport: 'headers', partnerId: '0085', partnerIdSource: 'header' })
  })
})

// ---------------------------------------------------------------------------------------------------
// Parity: one table of requests, classified by readClaim and by DualModeVerifier alike.
// ---------------------------------------------------------------------------------------------------

interface Row {
  name: string
  request: () => { body?: unknown; headers?: unknown }
}

const ROWS: Row[] = [
  { name: 'signature in the body', request: () => ({ body: signed['body signature'].body }) },
  { name: 'sec_key in the body', request: () => ({ body: signed['body sec_key'].body }) },
  {
    name: 'sec_key in a field named signature',
    request: () => ({ body: signed['sec_key in signature field'].body }),
  },
  {
    name: 'MIME-wrapped sec_key in a field named signature',
    request: () => {
      const body = signed['sec_key in signature field'].body
      const [rsa, hash] = String(body.signature).split('|')
      return { body: { ...body, signature: `${mimeWrap(rsa!)}|${hash!}` } }
    },
  },
  {
    name: 'uppercase-hex sec_key in a field named signature',
    request: () => {
      const body = signed['sec_key in signature field'].body
      const [rsa, hash] = String(body.signature).split('|')
      return { body: { ...body, signature: `${rsa!}|${hash!.toUpperCase()}` } }
    },
  },
  { name: 'signature headers', request: () => signed.headers },
  {
    name: 'signature headers, lowercase, Node arrays',
    request: () => ({
      body: {},
      headers: Object.fromEntries(
        Object.entries(signed.headers.headers).map(([k, v]) => [k.toLowerCase(), [v]]),
      ),
    }),
  },
  {
    name: 'signature headers as Fetch Headers',
    request: () => ({ body: {}, headers: new Headers(signed.headers.headers) }),
  },
  {
    name: 'signature headers over a body sec_key',
    request: () => ({ body: signed['body sec_key'].body, headers: signed.headers.headers }),
  },
  {
    name: 'both credentials in the body',
    request: () => ({
      body: { ...signed['body sec_key'].body, signature: signed['body signature'].body.signature },
    }),
  },
  {
    name: 'a sec_key value in signature beside a sec_key field',
    request: () => ({
      body: { ...signed['body sec_key'].body, signature: signed['body sec_key'].body.sec_key },
    }),
  },
  {
    name: 'empty signature, sec_key present',
    request: () => ({ body: { ...signed['body sec_key'].body, signature: '' } }),
  },
  { name: 'no credentials', request: () => ({ body: { job_id: 'job-1', partner_id: '085' } }) },
  { name: 'no body, no headers', request: () => ({}) },
  { name: 'empty object', request: () => ({ body: {} }) },
  {
    name: 'signature header twice',
    request: () => ({
      headers: {
        'smileid-request-signature': ['a', 'b'],
        'smileid-timestamp': 't',
        'smileid-partner-id': '085',
      },
    }),
  },
  {
    name: 'timestamp header twice',
    request: () => ({ headers: { 'smileid-request-signature': 'a', 'smileid-timestamp': ['t', 'u'] } }),
  },
  {
    name: 'partner header twice',
    request: () => ({
      body: signed['body signature'].body,
      headers: { 'smileid-partner-id': ['085', '085'] },
    }),
  },
  {
    name: 'partner_id an object',
    request: () => ({ body: { ...signed['body signature'].body, partner_id: { id: '085' } } }),
  },
  {
    name: 'partner_id a number',
    request: () => ({ body: { ...signed['body sec_key'].body, partner_id: 85 } }),
  },
  {
    name: 'partner_id 65 characters',
    request: () => ({ body: { ...signed['body sec_key'].body, partner_id: '1'.repeat(65) } }),
  },
  {
    name: 'another partner',
    request: () => ({ body: { ...signed['body signature'].body, partner_id: '212' } }),
  },
  {
    name: 'header and body disagree, body transport',
    request: () => ({
      body: { ...signed['body signature'].body, partner_id: '085' },
      headers: { 'SmileID-Partner-ID': '212' },
    }),
  },
  {
    name: 'header and body disagree, headers transport',
    request: () => ({
      body: { partner_id: '212' },
      headers: { ...signed.headers.headers, 'SmileID-Partner-ID': '085' },
    }),
  },
  { name: 'signature of the wrong shape', request: () => ({ body: { signature: 'abc', timestamp: 't' } }) },
  { name: 'signature a number', request: () => ({ body: { signature: 42, timestamp: 't' } }) },
  { name: 'sec_key without a bar', request: () => ({ body: { sec_key: 'abc', timestamp: 't' } }) },
  { name: 'a throwing getter in the body', request: () => ({ body: throwingGetter('signature') }) },
  {
    name: 'headers that throw',
    request: () => ({
      body: {},
      headers: new Proxy(
        {},
        {
          ownKeys: () => {
            throw new Error('x')
          },
        },
      ),
    }),
  },
]

function throwingGetter(field: string): Record<string, unknown> {
  return Object.defineProperty({}, field, {
    enumerable: true,
    get() {
      throw new Error('boom')
    },
  })
}

/** What both sides must agree on. */
function fromClaim(claim: ClaimResult) {
  return claim.ok
    ? { scheme: claim.scheme, reason: null, transport: claim.transport, partnerId: claim.partnerId }
    : { scheme: claim.scheme, reason: claim.reason, transport: null, partnerId: claim.partnerId }
}

describe('parity: readClaim and DualModeVerifier classify one table alike', () => {
  it.each(ROWS.map((row) => [row.name, row] as const))('%s', async (_, row) => {
    const request = row.request()
    const claim = fromClaim(readClaim(request.body, request.headers))
    const result: VerificationResult = await dualVerifier().verify(request as never)
    // The scheme the verifier names is the scheme the claim reader told.
    expect(result.scheme).toBe(claim.scheme)
    if (claim.reason !== null) {
      // A claim the reader refuses is refused by the verifier for the same reason, before anything else.
      expect(result).toMatchObject({ ok: false, reason: claim.reason, partnerId: claim.partnerId })
      return
    }
    if (result.ok) {
      expect(result.transport).toBe(claim.transport)
      expect(samePartner(result.partnerId, claim.partnerId ?? PARTNER)).toBe(true)
    } else if (result.reason === 'unknown_partner') {
      expect(samePartner(claim.partnerId!, PARTNER)).toBe(false)
    } else {
      // A later stage refused it (a credential of the wrong shape): for the partner the claim named.
      expect(samePartner(result.partnerId!, claim.partnerId ?? PARTNER)).toBe(true)
    }
  })

  it.each(ROWS.map((row) => [row.name, row] as const))(
    'the test kit simulator reads %s as the verifier does',
    async (_, row) => {
      const request = row.request()
      const claim = readClaim(request.body, request.headers)
      const result = await dualVerifier().verify(request as never)
      const simulated = await simulator().verifyPartnerRequest(request.body, {
        headers: request.headers as never,
      })
      expectSimulatorParity(simulated, result, claim, row.name)
      if (claim.ok && claim.partnerId === null && typeof request.body === 'object') {
        // Named as Smile's API needs it, the rest of the request must meet the verifier's answer.
        const named = { ...request, body: { ...(request.body as object), partner_id: PARTNER } }
        const claimNamed = readClaim(named.body, named.headers)
        const resultNamed = await dualVerifier().verify(named as never)
        const simulatedNamed = await simulator().verifyPartnerRequest(named.body, {
          headers: named.headers as never,
        })
        expectSimulatorParity(simulatedNamed, resultNamed, claimNamed, `${row.name}, with partner_id`)
      }
    },
  )

  it('classifies the table as expected', () => {
    const table = Object.fromEntries(
      ROWS.map((row) => {
        const request = row.request()
        const claim = readClaim(request.body, request.headers)
        return [row.name, claim.ok ? `${claim.scheme}/${claim.transport}` : `${claim.reason}`]
      }),
    )
    expect(table).toEqual({
      'signature in the body': 'signature/body',
      'sec_key in the body': 'sec_key/body',
      'sec_key in a field named signature': 'sec_key/body',
      'MIME-wrapped sec_key in a field named signature': 'sec_key/body',
      'uppercase-hex sec_key in a field named signature': 'sec_key/body',
      'signature headers': 'signature/headers',
      'signature headers, lowercase, Node arrays': 'signature/headers',
      'signature headers as Fetch Headers': 'signature/headers',
      'signature headers over a body sec_key': 'signature/headers',
      'both credentials in the body': 'signature/body',
      'a sec_key value in signature beside a sec_key field': 'signature/body',
      'empty signature, sec_key present': 'sec_key/body',
      'no credentials': 'missing_credentials',
      'no body, no headers': 'missing_credentials',
      'empty object': 'missing_credentials',
      'signature header twice': 'malformed_credentials',
      'timestamp header twice': 'malformed_credentials',
      'partner header twice': 'malformed_credentials',
      'partner_id an object': 'malformed_credentials',
      'partner_id a number': 'sec_key/body',
      'partner_id 65 characters': 'malformed_credentials',
      'another partner': 'signature/body',
      'header and body disagree, body transport': 'malformed_credentials',
      'header and body disagree, headers transport': 'malformed_credentials',
      'signature of the wrong shape': 'signature/body',
      'signature a number': 'signature/body',
      'sec_key without a bar': 'sec_key/body',
      'a throwing getter in the body': 'malformed_credentials',
      'headers that throw': 'malformed_credentials',
    })
  })

  it('tells both credentials and a legacy value in the signature field apart', () => {
    const both = readClaim(ROWS[9]!.request().body)
    expect(both).toMatchObject({ ok: true, scheme: 'signature', both: true, secKeyInSignatureField: false })
    const legacy = readClaim(ROWS[2]!.request().body)
    expect(legacy).toMatchObject({ ok: true, scheme: 'sec_key', both: false, secKeyInSignatureField: true })
    const headers = readClaim(ROWS[8]!.request().body, ROWS[8]!.request().headers)
    expect(headers).toMatchObject({ ok: true, transport: 'headers', both: true })
  })
})
