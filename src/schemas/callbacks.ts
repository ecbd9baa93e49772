/**
 * zod schemas, and their TypeScript types, of the bodies Smile ID sends: callbacks (POSTed to the partner's
 * `callback_url`) and job-status responses. They check the fields a handler branches on (`ResultCode`,
 * `ResultText`, `SmileJobID`, `PartnerParams`, `Actions`) and the product's own fields when present, and
 * let every other field through untouched: Smile ID adds fields over time, and a schema that refused them
 * would turn a harmless addition into a lost callback.
 *
 * Field names and types follow Smile ID's documentation and the field mappings of its official mobile SDK
 * (smileidentity/android, `lib/src/main/java/com/smileidentity/models/JobStatus.kt` and `EnhancedKyc.kt`).
 * Each schema cites the page that documents its payload.
 *
 * @module
 */
import * as z from 'zod/mini'

const text = z.string()
const optionalText = z.optional(z.string())
/** Smile ID sends booleans as JSON booleans in some payloads and as `"true"` / `"false"` in others. */
const flag = z.optional(z.union([z.boolean(), z.enum(['true', 'false'])]))

/**
 * `PartnerParams`: the partner's own job parameters, echoed back with every callback. `job_id` and
 * `user_id` are the partner's; `job_type` is Smile ID's product number (1 Biometric KYC, 2 SmartSelfie
 * authentication, 4 SmartSelfie registration, 5 Enhanced KYC, 6 Document Verification, 7 Business
 * Verification), sent as a number or a string. Partners may add their own keys.
 *
 * Source: https://docs.smileidentity.com/results/callbacks ("the partner params structure is passed back
 * with every callback"); job types from each product's request page (for example `job_type` "1" at
 * https://docs.usesmileid.com/products/for-individuals-kyc/biometric-kyc).
 *
 * @example
 * ```ts
 * import { partnerParamsSchema } from 'smileid-auth-shim/schemas'
 *
 * partnerParamsSchema.parse({ job_id: 'job-1', user_id: 'user-1', job_type: 5 })
 * ```
 */
export const partnerParamsSchema: z.ZodMiniType<PartnerParams> = z.looseObject({
  job_id: text,
  user_id: text,
  job_type: z.optional(z.union([z.number(), z.string()])),
})

/** `PartnerParams`, as {@link partnerParamsSchema} checks it. */
export interface PartnerParams {
  /** The partner's job id. */
  job_id: string
  /** The partner's user id. */
  user_id: string
  /** Smile ID's product number, as a number or a string. */
  job_type?: number | string | undefined
  /** The partner's own keys, echoed back. */
  [key: string]: unknown
}

/**
 * `Actions`: one entry per check Smile ID ran, for example `Verify_ID_Number: 'Verified'` or
 * `Liveness_Check: 'Passed'`. Names and values are strings; Smile ID adds actions per product.
 *
 * Source: https://docs.smileidentity.com/results/result-and-error-codes ("Jobs are made up of Actions,
 * and each Action has a key-value pair").
 *
 * @example
 * ```ts
 * import { actionsSchema } from 'smileid-auth-shim/schemas'
 *
 * actionsSchema.parse({ Verify_ID_Number: 'Verified', Return_Personal_Info: 'Returned' })
 * ```
 */
export const actionsSchema: z.ZodMiniType<SmileActions> = z.record(z.string(), z.string())

/** `Actions`: check name → outcome, for example `{ Verify_ID_Number: 'Verified' }`. */
export type SmileActions = Record<string, string>

/** A flag Smile ID sends as a JSON boolean or as the string `"true"` / `"false"`. */
export type SmileFlag = boolean | 'true' | 'false'

/**
 * The fields every job result shares, in a callback and in a job-status `result`.
 * `ResultCode` is a four-digit string such as `"1012"`; `ConfidenceValue` arrives as a string or number.
 */
