/**
 * The suite's shared fixtures: its clock, its partner id, one test partner made with the test kit (fresh
 * keys, strategies in both roles, a Smile simulator), genuinely signed requests of every shape the
 * verifier accepts, and the secrets they carry. The vector keys live in `vectors.ts`.
 *
 * @module
 */
import {
  DualModeVerifier,
  LegacySecKeyAuth,
  MemoryReplayStore,
  SignatureAuth,
  type AuditEvent,
} from '../../src/index.js'
import { createTestKeys, SmileServerSimulator, type TestKeys } from '../../src/testing/index.js'
import { secretsOf, type NamedSecret } from './secrets.js'

/** The tests' clock: 2023-11-14T22:13:20.000Z, the instant the signature vectors were made at. */
export const NOW = 1_700_000_000_000
/** {@link NOW} as an ISO string. */
export const NOW_ISO = new Date(NOW).toISOString()
/** The partner id of the tests and the vectors, as the portal spells it. */
export const PARTNER = '085'

/** One partner's keys, strategies in both roles, and a Smile simulator to sign callbacks. */
export interface Partner {
  keys: TestKeys
  signature: SignatureAuth
  /** Partner role: verifies Smile → partner sec_keys with the public key. */
  secKey: LegacySecKeyAuth
  /** Server role: signs Smile → partner sec_keys, verifies partner → Smile ones with the private key. */
  smile: LegacySecKeyAuth
  simulator: SmileServerSimulator
}

let partner: Partner | undefined

/** The test partner, made once per test file. */
export function testPartner(): Partner {
  if (partner === undefined) {
    const keys = createTestKeys({ partnerId: PARTNER })
    partner = {
      keys,
      signature: new SignatureAuth({ partnerId: PARTNER, apiKey: keys.signatureApiKey }),
      secKey: new LegacySecKeyAuth({ partnerId: PARTNER, apiKey: keys.secKeyApiKey }),
      smile: new LegacySecKeyAuth({ partnerId: PARTNER, privateKey: keys.secKeyPrivateKey }),
      simulator: new SmileServerSimulator(keys, { now: () => NOW }),
    }
  }
  return partner
}

/** A verifier over both schemes at {@link NOW}, with replay protection; `events` receives its audit trail. */
export function hostileVerifier(events: AuditEvent[] = []): DualModeVerifier {
  const { signature, secKey } = testPartner()
  return new DualModeVerifier({
    partnerId: PARTNER,
    signature,
    secKey,
    policy: { legacy: 'warn' },
    replay: new MemoryReplayStore(),
    audit: (event) => void events.push(event),
    now: () => NOW,
  })
}

/** Genuine requests in every shape the verifier accepts, to mutate. */
export interface SignedRequests {
  signatureBody: Record<string, unknown>
  secKeyBody: Record<string, unknown>
  /** A legacy value in a field named `signature`, as job_status responses carry it. */
  secKeyAsSignatureBody: Record<string, unknown>
  headers: Record<string, string>
  headersBody: Record<string, unknown>
}

/** Signs one request of each shape at {@link NOW}. */
export async function signedRequests(): Promise<SignedRequests> {
  const { simulator, signature } = testPartner()
  const signatureBody = await simulator.callbackBody({ scheme: 'signature', timestamp: new Date(NOW) })
  const secKeyBody = await simulator.callbackBody({ scheme: 'sec_key', timestamp: NOW })
  const legacy = await simulator.callbackBody({ scheme: 'sec_key', timestamp: Math.floor(NOW / 1000) })
  const { sec_key: legacyValue, ...rest } = legacy
  const signed = await signature.sign({ timestamp: new Date(NOW + 1000) })
  return {
    signatureBody,
    secKeyBody,
    secKeyAsSignatureBody: { ...rest, signature: legacyValue },
    headers: {
      'SmileID-Partner-ID': PARTNER,
      'SmileID-Request-Signature': signed.signature,
      'SmileID-Timestamp': signed.timestamp,
    },
    headersBody: { job_id: 'job-headers', result: { ResultCode: '1012' } },
  }
}

/** Every secret a hostile test handles: keys, and the genuine credentials of {@link signedRequests}. */
export function hostileSecrets(requests: SignedRequests): NamedSecret[] {
  const { keys } = testPartner()
  return secretsOf({
    'signature API key': keys.signatureApiKey,
    'sec_key API key': keys.secKeyApiKey,
    'private key': keys.secKeyPrivateKey,
    signature: [String(requests.signatureBody.signature), requests.headers['SmileID-Request-Signature']!],
    sec_key: [String(requests.secKeyBody.sec_key), String(requests.secKeyAsSignatureBody.signature)],
  })
}
