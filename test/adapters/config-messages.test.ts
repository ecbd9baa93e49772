/**
 * Every adapter option mistake: the code, what was given, what is allowed, and the likely slip. Each
 * adapter's builder is checked, as its users meet it (a throw, or a rejected promise for the calls).
 */
import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { describe, it } from 'vitest'
import { smileIdAuth as expressAuth } from '../../src/adapters/express.js'
import { smileIdAuth as fastifyAuth } from '../../src/adapters/fastify.js'
import { verifyRequest, withSmileIdAuth } from '../../src/adapters/fetch.js'
import { smileIdAuth as honoAuth } from '../../src/adapters/hono.js'
import { SmileIdAuthGuard } from '../../src/adapters/nestjs.js'
import { verifyIncomingMessage } from '../../src/adapters/node.js'
import { SignatureAuth } from '../../src/schemes/signature.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { DualModeVerifier } from '../../src/verifier/dual-mode.js'
import { expectConfigError } from '../support/config-errors.js'

const keys = createTestKeys({ partnerId: '085' })
const verifier = new DualModeVerifier({
  signature: new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey }),
})
const request = () => new Request('http://partner.example/cb', { method: 'POST', body: '{}' })
const message = () => new IncomingMessage(new Socket())
const handler = () => new Response('ok')

/** Each builder, given `{ verifier, ...extra }` the way it takes its options. */
const builders: { name: string; where: string; build: (options: Record<string, unknown>) => unknown }[] = [
  { name: 'express', where: 'smileIdAuth', build: (options) => expressAuth(options as never) },
  { name: 'hono', where: 'smileIdAuth', build: (options) => honoAuth(options as never) },
  { name: 'fastify', where: 'smileIdAuth', build: (options) => fastifyAuth({} as never, options as never) },
  { name: 'nestjs', where: 'SmileIdAuthGuard', build: (options) => new SmileIdAuthGuard(options as never) },
  {
    name: 'fetch verifyRequest',
    where: 'verifyRequest',
    build: ({ verifier: given, ...rest }) => verifyRequest(given as never, request(), rest as never),
  },
  {
    name: 'fetch withSmileIdAuth',
    where: 'withSmileIdAuth',
    build: ({ verifier: given, ...rest }) => withSmileIdAuth(given as never, handler, rest as never),
  },
  {
    name: 'node verifyIncomingMessage',
    where: 'verifyIncomingMessage',
    build: ({ verifier: given, ...rest }) => verifyIncomingMessage(given as never, message(), rest as never),
  },
]

const LIMIT = 'limit must be a positive whole number of bytes (default 1048576)'

describe.each(builders)('$name option messages', ({ where, build }) => {
  it.each([
    {
      name: 'no verifier',
      options: {},
      includes: [`${where} needs a verifier (a DualModeVerifier with a verify method) (got undefined)`],
    },
    {
      name: 'a strategy options object for the verifier',
      options: { verifier: { partnerId: '085' } },
      includes: [`${where} needs a verifier`, '(got an object)'],
    },
    {
      name: 'a size string for limit',
      options: { verifier, limit: '1mb' },
      includes: [`${where}: ${LIMIT} (got a string of 3 characters)`, 'not a size string'],
    },
    {
      name: 'a fractional limit',
      options: { verifier, limit: 1.5 },
      includes: [`${where}: ${LIMIT} (got the number 1.5); round it, for example 2`],
    },
    {
      name: 'a zero limit',
      options: { verifier, limit: 0 },
      includes: [`${where}: ${LIMIT} (got the number 0)`],
    },
  ])('$name', async ({ options, includes }) => {
    await expectConfigError(() => build(options), { code: 'invalid_options', includes })
  })
})

// The builders that take a body schema (the Node call takes none).
describe.each(builders.filter(({ name }) => name !== 'node verifyIncomingMessage'))(
  '$name body option messages',
  ({ where, build }) => {
    const BODY = `${where}: body must be a Standard Schema (for example a schema from smileid-auth-shim/schemas or zod)`
    it.each([
      {
        name: 'a function that makes a schema',
        body: () => ({}),
        includes: [BODY, '(got a function); pass the schema object, not a function that makes one'],
      },
      {
        name: 'a schema without Standard Schema (old zod)',
        body: { safeParse: () => ({ success: true }) },
        includes: [BODY, 'upgrade zod to 3.24 or later'],
      },
      { name: 'a type name', body: 'CallbackBody', includes: [BODY, '(got "CallbackBody")'] },
    ])('$name', async ({ body, includes }) => {
      await expectConfigError(() => build({ verifier, body }), { code: 'invalid_options', includes })
    })
  },
)

// The builders that take hooks, and which hooks each takes.
const hooks: Record<string, readonly string[]> = {
  express: ['onFailure'],
  hono: ['onFailure', 'sourceIp'],
  fastify: ['onFailure'],
  nestjs: ['onFailure'],
  'fetch withSmileIdAuth': ['onFailure', 'sourceIp'],
}

describe.each(builders.filter(({ name }) => name in hooks))(
  '$name hook option messages',
  ({ name, where, build }) => {
    it.each(hooks[name]!.map((hook) => ({ hook })))('$hook not a function', async ({ hook }) => {
      await expectConfigError(() => build({ verifier, [hook]: 'x-forwarded-for' }), {
        code: 'invalid_options',
        includes: [`${where}: ${hook} must be a function (got "x-forwarded-for")`],
      })
    })

    it('onFailure given a response instead of a function', async () => {
      await expectConfigError(() => build({ verifier, onFailure: { status: 401 } }), {
        includes: [
          `${where}: onFailure must be a function (got an object); pass (failure, …) => a response, not a response`,
        ],
      })
    })
  },
)

describe('option-object adapters name the positional slip', () => {
  it.each([
    {
      name: 'express',
      run: () => expressAuth(verifier as never),
      includes: ['pass it inside the options: smileIdAuth({ verifier })'],
    },
    {
      name: 'hono',
      run: () => honoAuth(verifier as never),
      includes: ['pass it inside the options: smileIdAuth({ verifier })'],
    },
    {
      name: 'nestjs',
      run: () => new SmileIdAuthGuard(verifier as never),
      includes: ['pass it inside the options: new SmileIdAuthGuard({ verifier })'],
    },
  ])('$name', async ({ run, includes }) => {
    await expectConfigError(run, { code: 'invalid_options', includes })
  })

  it('withSmileIdAuth says the handler is missing and where it goes', async () => {
    await expectConfigError(() => withSmileIdAuth(verifier, { limit: 10 } as never), {
      includes: [
        'withSmileIdAuth needs a handler (request, context) => Response as its second argument (got an object)',
      ],
    })
  })
})