const jobResultShape = {
  ResultCode: text,
  ResultText: text,
  ResultType: optionalText,
  SmileJobID: text,
  PartnerParams: partnerParamsSchema,
  Actions: actionsSchema,
  ConfidenceValue: z.optional(z.union([z.string(), z.number()])),
  IsFinalResult: flag,
  IsMachineResult: flag,
  JSONVersion: optionalText,
  Source: optionalText,
  // The credential Smile ID signs the callback with, and the SDK fields. The verifier reads these before any
  // schema runs; typed here so that a handler does not have to cast.
  signature: optionalText,
  sec_key: optionalText,
  timestamp: z.optional(z.union([z.string(), z.number()])),
  partner_id: z.optional(z.union([z.string(), z.number()])),
  source_sdk: optionalText,
  source_sdk_version: optionalText,
}

/**
 * Any Smile ID job result: the fields all products share. Use it for a route that receives callbacks of
 * several products, then branch on `PartnerParams.job_type` or `ResultType`.
 *
 * Source: https://docs.smileidentity.com/results/callbacks ("all jobs return the default callback structure").
 *
 * @example
 * ```ts
 * import { smileCallbackSchema } from 'smileid-auth-shim/schemas'
 *
 * const parsed = smileCallbackSchema.safeParse({ ResultCode: 1012 })
 * console.log(parsed.success) // false: ResultCode is a string, and the other fields are missing
 * ```
 */
export const smileCallbackSchema: z.ZodMiniType<SmileCallback> = z.looseObject(jobResultShape)

/** The fields every Smile ID job result has, as {@link smileCallbackSchema} checks them. */
export interface SmileCallback {
  /** The overall result, a four-digit code such as `"1012"` (see Smile ID's result codes). */
  ResultCode: string
  /** Smile ID's text for the result code. */
  ResultText: string
  /** The kind of result, for example `"ID Verification"` or `"SAIA"`. */
  ResultType?: string | undefined
  /** Smile ID's job id. */
  SmileJobID: string
  /** The partner's job parameters, echoed back. */
  PartnerParams: PartnerParams
  /** One outcome per check Smile ID ran. */
  Actions: SmileActions
  /** Confidence of the match. */
  ConfidenceValue?: string | number | undefined
  /** Whether this is the job's final result (a human review may follow otherwise). */
  IsFinalResult?: SmileFlag | undefined
  /** Whether a machine, not a reviewer, decided. */
  IsMachineResult?: SmileFlag | undefined
  /** Version of the payload format. */
  JSONVersion?: string | undefined
  /** Which product or data source produced the result. */
  Source?: string | undefined
  /** The credential Smile ID signed the callback with (`signature` scheme, or a sec_key in job status). */
  signature?: string | undefined
  /** The legacy credential. */
  sec_key?: string | undefined
  /** The timestamp the credential was made for. */
  timestamp?: string | number | undefined
  /** The partner id. Trust the verifier's `result.partnerId`, never this field. */
  partner_id?: string | number | undefined
  /** The SDK of the job's submitter. */
  source_sdk?: string | undefined
  /** That SDK's version. */
  source_sdk_version?: string | undefined
  /** Every field Smile ID adds, untouched. */
  [field: string]: unknown
}

/** Personal information from the ID authority (Enhanced KYC, Biometric KYC); absent fields were not returned. */
export interface SmileIdentityInfo {
  /** Country of the ID, ISO 3166-1 alpha-2. */
  Country?: string | undefined
  /** The ID type, for example `"NIN_V2"`. */
  IDType?: string | undefined
  /** The ID number looked up. */
  IDNumber?: string | undefined
  /** Full name on record. */
  FullName?: string | undefined
  /** Date of birth on record. */
  DOB?: string | undefined
  /** Gender on record. */
  Gender?: string | undefined
  /** Expiry of the ID. */
  ExpirationDate?: string | undefined
  /** Phone number on record. */
  PhoneNumber?: string | undefined
  /** Second phone number on record. */
  PhoneNumber2?: string | undefined
  /** Address on record. */
  Address?: string | undefined
  /** Base64 photo from the ID authority. */
  Photo?: string | undefined
  /** A secondary ID number, where the authority returns one. */
  Secondary_ID_Number?: string | undefined
  /** Everything the ID authority returned, as it returned it. */
  FullData?: Record<string, unknown> | undefined
  /** Every field Smile ID adds, untouched. */
  [field: string]: unknown
}

