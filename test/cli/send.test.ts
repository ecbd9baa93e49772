import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { sendRejection, verifyIncomingMessage } from '../../src/adapters/node.js'
import { DualModeVerifier, LegacySecKeyAuth, SignatureAuth } from '../../src/index.js'
import { createTestKeys, type TestKeys } from '../../src/testing/index.js'
import { expectNoSecrets, expectUsageError, json, run, scratch } from './helpers.js'

const files = scratch()
afterAll(() => files.remove())

const KEYS: TestKeys = createTestKeys({ partnerId: '085' })
const KEYS_FILE = files.file('keys.json', JSON.stringify(KEYS, null, 2))
const SECRETS = [KEYS.signatureApiKey, KEYS.secKeyPrivateKey.replace(/-----[A-Z ]+-----/g, '')]

interface Received {
  body: Record<string, unknown>
  scheme: string | null
}

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    ),
  )
})

/** A receiver on 127.0.0.1 that verifies callbacks with a DualModeVerifier, as a partner's server does. */
async function receiver(keys: TestKeys = KEYS) {
  const verifier = new DualModeVerifier({
    partnerId: keys.partnerId,
    signature: new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey }),
    secKey: new LegacySecKeyAuth({ partnerId: keys.partnerId, apiKey: keys.secKeyApiKey }),
  })
  const received: Received[] = []
  const url = await listen(async (req, res) => {
    const verification = await verifyIncomingMessage(verifier, req)
    if (!verification.ok) return sendRejection(res, verification)
    received.push({ body: verification.body as Record<string, unknown>, scheme: verification.result.scheme })
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ received: true, scheme: verification.result.scheme }))
  })
  return { url: `${url}/smile/callback`, received }
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>) {
  const server = createServer((req, res) => void handler(req, res))
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

interface Report {
  url: string
  sent: { scheme: string; partnerId: string; ResultCode: string }
  status: number | null
  ok: boolean
  body: unknown
  error: string | null
}

describe('send: a signed test callback to a real endpoint, both schemes', () => {
  it.each(['signature', 'sec_key'] as const)(
    '%s with --keys: 2xx, exit 0, status and body printed',
    async (scheme) => {
      const { url, received } = await receiver()
      const result = await run(['send', url, '--keys', KEYS_FILE, '--scheme', scheme, '--json'])
      expect(result.code, result.stdout + result.stderr).toBe(0)
      expect(json<Report>(result)).toMatchObject({
        status: 200,
        ok: true,
        body: { received: true, scheme },
        sent: { scheme, partnerId: '085', ResultCode: '1012' },
        error: null,
      })
      expect(received).toHaveLength(1)
      expect(received[0]!.scheme).toBe(scheme)
      expect(received[0]!.body).toMatchObject({
        partner_id: '085',
        ResultCode: '1012',
        SmileJobID: expect.any(String),
      })
      expect(received[0]!.body[scheme]).toEqual(expect.any(String))
      expectNoSecrets(result, [...SECRETS, received[0]!.body[scheme] as string])
    },
  )

  it('signature with the key from --api-key-file or SMILEID_API_KEY; sec_key with --private-key-file', async () => {
    const { url, received } = await receiver()
    const keyFile = files.file('sig.key', `${KEYS.signatureApiKey}\n`)
    const privateKey = files.file('private.pem', KEYS.secKeyPrivateKey)
    const runs = [
      await run(['send', url, '--partner-id', '085', '--api-key-file', keyFile]),
      await run(['send', url, '--partner-id', '085'], { env: { SMILEID_API_KEY: KEYS.signatureApiKey } }),
      await run([
        'send',
        url,
        '--partner-id',
        '085',
        '--scheme',
        'sec_key',
        '--private-key-file',
        privateKey,
      ]),
    ]
    for (const result of runs) {
      expect(result.code, result.stdout + result.stderr).toBe(0)
      expect(result.stderr).toBe('')
      expectNoSecrets(result, SECRETS)
    }
    expect(received.map((entry) => entry.scheme)).toEqual(['signature', 'signature', 'sec_key'])
  })

  it('--result approved, rejected or a ResultCode reaches the endpoint', async () => {
    const { url, received } = await receiver()
    for (const choice of ['approved', 'rejected', '1022']) {
      const result = await run(['send', url, '--keys', KEYS_FILE, '--result', choice, '--json'])
      expect(result.code).toBe(0)
    }
    expect(received.map((entry) => entry.body.ResultCode)).toEqual(['1012', '1013', '1022'])
    expect(received[1]!.body.ResultText).toBe('Invalid ID Number')
  })

  it('an endpoint that refuses: exit 1 with its status and body; text output names both', async () => {
    const other = createTestKeys({ partnerId: '085' })
    const { url, received } = await receiver(other)
    for (const scheme of ['signature', 'sec_key']) {
      const result = await run(['send', url, '--keys', KEYS_FILE, '--scheme', scheme, '--json'])
      expect(result.code).toBe(1)
      expect(json<Report>(result)).toMatchObject({
        status: 401,
        ok: false,
        body: { error: scheme === 'signature' ? 'invalid_signature' : 'invalid_sec_key' },
      })
    }
    const text = await run(['send', url, '--keys', KEYS_FILE, '--format', 'text'])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^✖ 401 Unauthorized\n/)
    expect(text.stdout).toMatch(/status +401 Unauthorized/)
    expect(text.stdout).toMatch(/"error": "invalid_signature"/)
    expect(received).toHaveLength(0)
  })

  it('an old --timestamp tests that the endpoint refuses stale callbacks', async () => {
    const { url } = await receiver()
    const result = await run([
      'send',
      url,
      '--keys',
      KEYS_FILE,
      '--timestamp',
      '2023-11-14T22:13:20.000Z',
      '--json',
    ])
    expect(result.code).toBe(1)
    expect(json<Report>(result).body).toEqual({ error: 'timestamp_expired' })
  })

  it('without keys: fresh test keys and a note that the endpoint will refuse them', async () => {
    const { url } = await receiver()
    const result = await run(['send', url, '--json'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /^note: no signature API key given: signed with freshly generated test keys/,
    )
    expect(json<Report>(result)).toMatchObject({ status: 401, body: { error: 'invalid_signature' } })
  })

  it('prints a 2xx text body, a redirect as not followed, and an empty body', async () => {
    let answer: [number, Record<string, string>, string] = [200, {}, '']
    const url = await listen((_req, res) => {
      res.writeHead(answer[0], answer[1])
      res.end(answer[2])
    })
    answer = [202, { 'content-type': 'text/plain' }, 'queued\nthanks']
    const text = await run(['send', url, '--keys', KEYS_FILE, '--format', 'text'])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^✔ 202 Accepted\n/)
    expect(text.stdout).toMatch(/ {4}queued\n {4}thanks\n/)
    answer = [302, { location: 'https://example.test/' }, '']
    const redirect = await run(['send', url, '--keys', KEYS_FILE, '--format', 'text'])
    expect(redirect.code).toBe(1)
    expect(redirect.stdout).toMatch(/302 Found \(redirects are not followed\)/)
    answer = [204, {}, '']
    const empty = await run(['send', url, '--keys', KEYS_FILE, '--json'])
    expect(empty.code).toBe(0)
    expect(json<Report>(empty)).toMatchObject({ status: 204, body: null })
  })

  it('credentials in the URL become a Basic Authorization header and are never printed', async () => {
    const seen: Array<string | undefined> = []
    const url = await listen((req, res) => {
      seen.push(req.headers.authorization)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
    })
    const withUser = url.replace('http://', 'http://hook:s3cret-pass@')
    for (const extra of [['--json'], ['--format', 'text']]) {
      const result = await run(['send', `${withUser}/cb`, '--keys', KEYS_FILE, ...extra])
      expect(result.code, result.stdout).toBe(0)
      expect(result.stdout + result.stderr).not.toContain('s3cret-pass')
    }
    expect(seen).toEqual([
      `Basic ${Buffer.from('hook:s3cret-pass').toString('base64')}`,
      `Basic ${Buffer.from('hook:s3cret-pass').toString('base64')}`,
    ])
  })

  it("the endpoint's answer reaches the terminal inert", async () => {
    const url = await listen((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('boom\u001b[2J\u001b]0;owned\u0007\u009b2K\u202e')
    })
    for (const extra of [['--format', 'text'], ['--json']]) {
      const result = await run(['send', url, '--keys', KEYS_FILE, ...extra], {
        tty: true,
        env: { NO_COLOR: '1' },
      })
      expect(result.code).toBe(1)
      expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/)
    }
  })
})

