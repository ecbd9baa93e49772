/**
 * The interop vectors and test keys, normalised for the runtime conformance checks.
 *
 * This module is never run as is: `build.mjs` bundles it with esbuild (JSON embedded, `.pem`/`.txt` as
 * text, `.der` as bytes), so every runtime — including workerd, which has no file system — gets the same
 * data from the single source in `test/vectors/`.
 */
import signatureVectors from '../vectors/signature_vectors.json'
import secKeyVectors from '../vectors/sec_key_vectors.json'
import privatePkcs1Pem from '../vectors/keys/test_rsa1024_private_pkcs1.pem'
import privatePkcs8Pem from '../vectors/keys/test_rsa1024_private_pkcs8.pem'
import publicPkcs1Pem from '../vectors/keys/test_rsa1024_public_pkcs1.pem'
import publicSpkiPem from '../vectors/keys/test_rsa1024_public_spki.pem'
import publicSpkiDer from '../vectors/keys/test_rsa1024_public_spki.der'
import apiKeyB64SpkiPem from '../vectors/keys/apikey_b64_spki_pem.txt'
import apiKeyB64Pkcs1Pem from '../vectors/keys/apikey_b64_pkcs1_pem.txt'
import apiKeyB64SpkiDer from '../vectors/keys/apikey_b64_spki_der.txt'
import apiKeyB64SpkiPemWrapped from '../vectors/keys/apikey_b64_spki_pem_wrapped60.txt'

/** Standard base64 of bytes, without `Buffer` (workerd has none without nodejs_compat). */
function base64(bytes) {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

const encodings = secKeyVectors.api_key_encodings

/**
 * The public key in every api-key encoding seen in the wild. Two sources must agree: the JSON and the
 * files under `keys/` (checked in `conformance.mjs`, so a drifted copy fails loudly).
 */
const secKeyApiKeys = {
  b64_spki_pem: apiKeyB64SpkiPem.trim(),
  b64_pkcs1_pem: apiKeyB64Pkcs1Pem.trim(),
  b64_spki_der: apiKeyB64SpkiDer.trim(),
  b64_spki_pem_wrapped60: apiKeyB64SpkiPemWrapped,
  raw_spki_pem: publicSpkiPem,
  raw_pkcs1_pem: publicPkcs1Pem,
  // The DER bytes as a user might paste them: base64 without PEM armour, re-derived from the .der file.
  b64_spki_der_from_file: base64(publicSpkiDer),
  // Portal keys pasted into env files with spaces and line breaks in the middle.
  b64_spki_pem_with_spaces: apiKeyB64SpkiPem.trim().replace(/(.{40})/g, '$1 \n  '),
}

export const fixtures = {
  signature: {
    apiKey: signatureVectors.api_key,
    partnerId: signatureVectors.partner_id,
    vectors: signatureVectors.vectors.map(({ timestamp, signature }) => ({ timestamp, signature })),
    partnerIdVariants: signatureVectors.partner_id_variants,
    jsSuite: signatureVectors.js_test_suite_style,
    numeric: signatureVectors.numeric_timestamp_semantics,
    javaLocalTimeBug: signatureVectors.java_1_0_x_local_time_bug,
  },
  secKey: {
    partnerId: secKeyVectors.partner_id,
    partnerIdInt: secKeyVectors.partner_id_int_used_in_hash,
    jsonApiKeys: encodings,
    apiKeys: secKeyApiKeys,
    publicKeyPemFromJson: secKeyVectors.public_key_pem,
    privateKeys: { pkcs1: privatePkcs1Pem, pkcs8: privatePkcs8Pem },
    privateKeyPemFromJson: secKeyVectors['private_key_pem(test only)'],
    hashHalves: secKeyVectors.hash_half_vectors.filter((v) => v.hash_half !== undefined),
    serverDirection: secKeyVectors['server_direction_sec_keys(deterministic)'],
    partnerDirection: secKeyVectors.partner_direction_samples,
  },
}
