import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The CLI is one more adapter: it imports the package's public entries (as `smileid-auth-shim/...`
// would), its own modules, and node built-ins. Nothing else under src/, with one exception: the claim
// reader (src/claims.ts), which by design is the one reader of what a request claims for every layer,
// so that `inspect` and `verify` cannot disagree with the verifier.
const root = new URL('../../', import.meta.url)
const cliDir = fileURLToPath(new URL('src/cli/', root))

/** `../index.js`, `../testing/index.js`, … : every entry of package.json "exports", seen from src/cli. */
function publicEntries(): Set<string> {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
    exports: Record<string, string | { default?: string }>
  }
  const entries = new Set<string>()
  for (const target of Object.values(pkg.exports)) {
    const file = typeof target === 'string' ? target : target.default
    const match = file === undefined ? null : /^\.\/dist\/(.+)\.js$/.exec(file)
    if (match) entries.add(`../${match[1]}.js`)
  }
  return entries
}

function importsOf(source: string): string[] {
  const found: string[] = []
  // Static imports and re-exports (possibly over several lines), then dynamic import('…').
  for (const match of source.matchAll(/^(?:import|export)\b[^']*?\bfrom\s+'([^']+)'/gm)) found.push(match[1]!)
  for (const match of source.matchAll(/^import\s+'([^']+)'/gm)) found.push(match[1]!)
  for (const match of source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) found.push(match[1]!)
  return found
}

describe('src/cli calls only the public API', () => {
  const entries = publicEntries()
  const files = readdirSync(cliDir).filter((name) => name.endsWith('.ts'))

  it('knows the public entries, and reads the imports of a command', () => {
    expect(entries).toContain('../index.js')
    expect(entries).toContain('../testing/index.js')
    expect(files).toContain('main.ts')
    const verify = importsOf(readFileSync(`${cliDir}verify.ts`, 'utf8'))
    expect(verify).toEqual(
      expect.arrayContaining(['../index.js', '../claims.js', './args.js', './context.js']),
    )
    // inspect and verify read what a request claims through the claim reader, not rules of their own.
    expect(importsOf(readFileSync(`${cliDir}diagnose.ts`, 'utf8'))).toContain('../claims.js')
    expect(importsOf(readFileSync(`${cliDir}main.ts`, 'utf8'))).toContain('./send.js')
    // An internal module is caught.
    expect(importsOf("import { readInstant } from '../timestamps.js'\n")).toEqual(['../timestamps.js'])
    expect(entries.has('../timestamps.js')).toBe(false)
  })

  it.each(files)('%s imports public entries, its own modules and node built-ins only', (file) => {
    const source = readFileSync(`${cliDir}${file}`, 'utf8')
    for (const specifier of importsOf(source)) {
      const own = /^\.\/[\w-]+\.js$/.test(specifier)
      const builtin = specifier.startsWith('node:')
      // The gateway command is a thin front for the gateway, which sits beside the CLI (its own modules).
      const gateway = file === 'gateway.ts' && specifier.startsWith('../gateway/')
      const claims = specifier === '../claims.js'
      expect(
        own || builtin || gateway || claims || entries.has(specifier),
        `${file} imports ${specifier}`,
      ).toBe(true)
    }
  })
})