/** Personal information returned from the ID authority (Enhanced KYC, Biometric KYC). */
const personalInfoShape = {
  Country: optionalText,
  IDType: optionalText,
  IDNumber: optionalText,
  FullName: optionalText,
  DOB: optionalText,
  Gender: optionalText,
  ExpirationDate: optionalText,
  PhoneNumber: optionalText,
  PhoneNumber2: optionalText,
  Address: optionalText,
  /** Base64 image from the ID authority. */
  Photo: optionalText,
  Secondary_ID_Number: optionalText,
  /** Every field the ID authority returned, as it returned it. */
  FullData: z.optional(z.record(z.string(), z.unknown())),
}

/**
 * Enhanced KYC (job type 5): the ID number lookup, with the personal information the ID authority holds.
 * The synchronous response and the asynchronous callback have the same body.
 *
 * Source: https://docs.usesmileid.com/products/for-individuals-kyc/identity-lookup (response section:
 * "this is the same response sent to the callback of the asynchronous endpoint").
 *
 * @example
 * ```ts
 * import { enhancedKycCallbackSchema, type EnhancedKycCallback } from 'smileid-auth-shim/schemas'
 *
 * function onCallback(body: unknown): EnhancedKycCallback | null {
 *   const parsed = enhancedKycCallbackSchema.safeParse(body)
 *   return parsed.success ? parsed.data : null
 * }
 * ```
 */
export const enhancedKycCallbackSchema: z.ZodMiniType<EnhancedKycCallback> = z.looseObject({
  ...jobResultShape,
  ...personalInfoShape,
})

/** An Enhanced KYC callback, as {@link enhancedKycCallbackSchema} checks it. */
export interface EnhancedKycCallback extends SmileCallback, SmileIdentityInfo {}

/**
 * Biometric KYC (job type 1): a selfie compared with the ID authority's photo, plus the Enhanced KYC fields,
 * and the duplicate-registration checks.
 *
 * Source: https://docs.usesmileid.com/products/for-individuals-kyc/biometric-kyc (result fields), and the
 * field mapping `BiometricKycEntry` of smileidentity/android `models/JobStatus.kt`.
 *
 * @example
 * ```ts
 * import { biometricKycCallbackSchema } from 'smileid-auth-shim/schemas'
 *
 * const parsed = biometricKycCallbackSchema.safeParse({})
 * if (!parsed.success) console.log(parsed.error.issues.length, 'problems')
 * ```
 */
export const biometricKycCallbackSchema: z.ZodMiniType<BiometricKycCallback> = z.looseObject({
  ...jobResultShape,
  ...personalInfoShape,
  /** Base64 image of the document, when the ID authority returns one. */
  Document: optionalText,
  Antifraud: z.optional(
    z.looseObject({
      SuspectUsers: z.array(z.looseObject({ reason: optionalText, user_id: optionalText })),
    }),
  ),
  IDNumberPreviouslyRegistered: flag,
  UserIDsOfPreviousRegistrants: z.optional(z.array(z.string())),
})

/** A Biometric KYC callback, as {@link biometricKycCallbackSchema} checks it. */
export interface BiometricKycCallback extends SmileCallback, SmileIdentityInfo {
  /** Base64 image of the document, when the ID authority returns one. */
  Document?: string | undefined
  /** Users with the same face or ID already registered with you. */
  Antifraud?: SmileAntifraud | undefined
  /** Whether the ID number was registered before. */
  IDNumberPreviouslyRegistered?: SmileFlag | undefined
  /** The user ids that registered this ID number before. */
  UserIDsOfPreviousRegistrants?: string[] | undefined
}

