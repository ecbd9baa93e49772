/**
 * Building the audit event never throws: a body or context whose getters throw (or a Proxy that traps
 * every read) reads as absent text, and verify() still resolves to a result.
 */
import { describe, expect, it } from 'vitest'

import { dualVerifier, expectAccepted, recordingSink, signatureBody } from './helpers.js'

const trap = () =>
  new Proxy(
    {},
    {
      get: () => {
        throw new Error('trap')
      },
      has: () => {
        throw new Error('trap')
      },
      ownKeys: () => {
        throw new Error('trap')
      },
      getOwnPropertyDescriptor: () => {
        throw new Error('trap')
      },
    },
  )

describe('audit event fields from hostile input', () => {
  it('a context with throwing getters: the request is verified and audited with null route and sourceIp', async () => {
    const { events, sink } = recordingSink()
    const context = Object.defineProperties(
      {},
      {
        route: {
          get: () => {
            throw new Error('route getter')
          },
        },
        sourceIp: {
          get: () => {
            throw new Error('ip getter')
          },
        },
      },
    )
    const result = await dualVerifier({ audit: sink }).verify({ body: await signatureBody() }, context)
    expectAccepted(result, 'signature')
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ route: null, sourceIp: null, outcome: 'accepted' })
  })

  it('a context that is a trapping Proxy', async () => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ audit: sink })
    const result = await verifier.verify({ body: await signatureBody() }, trap() as never)
    expectAccepted(result, 'signature')
    expect(events[0]).toMatchObject({ route: null, sourceIp: null })
  })

  it('a body whose source_sdk getter throws still gets an audit event', async () => {
    const { events, sink } = recordingSink()
    const body = await signatureBody()
    Object.defineProperty(body, 'source_sdk', {
      enumerable: false,
      get: () => {
        throw new Error('sdk getter')
      },
    })
    const result = await dualVerifier({ audit: sink }).verify({ body })
    expect(result.ok).toBe(true)
    expect(events[0]).toMatchObject({ source_sdk: null })
  })
})
