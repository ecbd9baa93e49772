/**
 * Every MigratingSigner option mistake: the code, what was given, what is allowed, and the likely slip.
 */
import { describe, expect, it } from 'vitest'
import { LegacySecKeyAuth } from '../../src/schemes/sec-key.js'
import { SignatureAuth } from '../../src/schemes/signature.js'
import { MigratingSigner, type MigratingSignerOptions } from '../../src/signer.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { expectConfigError } from '../support/config-errors.js'

const keys = createTestKeys({ partnerId: '085' })
const other = createTestKeys({ partnerId: '086' })
const signature = new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey })
const secKey = new LegacySecKeyAuth({ partnerId: keys.partnerId, apiKey: keys.secKeyApiKey })
const otherSecKey = new LegacySecKeyAuth({ partnerId: other.partnerId, apiKey: other.secKeyApiKey })
const serverSecKey = new LegacySecKeyAuth({ partnerId: keys.partnerId, privateKey: keys.secKeyPrivateKey })
const build = (options: unknown) => () => new MigratingSigner(options as MigratingSignerOptions)
const USE = "use must be 'signature', 'sec_key' or { signaturePercent: 0–100 }"
const PERCENT = 'use.signaturePercent must be a number from 0 to 100'

const cases: { name: string; options: unknown; includes: string[]; excludes?: string[] }[] = [
  { name: 'no options', options: null, includes: ['MigratingSigner needs an options object', '(got null)'] },
  {
    name: 'a mistyped option name',
    options: { signature, use: 'signature', secKEY: secKey },
    includes: [
      'unknown option in MigratingSigner: secKEY (did you mean secKey?)',
      'known: signature, secKey, use',
    ],
  },
  {
    name: 'a misspelt scheme',
    options: { signature, secKey, use: 'sigature' },
    includes: [`${USE} (got "sigature"); did you mean 'signature'?`],
  },
  {
    name: '"legacy" for sec_key',
    options: { secKey, use: 'legacy' },
    includes: [USE, "did you mean 'sec_key'?"],
  },
  {
    name: 'use missing',
    options: { signature, secKey },
    includes: ["use is missing: it must be 'signature', 'sec_key' or { signaturePercent: 0–100 }"],
  },
  {
    name: 'a bare percentage',
    options: { signature, secKey, use: 50 },
    includes: [`${USE} (got the number 50); for a rollout pass { signaturePercent: 50 }`],
  },
  {
    name: 'a percentage as text',
    options: { signature, secKey, use: '25%' },
    includes: [USE, 'for a rollout pass { signaturePercent: 25 }'],
  },
  {
    name: 'a percent above 100',
    options: { signature, secKey, use: { signaturePercent: 150 } },
    includes: [PERCENT, '(got the number 150)', '100 already means every request'],
  },
  {
    name: 'a negative percent',
    options: { signature, secKey, use: { signaturePercent: -5 } },
    includes: [PERCENT, '(got the number -5)', '0 already means no request'],
  },
  {
    name: 'a percent as a string',
    options: { signature, secKey, use: { signaturePercent: '50' } },
    includes: [PERCENT, 'pass the number 50, not a string'],
  },
  {
    name: 'NaN percent',
    options: { signature, secKey, use: { signaturePercent: NaN } },
    includes: [PERCENT, '(got NaN)'],
  },
  {
    name: 'the percent missing',
    options: { signature, secKey, use: {} },
    includes: [PERCENT, '50 is half of the requests, 0.5 is one in 200', 'it is missing'],
  },
  {
    name: 'a mistyped rollout field',
    options: { signature, secKey, use: { signaturePercent: 10, routingkey: 'job' } },
    includes: ['unknown option in MigratingSigner use: routingkey (did you mean routingKey?)'],
  },
  {
    name: 'a numeric routing key',
    options: { signature, secKey, use: { signaturePercent: 10, routingKey: 42 } },
    includes: ['use.routingKey must be a non-empty string (got the number 42); pass String(42)'],
  },
  {
    name: 'the two strategies swapped',
    options: { signature: secKey, secKey: signature, use: 'signature' },
    includes: ['signature must be a SignatureAuth (got a LegacySecKeyAuth); it belongs in secKey'],
  },
  {
    name: 'the api key itself for signature',
    options: { signature: keys.signatureApiKey, use: 'signature' },
    includes: ['pass new SignatureAuth({ partnerId, apiKey }), not the key itself'],
    excludes: [keys.signatureApiKey],
  },
  {
    name: 'strategy options instead of a strategy',
    options: { secKey: { partnerId: '085', apiKey: keys.secKeyApiKey }, use: 'sec_key' },
    includes: ['secKey must be a LegacySecKeyAuth (got an object)', 'not its options'],
    excludes: [keys.secKeyApiKey.slice(30, 70)],
  },
  {
    name: 'a server-role secKey',
    options: { secKey: serverSecKey, use: 'sec_key' },
    includes: ['secKey must be in the partner role', 'apiKey (the public key), not privateKey'],
  },
  {
    name: 'two partners',
    options: { signature, secKey: otherSecKey, use: { signaturePercent: 10 } },
    includes: ['different partner ids ("085" and "086")'],
  },
  {
    name: 'signature picked but not configured',
    options: { secKey, use: { signaturePercent: 20 } },
    includes: ['signaturePercent 20', 'no signature strategy is configured', "or set use: 'sec_key'"],
  },
  {
    name: 'sec_key picked but not configured',
    options: { signature, use: 'sec_key' },
    includes: ["use can pick the sec_key scheme ('sec_key')", 'no secKey strategy is configured'],
  },
  {
    name: 'a fixed time for now',
    options: { signature, use: 'signature', now: 1_700_000_000_000 },
    includes: ['now must be a function returning epoch milliseconds', '(got the number 1700000000000)'],
  },
  {
    name: 'a path for audit',
    options: { signature, use: 'signature', audit: './audit.jsonl' },
    includes: [
      'audit must be an audit sink',
      'an object with write(event)',
      '(got a string of 13 characters)',
    ],
  },
  {
    name: 'a bad sink in a list',
    options: { signature, use: 'signature', audit: [() => undefined, {}] },
    includes: ['audit[1] must be an audit sink', '(got an object)'],
  },
  {
    name: 'onAuditError not a function',
    options: { signature, use: 'signature', onAuditError: true },
    includes: ['onAuditError must be a function (error, event) => void (got true)'],
  },
]

