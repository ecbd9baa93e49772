/**
 * Every ```ts block in README.md and docs/*.md type-checks, strict, against the package's own published
 * types (imported as a user imports them: `smileid-auth-shim`, `smileid-auth-shim/express`, …), under
 * `module: NodeNext` and under `moduleResolution: bundler`. The blocks of one page form one program in which
 * each block sees the blocks before it (see extract.ts), so a snippet that contradicts an earlier one fails.
 *
 * Fast: one TypeScript program per mode for all pages. Needs dist/ (`npm test` builds first).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { beforeAll, describe, expect, it } from 'vitest'
import { codeBlocks, pageProgram, type PageProgram } from './extract.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
// Inside the package, so that `smileid-auth-shim` resolves by self-reference through package.json "exports".
const scratch = join(root, 'tmp', 'doc-examples')

const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
]

/**
 * Blocks known to fail, in pages this change does not own, with the reason. The test checks that they
 * still fail, so whoever fixes one is told to remove its entry.
 */
const KNOWN_BROKEN: Record<string, string> = {}

const common: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  types: ['node'],
  noEmit: true,
  skipLibCheck: true,
  experimentalDecorators: true, // the NestJS example, as any Nest app compiles
  allowImportingTsExtensions: false,
}
const modes: Record<string, ts.CompilerOptions> = {
  NodeNext: { ...common, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
  bundler: { ...common, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler },
}

interface Failure {
  page: string
  block: number
  line: number
  message: string
}

const programs = new Map<string, PageProgram>()
const failures: Record<string, Failure[]> = {}

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'index.d.ts'))) throw new Error('dist/ is missing: run `npm run build`')
  rmSync(scratch, { recursive: true, force: true })
  mkdirSync(scratch, { recursive: true })
  const files: string[] = []
  for (const page of pages) {
    const blocks = codeBlocks(readFileSync(join(root, page), 'utf8'))
    if (blocks.length === 0) continue
    const program = pageProgram(blocks)
    const file = join(scratch, `${page.replace(/[/.]/g, '_')}.ts`)
    writeFileSync(file, program.text)
    programs.set(file, { ...program })
    files.push(file)
  }
  const pageOf = (file: string) => pages.find((page) => file.endsWith(`${page.replace(/[/.]/g, '_')}.ts`))!
  // One host for both modes: the libraries' declaration files are parsed once.
  const host = ts.createCompilerHost(common)
  const parsed = new Map<string, ts.SourceFile | undefined>()
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (fileName, language, ...rest) => {
    const cacheKey = `${fileName}:${typeof language === 'object' ? language.impliedNodeFormat : ''}`
    if (!parsed.has(cacheKey)) parsed.set(cacheKey, getSourceFile(fileName, language, ...rest))
    return parsed.get(cacheKey)
  }
  for (const [mode, options] of Object.entries(modes)) {
    const program = ts.createProgram(files, options, host)
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && files.includes(d.file.fileName))
    failures[mode] = diagnostics.map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0)
      const origin = programs.get(d.file!.fileName)!.origins.get(line)
      return {
        page: pageOf(d.file!.fileName),
        block: origin?.block ?? 0,
        line: origin?.markdownLine ?? 0,
        message: ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0]!,
      }
    })
  }
}, 120_000)

function key(failure: Pick<Failure, 'page' | 'block'>): string {
  return `${failure.page}#${failure.block}`
}

describe.each(Object.keys(modes))('documentation examples type-check (%s)', (mode) => {
  it('finds the blocks (README.md and docs/*.md)', () => {
    const count = [...programs.values()].reduce((sum, program) => sum + program.blocks.length, 0)
    expect(count).toBeGreaterThan(20)
    expect([...programs.keys()].map((file) => relative(scratch, file))).toContain('README_md.ts')
  })

  it('covers the guides with TypeScript examples, and no TypeScript or JavaScript block escapes the check', () => {
    const checked = [...programs.keys()].map((file) => relative(scratch, file))
    for (const page of ['fleet', 'observability', 'migration-playbook', 'runtimes', 'adapters', 'security']) {
      expect(checked).toContain(`docs_${page}_md.ts`)
    }
    // A block tagged js, jsx, tsx, mts, cts or javascript would be skipped: write examples as ```ts.
    const escaping = pages.filter((page) =>
      /^\s*```(js|jsx|tsx|mts|cts|mjs|cjs|javascript)\s*$/m.test(readFileSync(join(root, page), 'utf8')),
    )
    expect(escaping).toEqual([])
  })

  it('every block compiles, each page as one program', () => {
    const unexpected = failures[mode]!.filter((failure) => !(key(failure) in KNOWN_BROKEN))
    expect(unexpected.map((f) => `${f.page}:${f.line} (block ${f.block}): ${f.message}`)).toEqual([])
  })

  it('the known-broken blocks of other pages still fail (remove an entry once its block is fixed)', () => {
    const failing = new Set(failures[mode]!.map(key))
    expect(Object.keys(KNOWN_BROKEN).filter((entry) => !failing.has(entry))).toEqual([])
  })
})