/** Biometric KYC's duplicate-user check. */
export interface SmileAntifraud {
  /** The users that look like this one. */
  SuspectUsers: SmileSuspectUser[]
  /** Every field Smile ID adds, untouched. */
  [field: string]: unknown
}

/** One user of {@link SmileAntifraud.SuspectUsers}. */
export interface SmileSuspectUser {
  /** Why the user is a suspect. */
  reason?: string | undefined
  /** Your user id of that user. */
  user_id?: string | undefined
  /** Every field Smile ID adds, untouched. */
  [field: string]: unknown
}

/**
 * Document Verification (job type 6): the document's authenticity and the selfie compared with its photo,
 * with the fields read from the document.
 *
 * Source: https://docs.smileidentity.com/products/for-individuals-kyc/document-verification/document-verification,
 * and the field mapping `DocVEntry` of smileidentity/android `models/JobStatus.kt`.
 *
 * @example
 * ```ts
 * import { documentVerificationCallbackSchema } from 'smileid-auth-shim/schemas'
 *
 * const parsed = documentVerificationCallbackSchema.safeParse({})
 * console.log(parsed.success) // false
 * ```
 */
export const documentVerificationCallbackSchema: z.ZodMiniType<DocumentVerificationCallback> = z.looseObject({
  ...jobResultShape,
  Country: optionalText,
  IDType: optionalText,
  IDNumber: optionalText,
  FullName: optionalText,
  DOB: optionalText,
  Gender: optionalText,
  ExpirationDate: optionalText,
  /** Base64 image of the document. */
  Document: optionalText,
  PhoneNumber: optionalText,
  PhoneNumber2: optionalText,
  Address: optionalText,
})

/** A Document Verification callback, as {@link documentVerificationCallbackSchema} checks it. */
export interface DocumentVerificationCallback extends SmileCallback {
  /** Country that issued the document. */
  Country?: string | undefined
  /** The document type, for example `"PASSPORT"`. */
  IDType?: string | undefined
  /** The document number. */
  IDNumber?: string | undefined
  /** Full name read from the document. */
  FullName?: string | undefined
  /** Date of birth read from the document. */
  DOB?: string | undefined
  /** Gender read from the document. */
  Gender?: string | undefined
  /** Expiry read from the document. */
  ExpirationDate?: string | undefined
  /** Base64 image of the document. */
  Document?: string | undefined
  /** Phone number, where the document has one. */
  PhoneNumber?: string | undefined
  /** Second phone number. */
  PhoneNumber2?: string | undefined
  /** Address read from the document. */
  Address?: string | undefined
}

/**
 * SmartSelfie™ authentication (job type 2) and registration (job type 4): the selfie compared with the
 * user's registered selfie, or registered. Both send the default callback structure (`ResultType` is
 * `"SAIA"`); the job type in `PartnerParams` says which.
 *
 * Source: https://docs.usesmileid.com/products/for-individuals-kyc/biometric-authentication (both job types
 * send the same payload), and `SmartSelfieJobStatusResponse` in smileidentity/android `models/JobStatus.kt`.
 *
 * @example
 * ```ts
 * import { smartSelfieCallbackSchema } from 'smileid-auth-shim/schemas'
 *
 * const parsed = smartSelfieCallbackSchema.safeParse({})
 * console.log(parsed.success) // false
 * ```
 */
export const smartSelfieCallbackSchema: z.ZodMiniType<SmartSelfieCallback> = z.looseObject(jobResultShape)

/** A SmartSelfie™ authentication or registration callback: the fields every job result has. */
export type SmartSelfieCallback = SmileCallback

