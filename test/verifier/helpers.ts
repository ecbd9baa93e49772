/**
 * Fixtures shared by the verifier and audit tests: the vector keys, strategies in both roles, bodies
 * signed the way Smile signs callbacks, a controllable clock, a recording audit sink, and assertions that
 * check the reason code and the scheme together.
 *
 * @module
 */
import { expect } from 'vitest'

import {
  DualModeVerifier,
  LegacySecKeyAuth,
  SignatureAuth,
  type AuditEvent,
  type DualModeVerifierOptions,
  type FailureReason,
  type Scheme,
  type VerificationFailure,
  type VerificationResult,
  type VerificationSuccess,
} from '../../src/index.js'
import { NOW, NOW_ISO, PARTNER } from '../support/fixtures.js'
import { keyText, signatureVectors } from '../support/vectors.js'
import { expectConfigurationError, printable } from '../support/assertions.js'
import { expectNoSecrets } from '../support/secrets.js'

/** A second partner id for multi-partner tests. */
export const OTHER_PARTNER = '200'
/** The vectors' signature API key. */
export const API_KEY = signatureVectors().api_key
/** The second partner's signature API key (made up for these tests). */
export const OTHER_API_KEY = 'other-partner-signature-key-42'
/** Smile's side of the sec_key test pair: signs Smile → partner sec_keys. */
export const PRIVATE_KEY = keyText('test_rsa1024_private_pkcs8.pem')
/** The partner's "API Key for Sec Key" (base64 of the SPKI PEM, as the portal shows it). */
export const SEC_KEY_API_KEY = keyText('apikey_b64_spki_pem.txt')

const servers = new Map<string, LegacySecKeyAuth>()

/** The signature strategy of a partner. */
export function signatureAuth(partnerId = PARTNER, apiKey = API_KEY): SignatureAuth {
  return new SignatureAuth({ partnerId, apiKey })
}

/** The partner-role legacy strategy (public key): verifies Smile → partner sec_keys. */
export function secKeyAuth(partnerId = PARTNER): LegacySecKeyAuth {
  return new LegacySecKeyAuth({ partnerId, apiKey: SEC_KEY_API_KEY })
}

/** Smile's server-role legacy strategy (private key): makes the sec_keys a partner receives. */
export function smileServer(partnerId = PARTNER): LegacySecKeyAuth {
  let server = servers.get(partnerId)
  if (server === undefined) {
    server = new LegacySecKeyAuth({ partnerId, privateKey: PRIVATE_KEY })
    servers.set(partnerId, server)
  }
  return server
}

/** Options for the body builders. */
export interface BodyOptions {
  /** The timestamp to sign (default `NOW`, as ISO for signature and as ms for sec_key). */
  timestamp?: string | number | Date
  /** The partner id the credential is made for. Default `PARTNER`. */
  partnerId?: string
  /** The API key to sign with (signature only). */
  apiKey?: string
  /** Body fields to add; `partner_id` is not added unless given here. */
  fields?: Record<string, unknown>
}

/** A callback body carrying a `signature` credential. */
export async function signatureBody(options: BodyOptions = {}): Promise<Record<string, unknown>> {
  const auth = signatureAuth(options.partnerId ?? PARTNER, options.apiKey ?? API_KEY)
  const credentials = await auth.sign({ timestamp: options.timestamp ?? new Date(NOW) })
  return { job_id: 'job-1', result: { ResultCode: '1012' }, ...options.fields, ...credentials }
}

/** A callback body carrying a Smile → partner `sec_key` credential. */
export async function secKeyBody(options: BodyOptions = {}): Promise<Record<string, unknown>> {
  const credentials = await smileServer(options.partnerId ?? PARTNER).sign({
    timestamp: options.timestamp ?? NOW,
  })
  return { job_id: 'job-1', result: { ResultCode: '1012' }, ...options.fields, ...credentials }
}

/** A clock the tests move by hand. */
export interface TestClock {
  now: () => number
  set(ms: number): void
  advance(ms: number): void
}

/** A clock starting at `start`. */
export function testClock(start = NOW): TestClock {
  let current = start
  return {
    now: () => current,
    set: (ms) => {
      current = ms
    },
    advance: (ms) => {
      current += ms
    },
  }
}

/** A single-partner verifier for `PARTNER` with both strategies and the clock fixed at `NOW`. */
export function dualVerifier(options: DualModeVerifierOptions = {}): DualModeVerifier {
  const single = options.partners === undefined
  return new DualModeVerifier({
    ...(single ? { signature: signatureAuth(), secKey: secKeyAuth() } : {}),
    now: () => NOW,
    ...options,
  })
}

/** An audit sink that keeps every event. */
export function recordingSink(): { events: AuditEvent[]; sink: (event: AuditEvent) => void } {
  const events: AuditEvent[] = []
  return { events, sink: (event) => void events.push(event) }
}

/** Asserts an accepted result with `scheme` and narrows to it. */
export function expectAccepted(result: VerificationResult, scheme: Scheme): VerificationSuccess {
  if (!result.ok) expect.fail(`expected ${scheme} to be accepted, got ${result.reason}: ${result.message}`)
  expect(result.scheme).toBe(scheme)
  expect(result.legacy).toBe(scheme === 'sec_key')
  return result
}

/** Asserts a rejection with `reason` for `scheme` (or `null` when no scheme could be told). */
export function expectRejected(
  result: VerificationResult,
  reason: FailureReason,
  scheme: Scheme | null,
): VerificationFailure {
  if (result.ok) expect.fail(`expected ${reason}, got an accepted ${result.scheme} request`)
  expect(result.reason).toBe(reason)
  expect(result.scheme).toBe(scheme)
  expect(typeof result.message).toBe('string')
  return result
}

/** Lets pending promise callbacks (rejected audit sinks, stream callbacks) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export { expectConfigurationError, expectNoSecrets, NOW, NOW_ISO, PARTNER, printable }
