/**
 * Turns the ```ts blocks of a Markdown file into one TypeScript program that reads like the page: each block
 * runs in a scope nested inside the previous block's, so a block sees what the blocks before it declared
 * (the page's shared `verifier`, or a variable an earlier snippet reassigned) and may redeclare a name
 * without a clash. Imports are hoisted and merged per module; `export` keywords are dropped (a nested scope
 * cannot export). Lines map back to the Markdown file for error messages.
 *
 * A page says what its example takes from the reader's own code with `declare` lines, as a user's file
 * would (`declare const body: unknown`, `declare function loadAndCache(id: string): Promise<…>`). A nested
 * scope cannot hold `declare`, so a `declare const|let|var` becomes the same variable initialised with
 * `null!` in place (its type as written, its scope the block's), and any other `declare` statement
 * (function, global, namespace) is hoisted to the top of the page's program.
 */
import ts from 'typescript'

/** One ```ts block. */
export interface CodeBlock {
  /** 1-based index of the block within its file. */
  index: number
  /** 1-based Markdown line of the block's first code line. */
  line: number
  code: string
}

/** Extracts every ```ts / ```typescript block. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = []
  const lines = markdown.split('\n')
  let open: { line: number; code: string[] } | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (open === undefined) {
      if (/^\s*```(ts|typescript)\s*$/.test(line)) open = { line: i + 2, code: [] }
    } else if (/^\s*```\s*$/.test(line)) {
      blocks.push({ index: blocks.length + 1, line: open.line, code: open.code.join('\n') })
      open = undefined
    } else {
      open.code.push(line)
    }
  }
  return blocks
}

interface Imports {
  defaults: Map<string, string>
  namespaces: Map<string, string>
  named: Map<string, Map<string, { local: string; typeOnly: boolean }>>
  bare: Set<string>
  /** Local name → the module it was first imported from. */
  owners: Map<string, string>
}

/** A generated line's origin: which block, and which Markdown line. */
export interface LineOrigin {
  block: number
  markdownLine: number
}

/** The generated program of one Markdown file. */
export interface PageProgram {
  text: string
  /** 0-based generated line → origin (absent for generated scaffolding). */
  origins: Map<number, LineOrigin>
  blocks: CodeBlock[]
}

