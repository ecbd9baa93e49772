import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEvent } from '../src/audit/events.js'
import { ConfigurationError } from '../src/errors.js'
import { LegacySecKeyAuth } from '../src/schemes/sec-key.js'
import { SignatureAuth } from '../src/schemes/signature.js'
import { MigratingSigner, type MigratingSignerOptions } from '../src/signer.js'
import { createTestKeys } from '../src/testing/test-keys.js'
import { SmileServerSimulator } from '../src/testing/simulator.js'

const keys = createTestKeys({ partnerId: '085' })
const smile = new SmileServerSimulator(keys)
const signature = new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey })
const secKey = new LegacySecKeyAuth({ partnerId: keys.partnerId, apiKey: keys.secKeyApiKey })

function signer(
  use: MigratingSignerOptions['use'],
  extra: Partial<MigratingSignerOptions> = {},
): MigratingSigner {
  return new MigratingSigner({ signature, secKey, use, ...extra })
}

function expectInvalid(options: unknown): void {
  try {
    new MigratingSigner(options as MigratingSignerOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).code).toBe('invalid_options')
    return
  }
  expect.fail('expected a ConfigurationError')
}

/** The documented bucket: first 4 bytes of SHA-256 of the key, mod 10 000 basis points. */
function expectedScheme(key: string, percent: number): 'signature' | 'sec_key' {
  const bucket = createHash('sha256').update(key, 'utf8').digest().readUInt32BE(0) % 10_000
  return bucket < percent * 100 ? 'signature' : 'sec_key'
}

async function share(
  s: MigratingSigner,
  count: number,
  key: (i: number) => string | undefined,
): Promise<number> {
  let onSignature = 0
  for (let i = 0; i < count; i++) if ((await s.schemeFor(key(i))) === 'signature') onSignature++
  return onSignature / count
}

describe('MigratingSigner: fixed schemes', () => {
  it("use: 'signature' signs with the signature scheme and Smile ID accepts it", async () => {
    const { scheme, credentials } = await signer('signature').sign()
    expect(scheme).toBe('signature')
    expect(typeof credentials.timestamp).toBe('string')
    const result = await smile.verifyPartnerRequest({ ...credentials, partner_id: '085' })
    expect(result).toMatchObject({ ok: true, scheme: 'signature' })
  })

  it("use: 'sec_key' signs type-2 sec_keys with a millisecond timestamp and Smile ID accepts them", async () => {
    const { scheme, credentials } = await signer('sec_key').sign()
    expect(scheme).toBe('sec_key')
    expect(typeof credentials.timestamp).toBe('number')
    const result = await smile.verifyPartnerRequest({ ...credentials, partner_id: '085' })
    expect(result).toMatchObject({ ok: true, scheme: 'sec_key' })
  })

  it('needs only the strategy the fixed scheme uses', async () => {
    const onlyLegacy = new MigratingSigner({ secKey, use: 'sec_key' })
    expect((await onlyLegacy.sign()).scheme).toBe('sec_key')
    const onlySignature = new MigratingSigner({ signature, use: 'signature' })
    expect((await onlySignature.sign()).scheme).toBe('signature')
  })

  it('echoes a given timestamp', async () => {
    const { credentials } = await signer('signature').sign({ timestamp: '2025-01-02T03:04:05.000Z' })
    expect(credentials.timestamp).toBe('2025-01-02T03:04:05.000Z')
    const legacy = await signer('sec_key').sign({ timestamp: 1_735_787_045_000 })
    expect(legacy.credentials.timestamp).toBe(1_735_787_045_000)
  })
})

describe('MigratingSigner: signBody and headers', () => {
  it('returns a copy with the credentials and partner_id, leaving the input alone', async () => {
    const input = { partner_params: { job_id: 'job-1' }, source_sdk: 'rest_api' }
    const body = await signer('signature').signBody(input)
    expect(input).toEqual({ partner_params: { job_id: 'job-1' }, source_sdk: 'rest_api' })
    expect(body).toMatchObject({
      partner_params: { job_id: 'job-1' },
      source_sdk: 'rest_api',
      partner_id: '085',
    })
    expect(Object.keys(body).sort()).toEqual([
      'partner_id',
      'partner_params',
      'signature',
      'source_sdk',
      'timestamp',
    ])
    expect(await smile.verifyPartnerRequest(body)).toMatchObject({ ok: true, scheme: 'signature' })
  })

  it("drops the other scheme's stale credential so a request never carries both", async () => {
    const stale = await signer('signature').signBody({ job: 1 })
    const legacy = await signer('sec_key').signBody(stale)
    expect('signature' in legacy).toBe(false)
    expect(legacy).toMatchObject({
      job: 1,
      partner_id: '085',
      sec_key: expect.stringMatching(/\|[0-9a-f]{64}$/),
    })
    expect(await smile.verifyPartnerRequest(legacy)).toMatchObject({ ok: true, scheme: 'sec_key' })
  })

  it('gives the SmileID-* headers, which Smile ID accepts', async () => {
    const headers = await signer({ signaturePercent: 0 }, {}).headers({ timestamp: new Date() })
    expect(Object.keys(headers).sort()).toEqual([
      'SmileID-Partner-ID',
      'SmileID-Request-Signature',
      'SmileID-Timestamp',
    ])
    expect(headers['SmileID-Partner-ID']).toBe('085')
    const result = await smile.verifyPartnerRequest({}, { headers })
    expect(result).toMatchObject({ ok: true, scheme: 'signature', transport: 'headers' })
  })

  it('refuses headers() when only sec_key is configured', async () => {
    const legacyOnly = new MigratingSigner({ secKey, use: 'sec_key' })
    await expect(legacyOnly.headers()).rejects.toMatchObject({
      name: 'ConfigurationError',
      code: 'invalid_options',
    })
  })

  it('refuses a body that is not a plain object', async () => {
    await expect(signer('signature').signBody([] as never)).rejects.toMatchObject({ code: 'invalid_options' })
  })
})

