/**
 * Parsing of the RSA keys partners paste into their configuration, in every encoding seen in the wild:
 * base64 of an SPKI PEM (the portal's "API Key for Sec Key"), base64 of a PKCS#1 PEM, base64 of DER
 * SPKI (what the Java 1.x SDK wanted), raw PEM of either kind, and JWK — with spaces and line breaks
 * anywhere. Keys are reduced to their integer components once, at construction, so each crypto backend
 * can import them without a second parser.
 *
 * @internal
 * @module
 */
import type { RsaPrivateComponents, RsaPublicComponents } from './crypto/backend.js'
import { ConfigurationError } from './errors.js'
import { fromBase64, fromBase64Url, fromUtf8, toBase64Url, toHex } from './encoding.js'

/** A JSON Web Key for an RSA key, as accepted in `apiKey` / `privateKey`. */
export interface RsaJwk {
  /** Key type: always `RSA`. */
  kty: 'RSA'
  /** Modulus, base64url. */
  n: string
  /** Public exponent, base64url. */
  e: string
  /** Private exponent (private keys only). */
  d?: string
  /** First prime factor (private keys only). */
  p?: string
  /** Second prime factor (private keys only). */
  q?: string
  /** First CRT exponent (private keys only). */
  dp?: string
  /** Second CRT exponent (private keys only). */
  dq?: string
  /** CRT coefficient (private keys only). */
  qi?: string
  /** Other JWK members (`kid`, `alg`, `use` …) are ignored. */
  [member: string]: unknown
}

const MIN_MODULUS_BYTES = 128 // RSA-1024, the portal's key size
const MAX_MODULUS_BYTES = 1024 // RSA-8192
const MAX_KEY_TEXT = 64 * 1024
const RSA_ENCRYPTION_OID = '2a864886f70d010101' // 1.2.840.113549.1.1.1

// ---- A minimal DER reader: just enough for SPKI, PKCS#1 and PKCS#8 RSA keys. ----

interface DerNode {
  tag: number
  body: Uint8Array
  end: number
}

function readNode(bytes: Uint8Array, offset: number): DerNode {
  const tag = bytes[offset]
  let lengthByte = bytes[offset + 1]
  if (tag === undefined || lengthByte === undefined) throw new Error('truncated DER')
  let start = offset + 2
  let length = lengthByte
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f
    if (count === 0 || count > 4) throw new Error('unsupported DER length')
    length = 0
    for (let i = 0; i < count; i++) {
      lengthByte = bytes[start + i]
      if (lengthByte === undefined) throw new Error('truncated DER')
      length = length * 256 + lengthByte
    }
    start += count
  }
  const end = start + length
  if (end > bytes.length) throw new Error('truncated DER')
  return { tag, body: bytes.subarray(start, end), end }
}

function readChildren(node: DerNode, expectedTag: number): DerNode[] {
  if (node.tag !== expectedTag) throw new Error('unexpected DER tag')
  const children: DerNode[] = []
  let offset = 0
  while (offset < node.body.length) {
    const child = readNode(node.body, offset)
    children.push(child)
    offset = child.end
  }
  return children
}

function readTop(bytes: Uint8Array): DerNode {
  const node = readNode(bytes, 0)
  if (node.end !== bytes.length) throw new Error('trailing bytes after DER')
  return node
}

/** An unsigned big-endian integer without leading zero bytes. */
function unsignedInteger(node: DerNode | undefined): Uint8Array {
  if (node?.tag !== 0x02 || node.body.length === 0) throw new Error('expected INTEGER')
  if (node.body[0]! & 0x80) throw new Error('negative INTEGER')
  let i = 0
  while (i < node.body.length - 1 && node.body[i] === 0) i++
  return node.body.slice(i)
}

function checkAlgorithm(node: DerNode | undefined): void {
  if (!node) throw new Error('missing AlgorithmIdentifier')
  const [oid] = readChildren(node, 0x30)
  if (oid?.tag !== 0x06 || toHex(oid.body) !== RSA_ENCRYPTION_OID) throw new Error('not an RSA key')
}

function pkcs1Public(bytes: Uint8Array): RsaPublicComponents {
  const [n, e, extra] = readChildren(readTop(bytes), 0x30)
  if (extra) throw new Error('not an RSAPublicKey')
  return { n: unsignedInteger(n), e: unsignedInteger(e) }
}

