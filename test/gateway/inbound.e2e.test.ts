/**
 * The inbound gateway end to end: the built CLI in a child process, recording upstreams, callbacks signed
 * by the test kit's simulator. One gateway process serves every test of the file (routes give each
 * scenario its own upstream), so the suite stays fast.
 */
import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { SignatureAuth } from '../../src/schemes/signature.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { SmileServerSimulator } from '../../src/testing/simulator.js'
import { freePort } from '../support/redis-server.js'
import {
  send,
  signedCallback,
  startGatewayProcess,
  startUpstream,
  tempDir,
  type GatewayProcess,
  type Upstream,
} from './harness.js'

const keys = createTestKeys({ partnerId: '085' })
const smile = new SmileServerSimulator(keys)
const temp = tempDir()
let main: Upstream
let kyc: Upstream
let gateway: GatewayProcess
let deadPort: number

beforeAll(async () => {
  main = await startUpstream('main')
  kyc = await startUpstream('kyc')
  main.slowMs = 3000
  deadPort = await freePort()
  writeFileSync(join(temp.dir, 'sec-key.txt'), keys.secKeyApiKey)
  gateway = await startGatewayProcess(
    {
      partnerId: '085',
      signature: { apiKeyEnv: 'TEST_SIGNATURE_KEY' },
      secKey: { apiKeyFile: join(temp.dir, 'sec-key.txt') },
      policy: { legacy: 'warn', legacySunsetAt: '2099-03-31T00:00:00Z' },
      audit: { jsonl: join(temp.dir, 'audit.jsonl') },
      inbound: {
        listen: { host: '127.0.0.1', port: 0 },
        upstream: main.url,
        routes: [
          { path: '/kyc', upstream: kyc.url },
          { path: '/down', upstream: `http://127.0.0.1:${deadPort}` },
        ],
        maxBodyBytes: 64 * 1024,
        upstreamTimeoutMs: 400,
        retryAfterSeconds: 7,
      },
    },
    { TEST_SIGNATURE_KEY: keys.signatureApiKey },
    temp.dir,
  )
})

afterAll(async () => {
  await gateway?.stop()
  await main?.close()
  await kyc?.close()
  temp.remove()
})