describe('MigratingSigner: percentage rollout', () => {
  it('0 % always picks sec_key and 100 % always signature, with or without a routing key', async () => {
    expect(await share(signer({ signaturePercent: 0 }), 300, (i) => (i % 2 ? `job-${i}` : undefined))).toBe(0)
    expect(await share(signer({ signaturePercent: 100 }), 300, (i) => (i % 2 ? `job-${i}` : undefined))).toBe(
      1,
    )
  })

  it('50 % sends about half of many routing keys to signature', async () => {
    const fraction = await share(signer({ signaturePercent: 50 }), 4000, () => crypto.randomUUID())
    // Binomial(4000, 0.5): one standard deviation is 0.8 %; ±5 % is more than six.
    expect(fraction).toBeGreaterThan(0.45)
    expect(fraction).toBeLessThan(0.55)
  })

  it('50 % without routing keys picks at random, about half each way', async () => {
    const fraction = await share(signer({ signaturePercent: 50 }), 4000, () => undefined)
    expect(fraction).toBeGreaterThan(0.45)
    expect(fraction).toBeLessThan(0.55)
  })

  it('routes a key deterministically: the first 4 bytes of its SHA-256, in basis points', async () => {
    const a = signer({ signaturePercent: 30 })
    const b = signer({ signaturePercent: 30 })
    let onSignature = 0
    for (let i = 0; i < 200; i++) {
      const key = `job-${i}`
      const expected = expectedScheme(key, 30)
      if (expected === 'signature') onSignature++
      expect(await a.schemeFor(key)).toBe(expected)
      expect(await a.schemeFor(key)).toBe(expected)
      expect(await b.schemeFor(key)).toBe(expected)
      const { scheme } = await a.sign({ routingKey: key })
      expect(scheme).toBe(expected)
    }
    // Both outcomes occur, so the comparison above is not vacuous.
    expect(onSignature).toBeGreaterThan(0)
    expect(onSignature).toBeLessThan(200)
  })

  it('a key moves to signature once, and stays there as the percentage grows', async () => {
    const keysSample = Array.from({ length: 300 }, (_, i) => `user-${i}`)
    let previous = new Set<string>()
    for (const percent of [10, 25, 50, 75, 100]) {
      const s = signer({ signaturePercent: percent })
      const now = new Set<string>()
      for (const key of keysSample) if ((await s.schemeFor(key)) === 'signature') now.add(key)
      for (const key of previous) expect(now.has(key)).toBe(true)
      previous = now
    }
    expect(previous.size).toBe(300)
  })

  it('uses use.routingKey when sign() gives none', async () => {
    for (const key of ['host-a', 'host-b', 'host-c', 'host-d']) {
      const s = signer({ signaturePercent: 50, routingKey: key })
      const expected = expectedScheme(key, 50)
      for (let i = 0; i < 5; i++) expect((await s.sign()).scheme).toBe(expected)
    }
  })

  it('honours fractional percentages', async () => {
    const s = signer({ signaturePercent: 12.5 })
    for (let i = 0; i < 100; i++) expect(await s.schemeFor(`k${i}`)).toBe(expectedScheme(`k${i}`, 12.5))
  })
})

