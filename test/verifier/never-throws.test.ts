import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'

import {
  DualModeVerifier,
  FAILURE_REASONS,
  MemoryReplayStore,
  type VerificationResult,
} from '../../src/index.js'
import {
  NOW,
  OTHER_PARTNER,
  PARTNER,
  dualVerifier,
  expectAccepted,
  expectRejected,
  recordingSink,
  secKeyAuth,
  secKeyBody,
  signatureAuth,
  signatureBody,
} from './helpers.js'

const boom = () => {
  throw new Error('boom')
}

/** An object whose `field` throws when read (and that lists it, so spreads and key walks reach it). */
function throwingGetter(field: string, base: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.defineProperty({ ...base }, field, { enumerable: true, configurable: true, get: boom })
}

/** A Proxy that throws on every operation. */
function throwingProxy(target: object = {}): object {
  return new Proxy(target, {
    get: boom,
    has: boom,
    ownKeys: boom,
    getOwnPropertyDescriptor: boom,
    getPrototypeOf: boom,
  })
}

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

/** Calls `verify` and fails the test if it throws synchronously; returns the promise it gave. */
function call(verifier: DualModeVerifier, request: unknown, context?: unknown): Promise<VerificationResult> {
  let promise: Promise<VerificationResult> | undefined
  expect(() => {
    promise = verifier.verify(request as never, context as never)
  }).not.toThrow()
  expect(promise).toBeInstanceOf(Promise)
  return promise!
}

function expectKnown(result: VerificationResult): void {
  expect(typeof result).toBe('object')
  if (result.ok) expect(typeof result.partnerId).toBe('string')
  else expect(FAILURE_REASONS).toContain(result.reason)
}

let sigBody: Record<string, unknown>
let secBody: Record<string, unknown>
beforeAll(async () => {
  sigBody = await signatureBody()
  secBody = await secKeyBody()
})

