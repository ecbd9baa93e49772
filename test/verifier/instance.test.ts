/**
 * The verifier's `instance` option: every audit record names the receiver that wrote it. The default is
 * the host name on Node and `null` on Workers and in browsers, whose bundles must gain no `node:` import.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

import { describe, expect, it } from 'vitest'

import { bundleSrc, srcFile } from '../support/esbuild.js'

import { defaultInstance as nodeDefault } from '../../src/verifier/instance-node.js'
import { defaultInstance as webDefault } from '../../src/verifier/instance-web.js'
import {
  dualVerifier,
  expectConfigurationError,
  expectRejected,
  recordingSink,
  secKeyBody,
  signatureBody,
} from './helpers.js'

describe('instance in audit records', () => {
  it('defaults to the host name on Node, on every kind of event', async () => {
    expect(hostname().length).toBeGreaterThan(0)
    const { events, sink } = recordingSink()
    const verifier = dualVerifier({ audit: sink, policy: { legacy: 'reject' } })
    await verifier.verify({ body: await signatureBody() })
    await verifier.verify({ body: await secKeyBody() })
    await verifier.verify({ body: await signatureBody({ apiKey: 'wrong' }) })
    await verifier.verify({ body: {} })
    await verifier.verify(null as never)
    expect(events).toHaveLength(5)
    expect(events.map((e) => e.instance)).toEqual(Array(5).fill(hostname()))
  })

  it('takes the instance option, and null records none', async () => {
    for (const instance of ['receiver-eu-1', null]) {
      const { events, sink } = recordingSink()
      const verifier = dualVerifier({ audit: sink, instance })
      await verifier.verify({ body: await signatureBody() })
      expectRejected(await verifier.verify({ body: { partner_id: '999' } }), 'missing_credentials', null)
      expect(events.map((e) => e.instance)).toEqual([instance, instance])
    }
  })

  it.each([
    ['a number', 7, 'instance must be a string'],
    ['an empty string', '', '1 to 128 characters'],
    ['a very long name', 'x'.repeat(129), '1 to 128 characters'],
    ['control characters', 'receiver\u001b[2J', 'control characters'],
  ])('refuses %s (invalid_options)', (_, instance, hint) => {
    const error = expectConfigurationError(
      () => dualVerifier({ instance: instance as never }),
      'invalid_options',
    )
    expect(error.message).toContain(hint)
  })

  it('has a Node default (the host name) and a web default (null)', () => {
    expect(nodeDefault()).toBe(hostname())
    expect(webDefault()).toBeNull()
  })
})

describe('instance in a Worker or browser bundle', () => {
  it('resolves #instance to the web file: no node: import, and audit records carry null', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smileid-instance-'))
    try {
      // src as a Worker's bundler sees the package: each `#…` import resolved through package.json's
      // "imports" map under the Worker conditions, to the src file of the dist file it names.
      const out = await bundleSrc({
        runtime: 'worker',
        stdin: {
          contents: `export { DualModeVerifier, SignatureAuth } from ${JSON.stringify(srcFile('index.ts'))}\n`,
          resolveDir: dir,
          loader: 'js',
        },
        write: false,
        metafile: true,
      })
      const code = out.outputFiles[0]!.text
      expect(code).not.toMatch(/["']node:/)
      const inputs = Object.keys(out.metafile.inputs)
      expect(inputs.some((input) => input.endsWith('src/verifier/instance-web.ts'))).toBe(true)
      expect(inputs.some((input) => input.endsWith('src/verifier/instance-node.ts'))).toBe(false)

      const bundle = join(dir, 'bundle.mjs')
      await writeFile(bundle, code)
      const { DualModeVerifier, SignatureAuth } = (await import(
        pathToFileURL(bundle).href
      )) as typeof import('../../src/index.js')
      const events: Array<{ instance: string | null }> = []
      const verifier = new DualModeVerifier({
        signature: new SignatureAuth({ partnerId: '085', apiKey: 'k' }),
        audit: (event) => void events.push(event),
      })
      await verifier.verify({ body: {} })
      expect(events).toEqual([expect.objectContaining({ instance: null })])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
