/**
 * Smile ID callback and job-status schemas: the documented shapes (recorded as JSON fixtures from Smile ID's
 * documentation, see each fixture's `_source`) and the simulator's callbacks are accepted; wrong types are
 * refused with an issue at the right path; fields Smile ID adds pass through untouched.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as core from '../../src/index.js'
import * as schemas from '../../src/schemas/index.js'
import {
  biometricKycCallbackSchema,
  businessVerificationCallbackSchema,
  callbackBodySchema,
  documentVerificationCallbackSchema,
  enhancedKycCallbackSchema,
  jobStatusResponseSchema,
  smartSelfieCallbackSchema,
  smileCallbackSchema,
} from '../../src/schemas/index.js'
import { createTestKeys } from '../../src/testing/test-keys.js'
import { SmileServerSimulator } from '../../src/testing/simulator.js'

function fixture(name: string): Record<string, unknown> {
  const file = JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as {
    body: Record<string, unknown>
  }
  return file.body
}

const documented = [
  ['enhanced-kyc', enhancedKycCallbackSchema],
  ['biometric-kyc', biometricKycCallbackSchema],
  ['document-verification', documentVerificationCallbackSchema],
  ['smartselfie-authentication', smartSelfieCallbackSchema],
  ['smartselfie-registration', smartSelfieCallbackSchema],
  ['business-verification', businessVerificationCallbackSchema],
] as const

describe('documented callback shapes', () => {
  it.each(documented)('%s is accepted by its schema and by the generic one', (name, schema) => {
    const body = fixture(name)
    const parsed = schema.safeParse(body)
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true)
    // Loose: nothing is dropped, so a handler sees every field Smile ID sent.
    expect(parsed.data).toEqual(body)
    expect(smileCallbackSchema.safeParse(body).success).toBe(true)
    expect(callbackBodySchema.safeParse(body).success).toBe(true)
  })

  it('job-status responses: with a result, and before it (a free-text result, null history)', () => {
    for (const name of ['job-status', 'job-status-pending']) {
      const body = fixture(name)
      const parsed = jobStatusResponseSchema.safeParse(body)
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true)
      expect(parsed.data).toEqual(body)
    }
  })

  it('fields Smile ID adds later pass through, at the top level and inside PartnerParams', () => {
    const body = { ...fixture('enhanced-kyc'), NewField2027: { nested: [1, 2] } }
    const parsed = enhancedKycCallbackSchema.parse(body)
    expect(parsed.NewField2027).toEqual({ nested: [1, 2] })
    expect(parsed.PartnerParams.job_type).toBe(5)
  })
})

describe('simulator callbacks', () => {
  const smile = new SmileServerSimulator(createTestKeys({ partnerId: '085' }))

  it.each(['signature', 'sec_key'] as const)(
    '%s callbacks, approved and rejected, match the Enhanced KYC and generic schemas',
    async (scheme) => {
      for (const result of ['approved', 'rejected'] as const) {
        const body = await smile.callbackBody({ scheme, result })
        for (const schema of [enhancedKycCallbackSchema, smileCallbackSchema]) {
          const parsed = schema.safeParse(body)
          expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true)
          expect(parsed.data).toEqual(body)
        }
      }
    },
  )
})

describe('wrong types are refused at the field that is wrong', () => {
  const base = fixture('enhanced-kyc')
  const cases: Array<[string, Record<string, unknown>, Array<string | number>]> = [
    ['ResultCode as a number', { ...base, ResultCode: 1012 }, ['ResultCode']],
    ['no ResultCode', { ...base, ResultCode: undefined }, ['ResultCode']],
    ['SmileJobID as a number', { ...base, SmileJobID: 324 }, ['SmileJobID']],
    ['ResultText null', { ...base, ResultText: null }, ['ResultText']],
    ['PartnerParams as a string', { ...base, PartnerParams: 'job-1' }, ['PartnerParams']],
    [
      'PartnerParams without job_id',
      { ...base, PartnerParams: { user_id: 'user-1' } },
      ['PartnerParams', 'job_id'],
    ],
    [
      'an Action that is not a string',
      { ...base, Actions: { Verify_ID_Number: true } },
      ['Actions', 'Verify_ID_Number'],
    ],
    ['Actions as an array', { ...base, Actions: ['Verified'] }, ['Actions']],
    ['FullData as a string', { ...base, FullData: 'x' }, ['FullData']],
    ['IsFinalResult "yes"', { ...base, IsFinalResult: 'yes' }, ['IsFinalResult']],
  ]
  it.each(cases)('%s', (_name, body, path) => {
    const parsed = enhancedKycCallbackSchema.safeParse(body)
    expect(parsed.success).toBe(false)
    expect(parsed.error!.issues.map((issue) => issue.path)).toContainEqual(path)
  })

  it('product fields: Antifraud, previous registrants, business directors', () => {
    const bio = fixture('biometric-kyc')
    expect(biometricKycCallbackSchema.safeParse({ ...bio, Antifraud: { SuspectUsers: 'x' } }).success).toBe(
      false,
    )
    expect(biometricKycCallbackSchema.safeParse({ ...bio, UserIDsOfPreviousRegistrants: [1] }).success).toBe(
      false,
    )
    const kyb = fixture('business-verification')
    expect(businessVerificationCallbackSchema.safeParse({ ...kyb, directors: {} }).success).toBe(false)
    expect(businessVerificationCallbackSchema.safeParse({ ...kyb, company_information: 'x' }).success).toBe(
      false,
    )
  })

  it('job status: flags must be booleans, result an object or a string', () => {
    const status = fixture('job-status')
    expect(jobStatusResponseSchema.safeParse({ ...status, job_complete: 'true' }).success).toBe(false)
    expect(jobStatusResponseSchema.safeParse({ ...status, result: 42 }).success).toBe(false)
    expect(jobStatusResponseSchema.safeParse({ ...status, result: { ResultCode: '1012' } }).success).toBe(
      false,
    )
  })

  it.each([null, 'text', 42, [], true])('a body that is not an object (%j)', (value) => {
    expect(smileCallbackSchema.safeParse(value).success).toBe(false)
  })
})

describe('entries', () => {
  it('the core entry exports no zod schema; the schemas entry exports them all', () => {
    const names = Object.keys(core)
    expect(names.filter((name) => name.endsWith('Schema'))).toEqual([])
    expect(Object.keys(schemas).sort()).toEqual([
      'actionsSchema',
      'biometricKycCallbackSchema',
      'businessVerificationCallbackSchema',
      'callbackBodySchema',
      'documentVerificationCallbackSchema',
      'enhancedKycCallbackSchema',
      'jobStatusResponseSchema',
      'partnerParamsSchema',
      'secKeyCredentialsSchema',
      'signatureCredentialsSchema',
      'smartSelfieCallbackSchema',
      'smileCallbackSchema',
    ])
    for (const schema of Object.values(schemas)) expect(schema['~standard'].vendor).toBe('zod')
  })
})
