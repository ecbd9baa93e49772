/**
 * No secret in any output. Runs the key paths (strategies, the verifier with every audit sink, errors from
 * bad configuration, every adapter's refusals, the CLI's sign / verify / inspect) and searches everything
 * they produce (results, messages, errors with their causes and stacks, audit lines and reports, console
 * output, HTTP answers, CLI stdout and stderr) for the API keys, the private key, and the signatures and
 * sec_keys used.
 */
import { execFile } from 'node:child_process'
import { createPrivateKey } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import {
  DualModeVerifier,
  jsonlAuditSink,
  LegacySecKeyAuth,
  LegacyUsageTracker,
  MemoryReplayStore,
  SignatureAuth,
  summarizeAudit,
  type AuditEvent,
} from '../../src/index.js'
import { HOSTILE_ADAPTERS, startAdapter } from '../support/adapters.js'
import { bundleSrc, srcFile } from '../support/esbuild.js'
import { send } from '../support/http.js'
import { expectNoSecrets, findSecret, secretsOf, serialize, type NamedSecret } from '../support/secrets.js'
import {
  hostileSecrets,
  NOW,
  PARTNER,
  signedRequests,
  testPartner,
  type SignedRequests,
} from '../support/fixtures.js'

let dir: string
let requests: SignedRequests
let secrets: NamedSecret[]
/** Everything the library printed through console while the in-process tests ran. */
const printed: unknown[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smileid-secrets-'))
  requests = await signedRequests()
  secrets = hostileSecrets(requests)
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args))
  }
})
afterAll(async () => {
  vi.restoreAllMocks()
  await rm(dir, { recursive: true, force: true })
  expectNoSecrets(printed, secrets, 'console output')
})

