/**
 * Hostile input at the strategies: `SignatureAuth.verify` and `LegacySecKeyAuth.verify` in both roles never
 * throw, never accept, and always answer a listed reason, whatever the credentials hold; a multi-megabyte
 * value is refused by its size; the server role's RSA decryption fails the same way whatever went wrong.
 */
import { constants, createHash, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto'

import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'

import type { AuthStrategy, VerificationResult } from '../../src/index.js'
import { expectNoSecrets, secretsOf, type NamedSecret } from '../support/secrets.js'
import {
  applyEdit,
  edit,
  editTimestamp,
  expectRefused,
  hostileBody,
  hostileValue,
  HUGE,
} from './arbitraries.js'
import { PARTNER, testPartner } from '../support/fixtures.js'

type Strategy = AuthStrategy<unknown>
interface Role {
  name: string
  strategy: Strategy
  /** A genuine credential this role accepts. */
  valid: () => Promise<Record<string, unknown>>
  field: 'signature' | 'sec_key'
}

let roles: Role[] = []
let secrets: NamedSecret[] = []

beforeAll(async () => {
  const { signature, secKey, smile, keys } = testPartner()
  roles = [
    {
      name: 'SignatureAuth',
      strategy: signature,
      field: 'signature',
      valid: () => signature.sign() as never,
    },
    // Partner role verifies Smile → partner values (type-1, made with the private key).
    {
      name: 'LegacySecKeyAuth (partner role)',
      strategy: secKey,
      field: 'sec_key',
      valid: () => smile.sign() as never,
    },
    // Server role verifies partner → Smile values (type-2, made with the public key).
    {
      name: 'LegacySecKeyAuth (server role)',
      strategy: smile,
      field: 'sec_key',
      valid: () => secKey.sign() as never,
    },
  ]
  secrets = secretsOf({
    'signature API key': keys.signatureApiKey,
    'sec_key API key': keys.secKeyApiKey,
    'private key': keys.secKeyPrivateKey,
  })
})

/** Calls verify; a throw (or a rejected promise) fails the property with a clear message. */
async function verifyNeverThrows(strategy: Strategy, credentials: unknown): Promise<VerificationResult> {
  try {
    return await strategy.verify(credentials)
  } catch (error) {
    throw new Error(`verify threw ${(error as Error)?.name}: ${(error as Error)?.message}`)
  }
}

describe('strategies under hostile input', () => {
  it('never throw and never accept arbitrary credentials; the reason is always listed', async () => {
    for (const role of roles) {
      await fc.assert(
        fc.asyncProperty(fc.oneof(hostileBody, hostileValue), async (credentials) => {
          const result = await verifyNeverThrows(role.strategy, credentials)
          expectRefused(result)
          expectNoSecrets(result, secrets, `${role.name} result`)
        }),
        { numRuns: 150 },
      )
    }
  })

  it('never accept a genuine credential with any single character changed', async () => {
    for (const role of roles) {
      const valid = await role.valid()
      // The control: unchanged, it verifies, so a refusal below is about the change.
      expect((await role.strategy.verify(valid)).ok).toBe(true)
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(role.field, 'timestamp'), edit, async (field, change) => {
          const value = valid[field]
          const changed =
            field === 'timestamp' ? editTimestamp(value, change) : applyEdit(String(value), change)
          fc.pre(changed !== null)
          expectRefused(await verifyNeverThrows(role.strategy, { ...valid, [field]: changed }))
        }),
        // node-forge decrypts in the server role: fewer runs keep the file fast.
        { numRuns: role.name.includes('server') ? 40 : 120 },
      )
    }
  })

  it(
    'refuse a 4 MB value in any field by its size, as malformed_credentials',
    { timeout: 20_000 },
    async () => {
      for (const role of roles) {
        const valid = await role.valid()
        for (const field of [role.field, 'timestamp']) {
          const result = await verifyNeverThrows(role.strategy, { ...valid, [field]: HUGE })
          expectRefused(result)
          if (!result.ok) expect(result.reason).toBe('malformed_credentials')
        }
        // A sec_key whose RSA half is huge but whose hash half is well formed.
        if (role.field === 'sec_key') {
          const hashHalf = String(valid.sec_key).split('|')[1]
          const result = await verifyNeverThrows(role.strategy, { ...valid, sec_key: `${HUGE}|${hashHalf}` })
          if (!result.ok) expect(result.reason).toBe('malformed_credentials')
          expect(result.ok).toBe(false)
        }
      }
    },
  )
})

