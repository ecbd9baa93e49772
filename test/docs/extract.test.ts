/**
 * How a page's blocks become one program: `declare` lines stay typed, in their block's scope.
 */
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { codeBlocks, pageProgram } from './extract.js'

function diagnostics(text: string): string[] {
  const file = ts.createSourceFile('page.ts', text, ts.ScriptTarget.ES2022, true)
  const options: ts.CompilerOptions = { strict: true, noEmit: true, noLib: true, types: [] }
  const host = ts.createCompilerHost(options)
  host.getSourceFile = (name) => (name === 'page.ts' ? file : undefined)
  const program = ts.createProgram(['page.ts'], options, host)
  // Without lib files the global types are missing; keep only the diagnostics of the page itself.
  return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]
    .filter((d) => d.code !== 2318)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
}

const page = (...blocks: string[]) =>
  pageProgram(codeBlocks(blocks.map((code) => '```ts\n' + code + '\n```\n').join('\n'))).text

describe('declare lines in doc blocks', () => {
  it('a declared const keeps its type inside the block, so a wrong use still fails', () => {
    const text = page('declare const jobId: number\nconst n: number = jobId')
    expect(text).toContain('const jobId: number = null!')
    expect(diagnostics(text)).toEqual([])
    expect(diagnostics(page('declare const jobId: number\nconst s: string = jobId'))).toEqual([
      "Type 'number' is not assignable to type 'string'.",
    ])
  })

  it('a declared const is scoped to its block and the blocks after it', () => {
    const text = page('const before: number = later', 'declare const later: number')
    expect(diagnostics(text).join('\n')).toMatch(/Cannot find name 'later'/)
  })

  it('a declared function is hoisted and ended, so the next block is not read as its body', () => {
    const text = page('declare function load(id: string): number\nconst n: number = load("a")')
    expect(text).toContain('declare function load(id: string): number;')
    expect(diagnostics(text)).toEqual([])
    expect(diagnostics(page('declare function load(id: string): number\nload(1)')).join('\n')).toMatch(
      /not assignable to parameter of type 'string'/,
    )
  })
})
