/**
 * The one way every command prints JSON: indented by two spaces, on a terminal and when piped alike, so
 * `sign`, `verify`, `inspect`, `keygen`, `send` and `audit` look the same and `jq` reads them all.
 *
 * @internal
 * @module
 */

// JSON.stringify escapes C0 controls but not DEL, the C1 controls (0x9b is a one-byte CSI on some
// terminals) or the Unicode characters that reorder or hide text; escaping them keeps the same JSON value.
const UNESCAPED = /[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g

/**
 * `value` as indented JSON with a final newline. Characters a terminal would act on are written as
 * `\uXXXX` escapes: request-supplied strings reach a terminal inert, and parse back unchanged.
 *
 * @example
 * ```ts
 * context.stdout.write(formatJson(result))
 * ```
 */
export function formatJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2).replace(
    UNESCAPED,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
  return `${text}\n`
}
