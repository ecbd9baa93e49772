/**
 * The one way every command prints JSON: indented by two spaces, on a terminal and when piped alike, so
 * `sign`, `verify`, `inspect`, `keygen`, `send` and `audit` look the same and `jq` reads them all.
 *
 * @internal
 * @module
 */

/**
 * `value` as indented JSON with a final newline.
 *
 * @example
 * ```ts
 * context.stdout.write(formatJson(result))
 * ```
 */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}
