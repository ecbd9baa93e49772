import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'

import {
  TEST_KIT_ALLOW_PRODUCTION_ENV,
  TEST_KIT_IN_PRODUCTION,
  warnIfProduction,
} from '../../src/testing/production-warning.js'
import { bundleSrc, srcFile } from '../support/esbuild.js'

const WARNED = Symbol.for('smileid-auth-shim.testing.production-warning')
const registry = globalThis as Record<symbol, unknown>

function fakeProcess(env: Record<string, string | undefined>) {
  const emitWarning = vi.fn()
  return { env, emitWarning }
}

beforeEach(() => {
  delete registry[WARNED]
})
afterEach(() => {
  delete registry[WARNED]
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

describe('the test kit under NODE_ENV=production', () => {
  it('warns with a stable code, a type of its own and how to silence it, once per process', () => {
    const target = fakeProcess({ NODE_ENV: 'production' })
    expect(warnIfProduction(target)).toBe(true)
    expect(warnIfProduction(target)).toBe(false)
    expect(warnIfProduction(fakeProcess({ NODE_ENV: 'production' }))).toBe(false)
    expect(target.emitWarning).toHaveBeenCalledTimes(1)
    const [message, options] = target.emitWarning.mock.calls[0] as [string, Record<string, string>]
    expect(TEST_KIT_IN_PRODUCTION).toBe('SMILEID_TESTKIT_IN_PRODUCTION')
    expect(options).toMatchObject({ type: 'SmileIdTestKitWarning', code: TEST_KIT_IN_PRODUCTION })
    expect(message).toMatch(/smileid-auth-shim\/testing was loaded with NODE_ENV=production/)
    expect(options.detail).toContain(`${TEST_KIT_ALLOW_PRODUCTION_ENV}=1`)
    expect(options.detail).toContain(`--disable-warning=${TEST_KIT_IN_PRODUCTION}`)
  })

  it.each([{ NODE_ENV: 'test' }, { NODE_ENV: 'development' }, { NODE_ENV: 'PRODUCTION ' }, {}])(
    'stays silent under %o',
    (env) => {
      const target = fakeProcess(env)
      expect(warnIfProduction(target)).toBe(false)
      expect(target.emitWarning).not.toHaveBeenCalled()
    },
  )

  it.each(['1', 'true', 'yes'])(`is silenced by ${TEST_KIT_ALLOW_PRODUCTION_ENV}=%s`, (value) => {
    const target = fakeProcess({ NODE_ENV: 'production', [TEST_KIT_ALLOW_PRODUCTION_ENV]: value })
    expect(warnIfProduction(target)).toBe(false)
    expect(target.emitWarning).not.toHaveBeenCalled()
  })

  it.each(['', '0'])(`still warns when ${TEST_KIT_ALLOW_PRODUCTION_ENV} is %j`, (value) => {
    const target = fakeProcess({ NODE_ENV: 'production', [TEST_KIT_ALLOW_PRODUCTION_ENV]: value })
    expect(warnIfProduction(target)).toBe(true)
  })

  it('never throws, without process or with a process that throws', () => {
    expect(warnIfProduction(undefined)).toBe(false)
    const hostile = {
      get env(): Record<string, string> {
        throw new Error('boom')
      },
    }
    expect(warnIfProduction(hostile)).toBe(false)
    const throwingEmit = {
      env: { NODE_ENV: 'production' },
      emitWarning: () => {
        throw new Error('boom')
      },
    }
    expect(warnIfProduction(throwingEmit)).toBe(false)
  })

  it('warns once when the test kit modules are loaded, whichever is loaded first, and again never', async () => {
    vi.stubEnv('NODE_ENV', 'production')
    vi.stubEnv(TEST_KIT_ALLOW_PRODUCTION_ENV, '')
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    vi.resetModules()
    await import('../../src/testing/simulator.js')
    await import('../../src/testing/test-keys.js')
    vi.resetModules()
    const kit = await import('../../src/testing/index.js')
    expect(kit.createTestKeys).toBeTypeOf('function')
    const ours = emit.mock.calls.filter(
      ([, options]) => (options as { code?: string } | undefined)?.code === TEST_KIT_IN_PRODUCTION,
    )
    expect(ours).toHaveLength(1)
  })

  it('loads silently outside production', async () => {
    vi.stubEnv('NODE_ENV', 'test')
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    vi.resetModules()
    await import('../../src/testing/index.js')
    expect(emit).not.toHaveBeenCalled()
  })
})

describe('the warning in a real process', () => {
  let dir: string
  let entry: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smileid-testkit-warning-'))
    entry = join(dir, 'kit.mjs')
    // The test kit from src, as an app imports it: both of its modules (keys, simulator) call the check.
    await bundleSrc({
      runtime: 'node',
      stdin: {
        contents: `import { createTestKeys } from ${JSON.stringify(srcFile('testing/index.ts'))}\ncreateTestKeys()\nconsole.log('loaded')\n`,
        resolveDir: dir,
        loader: 'js',
      },
      outfile: entry,
    })
  }, 60_000)
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const run = (env: Record<string, string>, args: string[] = []) =>
    spawnSync(process.execPath, [...args, entry], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 30_000,
    })

  it('prints one SMILEID_TESTKIT_IN_PRODUCTION warning under NODE_ENV=production, and still loads', () => {
    const result = run({ NODE_ENV: 'production' })
    expect(result.status).toBe(0)
    expect(result.stdout).toBe('loaded\n')
    const ours = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('(node:') && line.includes(TEST_KIT_IN_PRODUCTION))
    expect(ours).toHaveLength(1)
    expect(ours[0]).toMatch(/^\(node:\d+\) \[SMILEID_TESTKIT_IN_PRODUCTION\] SmileIdTestKitWarning: /)
    expect(result.stderr).toContain(`${TEST_KIT_ALLOW_PRODUCTION_ENV}=1`)
  })

  it.each([
    ['outside production', { NODE_ENV: 'test' }, []],
    ['with the opt-out variable', { NODE_ENV: 'production', [TEST_KIT_ALLOW_PRODUCTION_ENV]: '1' }, []],
    ['with --disable-warning', { NODE_ENV: 'production' }, [`--disable-warning=${TEST_KIT_IN_PRODUCTION}`]],
  ])('prints nothing %s', (_name, env, args) => {
    const result = run(env as Record<string, string>, args as string[])
    expect(result.status).toBe(0)
    expect(result.stdout).toBe('loaded\n')
    expect(result.stderr).toBe('')
  })
})
