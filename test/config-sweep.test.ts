/**
 * A sweep over every public constructor (and the calls that check their options): each option is given a
 * set of wrong values. Whatever is refused must be a `ConfigurationError` with a documented code and a
 * message naming the option, and never echo a secret-looking value; nothing may crash with another error.
 * Each option must refuse at least one of the values, so the sweep cannot pass by accepting everything.
 */
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import { PassThrough } from 'node:stream'
import { createClient } from 'redis'
import { describe, expect, it } from 'vitest'
import { smileIdAuth as expressAuth } from '../src/adapters/express.js'
import { smileIdAuth as fastifyAuth } from '../src/adapters/fastify.js'
import { verifyRequest, withSmileIdAuth } from '../src/adapters/fetch.js'
import { smileIdAuth as honoAuth } from '../src/adapters/hono.js'
import { SmileIdAuthGuard } from '../src/adapters/nestjs.js'
import { openTelemetryAuditSink } from '../src/audit/opentelemetry.js'
import { summarizeAudit } from '../src/audit/report.js'
import { jsonlAuditSink, LegacyUsageTracker } from '../src/audit/sinks.js'
import { ConfigurationError } from '../src/errors.js'
import { MemoryReplayStore } from '../src/replay/memory.js'
import { RedisReplayStore, RedisUpgradeStore } from '../src/replay/redis.js'
import { LegacySecKeyAuth } from '../src/schemes/sec-key.js'
import { SignatureAuth } from '../src/schemes/signature.js'
import { MigratingSigner } from '../src/signer.js'
import { createTestKeys } from '../src/testing/test-keys.js'
import { DualModeVerifier } from '../src/verifier/dual-mode.js'
import { CONFIGURATION_ERROR_CODES } from './support/config-errors.js'

const keys = createTestKeys({ partnerId: '085' })
const signature = new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey })
const secKey = new LegacySecKeyAuth({ partnerId: keys.partnerId, apiKey: keys.secKeyApiKey })
const verifier = new DualModeVerifier({ signature })
const client = createClient({ url: 'redis://127.0.0.1:1' })

/** Looks like a key: must never appear in a message, whole or in part. */
const SECRET = randomBytes(32).toString('hex')

const WRONG: readonly unknown[] = [
  null,
  0,
  -1,
  NaN,
  1.5,
  '',
  'sigature',
  SECRET,
  true,
  {},
  [],
  () => undefined,
  new Date('not a date'),
]

interface Target {
  name: string
  /** Builds with the given options merged over a valid base. */
  build: (extra: Record<string, unknown>) => unknown
  options: readonly string[]
}