describe('the secret search itself', () => {
  it('finds a secret whole, in part, inside an error cause, and a PEM line inside escaped JSON', () => {
    const { keys } = testPartner()
    const found = (output: unknown, fragment?: number) =>
      findSecret(serialize(output), secrets, fragment)?.name ?? null
    expect(found({ message: `key is ${keys.signatureApiKey}` })).toBe('signature API key')
    expect(found(`…${keys.signatureApiKey.slice(20, 40)}…`)).toBe('signature API key')
    expect(
      found(new Error('wrapped', { cause: new Error(`bad ${keys.signatureApiKey.slice(5, 25)}`) })),
    ).toBe('signature API key')
    expect(found(JSON.stringify({ pem: keys.secKeyPrivateKey }))).toMatch(/^private key \(PEM line/)
    expect(found({ sec_key: String(requests.secKeyBody.sec_key) })).toBe('sec_key (RSA half)')
    expect(found(`"${keys.signatureApiKey.slice(3, 13)}"`, 8)).toBe('signature API key')
    // And stays quiet on what is not secret.
    expect(
      found({ keyId: 'hmac:0123456789abcdef', reason: 'invalid_signature', partnerId: PARTNER }),
    ).toBeNull()
  })
})

describe('no secret in the library outputs', () => {
  it('strategies: results and verifyOrThrow errors', async () => {
    const { signature, secKey, smile } = testPartner()
    const outputs: unknown[] = []
    const sig = requests.signatureBody
    const sec = requests.secKeyBody
    outputs.push(await signature.verify({ signature: sig.signature, timestamp: sig.timestamp }))
    outputs.push(await signature.verify({ signature: sig.signature, timestamp: `${String(sig.timestamp)}x` }))
    outputs.push(await secKey.verify({ sec_key: sec.sec_key, timestamp: sec.timestamp }))
    outputs.push(await secKey.verify({ sec_key: sec.sec_key, timestamp: Number(sec.timestamp) + 1 }))
    outputs.push(await smile.verify({ sec_key: sec.sec_key, timestamp: sec.timestamp }))
    outputs.push(await smile.verify({ sec_key: `${String(sec.sec_key)}x`, timestamp: sec.timestamp }))
    outputs.push(signature, secKey, smile)
    const verifier = new DualModeVerifier({ partnerId: PARTNER, signature, secKey, now: () => NOW })
    for (const body of [
      { ...sig, timestamp: 'x' },
      { ...sec, timestamp: 1 },
      { ...sig, signature: `${String(sig.signature).slice(1)}A` },
    ]) {
      outputs.push(await verifier.verifyOrThrow({ body }).catch((error: unknown) => error))
    }
    expect(outputs.filter((o) => o instanceof Error).length).toBe(3)
    for (const output of outputs) expectNoSecrets(output, secrets, inspect(output, { depth: 0 }).slice(0, 60))
  })

  it('verifier with a function sink, jsonl, the usage tracker and summarizeAudit', async () => {
    const { signature, secKey } = testPartner()
    const events: AuditEvent[] = []
    const path = join(dir, 'audit.jsonl')
    const jsonl = jsonlAuditSink(path)
    const tracker = new LegacyUsageTracker()
    const verifier = new DualModeVerifier({
      partnerId: PARTNER,
      signature,
      secKey,
      policy: { legacy: 'warn', legacySunsetAt: '2030-01-01T00:00:00Z' },
      replay: new MemoryReplayStore(),
      audit: [(event) => void events.push(event), jsonl, tracker],
      now: () => NOW,
    })
    const sig = requests.signatureBody
    const bodies: unknown[] = [
      sig,
      sig,
      { ...sig, job: 'other' },
      { ...sig, timestamp: '2023-11-14T22:13:21.000Z' },
      requests.secKeyBody,
      requests.secKeyAsSignatureBody,
      { ...requests.secKeyBody, timestamp: 1 },
      { ...requests.secKeyBody, partner_id: '999' },
      { ...sig, sec_key: requests.secKeyBody.sec_key },
    ]
    const results = []
    for (const body of bodies)
      results.push(await verifier.verify({ body }, { route: '/cb', sourceIp: '127.0.0.1' }))
    results.push(await verifier.verify({ body: requests.headersBody, headers: requests.headers }))
    results.push(
      await verifier.verify({
        body: requests.headersBody,
        headers: { ...requests.headers, 'SmileID-Timestamp': 'x' },
      }),
    )
    await jsonl.close()

    expect(results.filter((r) => r.ok).length).toBeGreaterThanOrEqual(4)
    expect(events.length).toBe(results.length)
    expectNoSecrets(results, secrets, 'verification results')
    expectNoSecrets(events, secrets, 'audit events')
    expectNoSecrets(await readFile(path, 'utf8'), secrets, 'the jsonl audit file')
    expectNoSecrets(tracker.report(new Date(NOW)), secrets, 'LegacyUsageTracker report')
    expectNoSecrets(await summarizeAudit(events), secrets, 'summarizeAudit report')
    expectNoSecrets(verifier, secrets, 'the verifier object')
  })

  it('configuration errors, with their causes and stacks', () => {
    const { keys } = testPartner()
    const jwk = createPrivateKey(keys.secKeyPrivateKey).export({ format: 'jwk' }) as Record<string, string>
    // The private parts of the key as a JWK, searched at 8 characters: a JSON parser quotes about ten.
    const privateParts = secretsOf({ d: jwk.d!, p: jwk.p!, q: jwk.q!, dp: jwk.dp!, dq: jwk.dq!, qi: jwk.qi! })
    const publicPem = Buffer.from(keys.secKeyApiKey, 'base64').toString('utf8')
    const attempts: Array<[string, () => unknown]> = [
      [
        'numeric partner id',
        () => new SignatureAuth({ partnerId: 85 as unknown as string, apiKey: keys.signatureApiKey }),
      ],
      [
        'empty key in a rotation list',
        () => new SignatureAuth({ partnerId: PARTNER, apiKey: [keys.signatureApiKey, ''] }),
      ],
      [
        'partner id with a space',
        () => new SignatureAuth({ partnerId: `0 ${keys.signatureApiKey}`, apiKey: keys.signatureApiKey }),
      ],
      [
        'private key given as apiKey',
        () => new LegacySecKeyAuth({ partnerId: PARTNER, apiKey: keys.secKeyPrivateKey }),
      ],
      [
        'signature key given as sec_key apiKey',
        () => new LegacySecKeyAuth({ partnerId: PARTNER, apiKey: keys.signatureApiKey }),
      ],
      [
        'truncated private key',
        () => new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: keys.secKeyPrivateKey.slice(0, 400) }),
      ],
      ['public key as privateKey', () => new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: publicPem })],
      [
        'signature key as privateKey',
        () => new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: keys.signatureApiKey }),
      ],
      [
        'both keys',
        () =>
          new LegacySecKeyAuth({
            partnerId: PARTNER,
            apiKey: keys.secKeyApiKey,
            privateKey: keys.secKeyPrivateKey,
          } as never),
      ],
      [
        'non-digit partner id',
        () => new LegacySecKeyAuth({ partnerId: 'abc', privateKey: keys.secKeyPrivateKey }),
      ],
      [
        'corrupted private key',
        () =>
          new LegacySecKeyAuth({
            partnerId: PARTNER,
            privateKey: keys.secKeyPrivateKey.replace(/[A-Za-z](?=[A-Za-z0-9+/]{30}\n)/, '*'),
          }),
      ],
      [
        'strategy for another partner',
        () =>
          new DualModeVerifier({
            partnerId: '999',
            signature: new SignatureAuth({ partnerId: PARTNER, apiKey: keys.signatureApiKey }),
          }),
      ],
    ]
    for (const [name, attempt] of attempts) {
      let caught: unknown
      try {
        attempt()
      } catch (error) {
        caught = error
      }
      expect(caught, name).toBeInstanceOf(Error)
      expectNoSecrets(caught, secrets, `error for ${name}`)
    }

    // A private JWK that is not quite JSON: the message, and the cause a logger prints, must not quote it.
    const brokenJwk = JSON.stringify(jwk).replace(`"d":"`, `"d":`)
    let caught: unknown
    try {
      new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: brokenJwk })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(Error)
    expectNoSecrets((caught as Error).message, privateParts, 'message for a malformed private JWK', {
      fragment: 8,
    })
    expectNoSecrets(caught, privateParts, 'error (with cause) for a malformed private JWK', { fragment: 8 })
  })

  it('every adapter: refusals carry no secret, in the body or the headers', async () => {
    const sig = requests.signatureBody
    const sec = requests.secKeyBody
    const bodies = [
      { ...sig, timestamp: '2023-11-14T22:13:21.000Z' },
      { ...sec, timestamp: 1 },
      { ...sec, sec_key: `${String(sec.sec_key).slice(0, -1)}0` },
      { ...sig, signature: [sig.signature] },
      { ...sig, partner_id: '999' },
    ]
    for (const name of HOSTILE_ADAPTERS) {
      const events: AuditEvent[] = []
      const adapter = await startAdapter(
        name,
        new DualModeVerifier({
          partnerId: PARTNER,
          signature: testPartner().signature,
          secKey: testPartner().secKey,
          audit: (event) => void events.push(event),
          now: () => NOW,
        }),
      )
      try {
        for (const body of bodies) {
          const reply = await send(adapter.url, JSON.stringify(body))
          expect(reply.status).toBe(401)
          expectNoSecrets([reply.text, reply.headers], secrets, `${name} 401`)
        }
        const headers = { ...requests.headers, 'SmileID-Timestamp': 'x' }
        const reply = await send(adapter.url, JSON.stringify(requests.headersBody), { headers })
        expect(reply.status).toBe(401)
        expectNoSecrets([reply.text, reply.headers], secrets, `${name} 401 (headers)`)
        expectNoSecrets(events, secrets, `${name} audit events`)
        expectNoSecrets(adapter.errors, secrets, `${name} errors`)
      } finally {
        await adapter.close()
      }
    }
  })
})

