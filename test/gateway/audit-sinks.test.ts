/**
 * The gateway's audit sinks beyond the JSONL file: `audit.opentelemetry` counts every inbound
 * verification on the OpenTelemetry counter (the real metrics SDK, registered globally as a gateway's
 * `--import` setup would), and `reopenAudit()` (SIGHUP in the CLI) moves to a fresh file after rotation.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { metrics } from '@opentelemetry/api'
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { afterAll, afterEach, expect, it } from 'vitest'

import { VERIFICATIONS_COUNTER } from '../../src/audit/opentelemetry.js'
import { parseGatewayConfig, resolveGatewayConfig } from '../../src/gateway/config.js'
import { jsonLogger } from '../../src/gateway/log.js'
import { startGateway } from '../../src/gateway/server.js'
import { SmileServerSimulator } from '../../src/testing/simulator.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { send, signedCallback, startUpstream, tempDir } from './harness.js'

const keys = createTestKeys({ partnerId: '085' })
const smile = new SmileServerSimulator(keys)
const temp = tempDir()
const env = { TEST_SIGNATURE_KEY: keys.signatureApiKey }
afterAll(() => temp.remove())
afterEach(() => metrics.disable())

async function gatewayWith(audit: Record<string, unknown>) {
  const upstream = await startUpstream('app')
  const config = resolveGatewayConfig(
    parseGatewayConfig({
      partnerId: '085',
      signature: { apiKeyEnv: 'TEST_SIGNATURE_KEY' },
      audit,
      inbound: { listen: { host: '127.0.0.1', port: 0 }, upstream: upstream.url },
    }),
    { env },
  )
  const gateway = await startGateway(config, { log: jsonLogger(() => undefined, Date.now) })
  const url = `http://127.0.0.1:${gateway.inbound!.port}`
  return {
    gateway,
    callback: async (forged = false) => {
      const body = await signedCallback(smile, 'signature')
      return send(url, '/callback', {
        body: JSON.stringify(forged ? { ...body, signature: `${'A'.repeat(43)}=` } : body),
      })
    },
    close: async () => {
      await gateway.close()
      await upstream.close()
    },
  }
}

it('audit.opentelemetry counts inbound verifications on the registered MeterProvider', async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const provider = new MeterProvider({ readers: [reader] })
  expect(metrics.setGlobalMeterProvider(provider)).toBe(true)
  const run = await gatewayWith({ opentelemetry: true })
  try {
    expect((await run.callback()).status).toBe(201)
    expect((await run.callback(true)).status).toBe(401)
  } finally {
    await run.close()
  }
  await reader.forceFlush()
  const metric = exporter
    .getMetrics()
    .at(-1)
    ?.scopeMetrics.flatMap((scope) => scope.metrics)
    .find((m) => m.descriptor.name === VERIFICATIONS_COUNTER)
  const points = (metric?.dataPoints ?? []).map((p) => ({ attributes: p.attributes, value: p.value }))
  expect(points).toContainEqual({
    attributes: expect.objectContaining({
      'smileid.outcome': 'accepted',
      'smileid.scheme': 'signature',
      'smileid.partner_id': '085',
    }),
    value: 1,
  })
  const forged = points.find((p) => p.attributes['smileid.outcome'] === 'rejected')
  expect(forged?.value).toBe(1)
  // A forged request names no partner: the label set stays bounded under attack.
  expect(forged?.attributes).not.toHaveProperty('smileid.partner_id')
  await provider.shutdown()
})

it('without the option, no OpenTelemetry sink is made (nothing is counted)', async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const provider = new MeterProvider({ readers: [reader] })
  metrics.setGlobalMeterProvider(provider)
  const run = await gatewayWith({})
  try {
    expect((await run.callback()).status).toBe(201)
  } finally {
    await run.close()
  }
  await reader.forceFlush()
  const names = exporter
    .getMetrics()
    .flatMap((m) => m.scopeMetrics.flatMap((scope) => scope.metrics.map((x) => x.descriptor.name)))
  expect(names).not.toContain(VERIFICATIONS_COUNTER)
  await provider.shutdown()
})

it('reopenAudit() writes to a fresh file at the configured path after rotation moved the old one', async () => {
  const jsonl = join(temp.dir, 'rotated.jsonl')
  const run = await gatewayWith({ jsonl })
  try {
    expect((await run.callback()).status).toBe(201)
    await new Promise((resolve) => setTimeout(resolve, 50))
    renameSync(jsonl, `${jsonl}.1`)
    await run.gateway.reopenAudit()
    expect((await run.callback()).status).toBe(201)
  } finally {
    await run.close()
  }
  const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n')
  expect(lines(`${jsonl}.1`)).toHaveLength(1)
  expect(existsSync(jsonl)).toBe(true)
  expect(lines(jsonl)).toHaveLength(1)
  expect(JSON.parse(lines(jsonl)[0]!)).toMatchObject({ outcome: 'accepted', direction: 'incoming' })
})