/** A callback with unusual but valid JSON formatting, so re-serialising it would change its bytes. */
async function oddlyFormatted(scheme: 'signature' | 'sec_key'): Promise<string> {
  const body = await signedCallback(smile, scheme, { note: 'naïve ✓ \u2028 "quoted"' })
  return JSON.stringify(body, null, 3).replace(/":/g, '" :') + '\n\n'
}

describe('inbound: authenticated callbacks reach the upstream', () => {
  it.each(['signature', 'sec_key'] as const)(
    '%s: exact body bytes, client headers, SmileID-Auth-* results, path and query kept',
    async (scheme) => {
      const raw = await oddlyFormatted(scheme)
      const before = kyc.requests.length
      const reply = await send(gateway.inbound, '/kyc/callback?attempt=1', {
        body: raw,
        headers: { 'x-custom': 'kept', 'user-agent': 'smile-callbacks/1.0' },
      })
      expect(reply.status).toBe(201)
      expect(kyc.requests).toHaveLength(before + 1)
      const got = kyc.requests.at(-1)!
      expect(got.body.equals(Buffer.from(raw, 'utf8'))).toBe(true)
      expect(got.url).toBe('/kyc/callback?attempt=1')
      expect(got.method).toBe('POST')
      expect(got.headers['x-custom']).toBe('kept')
      expect(got.headers['user-agent']).toBe('smile-callbacks/1.0')
      expect(got.headers['content-type']).toBe('application/json')
      expect(got.headers['content-length']).toBe(String(Buffer.byteLength(raw)))
      expect(got.headers['x-forwarded-for']).toBe('127.0.0.1')
      expect(got.headers['smileid-auth-scheme']).toBe(scheme)
      expect(got.headers['smileid-auth-partner-id']).toBe('085')
      expect(got.headers['smileid-auth-key-id']).toMatch(scheme === 'signature' ? /^hmac:/ : /^[\w-]{43}$/)
      expect(got.headers['smileid-auth-duplicate']).toBe('false')
      expect(got.headers['smileid-auth-warnings']).toBe(scheme === 'sec_key' ? 'legacy_scheme' : '')
      // The upstream's answer is relayed: status, headers (repeated ones too), body.
      expect(reply.headers['x-upstream']).toBe('kyc')
      expect(reply.headers['set-cookie']).toEqual(['a=1', 'b=2'])
      expect(JSON.parse(reply.body)).toEqual({ handledBy: 'kyc', url: '/kyc/callback?attempt=1' })
      if (scheme === 'sec_key') {
        expect(reply.headers.sunset).toBe(new Date('2099-03-31T00:00:00Z').toUTCString())
      } else {
        expect(reply.headers.sunset).toBeUndefined()
      }
    },
  )

  it('signature in the SmileID-* headers is forwarded, and the headers with it', async () => {
    const signature = new SignatureAuth({ partnerId: '085', apiKey: keys.signatureApiKey })
    const credentials = await signature.sign()
    const raw = JSON.stringify({ job_id: 'header-job', ResultCode: '1012' })
    const reply = await send(gateway.inbound, '/kyc/header', {
      body: raw,
      headers: {
        'SmileID-Partner-ID': '085',
        'SmileID-Request-Signature': credentials.signature,
        'SmileID-Timestamp': credentials.timestamp,
      },
    })
    expect(reply.status).toBe(201)
    const got = kyc.requests.at(-1)!
    expect(got.body.toString('utf8')).toBe(raw)
    expect(got.headers['smileid-request-signature']).toBe(credentials.signature)
    expect(got.headers['smileid-auth-scheme']).toBe('signature')
  })

  it('a chunked upload is forwarded as the same bytes with a Content-Length, without Transfer-Encoding', async () => {
    const raw = Buffer.from(await oddlyFormatted('signature'), 'utf8')
    const { port } = new URL(gateway.inbound)
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/kyc/chunked',
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', expect: '100-continue' },
        },
        (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        },
      )
      req.on('error', reject)
      const cut = Math.floor(raw.length / 3)
      req.write(raw.subarray(0, cut))
      setTimeout(() => req.end(raw.subarray(cut)), 30)
    })
    expect(status).toBe(201)
    const got = kyc.requests.at(-1)!
    expect(got.url).toBe('/kyc/chunked')
    expect(got.body.equals(raw)).toBe(true)
    expect(got.headers['transfer-encoding']).toBeUndefined()
    expect(got.headers.expect).toBeUndefined()
    expect(got.headers['content-length']).toBe(String(raw.length))
  })

  it('requests outside every route go to the default upstream', async () => {
    const before = main.requests.length
    const reply = await send(gateway.inbound, '/callbacks/main', { body: await oddlyFormatted('signature') })
    expect(reply.status).toBe(201)
    expect(reply.headers['x-upstream']).toBe('main')
    expect(main.requests).toHaveLength(before + 1)
    // '/kycx' is not under the '/kyc' route.
    const other = await send(gateway.inbound, '/kycx', { body: await oddlyFormatted('signature') })
    expect(other.headers['x-upstream']).toBe('main')
  })

  it('a redelivery (same credential, same body) is forwarded marked duplicate', async () => {
    const raw = await oddlyFormatted('signature')
    expect((await send(gateway.inbound, '/kyc/redelivery', { body: raw })).status).toBe(201)
    const again = await send(gateway.inbound, '/kyc/redelivery', { body: raw })
    expect(again.status).toBe(201)
    expect(kyc.requests.at(-1)!.headers['smileid-auth-duplicate']).toBe('true')
  })
})

describe('inbound: spoofed result headers', () => {
  it('client-sent SmileID-Auth-* headers (any case, any name under the prefix) never reach the upstream', async () => {
    const raw = await oddlyFormatted('sec_key')
    await send(gateway.inbound, '/kyc/spoof', {
      body: raw,
      headers: {
        'SmileID-Auth-Scheme': 'signature',
        'smileid-auth-partner-id': '999',
        'SMILEID-AUTH-KEY-ID': 'forged',
        'SmileID-Auth-Warnings': 'none',
        'SmileID-Auth-Duplicate': 'true',
        'SmileID-Auth-Admin': 'yes',
      },
    })
    const got = kyc.requests.at(-1)!
    expect(got.url).toBe('/kyc/spoof')
    expect(got.headers['smileid-auth-scheme']).toBe('sec_key')
    expect(got.headers['smileid-auth-partner-id']).toBe('085')
    expect(got.headers['smileid-auth-key-id']).not.toBe('forged')
    expect(got.headers['smileid-auth-duplicate']).toBe('false')
    expect(got.headers['smileid-auth-warnings']).toBe('legacy_scheme')
    expect(got.headers['smileid-auth-admin']).toBeUndefined()
    // Exactly one copy of each result header.
    const names = got.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase())
    expect(names.filter((name) => name.startsWith('smileid-auth-'))).toHaveLength(5)
  })
})

