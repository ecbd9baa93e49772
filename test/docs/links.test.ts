/**
 * Every relative link in README.md, CHANGELOG.md and docs/*.md points at a file the npm package ships
 * (package.json "files"), so the links work where npm users read the pages: in
 * node_modules/smileid-auth-shim/. A `#fragment` must name a heading of the target page, spelled as
 * GitHub and npm make heading anchors.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const pages = [
  'README.md',
  'CHANGELOG.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
]

/** package.json "files": plain paths (a file or a folder) and `dir/*.ext` patterns; `!` entries exclude. */
function shipped(path: string): boolean {
  const files = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] }).files
  const matches = (pattern: string) => {
    if (pattern.includes('*')) {
      const source = pattern
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\/?|\*/g, (star) => (star === '*' ? '[^/]*' : '.*'))
      return new RegExp(`^${source}$`).test(path)
    }
    return path === pattern || path.startsWith(`${pattern}/`)
  }
  const always = ['package.json', 'README.md', 'LICENSE']
  return (
    always.includes(path) ||
    (files.some((entry) => !entry.startsWith('!') && matches(entry)) &&
      !files.some((entry) => entry.startsWith('!') && matches(entry.slice(1))))
  )
}

/** The anchors of a Markdown page's headings, as GitHub spells them (duplicates get -1, -2, …). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (heading === null) continue
    const base = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    out.add(count === 0 ? base : `${base}-${count}`)
  }
  return out
}

/** Markdown links and images outside code: `[text](target)`, with the target split at `#`. */
function links(markdown: string): Array<{ line: number; path: string; fragment: string | undefined }> {
  const found: Array<{ line: number; path: string; fragment: string | undefined }> = []
  let fenced = false
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) fenced = !fenced
    if (fenced) return
    const text = line.replace(/`[^`]*`/g, '')
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1]!
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // https:, mailto:
      const [path = '', fragment] = target.split('#')
      found.push({ line: i + 1, path, fragment })
    }
  })
  return found
}

describe('links in the pages npm users read', () => {
  it('finds the links (README.md links every guide)', () => {
    const readme = links(readFileSync(join(root, 'README.md'), 'utf8')).map((link) => link.path)
    const guides = pages.filter((page) => page.startsWith('docs/'))
    expect(guides.filter((guide) => !readme.includes(guide))).toEqual([])
  })

  it.each(pages)(
    '%s: every relative link resolves to a shipped file, and every anchor to a heading',
    (page) => {
      const markdown = readFileSync(join(root, page), 'utf8')
      const problems: string[] = []
      for (const link of links(markdown)) {
        const target = link.path === '' ? page : normalize(join(dirname(page), decodeURI(link.path)))
        const where = `${page}:${link.line} → ${link.path}${link.fragment === undefined ? '' : `#${link.fragment}`}`
        if (target.startsWith('..') || !existsSync(join(root, target))) {
          problems.push(`${where}: no such file`)
          continue
        }
        if (!shipped(relative('.', target)))
          problems.push(`${where}: not in the npm package (package.json "files")`)
        if (link.fragment !== undefined && target.endsWith('.md')) {
          if (!anchors(readFileSync(join(root, target), 'utf8')).has(link.fragment)) {
            problems.push(`${where}: no heading with that anchor`)
          }
        }
      }
      expect(problems).toEqual([])
    },
  )

  it('the checks can fail: a link outside the package and a wrong anchor are found', () => {
    expect(shipped('examples/express.ts')).toBe(false)
    expect(shipped('docs/adapters.md')).toBe(true)
    expect(shipped('dist/index.js')).toBe(true)
    expect(anchors('# The gate: switching legacy off on evidence\n## `audit`\n## `audit`')).toEqual(
      new Set(['the-gate-switching-legacy-off-on-evidence', 'audit', 'audit-1']),
    )
    expect(links('see [x](../examples) and `[y](z.md)`\n```\n[w](v.md)\n```')).toEqual([
      { line: 1, path: '../examples', fragment: undefined },
    ])
  })
})