const targets: Target[] = [
  {
    name: 'SignatureAuth',
    build: (extra) =>
      new SignatureAuth({ partnerId: '085', apiKey: keys.signatureApiKey, ...extra } as never),
    options: ['partnerId', 'apiKey'],
  },
  {
    name: 'LegacySecKeyAuth',
    build: (extra) =>
      new LegacySecKeyAuth({ partnerId: '085', apiKey: keys.secKeyApiKey, ...extra } as never),
    options: ['partnerId', 'apiKey'],
  },
  {
    name: 'DualModeVerifier',
    build: (extra) => new DualModeVerifier({ signature, secKey, ...extra } as never),
    options: [
      'signature',
      'secKey',
      'policy',
      'freshness',
      'replay',
      'replayTtlMs',
      'audit',
      'instance',
      'now',
    ],
  },
  {
    name: 'MigratingSigner',
    build: (extra) => new MigratingSigner({ signature, secKey, use: 'signature', ...extra } as never),
    options: ['use', 'signature', 'secKey', 'audit', 'onAuditError', 'now'],
  },
  {
    name: 'MigratingSigner use rollout',
    build: (extra) =>
      new MigratingSigner({ signature, secKey, use: { signaturePercent: 10, ...extra } } as never),
    options: ['signaturePercent', 'routingKey'],
  },
  {
    name: 'MigratingSigner.sign',
    build: (extra) => new MigratingSigner({ signature, secKey, use: 'signature' }).sign(extra as never),
    options: ['routingKey', 'timestamp'],
  },
  {
    name: 'MemoryReplayStore',
    build: (extra) => new MemoryReplayStore(extra as never),
    options: ['maxEntries', 'now'],
  },
  {
    name: 'RedisReplayStore',
    build: (extra) => new RedisReplayStore({ client, ...extra } as never),
    options: ['client', 'prefix', 'timeoutMs', 'onError'],
  },
  {
    name: 'RedisUpgradeStore',
    build: (extra) => new RedisUpgradeStore({ client, ...extra } as never),
    options: ['client', 'prefix', 'timeoutMs', 'onError'],
  },
  {
    name: 'jsonlAuditSink',
    build: (extra) => jsonlAuditSink(new PassThrough(), extra as never),
    options: ['maxBufferBytes', 'retryDelayMs', 'onError', 'warn', 'instance', 'endOnClose'],
  },
  {
    name: 'LegacyUsageTracker',
    build: (extra) => new LegacyUsageTracker(extra as never),
    options: ['quietPeriodDays', 'since'],
  },
  {
    name: 'summarizeAudit',
    build: (extra) => summarizeAudit([], extra as never),
    options: ['quietPeriodDays', 'since', 'now'],
  },
  {
    name: 'openTelemetryAuditSink',
    build: (extra) => openTelemetryAuditSink(extra as never),
    options: ['meter'],
  },
  {
    name: 'express smileIdAuth',
    build: (extra) => expressAuth({ verifier, ...extra } as never),
    options: ['verifier', 'limit', 'body', 'onFailure'],
  },
  {
    name: 'hono smileIdAuth',
    build: (extra) => honoAuth({ verifier, ...extra } as never),
    options: ['verifier', 'limit', 'body', 'onFailure', 'sourceIp'],
  },
  {
    name: 'fastify smileIdAuth',
    build: async (extra) => {
      const app = Fastify()
      try {
        await app.register(fastifyAuth, { verifier, ...extra } as never)
        await app.ready()
      } finally {
        await app.close()
      }
    },
    options: ['verifier', 'limit', 'body', 'onFailure'],
  },
  {
    name: 'SmileIdAuthGuard',
    build: (extra) => new SmileIdAuthGuard({ verifier, ...extra } as never),
    options: ['verifier', 'limit', 'body', 'onFailure'],
  },
  {
    name: 'withSmileIdAuth',
    build: (extra) => withSmileIdAuth(verifier, () => new Response('ok'), extra as never),
    options: ['limit', 'body', 'onFailure', 'sourceIp'],
  },
  {
    name: 'verifyRequest',
    build: (extra) =>
      verifyRequest(verifier, new Request('http://partner.example/', { method: 'POST' }), extra as never),
    options: ['limit', 'body'],
  },
]

async function outcome(target: Target, extra: Record<string, unknown>): Promise<unknown> {
  try {
    await target.build(extra)
  } catch (error) {
    return error
  }
  return undefined
}

describe('configuration error sweep', () => {
  it('builds every target with its valid base options', async () => {
    for (const target of targets) expect(await outcome(target, {}), target.name).toBeUndefined()
  })

  describe.each(targets)('$name', (target) => {
    it.each(target.options)(
      '%s: every refusal is a coded ConfigurationError naming the option',
      async (option) => {
        let refused = 0
        for (const value of WRONG) {
          const error = await outcome(target, { [option]: value })
          if (error === undefined) continue
          refused++
          const label = `${target.name} ${option}=${typeof value === 'string' ? JSON.stringify(value.slice(0, 12)) : String(value)}`
          expect(error, label).toBeInstanceOf(ConfigurationError)
          const { code, message } = error as ConfigurationError
          expect(CONFIGURATION_ERROR_CODES, label).toContain(code)
          expect(message.toLowerCase(), label).toContain(option.toLowerCase())
          expect(message, label).not.toContain(SECRET.slice(0, 16))
          expect(message, label).not.toContain(SECRET.slice(-16))
        }
        expect(refused, `${target.name} ${option} refused none of the wrong values`).toBeGreaterThan(0)
      },
    )
  })

  // The adapters' options are typed at the call site and are not checked for unknown names (yet).
  const checksNames = [
    'DualModeVerifier',
    'MigratingSigner',
    'MigratingSigner use rollout',
    'MemoryReplayStore',
    'RedisReplayStore',
    'RedisUpgradeStore',
    'jsonlAuditSink',
    'LegacyUsageTracker',
    'summarizeAudit',
    'openTelemetryAuditSink',
  ]
  it.each(targets.filter(({ name }) => checksNames.includes(name)))(
    '$name refuses a mistyped option name, naming it and the option meant',
    async (target) => {
      const meant = target.options[0]!
      const error = await outcome(target, { [`${meant}x`]: 1 })
      expect(error).toBeInstanceOf(ConfigurationError)
      expect((error as ConfigurationError).code).toBe('invalid_options')
      expect((error as ConfigurationError).message).toContain(`${meant}x (did you mean ${meant}?)`)
    },
  )
})
