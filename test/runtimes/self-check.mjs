/**
 * Negative control for the conformance suite: runs it in this Node process against broken stand-ins of
 * the API (`stubs.mjs`) and requires every check to fail against at least one of them. A check that
 * passes whatever the library does would be a hard-coded pass; this finds it.
 */
import { pathToFileURL } from 'node:url'
import { buildSuiteModule } from './build.mjs'
import { stubs } from './stubs.mjs'

/** Returns a table row like the runtime runners do. */
export async function runSelfCheck() {
  const runtime = 'self-check: every check can fail'
  try {
    const suite = await import(pathToFileURL(await buildSuiteModule()).href)
    const failedUnder = new Map()
    let names = []
    for (const [mode, api] of Object.entries(stubs)) {
      const report = await suite.runConformance({ api, fetchApi: api.fetchApi })
      names = report.results.map((r) => r.name)
      for (const r of report.results)
        if (!r.ok) failedUnder.set(r.name, [...(failedUnder.get(r.name) ?? []), mode])
    }
    const neverFails = names.filter((name) => !failedUnder.has(name))
    const results = names.map((name) => ({
      name,
      ok: failedUnder.has(name),
      detail: failedUnder.has(name)
        ? `fails against: ${failedUnder.get(name).join(', ')}`
        : 'passes against every broken stand-in',
    }))
    const ok = names.length > 0 && neverFails.length === 0
    return {
      runtime,
      status: ok ? 'passed' : 'failed',
      passed: names.length - neverFails.length,
      failed: ok ? 0 : Math.max(neverFails.length, 1),
      backend: '-',
      reason: ok ? '' : names.length === 0 ? 'no checks ran' : `never fails: ${neverFails.join('; ')}`,
      results,
      version: `${names.length} checks x ${Object.keys(stubs).length} stand-ins`,
    }
  } catch (error) {
    return {
      runtime,
      status: 'failed',
      passed: 0,
      failed: 1,
      backend: '-',
      reason: String(error?.message ?? error),
      results: [],
    }
  }
}