describe('verify() never throws: the audit step reads request values through guards', () => {
  it('a throwing source_sdk getter on an authentic body: accepted, audited without the field', async () => {
    // Before: the audit step read body.source_sdk outside the guard and verify() threw synchronously.
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ audit: sink })
    for (const field of ['source_sdk', 'source_sdk_version']) {
      const body = throwingGetter(field, sigBody)
      expectAccepted(await call(verifier, { body }), 'signature')
    }
    expect(events).toHaveLength(2)
    expect(events.map((e) => [e.outcome, e.source_sdk, e.source_sdk_version])).toEqual([
      ['accepted', null, null],
      ['accepted', null, null],
    ])
  })

  it('a context that throws (getters, Proxy, revoked Proxy): accepted, audited without route or sourceIp', async () => {
    // Before: context.route was read outside the guard.
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ audit: sink })
    const contexts = [
      throwingGetter('route'),
      throwingGetter('sourceIp', { route: '/cb' }),
      throwingProxy(),
      revokedProxy(),
    ]
    for (const context of contexts) {
      expectAccepted(await call(verifier, { body: secBody }, context), 'sec_key')
    }
    expect(events.map((e) => [e.outcome, e.route, e.sourceIp])).toEqual(
      contexts.map(() => ['accepted', null, null]),
    )
  })

  it('the same on the asynchronous path (a partner resolver)', async () => {
    const { events, sink } = recordingSink()
    const verifier = new DualModeVerifier({
      partners: async (id) =>
        id === PARTNER ? { signature: signatureAuth(), secKey: secKeyAuth() } : undefined,
      audit: sink,
      now: () => NOW,
    })
    const body = throwingGetter('source_sdk', { ...sigBody, partner_id: PARTNER })
    expectAccepted(await call(verifier, { body }, throwingProxy()), 'signature')
    expect(events).toHaveLength(1)
  })

  it.each([
    ['signature', 'malformed_credentials'],
    ['sec_key', 'malformed_credentials'],
    ['timestamp', 'malformed_credentials'],
    ['partner_id', 'malformed_credentials'],
    ['smile_client_id', 'malformed_credentials'],
  ] as const)('a throwing %s getter in the body is %s', async (field, reason) => {
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ audit: sink, replay: new MemoryReplayStore() })
    const result = await call(verifier, { body: throwingGetter(field, sigBody) })
    expect(result).toMatchObject({ ok: false, reason })
    expect(events).toHaveLength(1)
  })

  it('bodies, headers and requests that throw on every operation', async () => {
    const verifier = dualVerifier({ audit: recordingSink().sink, replay: new MemoryReplayStore() })
    expectRejected(await call(verifier, { body: throwingProxy() }), 'malformed_credentials', null)
    expectRejected(await call(verifier, { body: revokedProxy() }), 'malformed_credentials', null)
    expectRejected(
      await call(verifier, { body: {}, headers: throwingProxy() }),
      'malformed_credentials',
      null,
    )
    expectRejected(
      await call(verifier, { body: sigBody, headers: revokedProxy() }),
      'malformed_credentials',
      null,
    )
    expectRejected(await call(verifier, throwingProxy()), 'malformed_credentials', null)
    expectRejected(await call(verifier, throwingGetter('body')), 'malformed_credentials', null)
    expectRejected(
      await call(verifier, throwingGetter('headers', { body: sigBody })),
      'malformed_credentials',
      null,
    )
    // A Headers-like object whose get() throws.
    expectRejected(
      await call(verifier, { body: sigBody, headers: { get: boom } }),
      'malformed_credentials',
      null,
    )
  })

  it('a body that reads but cannot be fingerprinted fails closed as replay_check_failed', async () => {
    const verifier = dualVerifier({ replay: new MemoryReplayStore() })
    // Credential fields readable, but walking the body's keys throws.
    const body = new Proxy(sigBody, { ownKeys: boom })
    expectRejected(await call(verifier, { body }), 'replay_check_failed', 'signature')
  })

  it('a clock that throws is no exception for the caller: the request is refused', async () => {
    const verifier = dualVerifier({ now: boom, audit: recordingSink().sink })
    expectRejected(await call(verifier, { body: sigBody }), 'malformed_credentials', null)
    expect(verifier.stats.auditErrors).toBe(1)
  })
})

// ---------------------------------------------------------------------------------------------------
// Property: for any JavaScript value as body, headers or context, verify() resolves to a known result.
// ---------------------------------------------------------------------------------------------------

const FIELDS = [
  'signature',
  'sec_key',
  'timestamp',
  'partner_id',
  'smile_client_id',
  'source_sdk',
  'source_sdk_version',
  'route',
  'sourceIp',
  'get',
  'then',
  'toJSON',
  'SmileID-Request-Signature',
  'smileid-timestamp',
  'SmileID-Partner-ID',
]

/**
 * A value that fights back, built only inside the property: fast-check itself inspects the values it
 * generates (to clone and print them), and a Proxy that throws would break the runner, not the verifier.
 */
class Hostile {
  constructor(
    readonly name: string,
    readonly make: () => unknown,
  ) {}
  toString(): string {
    return `Hostile(${this.name})`
  }
}

/** Proxies, throwing getters and revoked Proxies, around arbitrary or authentic contents. */
const hostile: fc.Arbitrary<Hostile> = fc.oneof(
  fc.constantFrom(...FIELDS).map((field) => new Hostile(`getter ${field}`, () => throwingGetter(field))),
  fc
    .tuple(fc.constantFrom(...FIELDS), fc.constantFrom('sig', 'sec'))
    .map(
      ([field, which]) =>
        new Hostile(`${which} body, getter ${field}`, () =>
          throwingGetter(field, which === 'sig' ? sigBody : secBody),
        ),
    ),
  fc.object().map((target) => new Hostile('proxy', () => throwingProxy(target))),
  fc.constant(new Hostile('revoked proxy', revokedProxy)),
  fc
    .subarray(FIELDS, { minLength: 1 })
    .map(
      (fields) =>
        new Hostile(
          `sig body proxy throwing on ${fields.join(',')}`,
          () =>
            new Proxy(
              { ...sigBody },
              { get: (target, key) => (fields.includes(String(key)) ? boom() : Reflect.get(target, key)) },
            ),
        ),
    ),
  fc
    .constantFrom('sig', 'sec')
    .map(
      (which) =>
        new Hostile(
          `${which} body, ownKeys throws`,
          () => new Proxy(which === 'sig' ? sigBody : secBody, { ownKeys: boom }),
        ),
    ),
)

