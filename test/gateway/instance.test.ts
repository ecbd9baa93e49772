/**
 * The gateway names itself in every audit record, inbound and outbound: config `instance`, by default the
 * host name (the verifier's default), so that a fleet's merged logs say which gateway wrote each record.
 * In-process through startGateway: no child process is needed to read what the audit file holds.
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

import { parseGatewayConfig, resolveGatewayConfig, GatewayConfigError } from '../../src/gateway/config.js'
import { jsonLogger } from '../../src/gateway/log.js'
import { startGateway } from '../../src/gateway/server.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { SmileServerSimulator } from '../../src/testing/simulator.js'
import { send, signedCallback, startUpstream, tempDir } from './harness.js'

const keys = createTestKeys({ partnerId: '085' })
const smile = new SmileServerSimulator(keys)
const temp = tempDir()
afterAll(() => temp.remove())
const env = { TEST_SIGNATURE_KEY: keys.signatureApiKey, TEST_SEC_KEY: keys.secKeyApiKey }

const base = {
  partnerId: '085',
  signature: { apiKeyEnv: 'TEST_SIGNATURE_KEY' },
  secKey: { apiKeyEnv: 'TEST_SEC_KEY' },
  inbound: { listen: { port: 8787 }, upstream: 'http://127.0.0.1:3000' },
}

/** Runs a gateway with both directions, sends one callback in and one request out, returns the audit records. */
async function auditRecords(
  instance: Record<string, unknown>,
  file: string,
): Promise<Array<Record<string, unknown>>> {
  const upstream = await startUpstream('app')
  const smileApi = await startUpstream('smile')
  const jsonl = join(temp.dir, file)
  const config = resolveGatewayConfig(
    parseGatewayConfig({
      ...base,
      ...instance,
      audit: { jsonl },
      inbound: { listen: { host: '127.0.0.1', port: 0 }, upstream: upstream.url },
      outbound: { listen: { host: '127.0.0.1', port: 0 }, smileBaseUrl: smileApi.url },
    }),
    { env },
  )
  const gateway = await startGateway(config, { log: jsonLogger(() => undefined, Date.now) })
  try {
    const inbound = `http://127.0.0.1:${gateway.inbound!.port}`
    const outbound = `http://127.0.0.1:${gateway.outbound!.port}`
    for (const scheme of ['signature', 'sec_key'] as const) {
      const reply = await send(inbound, '/callback', {
        body: JSON.stringify(await signedCallback(smile, scheme)),
      })
      expect(reply.status, reply.body).toBe(201)
    }
    const forged = await send(inbound, '/callback', {
      body: JSON.stringify({
        ...(await signedCallback(smile, 'signature')),
        signature: 'A'.repeat(43) + '=',
      }),
    })
    expect(forged.status).toBe(401)
    const out = await send(outbound, '/v1/id_verification', {
      body: JSON.stringify({ partner_id: '085', job_id: 'job-1' }),
    })
    expect(out.status, out.body).toBe(201)
  } finally {
    await gateway.close()
    await upstream.close()
    await smileApi.close()
  }
  return readFileSync(jsonl, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

const summary = (records: Array<Record<string, unknown>>) =>
  records.map((record) => `${String(record.direction)} ${String(record.outcome)} ${String(record.instance)}`)

describe('gateway audit records name the instance', () => {
  it('config instance: every record, inbound (accepted and rejected) and outbound, carries it', async () => {
    const records = await auditRecords({ instance: 'gateway-eu-1' }, 'named.jsonl')
    expect(summary(records).sort()).toEqual([
      'incoming accepted gateway-eu-1',
      'incoming accepted gateway-eu-1',
      'incoming rejected gateway-eu-1',
      'outgoing accepted gateway-eu-1',
    ])
  })

  it('by default, the host name, as the verifier names itself; never null', async () => {
    const name = hostname()
    expect(name.length).toBeGreaterThan(0)
    const records = await auditRecords({}, 'default.jsonl')
    expect(records).toHaveLength(4)
    for (const record of records) expect(record.instance).toBe(name)
  })
})

describe('config field instance', () => {
  it('defaults to the host name; null is kept when the config says null', () => {
    expect(resolveGatewayConfig(parseGatewayConfig(base), { env }).instance).toBe(hostname())
    expect(resolveGatewayConfig(parseGatewayConfig({ ...base, instance: null }), { env }).instance).toBeNull()
    expect(resolveGatewayConfig(parseGatewayConfig({ ...base, instance: 'gw-2' }), { env }).instance).toBe(
      'gw-2',
    )
  })

  it.each([
    ['empty', ''],
    ['too long', 'g'.repeat(129)],
    ['a control character (a forged log line)', 'gw-1\n{"instance":"other"}'],
    ['a C1 control character', 'gw\u0085'],
    ['a number', 1],
    ['an object', { name: 'gw' }],
  ])('%s: refused, naming the field and what it accepts', (_name, value) => {
    try {
      parseGatewayConfig({ ...base, instance: value })
      expect.fail('expected a GatewayConfigError')
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayConfigError)
      expect((error as GatewayConfigError).field).toBe('instance')
      expect((error as GatewayConfigError).message).toMatch(
        /must be a name of 1 to 128 characters without control characters.*or null/,
      )
    }
  })

  it('128 characters is accepted', () => {
    expect(parseGatewayConfig({ ...base, instance: 'g'.repeat(128) }).instance).toHaveLength(128)
  })
})
