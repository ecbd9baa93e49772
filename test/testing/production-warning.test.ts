import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import {
  TEST_KIT_ALLOW_PRODUCTION_ENV,
  TEST_KIT_IN_PRODUCTION,
  warnIfProduction,
} from '../../src/testing/production-warning.js'

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
    await import('../../src/testing/keys.js')
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
