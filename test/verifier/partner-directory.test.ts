/**
 * src/verifier/partners.ts on its own: lookups that stay synchronous for configured partners, the
 * policies it reports, and a crypto check that uses the strategy's synchronous path.
 */
import { describe, expect, it } from 'vitest'

import { Partners, UpgradeCache } from '../../src/verifier/partners.js'
import { resolvePolicy } from '../../src/verifier/policy.js'
import type { UpgradeStore } from '../../src/replay/store.js'
import { signatureAuth, signatureBody } from './helpers.js'

const base = resolvePolicy(undefined)

describe('Partners', () => {
  it('finds a record partner synchronously under every spelling of its id, and no other', () => {
    const partners = new Partners(
      { partners: { '085': { signature: signatureAuth('085'), policy: { legacy: 'reject' } } } },
      base,
    )
    for (const id of ['085', '85', '0085']) {
      const found = partners.find(id)
      expect(found).not.toBeInstanceOf(Promise)
      expect((found as { id: string } | undefined)?.id).toBe('085')
    }
    for (const id of ['0850', '850', 'x85', null]) expect(partners.find(id)).toBeUndefined()
    expect(partners.configuredPolicy('85')?.legacy).toBe('reject')
    expect(partners.configuredPolicy('850')).toBeUndefined()
    // One record indexed under two spellings is still one policy.
    expect(partners.policies()).toHaveLength(1)
    expect(partners.resolves).toBe(false)
  })

  it('a resolver partner is found asynchronously and has no configured policy', async () => {
    const partners = new Partners({ partners: (id) => ({ signature: signatureAuth(id) }) }, base)
    const found = partners.find('085')
    expect(found).toBeInstanceOf(Promise)
    expect((await found)?.id).toBe('085')
    expect(partners.configuredPolicy('085')).toBeUndefined()
    expect(partners.policies()).toEqual([])
    expect(partners.resolves).toBe(true)
  })

  it('the crypto check of a library strategy answers synchronously on node:crypto', async () => {
    const partners = new Partners({ signature: signatureAuth('085') }, base)
    const partner = partners.find(null) as { signature: (c: unknown) => unknown }
    const body = await signatureBody()
    const verified = partner.signature({ signature: body.signature, timestamp: body.timestamp })
    expect(verified).not.toBeInstanceOf(Promise)
    expect(verified).toMatchObject({ ok: true, scheme: 'signature' })
  })
})

describe('UpgradeCache', () => {
  it('asks the store until a partner is known upgraded, then answers at once', async () => {
    let asked = 0
    const store: UpgradeStore = {
      markUpgraded: async () => undefined,
      isUpgraded: async () => (asked++, true),
    }
    const cache = new UpgradeCache(store)
    expect(await cache.isUpgraded('085')).toBe(true)
    expect(cache.isUpgraded('085')).toBe(true)
    expect(asked).toBe(1)
  })

  it('a store that rejects, throws or answers a non-boolean is null', async () => {
    const stores: UpgradeStore[] = [
      { markUpgraded: async () => undefined, isUpgraded: () => Promise.reject(new Error('down')) },
      {
        markUpgraded: async () => undefined,
        isUpgraded: () => {
          throw new Error('down')
        },
      },
      { markUpgraded: async () => undefined, isUpgraded: async () => 'yes' as unknown as boolean },
    ]
    for (const store of stores) expect(await new UpgradeCache(store).isUpgraded('085')).toBeNull()
  })

  it('a mark the store refuses is forgotten, so the store is asked again', async () => {
    const store: UpgradeStore = {
      markUpgraded: () => Promise.reject(new Error('down')),
      isUpgraded: async () => false,
    }
    const cache = new UpgradeCache(store)
    cache.markUpgraded('085')
    expect(cache.isUpgraded('085')).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(await cache.isUpgraded('085')).toBe(false)
  })
})
