/**
 * Typed access to the interop vectors in `test/vectors/` (produced by the official Smile ID SDKs
 * against a throwaway RSA-1024 test key). Read once per test file, from this repository only.
 *
 * @module
 */
import { readFileSync } from 'node:fs'

const root = new URL('../vectors/', import.meta.url)

/** One `signature` known answer: the timestamp string exactly as an SDK sent it. */
export interface SignatureVector {
  timestamp: string
  signature: string
  produced_identically_by: string[]
  rejected_by: string[]
}

/** `test/vectors/signature_vectors.json`. */
export interface SignatureVectors {
  api_key: string
  partner_id: string
  vectors: SignatureVector[]
  partner_id_variants: Array<{ partner_id: string; timestamp: string; signature: string }>
  js_test_suite_style: { api_key: string; partner_id: string; timestamp: string; signature: string }
  /** Each entry: an `input` number and, under SDK-described keys, the signature each SDK family made. */
  numeric_timestamp_semantics: Array<{ input: number } & Record<string, string | number>>
  java_1_0_x_local_time_bug: {
    timestamp_ms: number
    string_actually_hashed: string
    signature: string
    correct_utc_signature: string
  }
}

/** A hash-half known answer with a partner id the scheme accepts. */
export interface HashHalfVector {
  timestamp: number | string
  preimage: string
  hash_half: string
}

/** A deterministic Smile → partner sec_key (type-1), checkable with the public key. */
export interface ServerSecKeyVector {
  timestamp: number | string
  hash: string
  server_sec_key: string
}

/** A randomized partner → Smile sec_key (type-2) made by an official SDK, checkable with the private key. */
export interface PartnerSecKeySample {
  sdk: string
  version: string
  api_key_format: string
  timestamp: number | string
  sec_key: string
  rsa_half_contains_newlines: boolean
}

/** `test/vectors/sec_key_vectors.json`, with the awkward key names smoothed over. */
export interface SecKeyVectors {
  partnerId: string
  partnerIdInt: number
  publicKeyPem: string
  privateKeyPem: string
  /** The four "API Key for Sec Key" encodings, by name. */
  apiKeyEncodings: Record<
    'b64_spki_pem' | 'b64_pkcs1_pem' | 'b64_spki_der' | 'b64_spki_pem_wrapped60',
    string
  >
  hashHalves: HashHalfVector[]
  /** The `abc` entry: what SDKs hash for a non-digit partner id (we refuse such ids instead). */
  nonDigitPartner: { partner_id: string; node: string; ruby_php: string }
  serverSecKeys: ServerSecKeyVector[]
  partnerSamples: PartnerSecKeySample[]
}

function readJson(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, root), 'utf8')) as unknown
}

/** The `signature` vectors. */
export function signatureVectors(): SignatureVectors {
  return readJson('signature_vectors.json') as SignatureVectors
}

/** The `sec_key` vectors. */
export function secKeyVectors(): SecKeyVectors {
  const raw = readJson('sec_key_vectors.json') as Record<string, unknown>
  const hashEntries = raw['hash_half_vectors'] as Array<Record<string, unknown>>
  return {
    partnerId: raw['partner_id'] as string,
    partnerIdInt: raw['partner_id_int_used_in_hash'] as number,
    publicKeyPem: raw['public_key_pem'] as string,
    privateKeyPem: raw['private_key_pem(test only)'] as string,
    apiKeyEncodings: raw['api_key_encodings'] as SecKeyVectors['apiKeyEncodings'],
    hashHalves: hashEntries.filter((entry) => 'hash_half' in entry) as unknown as HashHalfVector[],
    nonDigitPartner: hashEntries.find(
      (entry) => 'partner_id' in entry,
    ) as unknown as SecKeyVectors['nonDigitPartner'],
    serverSecKeys: raw['server_direction_sec_keys(deterministic)'] as ServerSecKeyVector[],
    partnerSamples: raw['partner_direction_samples'] as PartnerSecKeySample[],
  }
}

/** A file under `test/vectors/keys/` as text. */
export function keyText(name: string): string {
  return readFileSync(new URL(`keys/${name}`, root), 'utf8')
}

/** A file under `test/vectors/keys/` as bytes. */
export function keyBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`keys/${name}`, root)))
}