describe('MigratingSigner option messages', () => {
  it.each(cases)('$name', async ({ options, includes, excludes }) => {
    await expectConfigError(build(options), { code: 'invalid_options', includes, excludes: excludes ?? [] })
  })

  it('keeps fractional percentages valid: 0.5 is half a percent, not a mistake', async () => {
    const signer = new MigratingSigner({ signature, secKey, use: { signaturePercent: 0.5 } })
    const schemes = await Promise.all(Array.from({ length: 400 }, (_, i) => signer.schemeFor(`job-${i}`)))
    expect(schemes.filter((scheme) => scheme === 'signature').length).toBeLessThan(20)
  })
})

describe('MigratingSigner call messages', () => {
  const both = new MigratingSigner({ signature, secKey, use: { signaturePercent: 50 } })
  const legacyOnly = new MigratingSigner({ secKey, use: 'sec_key' })

  it.each([
    {
      name: 'sign with a numeric routing key',
      run: () => both.sign({ routingKey: 42 as unknown as string }),
      includes: ['MigratingSigner.sign: routingKey must be a string (got the number 42); pass String(42)'],
    },
    {
      name: 'sign with the routing key instead of options',
      run: () => both.sign('job-42' as never),
      includes: [
        'MigratingSigner.sign options must be an object',
        'pass { routingKey } rather than the key itself',
      ],
    },
    {
      name: 'signBody with JSON text',
      run: () => both.signBody('{"job":1}' as never),
      includes: [
        'signBody needs a plain object body (got a string of 9 characters); pass the object, not its JSON text',
      ],
    },
    {
      name: 'signBody with an array',
      run: () => both.signBody([] as never),
      includes: ['signBody needs a plain object body (got an array)'],
    },
    {
      name: 'headers without the signature scheme',
      run: () => legacyOnly.headers(),
      includes: ['headers() needs the signature scheme', 'signBody()'],
    },
    {
      name: 'headers with a bad routing key',
      run: () => both.headers({ routingKey: {} as never }),
      includes: ['MigratingSigner.headers: routingKey must be a string (got an object)'],
    },
  ])('$name', async ({ run, includes }) => {
    await expectConfigError(run, { code: 'invalid_options', includes })
  })
})
