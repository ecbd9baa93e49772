import { describe, expect, it } from 'vitest'

import { partnerKey, readClaim, readTimestampClaim, samePartner, type ClaimResult } from '../../src/claims.js'
import type { VerificationResult } from '../../src/index.js'
import {
  API_KEY,
  NOW,
  PARTNER,
  SEC_KEY_API_KEY,
  dualVerifier,
  secKeyBody,
  signatureBody,
} from '../verifier/helpers.js'
import { mimeWrap } from '../schemes/helpers.js'
import { json, run } from './helpers.js'

// One table of requests, classified four ways: by the claim reader (src/claims.ts), by DualModeVerifier,
// by `inspect` and by `verify`. The classification covers what a request claims and how its claims are
// judged: the scheme and transport, missing or malformed claims (shape, repeated headers, conflicting
// partner ids), partner id equality against the configured partner ("085" and "85" are one partner, any
// other id is not), and the timestamp claim. Every request is signed correctly for PARTNER, so a row
// that classifies as accepted is accepted by the verifier, and a verifier refusal is a claim refusal.

interface Request {
  body: Record<string, unknown>
  /** Node-style: lowercase names, a header sent twice as an array (what `-H` twice gives). */
  headers?: Record<string, string | string[]>
}

interface Row {
  name: string
  request: () => Promise<Request>
  /** `<scheme>/<transport> <partnerKey>` when the claims are usable, else the reason. */
  expected: string
}

const TS = new Date(NOW).toISOString()
const signed = (fields: Record<string, unknown> = {}) => signatureBody({ fields })
const legacy = (fields: Record<string, unknown> = {}) => secKeyBody({ fields })

/** The signature credential of a body as SmileID-* headers; the body keeps everything else. */
async function inHeaders(
  fields: Record<string, unknown> = {},
  extra: Record<string, string | string[]> = {},
): Promise<Request> {
  const { signature, timestamp, ...rest } = await signed(fields)
  return {
    body: rest,
    headers: {
      'smileid-request-signature': signature as string,
      'smileid-timestamp': timestamp as string,
      ...extra,
    },
  }
}

