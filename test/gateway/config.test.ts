/**
 * The gateway config: every mistake is reported against its field with what the field accepts, keys are
 * read only from the variables and files the config names, and the CLI (in-process) exits 2 on each.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

import {
  GatewayConfigError,
  loadGatewayConfig,
  parseGatewayConfig,
  resolveGatewayConfig,
} from '../../src/gateway/config.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { run } from '../cli/helpers.js'
import { tempDir } from './harness.js'

const keys = createTestKeys({ partnerId: '085' })
const temp = tempDir()
afterAll(() => temp.remove())

const valid = {
  partnerId: '085',
  signature: { apiKeyEnv: 'TEST_SIGNATURE_KEY' },
  inbound: { listen: { port: 8787 }, upstream: 'http://127.0.0.1:3000' },
}
const env = { TEST_SIGNATURE_KEY: keys.signatureApiKey }

function expectConfigError(action: () => unknown, field: string, message: RegExp): void {
  try {
    action()
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayConfigError)
    expect((error as GatewayConfigError).field).toBe(field)
    expect((error as GatewayConfigError).message).toMatch(message)
    return
  }
  expect.fail(`expected a GatewayConfigError for ${field}`)
}

describe('parseGatewayConfig: each bad field is named, with what it accepts', () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    [
      'an unknown top-level field',
      { ...valid, listen: 1 },
      'listen',
      /unknown field "listen"; allowed: partnerId, signature, secKey, partners/,
    ],
    [
      'a key written into the config',
      { ...valid, signature: { apiKey: 'abc' } },
      'signature.apiKey',
      /unknown field "apiKey"; allowed: apiKeyEnv, apiKeyFile \(keys come from apiKeyEnv or apiKeyFile, never from the config itself\)/,
    ],
    [
      'both key sources',
      { ...valid, signature: { apiKeyEnv: 'A', apiKeyFile: '/b' } },
      'signature',
      /exactly one of apiKeyEnv .* or apiKeyFile/,
    ],
    ['no key source', { ...valid, signature: {} }, 'signature', /exactly one of apiKeyEnv/],
    [
      'a bad legacy policy',
      { ...valid, policy: { legacy: 'maybe' } },
      'policy.legacy',
      /must be one of accept, warn, reject/,
    ],
    ['a bad mode', { ...valid, policy: { mode: 'audit' } }, 'policy.mode', /must be one of enforce, observe/],
    [
      'a bad sunset',
      { ...valid, policy: { legacySunsetAt: 'next spring' } },
      'policy.legacySunsetAt',
      /ISO 8601 instant/,
    ],
    [
      'a port out of range',
      { ...valid, inbound: { ...valid.inbound, listen: { port: 70000 } } },
      'inbound.listen.port',
      /whole number from 0 to 65535/,
    ],
    [
      'a port as a string',
      { ...valid, inbound: { ...valid.inbound, listen: { port: '8787' } } },
      'inbound.listen.port',
      /whole number from 0 to 65535/,
    ],
    [
      'an upstream that is not a URL',
      { ...valid, inbound: { ...valid.inbound, upstream: 'localhost:3000' } },
      'inbound.upstream',
      /http:\/\/ or https:\/\/ URL/,
    ],
    [
      'no upstream at all',
      { ...valid, inbound: { listen: { port: 1 } } },
      'inbound',
      /give an upstream, or routes/,
    ],
    [
      'a route path without a slash',
      { ...valid, inbound: { ...valid.inbound, routes: [{ path: 'kyc', upstream: 'http://a' }] } },
      'inbound.routes.0.path',
      /path starting with "\/"/,
    ],
    [
      'a route over /metrics',
      { ...valid, inbound: { ...valid.inbound, routes: [{ path: '/metrics', upstream: 'http://a' }] } },
      'inbound.routes.0.path',
      /\/healthz, \/readyz, \/metrics/,
    ],
    [
      'a bad body limit',
      { ...valid, inbound: { ...valid.inbound, maxBodyBytes: 0 } },
      'inbound.maxBodyBytes',
      /whole number of bytes from 1 to 104857600/,
    ],
    [
      'a bad timeout',
      { ...valid, inbound: { ...valid.inbound, upstreamTimeoutMs: -5 } },
      'inbound.upstreamTimeoutMs',
      /whole number of milliseconds/,
    ],
    [
      'a bad outbound use',
      {
        ...valid,
        outbound: { listen: { port: 1 }, smileBaseUrl: 'https://testapi.smileidentity.com', use: 'hmac' },
      },
      'outbound.use',
      /"signature", "sec_key" or \{ "signaturePercent": 0 to 100 \}/,
    ],
    [
      'a percentage above 100',
      {
        ...valid,
        outbound: {
          listen: { port: 1 },
          smileBaseUrl: 'https://testapi.smileidentity.com',
          use: { signaturePercent: 120 },
        },
      },
      'outbound.use.signaturePercent',
      /must be a number from 0 to 100/,
    ],
    [
      'a missing Smile base URL',
      { ...valid, outbound: { listen: { port: 1 } } },
      'outbound.smileBaseUrl',
      /http:\/\/ or https:\/\/ URL/,
    ],
    [
      'half a TLS pair',
      { ...valid, outbound: { listen: { port: 1 }, smileBaseUrl: 'https://x', tls: { certFile: '/c' } } },
      'outbound.tls.keyFile',
      /path of a PEM key file/,
    ],
    [
      'a Redis URL of another scheme',
      { ...valid, replay: { redis: { url: 'http://127.0.0.1:6379' } } },
      'replay.redis.url',
      /redis:\/\/ or rediss:\/\//,
    ],
    [
      'a replay.memory bound of zero',
      { ...valid, replay: { memory: { maxEntries: 0 } } },
      'replay.memory.maxEntries',
      /whole number of credentials from 1 to 100000000/,
    ],
    [
      'a replay.memory bound as a string',
      { ...valid, replay: { memory: { maxEntries: '1e6' } } },
      'replay.memory.maxEntries',
      /whole number of credentials/,
    ],
    [
      'both replay stores',
      { ...valid, replay: { redis: { url: 'redis://127.0.0.1:6379' }, memory: { maxEntries: 10 } } },
      'replay',
      /give replay\.redis or replay\.memory, not both/,
    ],
    [
      'an unknown replay store',
      { ...valid, replay: { memcached: {} } },
      'replay.memcached',
      /allowed: redis, memory/,
    ],
    [
      'neither listener',
      { partnerId: '085', signature: { apiKeyEnv: 'K' } },
      '(top level)',
      /give inbound, outbound or both/,
    ],
    [
      'no partner',
      { inbound: valid.inbound },
      'partnerId',
      /give partnerId with signature and\/or secKey, or partners/,
    ],
    [
      'both partner forms',
      { ...valid, partners: { '085': { signature: { apiKeyEnv: 'K' } } } },
      'partners',
      /not both/,
    ],
    [
      'a partner without keys',
      { partners: { '085': {} }, inbound: valid.inbound },
      'partners.085',
      /give signature and\/or secKey/,
    ],
    ['freshness of the wrong type', { ...valid, freshness: true }, 'freshness', /must be false or/],
    ['not an object', [1, 2], '(top level)', /must be an object/],
  ]
  it.each(cases)('%s', (_name, config, field, message) => {
    expectConfigError(() => parseGatewayConfig(config), field, message)
  })

  it('a valid config parses, with defaults', () => {
    const parsed = parseGatewayConfig(valid)
    expect(parsed.inbound?.listen).toEqual({ host: '127.0.0.1', port: 8787 })
  })
})

describe('resolveGatewayConfig: keys come only from the named variables and files', () => {
  it('reads the key from the named environment variable', () => {
    const config = resolveGatewayConfig(parseGatewayConfig(valid), { env })
    expect(config.partners.get('085')?.signature?.scheme).toBe('signature')
  })

  it('several partners: each entry gets its own strategies and policy; a bad key names the partner', () => {
    const other = createTestKeys({ partnerId: '2343' })
    const config = resolveGatewayConfig(
      parseGatewayConfig({
        partners: {
          '085': { signature: { apiKeyEnv: 'TEST_SIGNATURE_KEY' } },
          '2343': { signature: { apiKeyEnv: 'OTHER_KEY' }, policy: { legacy: 'reject' } },
        },
        inbound: valid.inbound,
      }),
      { env: { ...env, OTHER_KEY: other.signatureApiKey } },
    )
    expect(config.single).toBe(false)
    expect([...config.partners.keys()].sort()).toEqual(['085', '2343'])
    expect(config.partners.get('2343')?.policy).toEqual({ legacy: 'reject' })
    expectConfigError(
      () =>
        resolveGatewayConfig(
          parseGatewayConfig({
            partners: { '2343': { secKey: { apiKeyEnv: 'OTHER_KEY' } } },
            inbound: valid.inbound,
          }),
          { env: { OTHER_KEY: 'bm90IGEga2V5' } },
        ),
      'partners.2343.secKey',
      /./,
    )
  })

  it('an unset variable is named, and its value never printed', () => {
    expectConfigError(
      () => resolveGatewayConfig(parseGatewayConfig(valid), { env: {} }),
      'signature.apiKeyEnv',
      /TEST_SIGNATURE_KEY is not set or empty/,
    )
  })

  it('an unreadable key file is named with the error code', () => {
    const config = { ...valid, signature: { apiKeyFile: join(temp.dir, 'missing.txt') } }
    expectConfigError(
      () => resolveGatewayConfig(parseGatewayConfig(config), { env }),
      'signature.apiKeyFile',
      /cannot read .*missing\.txt \(ENOENT\)/,
    )
  })

  it('a key the strategy refuses is reported against its field, without the key', () => {
    const notAKey = 'c2VjcmV0LWJ1dC1ub3QtYW4tUlNBLWtleQ=='
    const config = { ...valid, secKey: { apiKeyEnv: 'SEC_KEY' } }
    try {
      resolveGatewayConfig(parseGatewayConfig(config), { env: { ...env, SEC_KEY: notAKey } })
      expect.fail('expected an error')
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayConfigError)
      expect((error as GatewayConfigError).field).toBe('secKey')
      expect((error as Error).message).not.toContain(notAKey)
    }
  })

  it('an outbound rollout without the sec_key key is refused at load', () => {
    const config = {
      ...valid,
      outbound: { listen: { port: 1 }, smileBaseUrl: 'https://x', use: { signaturePercent: 10 } },
    }
    expectConfigError(
      () => resolveGatewayConfig(parseGatewayConfig(config), { env }),
      'secKey',
      /sec_key API key is needed/,
    )
  })

  it('a file that is not JSON names the file', () => {
    const file = join(temp.dir, 'broken.json')
    writeFileSync(file, '{ "partnerId": "085", }')
    expectConfigError(() => loadGatewayConfig(file, { env }), '(file)', /broken\.json is not valid JSON/)
  })
})

describe('smileid-auth gateway with a bad config: a clear error and exit 2', () => {
  // In-process through runCli: the e2e suites run the built gateway as a real process.
  const write = (name: string, config: unknown) => {
    const file = join(temp.dir, name)
    writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config))
    return file
  }
  const cases: Array<[string, unknown, RegExp]> = [
    [
      'bad-port.json',
      { ...valid, inbound: { ...valid.inbound, listen: { port: 99999 } } },
      /config field inbound\.listen\.port: must be a whole number from 0 to 65535/,
    ],
    [
      'bad-policy.json',
      { ...valid, policy: { legacy: 'sometimes' } },
      /config field policy\.legacy: must be one of accept, warn, reject/,
    ],
    [
      'inline-key.json',
      { ...valid, signature: { apiKey: keys.signatureApiKey } },
      /config field signature\.apiKey: unknown field "apiKey"/,
    ],
    ['not-json.json', 'partnerId: 085', /config field \(file\): .*not-json\.json is not valid JSON/],
    [
      'missing-env.json',
      { ...valid, signature: { apiKeyEnv: 'NOT_SET_ANYWHERE' } },
      /config field signature\.apiKeyEnv: the environment variable NOT_SET_ANYWHERE is not set or empty/,
    ],
  ]
  it.each(cases)('%s', async (name, config, message) => {
    const result = await run(['gateway', '--config', write(name, config)], { env })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1)
    expect(result.stderr).not.toContain(keys.signatureApiKey)
    expect(result.stdout).toBe('')
  })

  it('is listed in the top-level help; --help exits 0; an unknown flag is a usage error', async () => {
    const top = await run(['--help'])
    expect(top.stdout).toMatch(/^  gateway /m)
    const help = await run(['gateway', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: smileid-auth gateway --config <file>/)
    const bad = await run(['gateway', '--no-such-flag'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^smileid-auth gateway: unknown option --no-such-flag/)
  })

  it('no --config: exit 2 naming the flag; a missing file: exit 2 naming it', async () => {
    const none = await run(['gateway'], { env })
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/--config is required/)
    const missing = await run(['gateway', '--config', join(temp.dir, 'nope.json')], { env })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/nope\.json \(ENOENT\)/)
  })

  it('a port already in use: exit 2', async () => {
    const { createServer } = await import('node:net')
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    try {
      const file = write('busy.json', {
        ...valid,
        inbound: { ...valid.inbound, listen: { host: '127.0.0.1', port } },
      })
      const result = await run(['gateway', '--config', file], { env })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/cannot listen: EADDRINUSE/)
    } finally {
      server.close()
    }
  })
})
