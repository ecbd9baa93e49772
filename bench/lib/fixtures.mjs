// Keys and pre-signed credentials for the benchmarks, made with node:crypto directly so that the
// fixtures do not depend on the code under test. Everything here is generated at startup: no key or
// credential is written to disk.
import crypto from 'node:crypto'

export const PARTNER_ID = '085'
/** `String(parseInt('085', 10))`: the partner id as it enters the sec_key hash. */
export const PARTNER_ID_INT = String(Number.parseInt(PARTNER_ID, 10))

/** A fixed instant the pre-signed timestamps are spread before; the verifiers get `now: () => T0`. */
export const T0 = Date.parse('2025-06-02T10:00:00.000Z')

/** A signature-scheme API key shaped like a portal key (a UUID). Fresh per run. */
export function makeApiKey() {
  return crypto.randomUUID()
}

/** `base64(HMAC-SHA256(apiKey, timestamp + partnerId + "sid_request"))`. */
export function hmacSignature(apiKey, timestamp, partnerId = PARTNER_ID) {
  return crypto
    .createHmac('sha256', apiKey)
    .update(timestamp + partnerId + 'sid_request')
    .digest('base64')
}

/**
 * `count` distinct signature credentials, timestamps `T0 - offset - k` ms in ISO form (what the SDKs send
 * by default). Distinct timestamps give distinct signatures.
 */
export function signatureCredentials(apiKey, count, offset = 0) {
  const out = new Array(count)
  for (let k = 0; k < count; k++) {
    const timestamp = new Date(T0 - offset - k).toISOString()
    out[k] = { signature: hmacSignature(apiKey, timestamp), timestamp }
  }
  return out
}

/** An RSA key pair; `apiKey` is the portal form: base64 of the SPKI PEM. */
export function rsaKeyPair(bits) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: bits })
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' })
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' })
  return {
    bits,
    publicKey,
    privateKey,
    publicPem,
    privatePem,
    apiKey: Buffer.from(publicPem).toString('base64'),
  }
}

/** Lowercase hex SHA-256 of `partnerIdInt + ":" + timestamp`. */
export function secKeyHash(timestamp) {
  return crypto.createHash('sha256').update(`${PARTNER_ID_INT}:${timestamp}`).digest('hex')
}

/**
 * `count` distinct Smile → partner sec_key credentials (type-1 "private encrypt" of the hash, as Smile
 * signs callbacks), timestamps `T0 - offset - k` in epoch milliseconds.
 */
export function secKeyCredentials(pair, count, offset = 0) {
  const out = new Array(count)
  for (let k = 0; k < count; k++) {
    const timestamp = T0 - offset - k
    const hash = secKeyHash(timestamp)
    const block = crypto.privateEncrypt(
      { key: pair.privateKey, padding: crypto.constants.RSA_PKCS1_PADDING },
      Buffer.from(hash, 'latin1'),
    )
    out[k] = { sec_key: `${block.toString('base64')}|${hash}`, timestamp }
  }
  return out
}

/**
 * A callback body shaped like a Smile ID job result (about 1 KB), carrying the given credential fields.
 * The verifier sees the same body a receiver would parse.
 */
export function callbackBody(credentials, k = 0) {
  return {
    ...credentials,
    partner_id: PARTNER_ID,
    source_sdk: 'rest_api',
    source_sdk_version: '1.0.0',
    SmileJobID: String(1_000_000_000 + k),
    ResultCode: '1012',
    ResultText: 'Valid ID / ID Number Validated',
    ResultType: 'ID Verification',
    PartnerParams: { job_id: `job-${k}`, user_id: `user-${k}`, job_type: 5 },
    Country: 'NG',
    IDType: 'BVN',
    IDNumber: '00000000000',
    FullName: 'Test User',
    DOB: '1990-01-01',
    Actions: {
      Verify_ID_Number: 'Verified',
      Return_Personal_Info: 'Returned',
      Names: 'Exact Match',
      DOB: 'Exact Match',
      Gender: 'Exact Match',
      Phone_Number: 'Not Provided',
      ID_Verification: 'Verified',
    },
    FullData: {
      firstName: 'TEST',
      lastName: 'USER',
      middleName: '',
      gender: 'Female',
      phoneNumber1: '',
      nationality: 'Nigerian',
      stateOfOrigin: 'Lagos',
      lgaOfOrigin: 'Ikeja',
      residentialAddress: '1 Example Street',
    },
  }
}

/** Tries to import the built library by its package name; `null` (with the reason) when not built yet. */
export async function loadLibrary(specifier = 'smileid-auth-shim') {
  try {
    return { lib: await import(specifier), error: null }
  } catch (error) {
    return { lib: null, error }
  }
}
