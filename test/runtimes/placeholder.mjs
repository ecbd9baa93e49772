/**
 * A stand-in suite for the runtime runners, used with `run.mjs --smoke`: it proves that a runtime starts,
 * loads an ESM graph from node_modules (jose, zod, node-forge — the library's own dependencies) and the
 * bundled vectors, and reports back, without the library itself. Useful to tell "this runtime cannot
 * load the dependencies" apart from "the library fails here".
 */
import { calculateJwkThumbprint } from 'jose'
import { z } from 'zod'
import { fixtures } from './fixtures.mjs'

function toBase64(bytes) {
  let binary = ''
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

async function hmacBase64(key, message) {
  const encoder = new TextEncoder()
  const cryptoKey = await crypto.subtle.importKey(
    'raw',
    encoder.encode(key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  return toBase64(await crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(message)))
}

export async function runConformance() {
  const results = []
  async function check(name, fn) {
    try {
      await fn()
      results.push({ name, ok: true, detail: '' })
    } catch (error) {
      results.push({ name, ok: false, detail: String(error?.message ?? error) })
    }
  }
  const { apiKey, partnerId, vectors } = fixtures.signature

  await check('WebCrypto HMAC reproduces every signature vector', async () => {
    for (const v of vectors) {
      const got = await hmacBase64(apiKey, v.timestamp + partnerId + 'sid_request')
      if (got !== v.signature) throw new Error(`mismatch for timestamp ${v.timestamp}`)
    }
  })

  await check('zod parses a credential shape', () => {
    const schema = z.object({ signature: z.string().length(44), timestamp: z.string() })
    if (!schema.safeParse(vectors[0]).success) throw new Error('valid credential rejected')
    if (schema.safeParse({ signature: 'x', timestamp: 1 }).success)
      throw new Error('invalid credential accepted')
  })

  await check('node-forge (dynamic import) public-decrypts a server-direction sec_key', async () => {
    const imported = await import('node-forge')
    const forge = imported.default ?? imported
    const publicKey = forge.pki.publicKeyFromPem(fixtures.secKey.publicKeyPemFromJson)
    for (const v of fixtures.secKey.serverDirection) {
      const [rsaHalf, hashHalf] = v.server_sec_key.split('|')
      // Raw RSA with the public key, then PKCS#1 v1.5 type-1 unpadding.
      const decrypted = forge.pki.rsa.decrypt(forge.util.decode64(rsaHalf), publicKey, true, true)
      if (decrypted !== hashHalf || hashHalf !== v.hash)
        throw new Error(`mismatch for timestamp ${v.timestamp}`)
    }
  })

  await check('jose computes an RFC 7638 thumbprint', async () => {
    const thumbprint = await calculateJwkThumbprint({ kty: 'oct', k: 'AAAA' })
    if (!/^[A-Za-z0-9_-]{43}$/.test(thumbprint)) throw new Error('unexpected thumbprint shape')
  })

  const passed = results.filter((r) => r.ok).length
  return { passed, failed: results.length - passed, results }
}