function spkiPublic(bytes: Uint8Array): RsaPublicComponents {
  const [algorithm, bitString, extra] = readChildren(readTop(bytes), 0x30)
  if (extra || bitString?.tag !== 0x03 || bitString.body[0] !== 0)
    throw new Error('not a SubjectPublicKeyInfo')
  checkAlgorithm(algorithm)
  return pkcs1Public(bitString.body.subarray(1))
}

function pkcs1Private(bytes: Uint8Array): RsaPrivateComponents {
  const [version, n, e, d, p, q, dp, dq, qi] = readChildren(readTop(bytes), 0x30)
  if (version?.tag !== 0x02 || toHex(version.body) !== '00')
    throw new Error('unsupported RSAPrivateKey version')
  return {
    n: unsignedInteger(n),
    e: unsignedInteger(e),
    d: unsignedInteger(d),
    p: unsignedInteger(p),
    q: unsignedInteger(q),
    dp: unsignedInteger(dp),
    dq: unsignedInteger(dq),
    qi: unsignedInteger(qi),
  }
}

function pkcs8Private(bytes: Uint8Array): RsaPrivateComponents {
  const [version, algorithm, octets] = readChildren(readTop(bytes), 0x30)
  if (version?.tag !== 0x02 || octets?.tag !== 0x04) throw new Error('not a PrivateKeyInfo')
  checkAlgorithm(algorithm)
  return pkcs1Private(octets.body)
}

// ---- Text encodings ----

interface Pem {
  label: string
  der: Uint8Array
}

const PEM = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/

function readPem(text: string): Pem | null {
  const match = PEM.exec(text)
  if (!match) return null
  const der = fromBase64(match[2]!.replace(/\s+/g, ''))
  if (!der) throw new Error('PEM body is not base64')
  return { label: match[1]!, der }
}

function parseJwk(value: unknown): RsaJwk {
  const jwk = typeof value === 'string' ? parseJson(value) : value
  if (typeof jwk !== 'object' || jwk === null) throw new Error('not a JWK')
  const { kty, n, e } = jwk as Record<string, unknown>
  if (kty !== 'RSA' || typeof n !== 'string' || typeof e !== 'string') throw new Error('not an RSA JWK')
  return jwk as RsaJwk
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    // V8's SyntaxError quotes the text around the error, which could be key material: keep no cause.
    throw new Error('not valid JSON')
  }
}

/** A public JWK; a JWK with private members is refused so a private key never ends up in `apiKey`. */
function parsePublicJwk(value: unknown): RsaJwk {
  const jwk = parseJwk(value)
  if (jwk.d !== undefined) throw new Error('this is a private key; pass it as privateKey')
  return jwk
}

function jwkField(jwk: RsaJwk, name: keyof RsaJwk & string): Uint8Array {
  const value = jwk[name]
  const bytes = typeof value === 'string' ? fromBase64Url(value) : null
  if (!bytes || bytes.length === 0) throw new Error(`JWK member ${name} is missing or not base64url`)
  let i = 0
  while (i < bytes.length - 1 && bytes[i] === 0) i++
  return bytes.slice(i)
}

function checkSize<T extends RsaPublicComponents>(key: T): T {
  if (key.n.length < MIN_MODULUS_BYTES)
    throw new Error(`RSA modulus is ${key.n.length * 8} bits; at least 1024 are needed`)
  if (key.n.length > MAX_MODULUS_BYTES) throw new Error('RSA modulus is larger than 8192 bits')
  if (key.e.length > 8) throw new Error('RSA public exponent is too large')
  return key
}

function publicFromDer(der: Uint8Array): RsaPublicComponents {
  try {
    return spkiPublic(der)
  } catch {
    return pkcs1Public(der)
  }
}

function publicFromText(text: string): RsaPublicComponents {
  const pem = readPem(text)
  if (pem) {
    if (pem.label === 'PUBLIC KEY') return spkiPublic(pem.der)
    if (pem.label === 'RSA PUBLIC KEY') return pkcs1Public(pem.der)
    if (pem.label.endsWith('PRIVATE KEY')) throw new Error('this is a private key; pass it as privateKey')
    throw new Error(`unsupported PEM type ${pem.label}`)
  }
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) return jwkPublic(parsePublicJwk(trimmed))
  const decoded = fromBase64(trimmed.replace(/\s+/g, ''))
  if (!decoded) throw new Error('not PEM, JWK or base64')
  // base64 of a PEM (the portal's format) or of DER.
  if (decoded[0] === 0x2d /* '-' */) return publicFromText(fromUtf8(decoded))
  return publicFromDer(decoded)
}

