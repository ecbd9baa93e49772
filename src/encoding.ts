/**
 * Byte and text encodings that work the same on every runtime (no `Buffer`), plus a constant-time
 * string comparison.
 *
 * @internal
 * @module
 */

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: false })

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text) as Uint8Array<ArrayBuffer>
}

/** A string from UTF-8 bytes (invalid sequences become U+FFFD). */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes)
}

/** Latin-1 view of bytes: one char per byte, lossless for ASCII and binary. */
export function bytesToBinaryString(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    out += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return out
}

/** Bytes from a latin-1 string (the inverse of {@link bytesToBinaryString}). */
export function binaryStringToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff
  return out
}

/** Standard padded base64. */
export function toBase64(bytes: Uint8Array): string {
  return btoa(bytesToBinaryString(bytes))
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Each ASCII code's 6-bit value in the standard alphabet, or 255. */
const DECODE = new Uint8Array(128).fill(255)
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i

function sextet(text: string, at: number): number {
  const code = text.charCodeAt(at)
  return code < 128 ? DECODE[code]! : 255
}

/**
 * Decodes canonical standard padded base64 in one pass; `null` for anything else (url-safe, unpadded,
 * stray characters, non-zero padding bits).
 */
export function fromBase64(text: string): Uint8Array | null {
  const length = text.length
  if (length % 4 !== 0) return null
  const padding =
    length === 0 ? 0 : text.charCodeAt(length - 1) !== 61 ? 0 : text.charCodeAt(length - 2) === 61 ? 2 : 1
  const out = new Uint8Array((length / 4) * 3 - padding)
  const full = padding === 0 ? length : length - 4
  let o = 0
  for (let i = 0; i < full; i += 4) {
    const a = sextet(text, i)
    const b = sextet(text, i + 1)
    const c = sextet(text, i + 2)
    const d = sextet(text, i + 3)
    if ((a | b | c | d) > 63) return null
    out[o++] = (a << 2) | (b >> 4)
    out[o++] = ((b & 15) << 4) | (c >> 2)
    out[o++] = ((c & 3) << 6) | d
  }
  if (padding > 0) {
    const a = sextet(text, full)
    const b = sextet(text, full + 1)
    const c = padding === 1 ? sextet(text, full + 2) : 0
    if ((a | b | c) > 63) return null
    // The bits a final partial group leaves over must be zero: decoders drop them, so otherwise two
    // spellings would decode to the same bytes and a replayed credential could pass as a new one.
    if (padding === 2 ? b & 15 : c & 3) return null
    out[o++] = (a << 2) | (b >> 4)
    if (padding === 1) out[o++] = ((b & 15) << 4) | (c >> 2)
  }
  return out
}

/** base64url without padding (RFC 4648 §5), as JWK fields use. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Decodes base64url (padding optional); `null` when invalid. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null
  const std = text.replace(/-/g, '+').replace(/_/g, '/')
  return fromBase64(std + '='.repeat((4 - (std.length % 4)) % 4))
}

const HEX = '0123456789abcdef'

/** Bytes from lowercase or uppercase hex of even length (callers pass digests, never untrusted text). */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** Lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) out += HEX[byte >> 4]! + HEX[byte & 15]!
  return out
}

/**
 * Compares two strings in time that depends only on their lengths. Callers check formats first, so
 * the lengths compared are public (fixed by the scheme).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/** Compares bytes with the char codes of an ASCII string in time that depends only on their lengths. */
export function constantTimeEqualAscii(bytes: Uint8Array, text: string): boolean {
  if (bytes.length !== text.length) return false
  let diff = 0
  for (let i = 0; i < bytes.length; i++) diff |= bytes[i]! ^ text.charCodeAt(i)
  return diff === 0
}

/**
 * Compares an ASCII string and a byte string with one expected ASCII string in a single pass (the two
 * halves of a sec_key against the recomputed hash), in time that depends only on the lengths. Returns 0
 * when both equal it; bit 1 is set when `text` differs, bit 2 when `bytes` differs or is `null`.
 */
export function constantTimeDiffs(text: string, bytes: Uint8Array | null, expected: string): number {
  const length = expected.length
  if (bytes === null || bytes.length !== length || text.length !== length) {
    const bytesMatch = bytes !== null && constantTimeEqualAscii(bytes, expected)
    return (constantTimeEqual(text, expected) ? 0 : 1) | (bytesMatch ? 0 : 2)
  }
  let textDiff = 0
  let bytesDiff = 0
  for (let i = 0; i < length; i++) {
    const code = expected.charCodeAt(i)
    textDiff |= text.charCodeAt(i) ^ code
    bytesDiff |= bytes[i]! ^ code
  }
  return (textDiff === 0 ? 0 : 1) | (bytesDiff === 0 ? 0 : 2)
}
