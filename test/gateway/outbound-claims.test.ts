/**
 * The outbound gateway reads what an app's request claims with the verifier's claim reader
 * (src/claims.ts): a sec_key in a field named `signature` is a sec_key (re-signed, never passed on), every
 * partner id in headers and body must agree, and `"085"` / `"85"` find one partner. In-process through
 * startGateway, with a recording server as Smile ID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { parseGatewayConfig, resolveGatewayConfig } from '../../src/gateway/config.js'
import { jsonLogger } from '../../src/gateway/log.js'
import { startGateway } from '../../src/gateway/server.js'
import { SignatureAuth } from '../../src/schemes/signature.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { send, startUpstream, type Upstream } from './harness.js'

const keys = createTestKeys({ partnerId: '085' })
const verifier = new SignatureAuth({ partnerId: '085', apiKey: keys.signatureApiKey })
/** A value of the sec_key shape (`<base64>|<64 hex>`): the shape decides, not the field name. */
const SEC_KEY = `${'QUJD'.repeat(32)}|${'0a'.repeat(32)}`

let smile: Upstream
let gateway: Awaited<ReturnType<typeof startGateway>>
let base: string

beforeAll(async () => {
  smile = await startUpstream('smile')
  const config = resolveGatewayConfig(
    parseGatewayConfig({
      partnerId: '085',
      signature: { apiKeyEnv: 'TEST_SIGNATURE_KEY' },
      outbound: { listen: { host: '127.0.0.1', port: 0 }, smileBaseUrl: smile.url },
    }),
    { env: { TEST_SIGNATURE_KEY: keys.signatureApiKey } },
  )
  gateway = await startGateway(config, { log: jsonLogger(() => undefined, Date.now) })
  base = `http://127.0.0.1:${gateway.outbound!.port}`
})
afterAll(async () => {
  await gateway.close()
  await smile.close()
})

/** Sends a body (and headers) out; returns the answer and what reached Smile, if anything. */
async function out(body: Record<string, unknown>, headers: Record<string, string | string[]> = {}) {
  const before = smile.requests.length
  const reply = await send(base, '/v1/id_verification', { body: JSON.stringify(body), headers })
  const reached = smile.requests.slice(before)
  return {
    reply,
    reached:
      reached.length === 0 ? undefined : (JSON.parse(reached[0]!.body.toString()) as Record<string, unknown>),
  }
}

describe('outbound: credentials as the claim reader tells them', () => {
  it('a sec_key in a field named signature is re-signed with a valid signature, never passed on', async () => {
    const { reply, reached } = await out({
      partner_id: '085',
      job_id: 'j1',
      signature: SEC_KEY,
      timestamp: 1,
    })
    expect(reply.status, reply.body).toBe(201)
    expect(reached).toBeDefined()
    expect(JSON.stringify(reached)).not.toContain(SEC_KEY.split('|')[1])
    expect(await verifier.verify(reached)).toMatchObject({ ok: true, scheme: 'signature' })
  })

  it('a sec_key beside a signature is stripped and the request re-signed', async () => {
    const signed = await verifier.sign()
    const { reply, reached } = await out({ partner_id: '085', job_id: 'j2', ...signed, sec_key: SEC_KEY })
    expect(reply.status, reply.body).toBe(201)
    expect(reached).not.toHaveProperty('sec_key')
    expect(await verifier.verify(reached)).toMatchObject({ ok: true })
  })
})

describe('outbound: partner ids as the verifier reads them', () => {
  it('"85" finds the partner configured as "085", and the request is signed for "085"', async () => {
    const { reply, reached } = await out({ partner_id: '85', job_id: 'j3' })
    expect(reply.status, reply.body).toBe(201)
    expect(reached).toMatchObject({ partner_id: '085' })
    expect(await verifier.verify(reached)).toMatchObject({ ok: true })
  })

  it.each([
    ['an id that shares digits ("0850")', { partner_id: '0850' }],
    ['another id', { partner_id: '086' }],
  ])('%s: 400 unknown_partner, nothing signed', async (_name, fields) => {
    const { reply, reached } = await out({ ...fields, job_id: 'j4' })
    expect(reply.status).toBe(400)
    expect(JSON.parse(reply.body)).toEqual({ error: 'unknown_partner' })
    expect(reached).toBeUndefined()
  })

  it.each([
    ['partner_id and smile_client_id disagree', { partner_id: '085', smile_client_id: '086' }, {}],
    [
      'the SmileID-Partner-ID header and partner_id disagree',
      { partner_id: '085' },
      { 'smileid-partner-id': '086' },
    ],
    ['a partner id that is not one', { partner_id: { id: '085' } }, {}],
  ])('%s: 400 malformed_credentials, nothing signed for either', async (_name, fields, headers) => {
    const { reply, reached } = await out({ ...fields, job_id: 'j5' }, headers)
    expect(reply.status).toBe(400)
    expect(JSON.parse(reply.body)).toEqual({ error: 'malformed_credentials' })
    expect(reached).toBeUndefined()
  })

  it('agreeing spellings ("085" and "0085") are one partner', async () => {
    const { reply, reached } = await out({ partner_id: '085', smile_client_id: '0085', job_id: 'j6' })
    expect(reply.status, reply.body).toBe(201)
    expect(await verifier.verify(reached)).toMatchObject({ ok: true })
  })
})
