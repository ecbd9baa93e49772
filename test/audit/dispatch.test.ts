/**
 * Audit dispatch: every sink failure is isolated and counted once in `verifier.stats.auditErrors`,
 * whether the sink throws, rejects, or returns a misbehaving thenable; the request never notices.
 */
import { describe, expect, it } from 'vitest'

import { emitAudit } from '../../src/audit/dispatch.js'
import type { AuditEvent, AuditSink } from '../../src/index.js'
import {
  dualVerifier,
  expectAccepted,
  expectConfigurationError,
  expectRejected,
  recordingSink,
  settle,
  signatureBody,
} from '../verifier/helpers.js'

const boom = () => new Error('sink failed')

/** Sinks that fail in each way a sink can, with how many failures each causes per event. */
const failing: Array<[string, AuditSink]> = [
  [
    'a function that throws',
    () => {
      throw boom()
    },
  ],
  ['a function that rejects', () => Promise.reject(boom())],
  ['an async function that throws', async () => Promise.reject(boom())],
  [
    'an object whose write throws',
    {
      write: () => {
        throw boom()
      },
    },
  ],
  ['an object whose write rejects', { write: () => Promise.reject(boom()) }],
  [
    'a thenable that rejects twice',
    (() =>
      ({
        then: (_: unknown, onRejected: (error: unknown) => void) => {
          onRejected(boom())
          onRejected(boom())
        },
      }) as unknown as Promise<void>) as AuditSink,
  ],
  [
    'a thenable whose then throws',
    (() =>
      ({
        then: () => {
          throw boom()
        },
      }) as unknown as Promise<void>) as AuditSink,
  ],
  [
    'a result whose then getter throws',
    (() =>
      Object.defineProperty({}, 'then', {
        get: () => {
          throw boom()
        },
      }) as Promise<void>) as AuditSink,
  ],
]

describe('verifier.stats.auditErrors', () => {
  it.each(failing)('counts %s once per event, and the other sinks still get every event', async (_, bad) => {
    const good = recordingSink()
    const reported: AuditEvent[] = []
    const verifier = dualVerifier({
      audit: [bad, good.sink],
      onAuditError: (_error, event) => reported.push(event),
    })
    expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
    expectRejected(await verifier.verify({ body: {} }), 'missing_credentials', null)
    await settle()
    expect(verifier.stats.auditErrors).toBe(2)
    expect(reported.map((event) => event.outcome)).toEqual(['accepted', 'rejected'])
    expect(good.events).toHaveLength(2)
  })

  it('a throwing sink and a rejecting sink together: every failure counted, sync at once and async once settled', async () => {
    const verifier = dualVerifier({
      audit: [
        () => {
          throw boom()
        },
        () => Promise.reject(boom()),
      ],
    })
    for (let i = 0; i < 3; i++) await verifier.verify({ body: await signatureBody() })
    await settle()
    expect(verifier.stats.auditErrors).toBe(6)
  })

  it('refuses a sink whose write cannot be read at construction (invalid_options)', () => {
    const unreadable = Object.defineProperty({}, 'write', {
      get: () => {
        throw boom()
      },
    }) as AuditSink
    expectConfigurationError(() => dualVerifier({ audit: unreadable }), 'invalid_options')
  })

  it('a sync throw is counted before verify() resolves', async () => {
    const verifier = dualVerifier({
      audit: () => {
        throw boom()
      },
    })
    const pending = verifier.verify({ body: await signatureBody() })
    await pending
    expect(verifier.stats.auditErrors).toBe(1)
  })

  it('an async onAuditError that rejects is silenced (no unhandled rejection) and the failure still counts', async () => {
    const verifier = dualVerifier({
      audit: () => Promise.reject(boom()),
      onAuditError: async () => {
        await Promise.resolve()
        throw new Error('handler failed too')
      },
    })
    expectAccepted(await verifier.verify({ body: await signatureBody() }), 'signature')
    await settle()
    await settle()
    expect(verifier.stats.auditErrors).toBe(1)
  })

  it('sinks that succeed, synchronously or not, count nothing', async () => {
    const verifier = dualVerifier({
      audit: [() => undefined, () => Promise.resolve(), { write: async () => undefined }],
    })
    await verifier.verify({ body: await signatureBody() })
    await settle()
    expect(verifier.stats.auditErrors).toBe(0)
  })
})

describe('emitAudit', () => {
  it('never throws and never awaits, even when the error handler throws', () => {
    const event = {} as AuditEvent
    let calls = 0
    expect(() =>
      emitAudit(
        [
          () => {
            throw boom()
          },
        ],
        event,
        () => {
          calls++
          throw new Error('handler failed')
        },
      ),
    ).not.toThrow()
    expect(calls).toBe(1)
    const result: unknown = emitAudit([() => Promise.resolve()], event, () => undefined)
    expect(result).toBeUndefined()
  })
})
