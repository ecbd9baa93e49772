/**
 * The outbound gateway end to end: the official Node SDK 1.3.0 (which signs with sec_key only and calls
 * `https.request` on a `host/path` string) is pointed at the gateway's TLS listener, with a test CA made
 * here and handed to the SDK's process through NODE_EXTRA_CA_CERTS; the simulator plays Smile ID.
 */
import { spawn } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { hostname } from 'node:os'
import { join } from 'node:path'
import forge from 'node-forge'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { LegacySecKeyAuth } from '../../src/schemes/sec-key.js'
import { SignatureAuth } from '../../src/schemes/signature.js'
import { MigratingSigner } from '../../src/signer.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { SmileServerSimulator } from '../../src/testing/simulator.js'
import { freePort } from '../support/redis-server.js'
import { childEnv, send, startGatewayProcess, tempDir, type GatewayProcess } from './harness.js'

const keys = createTestKeys({ partnerId: '085' })
const smile = new SmileServerSimulator(keys)
const temp = tempDir()
const sdkEntry = createRequire(import.meta.url).resolve('smile-identity-core')
let tlsGateway: GatewayProcess
let rolloutGateway: GatewayProcess
let deadSmileGateway: GatewayProcess
/** Gateways whose Smile base URL is https (Smile's real scheme): one trusts the test CA, one does not. */
let httpsGateway: GatewayProcess
let untrustingGateway: GatewayProcess
/** The simulator behind TLS, with the test certificate for 127.0.0.1. */
let httpsSmile: HttpsServer

/** A throw-away CA and a certificate for localhost / 127.0.0.1 signed by it. */
function makeTestPki(dir: string): { ca: string; cert: string; key: string } {
  const pki = forge.pki
  const validity = (cert: forge.pki.Certificate) => {
    cert.validity.notBefore = new Date(Date.now() - 60_000)
    cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000)
  }
  // node:crypto makes the RSA keys (native, fast); node-forge builds and signs the certificates.
  const rsa = () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const forgeKey = pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString())
    return { privateKey: forgeKey, publicKey: pki.setRsaPublicKey(forgeKey.n, forgeKey.e) }
  }
  const caKeys = rsa()
  const ca = pki.createCertificate()
  ca.publicKey = caKeys.publicKey
  ca.serialNumber = '01'
  validity(ca)
  const caName = [{ name: 'commonName', value: 'smileid-auth-shim test CA' }]
  ca.setSubject(caName)
  ca.setIssuer(caName)
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ])
  ca.sign(caKeys.privateKey, forge.md.sha256.create())

  const leafKeys = rsa()
  const leaf = pki.createCertificate()
  leaf.publicKey = leafKeys.publicKey
  leaf.serialNumber = '02'
  validity(leaf)
  leaf.setSubject([{ name: 'commonName', value: 'localhost' }])
  leaf.setIssuer(caName)
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
      ],
    },
  ])
  leaf.sign(caKeys.privateKey, forge.md.sha256.create())
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'gateway.pem'), key: join(dir, 'gateway-key.pem') }
  writeFileSync(files.ca, pki.certificateToPem(ca))
  writeFileSync(files.cert, pki.certificateToPem(leaf))
  writeFileSync(files.key, pki.privateKeyToPem(leafKeys.privateKey))
  return files
}

/**
 * Runs the SDK's IDApi.submit_job in its own process, as a legacy app would. SDK 1.3.0 always connects to
 * port 443 of the host in `sid_server`; the app's deployment would run the gateway there. The script sets
 * the https agent's default port instead (no root needed); the SDK's code is used unchanged.
 */