function jwkPublic(jwk: RsaJwk): RsaPublicComponents {
  return { n: jwkField(jwk, 'n'), e: jwkField(jwk, 'e') }
}

/**
 * Reads an RSA public key ("API Key for Sec Key") in any supported encoding.
 *
 * @throws {@link ConfigurationError} `invalid_api_key`, naming the problem but never the key.
 */
export function parsePublicKey(input: unknown): RsaPublicComponents {
  try {
    if (typeof input === 'string') {
      if (input.length > MAX_KEY_TEXT) throw new Error('key text is too long')
      return checkSize(publicFromText(input))
    }
    return checkSize(jwkPublic(parsePublicJwk(input)))
  } catch (cause) {
    if (looksLikeSignatureApiKey(input)) {
      throw new ConfigurationError('invalid_api_key', SWAPPED_KEY_HINTS.signatureAsPublicKey, { cause })
    }
    throw new ConfigurationError(
      'invalid_api_key',
      `apiKey is not a usable RSA public key: ${reasonOf(cause)}`,
      { cause },
    )
  }
}

/**
 * Reads an RSA private key: PEM (PKCS#1 or PKCS#8), base64 of such a PEM, or a JWK.
 *
 * @throws {@link ConfigurationError} `invalid_private_key`.
 */
export function parsePrivateKey(input: unknown): RsaPrivateComponents {
  try {
    if (typeof input === 'string') {
      if (input.length > MAX_KEY_TEXT) throw new Error('key text is too long')
      let pem = readPem(input)
      if (!pem) {
        const decoded = fromBase64(input.replace(/\s+/g, ''))
        if (decoded) pem = readPem(fromUtf8(decoded))
      }
      if (!pem && input.trim().startsWith('{')) return checkSize(jwkPrivate(parseJwk(input)))
      if (!pem) throw new Error('not a PEM private key')
      if (pem.label === 'RSA PRIVATE KEY') return checkSize(pkcs1Private(pem.der))
      if (pem.label === 'PRIVATE KEY') return checkSize(pkcs8Private(pem.der))
      throw new Error(`unsupported PEM type ${pem.label}`)
    }
    return checkSize(jwkPrivate(parseJwk(input)))
  } catch (cause) {
    if (looksLikeSignatureApiKey(input)) {
      throw new ConfigurationError('invalid_private_key', SWAPPED_KEY_HINTS.signatureAsPrivateKey, { cause })
    }
    throw new ConfigurationError(
      'invalid_private_key',
      `privateKey is not a usable RSA private key: ${reasonOf(cause)}`,
      { cause },
    )
  }
}

function jwkPrivate(jwk: RsaJwk): RsaPrivateComponents {
  return {
    ...jwkPublic(jwk),
    d: jwkField(jwk, 'd'),
    p: jwkField(jwk, 'p'),
    q: jwkField(jwk, 'q'),
    dp: jwkField(jwk, 'dp'),
    dq: jwkField(jwk, 'dq'),
    qi: jwkField(jwk, 'qi'),
  }
}

/**
 * The JSON that the RFC 7638 thumbprint of an RSA key hashes: the required members `e`, `kty`, `n` in
 * lexicographic order, no whitespace, `n` and `e` base64url without leading zero octets (RFC 7518 §6.3.1).
 */
export function rsaThumbprintInput(key: RsaPublicComponents): string {
  return `{"e":"${toBase64Url(key.e)}","kty":"RSA","n":"${toBase64Url(key.n)}"}`
}

// ---- Swapped keys: the portal shows two keys, and each strategy is sometimes given the other one. ----

/** What kind of RSA key a value is, when it is one; see {@link rsaKeyKind}. */
export type RsaKeyKind = 'public' | 'private'

/** The kind of key a PEM armour names: `… PRIVATE KEY` is private, any other `… KEY` public. */
function pemKind(text: string): RsaKeyKind | null {
  const match = /-----BEGIN ([A-Z0-9 ]*)KEY-----/.exec(text)
  if (!match) return null
  return match[1]!.includes('PRIVATE') ? 'private' : 'public'
}