const ROWS: Row[] = [
  {
    name: 'signature in the body, partner_id',
    request: async () => ({ body: await signed({ partner_id: PARTNER }) }),
    expected: 'signature/body 85',
  },
  {
    name: 'signature in the body, no partner named',
    request: async () => ({ body: await signed() }),
    expected: 'signature/body 85',
  },
  {
    name: 'signature in the body, partner_id "85" for "085"',
    request: async () => ({ body: await signed({ partner_id: '85' }) }),
    expected: 'signature/body 85',
  },
  {
    name: 'signature in the body, smile_client_id "0085" and partner_id "085"',
    request: async () => ({ body: await signed({ partner_id: PARTNER, smile_client_id: '0085' }) }),
    expected: 'signature/body 85',
  },
  {
    name: 'sec_key in the body',
    request: async () => ({ body: await legacy({ partner_id: PARTNER }) }),
    expected: 'sec_key/body 85',
  },
  {
    name: 'sec_key in the body, partner_id a JSON number',
    request: async () => ({ body: await legacy({ partner_id: 85 }) }),
    expected: 'sec_key/body 85',
  },
  {
    name: 'sec_key in a field named signature',
    request: async () => {
      const { sec_key, ...rest } = await legacy({ partner_id: PARTNER })
      return { body: { ...rest, signature: sec_key } }
    },
    expected: 'sec_key/body 85',
  },
  {
    name: 'MIME-wrapped sec_key in a field named signature',
    request: async () => {
      const { sec_key, ...rest } = await legacy({ partner_id: PARTNER })
      const [rsa, hash] = (sec_key as string).split('|')
      return { body: { ...rest, signature: `${mimeWrap(rsa!)}|${hash}` } }
    },
    expected: 'sec_key/body 85',
  },
  {
    name: 'empty signature, sec_key present',
    request: async () => ({ body: { ...(await legacy({ partner_id: PARTNER })), signature: '' } }),
    expected: 'sec_key/body 85',
  },
  {
    name: 'both credentials in the body: the signature decides',
    request: async () => {
      const { sec_key } = await legacy()
      return { body: await signed({ partner_id: PARTNER, sec_key }) }
    },
    expected: 'signature/body 85',
  },
  {
    name: 'signature headers',
    request: () => inHeaders({}, { 'smileid-partner-id': PARTNER }),
    expected: 'signature/headers 85',
  },
  {
    name: 'signature headers over a body sec_key',
    request: async () => {
      const { sec_key } = await legacy()
      return inHeaders({ sec_key }, { 'smileid-partner-id': PARTNER })
    },
    expected: 'signature/headers 85',
  },
  {
    name: 'no credentials',
    request: async () => ({ body: { partner_id: PARTNER, timestamp: TS } }),
    expected: 'missing_credentials',
  },
  {
    name: 'empty object',
    request: async () => ({ body: {} }),
    expected: 'missing_credentials',
  },
  {
    name: 'signature header twice',
    request: async () => {
      const request = await inHeaders()
      const signature = request.headers!['smileid-request-signature'] as string
      request.headers!['smileid-request-signature'] = [signature, signature]
      return request
    },
    expected: 'malformed_credentials',
  },
  {
    name: 'partner header twice, body credential',
    request: async () => ({
      body: await signed(),
      headers: { 'smileid-partner-id': [PARTNER, PARTNER] },
    }),
    expected: 'malformed_credentials',
  },
  {
    name: 'partner_id an object',
    request: async () => ({ body: await signed({ partner_id: { id: PARTNER } }) }),
    expected: 'malformed_credentials',
  },
  {
    name: 'partner_id of 65 characters',
    request: async () => ({ body: await signed({ partner_id: '0'.repeat(63) + '85' }) }),
    expected: 'malformed_credentials',
  },
  {
    name: 'partner_id and smile_client_id disagree',
    request: async () => ({ body: await signed({ partner_id: PARTNER, smile_client_id: '086' }) }),
    expected: 'malformed_credentials',
  },
  {
    name: 'header and body disagree, body transport',
    request: async () => ({
      body: await signed({ partner_id: PARTNER }),
      headers: { 'smileid-partner-id': '212' },
    }),
    expected: 'malformed_credentials',
  },
  {
    name: 'header and body disagree, headers transport',
    request: () => inHeaders({ partner_id: '212' }, { 'smileid-partner-id': PARTNER }),
    expected: 'malformed_credentials',
  },
  {
    name: 'another partner',
    request: async () => ({ body: await signed({ partner_id: '200' }) }),
    expected: 'unknown_partner',
  },
  {
    name: 'another partner that shares digits ("850")',
    request: async () => ({ body: await signed({ partner_id: '850' }) }),
    expected: 'unknown_partner',
  },
  {
    name: 'signature body without a timestamp',
    request: async () => {
      const { timestamp: _, ...rest } = await signed({ partner_id: PARTNER })
      return { body: rest }
    },
    expected: 'missing_credentials',
  },
  {
    name: 'signature headers without SmileID-Timestamp, a timestamp in the body',
    request: async () => {
      const request = await inHeaders({ partner_id: PARTNER, timestamp: TS })
      delete request.headers!['smileid-timestamp']
      return request
    },
    expected: 'missing_credentials',
  },
  {
    name: 'a timestamp of 65 characters',
    request: async () => ({
      body: { ...(await signed({ partner_id: PARTNER })), timestamp: `${TS}${' '.repeat(41)}` },
    }),
    expected: 'malformed_credentials',
  },
  {
    name: 'a timestamp that is an object',
    request: async () => ({ body: { ...(await legacy({ partner_id: PARTNER })), timestamp: { ms: NOW } } }),
    expected: 'malformed_credentials',
  },
]

const usable = (scheme: string, transport: string, partnerId: string | null) =>
  `${scheme}/${transport} ${partnerKey(partnerId ?? PARTNER)}`

/** The claim reader's classification, judged against a verifier configured for PARTNER. */
function fromClaim(claim: ClaimResult): string {
  if (!claim.ok) return claim.reason
  if (claim.partnerId !== null && !samePartner(claim.partnerId, PARTNER)) return 'unknown_partner'
  const timestamp = readTimestampClaim(claim.timestamp)
  if (!timestamp.ok) return timestamp.reason
  return usable(claim.scheme, claim.transport, claim.partnerId)
}

function fromResult(result: VerificationResult): string {
  return result.ok ? usable(result.scheme, result.transport, result.partnerId) : result.reason
}

interface Inspection {
  scheme: string | null
  transport: string | null
  partnerId: string | null
  findings: Array<{ code: string }>
}