function runLegacySdk(
  port: number,
  ca: string | undefined,
  jobId: string,
): Promise<{ code: number | null; out: string }> {
  const script = join(temp.dir, 'legacy-app.cjs')
  writeFileSync(
    script,
    `const https = require('node:https')
https.globalAgent.defaultPort = Number(process.argv[2])
const IDApi = require(${JSON.stringify(sdkEntry)}).IDApi
new IDApi(process.env.PARTNER_ID, process.env.SEC_KEY_API_KEY, 'localhost/v1')
  .submit_job({ user_id: 'user-1', job_id: process.argv[3], job_type: 5 },
              { country: 'NG', id_type: 'BVN', id_number: '00000000000', first_name: 'Ada' })
  .then((answer) => { process.stdout.write(JSON.stringify({ ok: true, answer })); process.exit(0) },
        (error) => { process.stdout.write(JSON.stringify({ ok: false, error: String(error && error.message || error) })); process.exit(1) })
`,
  )
  const env = childEnv({ PARTNER_ID: keys.partnerId, SEC_KEY_API_KEY: keys.secKeyApiKey })
  if (ca !== undefined) env.NODE_EXTRA_CA_CERTS = ca
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, String(port), jobId], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}

let pki: { ca: string; cert: string; key: string }

beforeAll(async () => {
  pki = makeTestPki(temp.dir)
  const { url } = await smile.listen()
  writeFileSync(join(temp.dir, 'sec-key.txt'), keys.secKeyApiKey)
  const env = { TEST_SIGNATURE_KEY: keys.signatureApiKey }
  const base = {
    partnerId: '085',
    signature: { apiKeyEnv: 'TEST_SIGNATURE_KEY' },
    secKey: { apiKeyFile: join(temp.dir, 'sec-key.txt') },
  }
  const deadPort = await freePort()
  // Smile over https: a TLS front that hands each request to the simulator unchanged.
  httpsSmile = createHttpsServer({ cert: readFileSync(pki.cert), key: readFileSync(pki.key) }, (req, res) => {
    const inner = httpRequest(
      new URL(req.url ?? '/', url),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    inner.on('error', () => res.destroy())
    req.pipe(inner)
  })
  await new Promise<void>((resolve) => httpsSmile.listen(0, '127.0.0.1', () => resolve()))
  const httpsUrl = `https://127.0.0.1:${(httpsSmile.address() as { port: number }).port}`
  ;[httpsGateway, untrustingGateway] = await Promise.all([
    startGatewayProcess(
      { ...base, outbound: { listen: { host: '127.0.0.1', port: 0 }, smileBaseUrl: httpsUrl } },
      { ...env, NODE_EXTRA_CA_CERTS: pki.ca },
      temp.dir,
      'https-smile.json',
    ),
    startGatewayProcess(
      { ...base, outbound: { listen: { host: '127.0.0.1', port: 0 }, smileBaseUrl: httpsUrl } },
      env,
      temp.dir,
      'https-smile-untrusted.json',
    ),
  ])
  ;[tlsGateway, rolloutGateway, deadSmileGateway] = await Promise.all([
    startGatewayProcess(
      {
        ...base,
        audit: { jsonl: join(temp.dir, 'tls-audit.jsonl') },
        outbound: {
          listen: { host: '127.0.0.1', port: 0 },
          smileBaseUrl: url,
          tls: { certFile: pki.cert, keyFile: pki.key },
        },
      },
      env,
      temp.dir,
      'tls.json',
    ),
    startGatewayProcess(
      {
        ...base,
        outbound: {
          listen: { host: '127.0.0.1', port: 0 },
          smileBaseUrl: url,
          use: { signaturePercent: 50 },
        },
      },
      env,
      temp.dir,
      'rollout.json',
    ),
    startGatewayProcess(
      {
        ...base,
        outbound: {
          listen: { host: '127.0.0.1', port: 0 },
          smileBaseUrl: `http://127.0.0.1:${deadPort}`,
          maxBodyBytes: 4096,
        },
      },
      env,
      temp.dir,
      'dead-smile.json',
    ),
  ])
}, 60_000)

afterAll(async () => {
  await tlsGateway?.stop()
  await rolloutGateway?.stop()
  await deadSmileGateway?.stop()
  await httpsGateway?.stop()
  await untrustingGateway?.stop()
  await new Promise((resolve) => httpsSmile?.close(resolve))
  await smile.close()
  temp.remove()
})

describe('outbound: a legacy app migrates by changing its base URL', () => {
  it('SDK 1.3.0 over TLS: reaches Smile re-signed with a valid signature and without sec_key', async () => {
    const port = Number(new URL(tlsGateway.outbound!).port)
    const before = smile.requests.length
    const run = await runLegacySdk(port, pki.ca, 'job-tls-1')
    expect(run.code, run.out).toBe(0)
    const answer = JSON.parse(run.out) as { ok: boolean; answer: Record<string, unknown> }
    expect(answer.ok).toBe(true)
    expect(answer.answer.success).toBe(true)
    expect(smile.requests).toHaveLength(before + 1)
    const seen = smile.requests.at(-1)!
    expect(seen.url).toBe('/v1/id_verification')
    expect(seen.result.ok).toBe(true)
    expect(seen.result.ok && seen.result.scheme).toBe('signature')
    const body = seen.body as Record<string, unknown>
    expect(body.sec_key).toBeUndefined()
    expect(typeof body.signature).toBe('string')
    expect(body.partner_id).toBe('085')
    // Everything else the SDK sent arrives as sent.
    expect(body.partner_params).toEqual({ user_id: 'user-1', job_id: 'job-tls-1', job_type: 5 })
    expect(body).toMatchObject({
      id_number: '00000000000',
      id_type: 'BVN',
      country: 'NG',
      language: 'javascript',
    })
    expect(seen.headers.host).toBe(new URL(smile.url!).host)
  })

  it('without the test CA the SDK refuses the certificate: the TLS check is real', async () => {
    const port = Number(new URL(tlsGateway.outbound!).port)
    const before = smile.requests.length
    const run = await runLegacySdk(port, undefined, 'job-tls-2')
    expect(run.code).not.toBe(0)
    expect(smile.requests).toHaveLength(before)
  })

  it('the audit records the outgoing direction and that the app sent sec_key, with no secret', async () => {
    // Audit lines are flushed in batches; the SDK request above is complete, give the sink a moment.
    await new Promise((resolve) => setTimeout(resolve, 100))
    const text = readFileSync(join(temp.dir, 'tls-audit.jsonl'), 'utf8')
    const events = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    const sdkEvent = events.find((event) => event.route === '/v1/id_verification')
    expect(sdkEvent).toMatchObject({
      direction: 'outgoing',
      scheme: 'sec_key',
      sent: 'sec_key',
      forwardedScheme: 'signature',
      partnerId: '085',
      outcome: 'accepted',
      warnings: ['resigned_as_signature'],
      // Named like the inbound verifier's records: the host name by default.
      instance: hostname(),
    })
    expect(text).not.toMatch(/\|[0-9a-f]{64}/)
    expect(text).not.toContain(keys.signatureApiKey)
  })

  it('a request with no credential is signed; one already signed passes byte for byte', async () => {
    const unsigned = await send(rolloutGateway.outbound!, '/v1/job_status', {
      body: JSON.stringify({ partner_id: '085', job_id: 'job-none', user_id: 'u' }),
    })
    expect(unsigned.status).toBe(200)
    expect(smile.requests.at(-1)!.result.ok).toBe(true)

    const signature = new SignatureAuth({ partnerId: '085', apiKey: keys.signatureApiKey })
    const raw = JSON.stringify({ partner_id: '085', ...(await signature.sign()), job_id: 'already' }, null, 2)
    const signed = await send(rolloutGateway.outbound!, '/v1/job_status', { body: raw })
    expect(signed.status).toBe(200)
    expect(JSON.stringify(smile.requests.at(-1)!.body, null, 2)).toBe(raw)
  })

  it('a percentage rollout picks the scheme per job id, as MigratingSigner does, the same on every retry', async () => {
    const reference = new MigratingSigner({
      signature: new SignatureAuth({ partnerId: '085', apiKey: keys.signatureApiKey }),
      secKey: new LegacySecKeyAuth({ partnerId: '085', apiKey: keys.secKeyApiKey }),
      use: { signaturePercent: 50 },
    })
    const legacy = new LegacySecKeyAuth({ partnerId: '085', apiKey: keys.secKeyApiKey })
    const jobs = Array.from({ length: 8 }, (_, i) => `rollout-job-${i}`)
    const expected = await Promise.all(jobs.map((job) => reference.schemeFor(job)))
    expect(new Set(expected).size).toBe(2) // both schemes occur among these job ids
    for (let round = 0; round < 2; round++) {
      for (const [i, job] of jobs.entries()) {
        const body = {
          partner_id: '085',
          ...(await legacy.sign()),
          partner_params: { job_id: job, user_id: 'u', job_type: 5 },
        }
        const reply = await send(rolloutGateway.outbound!, '/v1/id_verification', {
          body: JSON.stringify(body),
        })
        expect(reply.status).toBe(200)
        const seen = smile.requests.at(-1)!
        expect(seen.result.ok).toBe(true)
        expect(seen.result.ok && seen.result.scheme).toBe(expected[i])
        // Re-signed either way: never the app's own credential.
        expect((seen.body as Record<string, unknown>).sec_key).not.toBe(body.sec_key)
      }
    }
  })

  it('Smile answers are relayed unchanged, including refusals; bad bodies are not signed', async () => {
    const wrongPartner = await send(rolloutGateway.outbound!, '/v1/id_verification', {
      body: JSON.stringify({ partner_id: '999', job_id: 'x' }),
    })
    expect(wrongPartner.status).toBe(400)
    expect(JSON.parse(wrongPartner.body)).toEqual({ error: 'unknown_partner' })
    const before = smile.requests.length
    const notJson = await send(rolloutGateway.outbound!, '/v1/id_verification', { body: 'partner_id=085' })
    expect(notJson.status).toBe(400)
    expect(JSON.parse(notJson.body)).toEqual({ error: 'invalid_json' })
    expect(smile.requests).toHaveLength(before)
    // A signature that Smile refuses: its 401 and 2205 body come back as Smile sent them.
    const refused = await send(rolloutGateway.outbound!, '/v1/id_verification', {
      body: JSON.stringify({
        partner_id: '085',
        signature: 'A'.repeat(43) + '=',
        timestamp: new Date().toISOString(),
      }),
    })
    expect(refused.status).toBe(401)
    expect(JSON.parse(refused.body)).toEqual({ code: '2205', error: 'You are not authorized to do that.' })
  })

  it('Smile over https (its real scheme): re-signed requests go out over TLS, and the certificate is checked', async () => {
    const legacy = new LegacySecKeyAuth({ partnerId: '085', apiKey: keys.secKeyApiKey })
    const body = JSON.stringify({ partner_id: '085', ...(await legacy.sign()), job_id: 'over-tls' })
    const before = smile.requests.length
    const answer = await send(httpsGateway.outbound!, '/v1/job_status', { body })
    expect(answer.status).toBe(200)
    expect(smile.requests).toHaveLength(before + 1)
    const seen = smile.requests.at(-1)!
    expect(seen.result).toMatchObject({ ok: true, scheme: 'signature' })
    expect(seen.body).not.toHaveProperty('sec_key')

    // Without the CA the gateway cannot trust Smile's certificate: nothing is sent, the app gets 502.
    const refused = await send(untrustingGateway.outbound!, '/v1/job_status', { body })
    expect(refused.status).toBe(502)
    expect(JSON.parse(refused.body)).toEqual({ error: 'upstream_unreachable' })
    expect(smile.requests).toHaveLength(before + 1)
  })

  it('Smile unreachable: 502 upstream_unreachable; a body above maxBodyBytes: 413, nothing signed', async () => {
    const legacy = new LegacySecKeyAuth({ partnerId: '085', apiKey: keys.secKeyApiKey })
    const body = JSON.stringify({ partner_id: '085', ...(await legacy.sign()), job_id: 'dead' })
    const unreachable = await send(deadSmileGateway.outbound!, '/v1/id_verification', { body })
    expect(unreachable.status).toBe(502)
    expect(JSON.parse(unreachable.body)).toEqual({ error: 'upstream_unreachable' })
    const big = JSON.stringify({ partner_id: '085', padding: 'x'.repeat(5000) })
    const tooLarge = await send(deadSmileGateway.outbound!, '/v1/id_verification', { body: big })
    expect(tooLarge.status).toBe(413)
    expect(JSON.parse(tooLarge.body)).toEqual({ error: 'body_too_large' })
  })
})