/** Builds the nested program of a page's blocks. */
export function pageProgram(blocks: CodeBlock[]): PageProgram {
  const imports: Imports = {
    defaults: new Map(),
    namespaces: new Map(),
    named: new Map(),
    bare: new Set(),
    owners: new Map(),
  }
  const hoisted: string[] = []
  const bodies: Array<{ block: CodeBlock; lines: Array<{ text: string; markdownLine: number }> }> = []

  for (const block of blocks) {
    const source = ts.createSourceFile('block.ts', block.code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
    // Replace import statements with blank lines and drop export keywords, keeping line numbers.
    const edits: Array<{ start: number; end: number; text: string }> = []
    // Names this block imports from another module than an earlier block did (`smileIdAuth` from
    // /express, then from /fastify): imported under an alias and rebound at the top of the block.
    const rebinds: string[] = []
    for (const statement of source.statements) {
      const declared =
        ts.canHaveModifiers(statement) &&
        (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)
      if (declared && ts.isVariableStatement(statement)) {
        for (const modifier of ts.getModifiers(statement) ?? []) {
          if (modifier.kind === ts.SyntaxKind.DeclareKeyword) {
            edits.push({ start: modifier.getStart(), end: modifier.getEnd() + 1, text: '' })
          }
        }
        for (const declaration of statement.declarationList.declarations) {
          if (declaration.initializer === undefined) {
            edits.push({ start: declaration.getEnd(), end: declaration.getEnd(), text: ' = null!' })
          }
        }
      } else if (declared) {
        hoisted.push(statement.getText())
        edits.push({ start: statement.getStart(), end: statement.getEnd(), text: blank(statement.getText()) })
      } else if (ts.isImportDeclaration(statement)) {
        collectImport(statement, imports, block.index, rebinds)
        edits.push({ start: statement.getStart(), end: statement.getEnd(), text: blank(statement.getText()) })
      } else if (ts.isExportDeclaration(statement)) {
        edits.push({ start: statement.getStart(), end: statement.getEnd(), text: blank(statement.getText()) })
      } else if (ts.isExportAssignment(statement)) {
        edits.push({ start: statement.getStart(), end: statement.expression.getStart(), text: 'void (' })
        edits.push({ start: statement.getEnd(), end: statement.getEnd(), text: ')' })
      } else {
        const modifiers = ts.canHaveModifiers(statement) ? (ts.getModifiers(statement) ?? []) : []
        for (const modifier of modifiers) {
          if (
            modifier.kind === ts.SyntaxKind.ExportKeyword ||
            modifier.kind === ts.SyntaxKind.DefaultKeyword
          ) {
            edits.push({ start: modifier.getStart(), end: modifier.getEnd(), text: '' })
          }
        }
      }
    }
    let code = block.code
    for (const edit of edits.sort((a, b) => b.start - a.start)) {
      code = code.slice(0, edit.start) + edit.text + code.slice(edit.end)
    }
    // On the block's first line, so that line numbers still map.
    if (rebinds.length > 0) code = rebinds.join(' ') + ' ' + code
    bodies.push({
      block,
      lines: code.split('\n').map((text, i) => ({ text, markdownLine: block.line + i })),
    })
  }

  const out: string[] = []
  const origins = new Map<number, LineOrigin>()
  for (const line of importLines(imports)) out.push(line)
  out.push('export {}')
  // Hoisted declarations keep no line mapping of their own: an error in one is reported at the top.
  // The `;` ends a body-less declaration, which the next line's `{` would otherwise continue.
  for (const statement of hoisted) out.push(...`${statement};`.split('\n'))
  for (const { block, lines } of bodies) {
    out.push(`{ // block ${block.index}`)
    for (const line of lines) {
      origins.set(out.length, { block: block.index, markdownLine: line.markdownLine })
      out.push(line.text)
    }
  }
  for (const _ of bodies) out.push('}')
  return { text: out.join('\n') + '\n', origins, blocks }
}

function blank(text: string): string {
  return text.replace(/[^\n]/g, ' ')
}

function collectImport(node: ts.ImportDeclaration, imports: Imports, block: number, rebinds: string[]): void {
  const from = (node.moduleSpecifier as ts.StringLiteral).text
  const clause = node.importClause
  if (clause === undefined) {
    imports.bare.add(from)
    return
  }
  const typeOnly = clause.isTypeOnly
  /** The name to import under: the local name, or an alias when another module already owns it. */
  const claim = (local: string, isType: boolean): string => {
    const owner = imports.owners.get(local)
    if (owner === undefined || owner === from) {
      imports.owners.set(local, from)
      return local
    }
    const alias = `${local}__block${block}`
    rebinds.push(isType ? `type ${local} = ${alias};` : `const ${local} = ${alias};`)
    return alias
  }
  if (clause.name !== undefined) imports.defaults.set(claim(clause.name.text, typeOnly), from)
  const bindings = clause.namedBindings
  if (bindings !== undefined && ts.isNamespaceImport(bindings)) {
    imports.namespaces.set(claim(bindings.name.text, typeOnly), from)
  }
  if (bindings !== undefined && ts.isNamedImports(bindings)) {
    let named = imports.named.get(from)
    if (named === undefined) imports.named.set(from, (named = new Map()))
    for (const element of bindings.elements) {
      const imported = (element.propertyName ?? element.name).text
      const local = claim(element.name.text, typeOnly || element.isTypeOnly)
      const previous = named.get(local)
      // A value import wins over a type-only one of the same name.
      named.set(local, {
        local: imported === local ? local : `${imported} as ${local}`,
        typeOnly: (typeOnly || element.isTypeOnly) && (previous?.typeOnly ?? true),
      })
    }
  }
}

function importLines(imports: Imports): string[] {
  const lines: string[] = []
  for (const from of imports.bare) lines.push(`import '${from}'`)
  for (const [local, from] of imports.defaults) lines.push(`import ${local} from '${from}'`)
  for (const [local, from] of imports.namespaces) lines.push(`import * as ${local} from '${from}'`)
  for (const [from, named] of imports.named) {
    const specifiers = [...named.values()].map(({ local, typeOnly }) => (typeOnly ? `type ${local}` : local))
    lines.push(`import { ${specifiers.join(', ')} } from '${from}'`)
  }
  return lines
}