/** `inspect`'s classification, from the findings it reports about the claims. */
function fromInspection(report: Inspection): string {
  const codes = new Set(report.findings.map((finding) => finding.code))
  if (report.scheme === null)
    return codes.has('no_credential') ? 'missing_credentials' : 'malformed_credentials'
  if (codes.has('partner_id_malformed')) return 'malformed_credentials'
  if (codes.has('partner_id_mismatch')) return 'unknown_partner'
  if (codes.has('timestamp_missing')) return 'missing_credentials'
  if (codes.has('timestamp_malformed')) return 'malformed_credentials'
  return usable(report.scheme, report.transport!, report.partnerId)
}

/** `-H` flags for a header record (a header sent twice becomes the flag given twice). */
function headerFlags(headers: Request['headers']): string[] {
  return Object.entries(headers ?? {}).flatMap(([name, value]) =>
    [value].flat().flatMap((text) => ['-H', `${name}: ${text}`]),
  )
}

const KEYS = { SMILEID_API_KEY: API_KEY, SMILEID_SEC_KEY_API_KEY: SEC_KEY_API_KEY }
const now = () => NOW

describe('parity: claims.ts, DualModeVerifier, inspect and verify classify one table alike', () => {
  it.each(ROWS.map((row) => [row.name, row] as const))('%s', async (_, row) => {
    const request = await row.request()
    const flags = headerFlags(request.headers)
    const input = JSON.stringify(request.body)

    const claim = fromClaim(readClaim(request.body, request.headers))
    const verifier = fromResult(await dualVerifier().verify(request as never))
    const inspected = await run(['inspect', '--partner-id', PARTNER, '--format', 'json', ...flags], {
      input,
      now,
    })
    expect([0, 1], inspected.stderr).toContain(inspected.code)
    const verified = await run(['verify', '--partner-id', PARTNER, '--format', 'json', ...flags], {
      input,
      env: KEYS,
      now,
    })
    expect([0, 1], verified.stderr).toContain(verified.code)

    expect({
      claim,
      verifier,
      inspect: fromInspection(json<Inspection>(inspected)),
      verify: fromResult(json<VerificationResult>(verified)),
    }).toEqual({ claim: row.expected, verifier: row.expected, inspect: row.expected, verify: row.expected })
    // verify's exit code follows its result.
    expect(verified.code).toBe(row.expected.includes('/') ? 0 : 1)
  })

  it.each(
    ROWS.filter((row) => row.expected === 'malformed_credentials').map((row) => [row.name, row] as const),
  )('verify without --partner-id refuses a malformed claim as the verifier does: %s', async (_, row) => {
    const request = await row.request()
    const result = await run(['verify', '--format', 'json', ...headerFlags(request.headers)], {
      input: JSON.stringify(request.body),
      env: KEYS,
      now,
    })
    const expected = await dualVerifier().verify(request as never)
    expect(result.code, result.stderr).toBe(1)
    const printed = json<VerificationResult>(result)
    expect(printed).toMatchObject({ ok: false, reason: 'malformed_credentials' })
    expect(printed).toEqual(expected)
  })
})

describe('inspect names the claim a verifier refuses', () => {
  const inspectCodes = async (request: Request) => {
    const result = await run(['inspect', '--format', 'json', ...headerFlags(request.headers)], {
      input: JSON.stringify(request.body),
      now,
    })
    expect(result.code, result.stderr).toBe(1)
    return json<Inspection & { likelyCause: { code: string; message: string } }>(result)
  }

  it('partner ids that disagree: partner_id_malformed, and no partner id reported', async () => {
    const report = await inspectCodes({ body: await signed({ partner_id: PARTNER, smile_client_id: '086' }) })
    expect(report).toMatchObject({ scheme: 'signature', partnerId: null })
    expect(report.likelyCause.code).toBe('partner_id_malformed')
    expect(report.likelyCause.message).toMatch(/more than one partner.*malformed_credentials/)
  })

  it('a SmileID header sent twice: credentials_malformed, no scheme told', async () => {
    const request = await inHeaders()
    const signature = request.headers!['smileid-request-signature'] as string
    request.headers!['smileid-request-signature'] = [signature, signature]
    const report = await inspectCodes(request)
    expect(report).toMatchObject({ scheme: null, transport: null })
    expect(report.likelyCause.code).toBe('credentials_malformed')
  })

  it('a header-signed request reads its timestamp from SmileID-Timestamp only, as the verifier does', async () => {
    const request = await inHeaders({ partner_id: PARTNER, timestamp: TS })
    delete request.headers!['smileid-timestamp']
    const report = await inspectCodes(request)
    expect(report).toMatchObject({ scheme: 'signature', transport: 'headers', timestamp: null })
    expect(report.likelyCause.code).toBe('timestamp_missing')
  })
})
