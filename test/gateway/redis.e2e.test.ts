/**
 * Two gateway processes sharing one real redis-server: a replay through one is refused by the other; while
 * Redis is down both answer 503 with Retry-After and /readyz is 503; both recover when it is back.
 */
import { afterAll, beforeAll, expect } from 'vitest'

import { createTestKeys } from '../../src/testing/test-keys.js'
import { SmileServerSimulator } from '../../src/testing/simulator.js'
import { describeRedis, redisLookup, RedisServer } from '../support/redis-server.js'
import {
  eventually,
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

describeRedis('gateway fleet on one Redis', (test) => {
  const temp = tempDir()
  let redis: RedisServer
  let upstream: Upstream
  let first: GatewayProcess
  let second: GatewayProcess
  let late: GatewayProcess | undefined
  let config: Record<string, unknown>
  let env: Record<string, string>

  beforeAll(async () => {
    if (!redisLookup.found) return
    redis = await RedisServer.launch(redisLookup.path)
    upstream = await startUpstream()
    config = {
      partnerId: '085',
      signature: { apiKeyEnv: 'TEST_SIGNATURE_KEY' },
      policy: { stickyUpgrade: true },
      replay: { redis: { url: redis.url, timeoutMs: 300 } },
      inbound: { listen: { host: '127.0.0.1', port: 0 }, upstream: upstream.url, retryAfterSeconds: 3 },
    }
    env = { TEST_SIGNATURE_KEY: keys.signatureApiKey }
    ;[first, second] = await Promise.all([
      startGatewayProcess(config, env, temp.dir, 'first.json'),
      startGatewayProcess(config, env, temp.dir, 'second.json'),
    ])
    await eventually(async () => (await send(first.inbound, '/readyz', { method: 'GET' })).status === 200)
    await eventually(async () => (await send(second.inbound, '/readyz', { method: 'GET' })).status === 200)
  })

  afterAll(async () => {
    await first?.stop()
    await second?.stop()
    await late?.stop()
    await upstream?.close()
    await redis?.dispose()
    temp.remove()
  })

  test('a credential used through one gateway is refused as a replay by the other', async () => {
    const body = await signedCallback(smile, 'signature')
    const accepted = await send(first.inbound, '/callback', { body: JSON.stringify(body) })
    expect(accepted.status).toBe(201)
    const before = upstream.requests.length
    const replay = await send(second.inbound, '/callback', {
      body: JSON.stringify({ ...body, ResultCode: '1012', SmileJobID: '9999999999' }),
    })
    expect(replay.status).toBe(401)
    expect(JSON.parse(replay.body)).toEqual({ error: 'replayed' })
    expect(upstream.requests).toHaveLength(before)
    // The same delivery again through the other gateway is a redelivery, marked as such.
    const redelivery = await send(second.inbound, '/callback', { body: JSON.stringify(body) })
    expect(redelivery.status).toBe(201)
    expect(upstream.requests.at(-1)!.headers['smileid-auth-duplicate']).toBe('true')
  })

  test('Redis down: 503 with Retry-After and /readyz 503 on both; both recover when it is back', async () => {
    await redis.stop()
    try {
      for (const gateway of [first, second]) {
        await eventually(
          async () => (await send(gateway.inbound, '/readyz', { method: 'GET' })).status === 503,
        )
        const readyz = await send(gateway.inbound, '/readyz', { method: 'GET' })
        expect(JSON.parse(readyz.body)).toEqual({ status: 'not_ready', checks: { redis: 'unreachable' } })
      }
      const before = upstream.requests.length
      const body = JSON.stringify(await signedCallback(smile, 'signature'))
      const started = Date.now()
      const refused = await send(first.inbound, '/callback', { body })
      expect(Date.now() - started).toBeLessThan(3000)
      expect(refused.status).toBe(503)
      expect(refused.headers['retry-after']).toBe('3')
      expect(JSON.parse(refused.body)).toEqual({ error: 'replay_check_failed' })
      const alsoRefused = await send(second.inbound, '/callback', {
        body: JSON.stringify(await signedCallback(smile, 'signature')),
      })
      expect(alsoRefused.status).toBe(503)
      expect(upstream.requests).toHaveLength(before)
      const metrics = await send(first.inbound, '/metrics', { method: 'GET' })
      expect(metrics.body).toMatch(/^smileid_gateway_redis_up 0$/m)

      // A gateway started while Redis is down serves, says not ready, and becomes ready once Redis is back.
      late = await startGatewayProcess(config, env, temp.dir, 'late.json')
      expect((await send(late.inbound, '/readyz', { method: 'GET' })).status).toBe(503)

      await redis.start()
      for (const gateway of [first, second, late]) {
        await eventually(
          async () => (await send(gateway.inbound, '/readyz', { method: 'GET' })).status === 200,
        )
      }
      // The sender's retry of the refused callback is accepted as new: the refusal left nothing behind.
      const retried = await send(first.inbound, '/callback', { body })
      expect(retried.status).toBe(201)
      expect(upstream.requests.at(-1)!.headers['smileid-auth-duplicate']).toBe('false')
      const fresh = await send(second.inbound, '/callback', {
        body: JSON.stringify(await signedCallback(smile, 'signature')),
      })
      expect(fresh.status).toBe(201)
    } finally {
      await redis.start()
    }
  })
})
