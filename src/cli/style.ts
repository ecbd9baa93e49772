/**
 * Terminal styling: ANSI colours only when the output is a terminal and `NO_COLOR` is not set
 * (https://no-color.org), and plain aligned tables.
 *
 * @internal
 * @module
 */
import type { Output } from './context.js'

const CODES = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
  bold: 1,
  dim: 2,
} as const

/** A colour or weight that {@link paint} knows. */
export type Tone = keyof typeof CODES

/**
 * Wraps `text` in an ANSI colour when `out` allows colours; returns it unchanged otherwise.
 *
 * @example
 * ```ts
 * out.write(paint(out, 'green', '✔ accepted'))
 * ```
 */
export function paint(out: Output, tone: Tone, text: string): string {
  return out.color ? `\u001b[${CODES[tone]}m${text}\u001b[0m` : text
}

/**
 * Whether colours may be used on a stream, following the `NO_COLOR` convention.
 *
 * @example
 * ```ts
 * colorAllowed(process.stdout.isTTY === true, process.env) // false when NO_COLOR is set
 * ```
 */
export function colorAllowed(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  if (!isTTY) return false
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  return env.TERM !== 'dumb'
}

const ANSI = /\u001b\[[0-9;]*m/g

/** The printed width of a string that may hold ANSI colour codes. */
function width(text: string): number {
  return text.replace(ANSI, '').length
}

/** Pads a cell to `size` columns, to the right for numbers. */
function pad(text: string, size: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, size - width(text)))
  return right ? fill + text : text + fill
}

/**
 * Renders rows as an aligned table with a header line. Columns whose header is in `numeric` are
 * right-aligned.
 *
 * @example
 * ```ts
 * table(['partner', 'total'], [['085', '12']], ['total'])
 * ```
 */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: readonly string[] = [],
): string {
  const sizes = headers.map((header, i) => Math.max(width(header), ...rows.map((row) => width(row[i] ?? ''))))
  const right = headers.map((header) => numeric.includes(header))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => pad(cell, sizes[i] ?? 0, right[i] ?? false))
      .join('  ')
      .trimEnd()
  return [line(headers), line(sizes.map((size) => '-'.repeat(size))), ...rows.map(line)].join('\n') + '\n'
}

/**
 * Two aligned columns: `label  value`, one pair a line.
 *
 * @example
 * ```ts
 * pairs([['scheme', 'signature'], ['partner id', '085']])
 * ```
 */
export function pairs(rows: readonly (readonly [string, string])[]): string {
  const size = Math.max(0, ...rows.map(([label]) => width(label)))
  return rows.map(([label, value]) => `${pad(label, size, false)}  ${value}`).join('\n') + '\n'
}

/**
 * Indents every non-empty line by two spaces.
 *
 * @example
 * ```ts
 * indent('a\nb') // '  a\n  b'
 * ```
 */
export function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n')
}