describe('server-role RSA decryption', () => {
  it('answers one uniform failure whatever is wrong with the block', async () => {
    const { keys, smile } = testPartner()
    const publicKey = createPublicKey(Buffer.from(keys.secKeyApiKey, 'base64').toString('utf8'))
    const modulus = Buffer.from(publicKey.export({ format: 'jwk' }).n!, 'base64url')
    const size = modulus.length
    const timestamp = 1_700_000_000_000
    const hash = createHash('sha256')
      .update(`${parseInt(PARTNER, 10)}:${timestamp}`)
      .digest('hex')
    const otherHash = createHash('sha256')
      .update(`${parseInt(PARTNER, 10)}:${timestamp + 1}`)
      .digest('hex')

    /** A PKCS#1 v1.5 block built by hand: 00 || type || padding || 00 || message, then raw RSA. */
    const block = (
      type: number,
      message: string | Buffer,
      options: { separator?: boolean; padByte?: number } = {},
    ) => {
      const data = typeof message === 'string' ? Buffer.from(message, 'latin1') : message
      const padLength = size - 3 - data.length
      const padding = Buffer.alloc(padLength, options.padByte ?? 0)
      if (options.padByte === undefined)
        for (let i = 0; i < padLength; i++) padding[i] = 1 + (randomBytes(1)[0]! % 255)
      const clear = Buffer.concat([
        Buffer.from([0, type]),
        padding,
        Buffer.from([options.separator === false ? 1 : 0]),
        data,
      ])
      return publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, clear)
    }
    const secKeyOf = (rsa: Buffer, hashHalf = hash) => ({
      sec_key: `${rsa.toString('base64')}|${hashHalf}`,
      timestamp,
    })

    // The control: a correct type-2 block verifies, so the cases below differ from it only in what they break.
    expect((await smile.verify(secKeyOf(block(2, hash)))).ok).toBe(true)

    const broken: Record<string, { sec_key: string; timestamp: number }> = {
      'type-2 block of another hash': secKeyOf(block(2, otherHash)),
      'type-2 block, hash half of another timestamp': secKeyOf(block(2, otherHash), otherHash),
      'type-1 block (wrong block type)': secKeyOf(block(1, hash, { padByte: 0xff })),
      'no zero separator': secKeyOf(block(2, hash, { separator: false })),
      'message one byte short': secKeyOf(block(2, hash.slice(1))),
      'message one byte long': secKeyOf(block(2, `${hash}0`)),
      'uppercase hex message': secKeyOf(block(2, hash.toUpperCase())),
      'binary digest instead of hex': secKeyOf(
        block(2, createHash('sha256').update(`85:${timestamp}`).digest()),
      ),
      // Seven padding bytes, then the separator, then the hash and filler: a message longer than any hash.
      'padding shorter than 8 bytes': secKeyOf(
        block(2, Buffer.concat([Buffer.from(hash), Buffer.alloc(size - 3 - 7 - 64, 0x41)])),
      ),
      'ciphertext equal to the modulus': secKeyOf(modulus),
      'ciphertext above the modulus': secKeyOf(Buffer.alloc(size, 0xff)),
      'all-zero ciphertext': secKeyOf(Buffer.alloc(size, 0)),
      'random ciphertext': secKeyOf(randomBytes(size)),
    }
    const failures = new Map<string, string>()
    for (const [name, credentials] of Object.entries(broken)) {
      const result = await smile.verify(credentials)
      expectRefused(result)
      failures.set(name, JSON.stringify(result))
    }
    // One answer for all: no reason, message or field tells a padding error from a wrong hash.
    expect(new Set(failures.values()).size).toBe(1)
    expect(JSON.parse([...failures.values()][0]!)).toMatchObject({
      ok: false,
      scheme: 'sec_key',
      reason: 'invalid_sec_key',
    })
  })
})