describe('no secret in the CLI output', () => {
  let cli: string
  type FileName =
    | 'signatureKey'
    | 'secKeyApiKey'
    | 'privateKey'
    | 'signatureBody'
    | 'secKeyBody'
    | 'legacyBody'
    | 'forgedBody'
    | 'headersBody'
    | 'brokenBody'
  let files: Record<FileName, string>

  beforeAll(async () => {
    // The CLI as built from src (the package's "imports" map points at dist/, which may be stale or absent).
    cli = join(dir, 'smileid-auth.mjs')
    await bundleSrc({ runtime: 'node', entryPoints: [srcFile('cli/main.ts')], outfile: cli })
    const { keys } = testPartner()
    files = {
      signatureKey: join(dir, 'signature.key'),
      secKeyApiKey: join(dir, 'sec-key-api.key'),
      privateKey: join(dir, 'private.pem'),
      signatureBody: join(dir, 'signature-body.json'),
      secKeyBody: join(dir, 'sec-key-body.json'),
      legacyBody: join(dir, 'legacy-body.json'),
      forgedBody: join(dir, 'forged-body.json'),
      headersBody: join(dir, 'headers-body.json'),
      brokenBody: join(dir, 'broken-body.json'),
    }
    await writeFile(files.signatureKey, `${keys.signatureApiKey}\n`)
    await writeFile(files.secKeyApiKey, keys.secKeyApiKey)
    await writeFile(files.privateKey, keys.secKeyPrivateKey)
    await writeFile(files.signatureBody, JSON.stringify(requests.signatureBody))
    await writeFile(files.secKeyBody, JSON.stringify(requests.secKeyBody))
    await writeFile(files.legacyBody, JSON.stringify(requests.secKeyAsSignatureBody))
    await writeFile(
      files.forgedBody,
      JSON.stringify({ ...requests.signatureBody, timestamp: '2023-11-14T22:13:21.000Z' }),
    )
    await writeFile(files.headersBody, JSON.stringify(requests.headersBody))
    // Not JSON, and the break is right next to the signature: a parser message would quote it.
    await writeFile(files.brokenBody, `{"signature":${String(requests.signatureBody.signature)}"}`)
  }, 60_000)

  interface Run {
    args: string[]
    code: number | null
    stdout: string
    stderr: string
  }

  function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [cli, ...args],
        { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, timeout: 30_000 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
          resolve({ args, code, stdout, stderr })
        },
      )
    })
  }

  it(
    'sign, verify and inspect print no key, signature or sec_key they were given',
    { timeout: 90_000 },
    async () => {
      const { keys } = testPartner()
      const signatureEnv = { SMILEID_API_KEY: keys.signatureApiKey }
      const bothEnv = { ...signatureEnv, SMILEID_SEC_KEY_API_KEY: keys.secKeyApiKey }
      const header = (name: string) => `${name}: ${requests.headers[name]!}`
      // Not the timestamp of the bodies below: a credential sign made is not one of the secrets searched for.
      const fixedTime = ['--timestamp', '2023-11-14T22:13:25.000Z']

      const signs = await Promise.all([
        run(['sign', '--scheme', 'signature', '--partner-id', PARTNER, ...fixedTime], signatureEnv),
        run(['sign', '--scheme', 'signature', '--partner-id', PARTNER, '--format', 'headers'], signatureEnv),
        run([
          'sign',
          '--scheme',
          'signature',
          '--partner-id',
          PARTNER,
          '--format',
          'curl',
          '--api-key-file',
          files.signatureKey,
        ]),
        run(['sign', '--scheme', 'sec_key', '--partner-id', PARTNER], {
          SMILEID_SEC_KEY_API_KEY: keys.secKeyApiKey,
        }),
        run(['sign', '--scheme', 'sec_key', '--partner-id', PARTNER, '--private-key-file', files.privateKey]),
      ])
      for (const result of signs) {
        // sign's job is to print the credential it made; it must print nothing else secret.
        expect([result.args.join(' '), result.code]).toEqual([result.args.join(' '), 0])
        expectNoSecrets([result.stdout, result.stderr], secrets, `smileid-auth ${result.args.join(' ')}`)
      }
      // The control: what sign printed is the credential, so the search above looked at real output.
      expect(JSON.parse(signs[0]!.stdout)).toEqual({
        ...(await testPartner().signature.sign({ timestamp: '2023-11-14T22:13:25.000Z' })),
        partner_id: PARTNER,
      })

      const checks = await Promise.all([
        run(['verify', files.signatureBody, '--no-freshness'], bothEnv),
        run(['verify', files.signatureBody, '--no-freshness', '--format', 'text'], bothEnv),
        run(['verify', files.secKeyBody, '--no-freshness'], bothEnv),
        run(['verify', files.legacyBody, '--no-freshness', '--format', 'text'], bothEnv),
        run(['verify', files.forgedBody, '--no-freshness', '--format', 'text'], bothEnv),
        run(['verify', files.forgedBody, '--no-freshness'], {
          SMILEID_API_KEY: 'another-key-entirely',
          SMILEID_SEC_KEY_API_KEY: keys.secKeyApiKey,
        }),
        run(
          [
            'verify',
            files.headersBody,
            '--no-freshness',
            '-H',
            header('SmileID-Request-Signature'),
            '-H',
            header('SmileID-Timestamp'),
            '-H',
            header('SmileID-Partner-ID'),
          ],
          bothEnv,
        ),
        run(['verify', files.brokenBody], bothEnv),
        run(['verify', files.signatureBody, '--api-key', keys.secKeyApiKey]),
        run(['inspect', files.signatureBody, '--format', 'text'], bothEnv),
        run(['inspect', files.signatureBody, '--format', 'json'], bothEnv),
        run(
          [
            'inspect',
            files.forgedBody,
            '--format',
            'text',
            '--api-key',
            'sandbox-key-1',
            '--api-key',
            keys.signatureApiKey,
          ],
          { SMILEID_SEC_KEY_API_KEY: keys.secKeyApiKey },
        ),
        run(['inspect', files.secKeyBody, '--format', 'text'], bothEnv),
        run(['inspect', files.legacyBody, '--format', 'json'], bothEnv),
        run(['inspect', files.secKeyBody, '--format', 'text', '--sec-key-api-key-file', files.privateKey]),
        run(
          [
            'inspect',
            files.headersBody,
            '-H',
            header('SmileID-Request-Signature'),
            '-H',
            header('SmileID-Timestamp'),
          ],
          bothEnv,
        ),
        run(['inspect', files.brokenBody], bothEnv),
      ])
      for (const result of checks) {
        expect(result.code, `${result.args.join(' ')}: ${result.stderr}`).not.toBeNull()
        expect(result.stdout.length + result.stderr.length).toBeGreaterThan(0)
        expectNoSecrets([result.stdout, result.stderr], secrets, `smileid-auth ${result.args.join(' ')}`)
      }
      // The controls: genuine bodies verify (exit 0), the forged one does not (exit 1), broken input is a usage error (2).
      expect(checks.slice(0, 5).map((r) => r.code)).toEqual([0, 0, 0, 0, 1])
      expect(checks[7]!.code).toBe(2)
    },
  )
})