describe('MigratingSigner: options', () => {
  it.each([
    ['no options', undefined],
    ['no use', { signature, secKey }],
    ['an unknown use', { signature, secKey, use: 'both' }],
    ['signature without a strategy', { secKey, use: 'signature' }],
    ['sec_key without a strategy', { signature, use: 'sec_key' }],
    ['a rollout missing one side', { signature, use: { signaturePercent: 50 } }],
    ['a percentage above 100', { signature, secKey, use: { signaturePercent: 101 } }],
    ['a negative percentage', { signature, secKey, use: { signaturePercent: -1 } }],
    ['a NaN percentage', { signature, secKey, use: { signaturePercent: Number.NaN } }],
    ['an empty routing key', { signature, secKey, use: { signaturePercent: 5, routingKey: '' } }],
    ['strategies swapped', { signature: secKey, secKey: signature, use: 'signature' }],
    [
      'a server-role sec_key strategy',
      {
        secKey: new LegacySecKeyAuth({ partnerId: '085', privateKey: keys.secKeyPrivateKey }),
        use: 'sec_key',
      },
    ],
    [
      'strategies for different partners',
      { signature: new SignatureAuth({ partnerId: '999', apiKey: 'k' }), secKey, use: 'signature' },
    ],
  ])('refuses %s with invalid_options', (_name, options) => {
    expectInvalid(options)
  })

  it('treats "085" and "85" as the same partner', () => {
    const s = new MigratingSigner({
      signature,
      secKey: new LegacySecKeyAuth({ partnerId: '85', apiKey: keys.secKeyApiKey }),
      use: 'signature',
    })
    expect(s.partnerId).toBe('085')
  })
})

describe('MigratingSigner: audit', () => {
  it('emits one outgoing event per signing, with no secret in it', async () => {
    const events: AuditEvent[] = []
    const s = signer(
      { signaturePercent: 50 },
      { audit: (event) => void events.push(event), now: () => Date.UTC(2025, 0, 2) },
    )
    const fromSign = await s.sign({ routingKey: 'job-1', route: '/v1/id_verification' })
    const body = await s.signBody(
      { source_sdk: 'rest_api', source_sdk_version: '2.0.0' },
      { routingKey: 'job-2' },
    )
    const headers = await s.headers()
    expect(events).toHaveLength(3)
    expect(events[0]).toEqual({
      time: '2025-01-02T00:00:00.000Z',
      direction: 'outgoing',
      partnerId: '085',
      scheme: fromSign.scheme,
      outcome: 'accepted',
      reason: null,
      keyId: null,
      transport: 'body',
      warnings: [],
      route: '/v1/id_verification',
      sourceIp: null,
      source_sdk: null,
      source_sdk_version: null,
      authenticated: true,
      instance: null,
    })
    expect(events[1]).toMatchObject({
      scheme: 'sec_key' in body ? 'sec_key' : 'signature',
      source_sdk: 'rest_api',
      source_sdk_version: '2.0.0',
    })
    expect(events[2]).toMatchObject({ scheme: 'signature', transport: 'headers' })
    const logged = JSON.stringify(events)
    for (const secret of [
      keys.signatureApiKey,
      headers['SmileID-Request-Signature'],
      'signature' in fromSign.credentials
        ? fromSign.credentials.signature
        : fromSign.credentials.sec_key.split('|')[0]!,
    ]) {
      expect(logged).not.toContain(secret)
    }
  })

  it('keeps signing when a sink throws, and reports the sink error', async () => {
    const errors: unknown[] = []
    const s = signer('signature', {
      audit: [
        () => {
          throw new Error('disk full')
        },
        { write: () => Promise.reject(new Error('network down')) },
      ],
      onAuditError: (error) => errors.push(error),
    })
    expect((await s.sign()).scheme).toBe('signature')
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(errors.map((error) => (error as Error).message).sort()).toEqual(['disk full', 'network down'])
  })
})

describe('MigratingSigner against the simulator over HTTP', () => {
  const remote = new SmileServerSimulator(keys)
  let url = ''
  beforeAll(async () => {
    url = (await remote.listen()).url
  })
  afterAll(async () => {
    await remote.close()
  })

  async function send(body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${url}/v1/id_verification`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
    return { status: response.status, json: (await response.json()) as Record<string, unknown> }
  }

  it('is accepted in every scheme and transport it signs', async () => {
    const s = signer({ signaturePercent: 50 })
    const schemes = new Set<string>()
    for (let i = 0; i < 12; i++) {
      const body = await s.signBody({ partner_params: { job_id: `job-${i}` } }, { routingKey: `job-${i}` })
      const reply = await send(body)
      expect(reply.status).toBe(200)
      expect(reply.json).toMatchObject({ success: true, partner_id: '085' })
      schemes.add(
        remote.requests.at(-1)!.result.ok
          ? (remote.requests.at(-1)!.result as { scheme: string }).scheme
          : 'failed',
      )
    }
    expect(schemes).toEqual(new Set(['signature', 'sec_key']))

    const viaHeaders = await send({ partner_params: { job_id: 'h' } }, await s.headers())
    expect(viaHeaders.status).toBe(200)
    expect(remote.requests.at(-1)!.result).toMatchObject({
      ok: true,
      scheme: 'signature',
      transport: 'headers',
    })
  })

  it('is refused with Smile ID 2205 when forged', async () => {
    const body = await signer('signature').signBody({ job: 'x' })
    body.timestamp = new Date(Date.now() + 1000).toISOString()
    const reply = await send(body)
    expect(reply.status).toBe(401)
    expect(reply.json).toEqual({ code: '2205', error: 'You are not authorized to do that.' })
    expect(remote.requests.at(-1)!.result).toMatchObject({ ok: false, reason: 'invalid_signature' })
  })
})