/**
 * Business Verification (job type 7): a business registration or tax number lookup. The registration search
 * returns the company information, directors, beneficial owners and fiduciaries; the tax search the company
 * information only. Their inner fields vary by country and registry, so they are checked as objects and
 * left open.
 *
 * Source: https://docs.usesmileid.com/products/for-businesses-kyb/business-verification.
 *
 * @example
 * ```ts
 * import { businessVerificationCallbackSchema } from 'smileid-auth-shim/schemas'
 *
 * const parsed = businessVerificationCallbackSchema.safeParse({})
 * console.log(parsed.success) // false
 * ```
 */
export const businessVerificationCallbackSchema: z.ZodMiniType<BusinessVerificationCallback> = z.looseObject({
  ...jobResultShape,
  company_information: z.optional(z.looseObject({})),
  directors: z.optional(z.array(z.looseObject({}))),
  beneficial_owners: z.optional(z.array(z.looseObject({}))),
  fiduciaries: z.optional(z.array(z.looseObject({}))),
  documents: z.optional(z.looseObject({})),
})

/** A Business Verification callback, as {@link businessVerificationCallbackSchema} checks it. */
export interface BusinessVerificationCallback extends SmileCallback {
  /** The registry's record of the company (fields vary by country and registry). */
  company_information?: Record<string, unknown> | undefined
  /** The company's directors. */
  directors?: Array<Record<string, unknown>> | undefined
  /** The company's beneficial owners. */
  beneficial_owners?: Array<Record<string, unknown>> | undefined
  /** The company's fiduciaries. */
  fiduciaries?: Array<Record<string, unknown>> | undefined
  /** Documents the registry returned. */
  documents?: Record<string, unknown> | undefined
}

/**
 * The job-status response (`POST /v1/job_status`), signed by Smile ID like a callback. `result` is a job
 * result while the job has one, and a plain string (for example `"No zip uploaded"`) before; `history` is
 * there when requested with `history: true`, `image_links` with `image_links: true`.
 *
 * Source: https://docs.usesmileid.com/integration-options/rest-api/utilities (Job Status, return values),
 * and `JobStatusResponse` / `JobResult.Freeform` in smileidentity/android `models/JobStatus.kt`.
 *
 * @example
 * ```ts
 * import { jobStatusResponseSchema } from 'smileid-auth-shim/schemas'
 *
 * const status = jobStatusResponseSchema.parse({
 *   timestamp: '2026-01-01T00:00:00.000Z',
 *   job_complete: false,
 *   job_success: false,
 *   result: 'No zip uploaded',
 * })
 * if (typeof status.result !== 'string') console.log(status.result?.ResultCode)
 * ```
 */
export const jobStatusResponseSchema: z.ZodMiniType<JobStatusResponse> = z.looseObject({
  timestamp: z.union([z.string(), z.number()]),
  signature: optionalText,
  job_complete: z.boolean(),
  job_success: z.boolean(),
  code: optionalText,
  result: z.optional(z.nullable(z.union([smileCallbackSchema, z.string()]))),
  history: z.optional(z.nullable(z.array(smileCallbackSchema))),
  image_links: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
})

/** A job-status response, as {@link jobStatusResponseSchema} checks it. */
export interface JobStatusResponse {
  /** The timestamp Smile ID signed the response with. */
  timestamp: string | number
  /** Smile ID's credential for the response (a signature, or a sec_key for legacy partners). */
  signature?: string | undefined
  /** Whether the job has a final status. */
  job_complete: boolean
  /** Whether the job succeeded (a match, an enrolment). */
  job_success: boolean
  /** Smile ID's status code for the query. */
  code?: string | undefined
  /** The job result, or a text such as `"No zip uploaded"` while there is none. */
  result?: SmileCallback | string | null | undefined
  /** Every result of the user's jobs, when asked for with `history: true`. */
  history?: SmileCallback[] | null | undefined
  /** Signed links to the job's images, when asked for with `image_links: true`. */
  image_links?: Record<string, unknown> | null | undefined
  /** Every field Smile ID adds, untouched. */
  [field: string]: unknown
}