type Recipe =
  { plain: unknown } | { hostile: Hostile } | { fields: Record<string, Recipe>; base: 'sig' | 'sec' | null }

const leaf: fc.Arbitrary<Recipe> = fc.oneof(
  fc
    .anything({
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withNullPrototype: true,
    })
    .map((plain) => ({ plain })),
  // Weighted: the hostile values are the point, and each variant should come up many times per run.
  { arbitrary: hostile.map((h): Recipe => ({ hostile: h })), weight: 6 },
  fc.string().map((plain) => ({ plain })),
  fc.uint8Array().map((plain) => ({ plain })),
)

/** Anything at all, hostile values included, and near-valid bodies with arbitrary extra fields. */
const anyValue: fc.Arbitrary<Recipe> = fc.oneof(
  leaf,
  fc
    .tuple(
      fc.constantFrom('sig' as const, 'sec' as const, null),
      fc.dictionary(fc.constantFrom(...FIELDS), leaf),
    )
    .map(([base, fields]) => ({ base, fields })),
)

function build(recipe: Recipe): unknown {
  if ('plain' in recipe) return recipe.plain
  if ('hostile' in recipe) return recipe.hostile.make()
  const out: Record<string, unknown> =
    recipe.base === null ? {} : { ...(recipe.base === 'sig' ? sigBody : secBody) }
  for (const [key, value] of Object.entries(recipe.fields)) out[key] = build(value)
  return out
}

describe('property: verify() resolves to a known result for any value', () => {
  const verifiers = () => {
    const sink = recordingSink().sink
    const throwingSink = () => boom()
    return [
      dualVerifier({ audit: [sink, throwingSink], replay: new MemoryReplayStore() }),
      dualVerifier({ policy: { mode: 'observe' }, audit: sink }),
      new DualModeVerifier({
        partners: {
          [PARTNER]: { signature: signatureAuth(), secKey: secKeyAuth() },
          [OTHER_PARTNER]: { secKey: secKeyAuth(OTHER_PARTNER) },
        },
        audit: sink,
        now: () => NOW,
      }),
      new DualModeVerifier({
        partners: async (id) => (id === PARTNER ? { signature: signatureAuth() } : undefined),
        audit: sink,
        replay: new MemoryReplayStore(),
        now: () => NOW,
      }),
    ]
  }

  it('as body, headers and context', async () => {
    const all = verifiers()
    await fc.assert(
      fc.asyncProperty(
        fc.nat(all.length - 1),
        anyValue,
        anyValue,
        anyValue,
        async (which, body, headers, context) => {
          const result = await call(
            all[which]!,
            { body: build(body), headers: build(headers) },
            build(context),
          )
          expectKnown(result)
        },
      ),
      { numRuns: 400 },
    )
  })

  it('as the request itself, and as rawBody', async () => {
    const all = verifiers()
    await fc.assert(
      fc.asyncProperty(fc.nat(all.length - 1), anyValue, anyValue, async (which, request, rawBody) => {
        expectKnown(await call(all[which]!, build(request)))
        expectKnown(await call(all[which]!, { body: sigBody, rawBody: build(rawBody) }))
        expectKnown(await call(all[which]!, { rawBody: build(rawBody) }))
      }),
      { numRuns: 200 },
    )
  })
})
