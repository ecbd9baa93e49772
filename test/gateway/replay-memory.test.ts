/**
 * The gateway's in-memory replay store when it fills up: `replay.memory.maxEntries` bounds it, and every
 * eviction of an unexpired credential (which can then be replayed) shows in /metrics and in the JSON log,
 * not only once on stderr. In process, with the real verifier and a recording upstream.
 */
import { afterAll, expect, it } from 'vitest'

import { parseGatewayConfig, resolveGatewayConfig } from '../../src/gateway/config.js'
import { jsonLogger } from '../../src/gateway/log.js'
import { startGateway } from '../../src/gateway/server.js'
import { SmileServerSimulator } from '../../src/testing/simulator.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { expectNoSecrets } from '../support/secrets.js'
import { send, signedCallback, startUpstream } from './harness.js'

const keys = createTestKeys({ partnerId: '085' })
const smile = new SmileServerSimulator(keys)
const upstream = await startUpstream('app')
afterAll(() => upstream.close())

async function gatewayWith(replay: Record<string, unknown> | undefined) {
  const lines: string[] = []
  const config = resolveGatewayConfig(
    parseGatewayConfig({
      partnerId: '085',
      signature: { apiKeyEnv: 'TEST_SIGNATURE_KEY' },
      ...(replay === undefined ? {} : { replay }),
      inbound: { listen: { host: '127.0.0.1', port: 0 }, upstream: upstream.url },
    }),
    { env: { TEST_SIGNATURE_KEY: keys.signatureApiKey } },
  )
  const gateway = await startGateway(config, {
    log: jsonLogger((text) => lines.push(...text.trim().split('\n')), Date.now),
    reportIntervalMs: 40,
  })
  return { gateway, lines, url: `http://127.0.0.1:${gateway.inbound!.port}` }
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1])

it('a full store: evictions counted in /metrics and logged as a warning with the count and a hint', async () => {
  const { gateway, lines, url } = await gatewayWith({ memory: { maxEntries: 2 } })
  try {
    const bodies = []
    for (let i = 0; i < 4; i++) {
      const body = await signedCallback(smile, 'signature')
      bodies.push(body)
      expect((await send(url, '/callback', { body: JSON.stringify(body) })).status).toBe(201)
    }
    const metrics = (await send(url, '/metrics', { method: 'GET' })).body
    expect(metric(metrics, 'smileid_gateway_replay_entries')).toBe(2)
    expect(metric(metrics, 'smileid_gateway_replay_evicted_total')).toBe(2)

    // The upstream answers 201. What the warning is about: the first credential was evicted, so the same
    // body again is new, not a duplicate, while the last one is still remembered.
    const again = await send(url, '/callback', { body: JSON.stringify(bodies[0]) })
    expect(again.status).toBe(201)
    expect(upstream.requests.at(-1)!.headers['smileid-auth-duplicate']).toBe('false')
    await send(url, '/callback', { body: JSON.stringify(bodies[3]) })
    expect(upstream.requests.at(-1)!.headers['smileid-auth-duplicate']).toBe('true')

    for (let i = 0; i < 150 && !lines.some((line) => line.includes('replay store full')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const warning = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((l) => l.msg === 'replay store full')
    expect(warning).toMatchObject({ level: 'warn', maxEntries: 2 })
    expect(warning!.evicted).toBeGreaterThanOrEqual(1)
    expect(String(warning!.hint)).toMatch(/replay\.memory\.maxEntries/)
    expectNoSecrets(lines.join('\n'), [keys.signatureApiKey, String(bodies[0]!.signature)], 'gateway log')

    // Reported at most once per interval, each eviction in exactly one line: once the log has caught up
    // with the total (timers run late on a loaded machine), the lines' counts add up to it.
    const total = metric(
      (await send(url, '/metrics', { method: 'GET' })).body,
      'smileid_gateway_replay_evicted_total',
    )
    expect(total).toBe(3) // the four callbacks, then the evicted one again
    const reported = () =>
      lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((l) => l.msg === 'replay store full')
    for (let i = 0; i < 150 && reported().at(-1)?.evictedTotal !== total; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(reported().at(-1)!.evictedTotal).toBe(total)
    expect(reported().reduce((sum, l) => sum + Number(l.evicted), 0)).toBe(total)
    // Nothing new after that: no further line.
    const count = reported().length
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(reported()).toHaveLength(count)
  } finally {
    await gateway.close()
  }
})

it('the default store: /metrics shows it, nothing evicted, no warning', async () => {
  const { gateway, lines, url } = await gatewayWith(undefined)
  try {
    const body = await signedCallback(smile, 'signature')
    expect((await send(url, '/callback', { body: JSON.stringify(body) })).status).toBe(201)
    const metrics = (await send(url, '/metrics', { method: 'GET' })).body
    expect(metric(metrics, 'smileid_gateway_replay_entries')).toBe(1)
    expect(metric(metrics, 'smileid_gateway_replay_evicted_total')).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(lines.some((line) => line.includes('replay store full'))).toBe(false)
  } finally {
    await gateway.close()
  }
})
