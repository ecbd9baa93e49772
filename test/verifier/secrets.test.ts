import { describe, expect, it } from 'vitest'

import { DualModeVerifier, MemoryReplayStore, VerificationError, type ReplayStore } from '../../src/index.js'
import {
  API_KEY,
  NOW,
  NOW_ISO,
  OTHER_API_KEY,
  PARTNER,
  PRIVATE_KEY,
  SEC_KEY_API_KEY,
  expectNoSecrets,
  printable,
  recordingSink,
  secKeyAuth,
  secKeyBody,
  signatureAuth,
  signatureBody,
} from './helpers.js'

const MINUTE = 60_000
const KEYS = [API_KEY, OTHER_API_KEY, PRIVATE_KEY, SEC_KEY_API_KEY]

describe('no secrets leave the verifier', () => {
  it('results, failure messages, thrown errors and audit events carry no key, signature or sec_key', async () => {
    const { events, sink } = recordingSink()
    const outputs: unknown[] = []
    const credentials: string[] = []
    const verifier = new DualModeVerifier({
      signature: signatureAuth(),
      secKey: secKeyAuth(),
      replay: new MemoryReplayStore(),
      audit: sink,
      now: () => NOW,
    })
    const observing = new DualModeVerifier({
      signature: signatureAuth(),
      secKey: secKeyAuth(),
      policy: { mode: 'observe', legacy: 'reject' },
      audit: sink,
      now: () => NOW,
    })
    const broken: ReplayStore = { remember: () => Promise.reject(new Error('store down')) }
    const failClosed = new DualModeVerifier({
      signature: signatureAuth(),
      replay: broken,
      audit: sink,
      now: () => NOW,
    })

    async function run(
      target: DualModeVerifier,
      request: Parameters<DualModeVerifier['verify']>[0],
    ): Promise<void> {
      outputs.push(await target.verify(request, { route: '/callback', sourceIp: '203.0.113.9' }))
      await target.verifyOrThrow(request).then(
        (result) => outputs.push(result),
        (error: unknown) => {
          expect(error).toBeInstanceOf(VerificationError)
          outputs.push(error)
        },
      )
    }
    function remember(body: Record<string, unknown>): Record<string, unknown> {
      for (const field of ['signature', 'sec_key'])
        if (typeof body[field] === 'string') credentials.push(body[field])
      return body
    }

    const signed = remember(await signatureBody({ timestamp: new Date(NOW + 1) }))
    const legacy = remember(await secKeyBody({ timestamp: NOW + 2 }))
    const forged = remember(await signatureBody({ apiKey: 'forged-key-000000' }))
    const expired = remember(await signatureBody({ timestamp: new Date(NOW - 10 * MINUTE) }))
    const future = remember(await secKeyBody({ timestamp: NOW + 10 * MINUTE }))
    const tampered = remember({ ...legacy, sec_key: (legacy.sec_key as string).replace(/^../, 'AA') })
    const malformed = remember({ ...legacy, sec_key: `${legacy.sec_key as string}|extra` })
    const both = remember({
      ...(await signatureBody({ timestamp: NOW_ISO })),
      sec_key: (await secKeyBody({ timestamp: NOW_ISO })).sec_key,
    })
    const header = await signatureAuth().sign({ timestamp: new Date(NOW + 3) })
    credentials.push(header.signature)

    await run(verifier, { body: signed })
    await run(verifier, { body: signed }) // duplicate
    await run(verifier, { body: { ...signed, job_id: 'other' } }) // replayed
    await run(verifier, { body: legacy })
    await run(verifier, { body: forged })
    await run(verifier, { body: expired })
    await run(verifier, { body: future })
    await run(verifier, { body: tampered })
    await run(verifier, { body: malformed })
    await run(verifier, { body: both })
    await run(verifier, { body: { ...signed, partner_id: '999' } })
    await run(verifier, {
      headers: { 'SmileID-Request-Signature': header.signature, 'SmileID-Timestamp': header.timestamp },
      body: { source_sdk: 'node', source_sdk_version: '3.2.1' },
    })
    await run(verifier, { body: { signature: header.signature, timestamp: 'not-a-date' } })
    await run(observing, { body: legacy })
    await run(observing, { body: tampered })
    await run(failClosed, { body: signed })

    expect(outputs.length).toBe(32)
    expect(events.length).toBe(32)
    expect(credentials.length).toBeGreaterThanOrEqual(10)
    const secrets = [...KEYS, ...credentials]
    for (const output of outputs) expectNoSecrets(output, secrets)
    for (const event of events) expectNoSecrets(event, secrets)
    // The whole trail as one text, as a log file would hold it.
    expectNoSecrets(
      [...outputs, ...events].map((value) => printable(value)),
      secrets,
    )
  })

  it('the probe would catch a leak (the check is not vacuous)', () => {
    expect(() => expectNoSecrets({ message: `bad ${API_KEY}` }, [API_KEY])).toThrow()
    const fragment = PRIVATE_KEY.split('\n')[3]!
    expect(() => expectNoSecrets({ cause: fragment }, [PRIVATE_KEY])).toThrow()
    expect(() => expectNoSecrets(new Error(`x ${fragment}`), [PRIVATE_KEY])).toThrow()
  })

  it('an audit event carries no body field other than source_sdk and source_sdk_version', async () => {
    const { events, sink } = recordingSink()
    const verifier = new DualModeVerifier({ signature: signatureAuth(), audit: sink, now: () => NOW })
    const body = await signatureBody({
      fields: {
        partner_id: PARTNER,
        user_id: 'user-secret-id',
        source_sdk: 'rest_api',
        source_sdk_version: '1.0.0',
      },
    })
    await verifier.verify({ body })
    const text = JSON.stringify(events)
    expect(text).not.toContain('user-secret-id')
    expect(text).not.toContain('job-1')
    expect(text).not.toContain('1012')
  })
})