describe('send: connection errors and timeouts are one clear line, exit 1', () => {
  it('connection refused', async () => {
    const url = await listen(() => undefined)
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()))
    const result = await run(['send', url, '--keys', KEYS_FILE, '--format', 'text'])
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/✖ no answer/)
    expect(result.stdout).toMatch(/connection refused by 127\.0\.0\.1:\d+: is your server running/)
    expect(result.stdout + result.stderr).not.toMatch(/\n\s+at /)
  })

  it('an endpoint that never answers: --timeout', async () => {
    const url = await listen(() => undefined)
    const started = Date.now()
    const result = await run(['send', url, '--keys', KEYS_FILE, '--timeout', '300ms', '--json'])
    expect(result.code).toBe(1)
    expect(json<Report>(result)).toMatchObject({
      status: null,
      error: expect.stringMatching(/^no answer from 127\.0\.0\.1:\d+ within/),
    })
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('an endpoint that sends headers and then stalls the body: --timeout', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"partial":')
    })
    const result = await run(['send', url, '--keys', KEYS_FILE, '--timeout', '300ms', '--json'])
    expect(result.code).toBe(1)
    expect(json<Report>(result).error).toMatch(/within/)
  })

  it('a port that fetch refuses', async () => {
    const result = await run(['send', 'http://127.0.0.1:1/x', '--keys', KEYS_FILE, '--json'])
    expect(result.code).toBe(1)
    expect(json<Report>(result).error).toMatch(/fetch refuses port 1 /)
  })

  it('a connection closed without an answer', async () => {
    const url = await listen((req) => void req.socket.destroy())
    const result = await run(['send', url, '--keys', KEYS_FILE, '--json'])
    expect(result.code).toBe(1)
    expect(json<Report>(result).error).toMatch(/closed the connection|failed/)
  })
})

