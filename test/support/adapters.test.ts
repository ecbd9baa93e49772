/**
 * The adapter rig itself: the hostile suites assert that `verifyCalls` does not move, so the counting
 * and status recording must be shown to work on every target, or those assertions could not fail.
 */
import { afterEach, describe, expect, it } from 'vitest'

import { startAdapter, TARGETS, type StartedAdapter } from './adapters.js'
import { hostileVerifier, signedRequests } from './fixtures.js'

let running: StartedAdapter | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

describe.each(TARGETS)('the rig on $title', ({ name }) => {
  it('counts each request that reaches the verifier and records the status it answered', async () => {
    const { signatureBody } = await signedRequests()
    running = await startAdapter(name, hostileVerifier())
    expect(running.verifyCalls).toBe(0)
    const accepted = await running.send(JSON.stringify(signatureBody))
    expect(accepted.status).toBe(200)
    expect(running.verifyCalls).toBe(1)
    const forged = await running.send(JSON.stringify({ ...signatureBody, signature: `${'A'.repeat(43)}=` }))
    expect(forged.status).toBe(401)
    expect(running.verifyCalls).toBe(2)
    // A body that is not JSON is refused before verification: the count stays.
    const notJson = await running.send('{ not json')
    expect(notJson.status).toBe(400)
    expect(running.verifyCalls).toBe(2)
    expect(running.statuses).toEqual([200, 401, 400])
  })
})
