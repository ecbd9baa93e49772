/**
 * SIGTERM with requests in flight: the gateway stops accepting, lets them finish, flushes the audit log
 * and exits 0.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'

import { createTestKeys } from '../../src/testing/test-keys.js'
import { SmileServerSimulator } from '../../src/testing/simulator.js'
import { eventually, send, startGatewayProcess, startUpstream, tempDir, type Upstream } from './harness.js'

const keys = createTestKeys({ partnerId: '085' })
const smile = new SmileServerSimulator(keys)
const temp = tempDir()
let upstream: Upstream | undefined

afterAll(async () => {
  await upstream?.close()
  temp.remove()
})

it('SIGTERM while requests are in flight: they finish, the audit file is complete, exit 0', async () => {
  upstream = await startUpstream()
  upstream.slowMs = 700
  const audit = join(temp.dir, 'audit.jsonl')
  const gateway = await startGatewayProcess(
    {
      partnerId: '085',
      signature: { apiKeyEnv: 'TEST_SIGNATURE_KEY' },
      audit: { jsonl: audit },
      inbound: { listen: { host: '127.0.0.1', port: 0 }, upstream: upstream.url },
    },
    { TEST_SIGNATURE_KEY: keys.signatureApiKey },
    temp.dir,
  )
  const count = 6
  // Distinct timestamps from one reading of the clock: one credential per request. Reading the clock per
  // request let a tick between two readings give two requests one timestamp (a replay, refused).
  const start = Date.now()
  const bodies = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      smile.callbackBody({ scheme: 'signature', timestamp: new Date(start - i).toISOString() }),
    ),
  )
  const inFlight = bodies.map((body, i) =>
    send(gateway.inbound, `/slow/${i}`, { body: JSON.stringify(body) }),
  )
  // Every request has reached the upstream, which holds its answer for 700 ms.
  await eventually(() => upstream!.requests.length === count).catch(() => {
    throw new Error(`upstream saw ${upstream!.requests.length}: ${gateway.stdout()}`)
  })
  const exited = gateway.stop('SIGTERM')
  // New connections are refused once shutdown began.
  await eventually(async () => {
    try {
      await send(gateway.inbound, '/healthz', { method: 'GET' })
      return false
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED'
    }
  }, 5000)
  const replies = await Promise.all(inFlight)
  expect(replies.map((reply) => reply.status)).toEqual(Array(count).fill(201))
  expect(await exited).toBe(0)

  const lines = readFileSync(audit, 'utf8').split('\n')
  expect(lines.at(-1)).toBe('') // ends with a newline: no torn last line
  const events = lines.slice(0, -1).map((line) => JSON.parse(line) as Record<string, unknown>)
  expect(events).toHaveLength(count)
  for (const event of events) expect(event).toMatchObject({ direction: 'incoming', outcome: 'accepted' })
  expect(gateway.logs.find((entry) => entry.msg === 'audit flushed')).toMatchObject({
    written: count,
    dropped: 0,
  })
  expect(gateway.logs.at(-1)).toMatchObject({ msg: 'stopped' })
})