describe('send: usage errors exit 2', () => {
  it.each([
    [[], /give the URL/],
    [['not a url'], /the URL is not valid/],
    [['ftp://127.0.0.1/x'], /must start with http/],
    [
      ['http://127.0.0.1:1/x', '--result', 'maybe'],
      /--result must be approved, rejected or a four-digit ResultCode/,
    ],
    [['http://127.0.0.1:1/x', '--scheme', 'hmac'], /--scheme must be one of signature, sec_key/],
    [['http://127.0.0.1:1/x', '--timeout', 'soon'], /--timeout must be a duration/],
    [['http://127.0.0.1:1/x', '--scheme', 'sec_key', '--api-key', 'k', '--partner-id', '085'], /private key/],
    [
      ['http://127.0.0.1:1/x', '--api-key', 'k'],
      /--partner-id is required with your own key \(the key here is from --api-key\)/,
    ],
    [['http://127.0.0.1:1/x', '--keys', '/nonexistent/keys.json'], /cannot read/],
    [['http://127.0.0.1:1/x', '--sheme', 'sec_key'], /did you mean --scheme\?/],
  ])('%j', async (args, pattern) => {
    const result = await run(['send', ...(args as string[])])
    expectUsageError(result, pattern as RegExp)
  })

  it('a key from SMILEID_API_KEY without --partner-id: usage error naming the variable, never the key', async () => {
    const result = await run(['send', 'http://127.0.0.1:1/x'], {
      env: { SMILEID_API_KEY: KEYS.signatureApiKey },
    })
    expectUsageError(
      result,
      /--partner-id is required with your own key \(the key here is from SMILEID_API_KEY\)/,
    )
    expect(result.stderr).not.toContain(KEYS.signatureApiKey)
  })

  it('a keys file that is not keygen output is refused without quoting it', async () => {
    const path = files.file('bad-keys.json', '{"signatureApiKey":"SECRET-LOOKING"}')
    const result = await run(['send', 'http://127.0.0.1:1/x', '--keys', path])
    expectUsageError(result, /has no partnerId: give the JSON that 'smileid-auth keygen' prints/)
    expect(result.stderr).not.toContain('SECRET-LOOKING')
  })
})