describe('inbound: refused requests never reach the upstream', () => {
  const refused = async (path: string, body: string | Buffer, headers: Record<string, string> = {}) => {
    const before = kyc.requests.length + main.requests.length
    const reply = await send(gateway.inbound, path, { body, headers })
    expect(kyc.requests.length + main.requests.length).toBe(before)
    return reply
  }

  it('forged signature: 401 invalid_signature', async () => {
    const body = await signedCallback(smile, 'signature')
    const forged = {
      ...body,
      signature: body.signature!.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A')),
    }
    const reply = await refused('/kyc/forged', JSON.stringify(forged))
    expect(reply.status).toBe(401)
    expect(JSON.parse(reply.body)).toEqual({ error: 'invalid_signature' })
  })

  it('forged sec_key: 401 invalid_sec_key', async () => {
    const body = await signedCallback(smile, 'sec_key')
    const [rsa, hash] = String(body.sec_key).split('|')
    const forged = { ...body, sec_key: `${rsa!.slice(0, -6)}AAAAA=|${hash}` }
    const reply = await refused('/kyc/forged', JSON.stringify(forged))
    expect(reply.status).toBe(401)
    expect(JSON.parse(reply.body).error).toMatch(/^(invalid_sec_key|malformed_credentials)$/)
  })

  it('stale timestamp: 401 timestamp_expired; future: 401 timestamp_in_future', async () => {
    const stale = await smile.callbackBody({
      scheme: 'signature',
      timestamp: new Date(Date.now() - 600_000).toISOString(),
    })
    expect(JSON.parse((await refused('/kyc/stale', JSON.stringify(stale))).body)).toEqual({
      error: 'timestamp_expired',
    })
    const future = await smile.callbackBody({ scheme: 'sec_key', timestamp: Date.now() + 600_000 })
    expect(JSON.parse((await refused('/kyc/future', JSON.stringify(future))).body)).toEqual({
      error: 'timestamp_in_future',
    })
  })

  it('replayed credential with another body: 401 replayed', async () => {
    const body = await signedCallback(smile, 'signature')
    expect((await send(gateway.inbound, '/kyc/replay', { body: JSON.stringify(body) })).status).toBe(201)
    const tampered = JSON.stringify({
      ...body,
      ResultCode: '1012',
      Actions: { Verify_ID_Number: 'Verified' },
      extra: 1,
    })
    const reply = await refused('/kyc/replay', tampered)
    expect(reply.status).toBe(401)
    expect(JSON.parse(reply.body)).toEqual({ error: 'replayed' })
  })

  it('no credential: 401 missing_credentials; not JSON: 400 invalid_json; too large: 413', async () => {
    expect(JSON.parse((await refused('/kyc/none', JSON.stringify({ job_id: 1 }))).body)).toEqual({
      error: 'missing_credentials',
    })
    const notJson = await refused('/kyc/bad', '{"signature": ')
    expect(notJson.status).toBe(400)
    expect(JSON.parse(notJson.body)).toEqual({ error: 'invalid_json' })
    const big = await signedCallback(smile, 'signature', { padding: 'x'.repeat(70 * 1024) })
    const tooLarge = await refused('/kyc/big', JSON.stringify(big))
    expect(tooLarge.status).toBe(413)
    expect(JSON.parse(tooLarge.body)).toEqual({ error: 'body_too_large' })
  })
})

describe('inbound: upstream failures', () => {
  it('an upstream that cannot be reached: 502 upstream_unreachable', async () => {
    const reply = await send(gateway.inbound, '/down/callback', { body: await oddlyFormatted('signature') })
    expect(reply.status).toBe(502)
    expect(JSON.parse(reply.body)).toEqual({ error: 'upstream_unreachable' })
  })

  it('an upstream slower than upstreamTimeoutMs: 504 upstream_timeout', async () => {
    const reply = await send(gateway.inbound, '/slow/callback', { body: await oddlyFormatted('signature') })
    expect(reply.status).toBe(504)
    expect(JSON.parse(reply.body)).toEqual({ error: 'upstream_timeout' })
  })
})

describe('inbound: operations endpoints', () => {
  it('/healthz 200, /readyz 200 without Redis, /metrics in Prometheus text', async () => {
    const health = await send(gateway.inbound, '/healthz', { method: 'GET' })
    expect(health.status).toBe(200)
    const ready = await send(gateway.inbound, '/readyz', { method: 'GET' })
    expect(ready.status).toBe(200)
    const metrics = await send(gateway.inbound, '/metrics', { method: 'GET' })
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(metrics.body).toMatch(/^# TYPE smileid_gateway_requests_total counter$/m)
    expect(metrics.body).toMatch(
      /^smileid_gateway_verifications_total\{scheme="signature",outcome="rejected",reason="invalid_signature"\} \d+$/m,
    )
    expect(metrics.body).toMatch(
      /^smileid_gateway_request_duration_seconds_count\{direction="inbound"\} \d+$/m,
    )
    const post = await send(gateway.inbound, '/metrics', { method: 'POST', body: '{}' })
    expect(post.status).toBe(405)
  })

  it('logs are JSON lines with no key, signature or sec_key', async () => {
    const text = gateway.stdout()
    expect(text.length).toBeGreaterThan(0)
    for (const line of text.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow()
    expect(text).not.toContain(keys.signatureApiKey)
    expect(text).not.toContain(keys.secKeyApiKey.slice(0, 40))
    expect(text).not.toMatch(/"(signature|sec_key)":"[^"]{20,}/)
    expect(text).not.toMatch(/[A-Za-z0-9+/]{43}=/) // no 44-character base64 signature anywhere
  })
})