function jwkKind(value: unknown): RsaKeyKind | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  try {
    const jwk = value as Record<string, unknown>
    if (typeof jwk.kty !== 'string') return null
    return jwk.d === undefined ? 'public' : 'private'
  } catch {
    // A Proxy or a throwing getter is no key; the caller's own checks refuse it.
    return null
  }
}

function derKind(der: Uint8Array): RsaKeyKind | null {
  const attempts: Array<[RsaKeyKind, (bytes: Uint8Array) => unknown]> = [
    ['public', spkiPublic],
    ['public', pkcs1Public],
    ['private', pkcs8Private],
    ['private', pkcs1Private],
  ]
  for (const [kind, read] of attempts) {
    try {
      read(der)
      return kind
    } catch {
      // not this structure; try the next
    }
  }
  return null
}

/**
 * Says whether a value given as the signature scheme's API key is in fact a key pair's half: a PEM key
 * (any label ending in `KEY`), base64 of one, base64 of DER SPKI / PKCS#1 / PKCS#8, or a JWK (object or
 * JSON text). `null` for everything else, so genuine API keys (UUIDs, long random strings) pass: random
 * text neither carries a PEM armour nor decodes to a well-formed DER key structure.
 */
export function rsaKeyKind(value: unknown): RsaKeyKind | null {
  if (typeof value !== 'string') return jwkKind(value)
  if (value.length > MAX_KEY_TEXT) return null
  const pem = pemKind(value)
  if (pem) return pem
  const trimmed = value.trim()
  if (trimmed.startsWith('{')) {
    try {
      return jwkKind(JSON.parse(trimmed))
    } catch {
      return null
    }
  }
  const decoded = fromBase64(trimmed.replace(/\s+/g, ''))
  // The shortest RSA key structure (PKCS#1 public, 1024 bits) is 140 bytes; 64 leaves room for toy keys.
  if (!decoded || decoded.length < 64) return null
  if (decoded[0] === 0x2d /* '-' */) return pemKind(fromUtf8(decoded))
  return decoded[0] === 0x30 ? derKind(decoded) : null
}

/**
 * Text short and plain enough to be the signature scheme's API key (a UUID, a hex or base64 token)
 * rather than any RSA key: every encoding of an RSA-1024 key is longer than 150 characters.
 */
function looksLikeSignatureApiKey(value: unknown): boolean {
  return typeof value === 'string' && /^[A-Za-z0-9+/=_-]{16,128}$/.test(value.trim())
}

/** The sentence that names the mistake when a strategy is given the other strategy's key. */
export const SWAPPED_KEY_HINTS = {
  /** SignatureAuth was given the RSA public key. */
  publicAsSignatureKey:
    "apiKey is an RSA public key: this looks like the 'API Key for Sec Key', which belongs in " +
    "LegacySecKeyAuth({ partnerId, apiKey }). SignatureAuth needs the portal's signature API key " +
    '(usually a UUID), used as text',
  /** SignatureAuth was given an RSA private key. */
  privateAsSignatureKey:
    'apiKey is an RSA private key, which belongs in LegacySecKeyAuth({ partnerId, privateKey }) ' +
    "(server or mock role). SignatureAuth needs the portal's signature API key (usually a UUID), used as text",
  /** LegacySecKeyAuth was given what looks like the signature API key. */
  signatureAsPublicKey:
    'apiKey is too short to be an RSA key: this looks like the signature API key, which belongs in ' +
    "SignatureAuth({ partnerId, apiKey }). LegacySecKeyAuth needs the 'API Key for Sec Key' " +
    '(base64 of an RSA public key PEM)',
  /** LegacySecKeyAuth's private-key role was given what looks like the signature API key. */
  signatureAsPrivateKey:
    'privateKey is too short to be an RSA key: this looks like the signature API key, which belongs in ' +
    'SignatureAuth({ partnerId, apiKey }). The server role needs an RSA private key PEM',
} as const

function reasonOf(cause: unknown): string {
  // Our own messages describe structure only; a JSON.parse message could quote the input, so it is replaced.
  if (cause instanceof SyntaxError) return 'not valid JSON'
  return cause instanceof Error ? cause.message : 'unreadable'
}
