/**
 * Text that came from a request (partner ids, SDK names, routes, timestamps) is shown to an operator in a
 * terminal. A forged value could carry escape sequences that move the cursor, clear lines or rewrite the
 * verdict above it, so every such value passes through {@link terminalSafe} before it is printed.
 *
 * @internal
 * @module
 */

// C0 controls (tab, newline and ESC included), DEL, C1 controls, and the Unicode format characters that
// reorder or hide text: bidi embeddings/overrides/isolates, zero-width joiners and marks, line and
// paragraph separators, the BOM.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g

/**
 * Replaces every control or text-reordering character with a visible escape (`\x1b`, `\u202e`), so that
 * request-supplied text can neither style nor rewrite the terminal and the operator still sees that it
 * was there.
 *
 * @example
 * ```ts
 * terminalSafe('085\u001b[2K') // '085\\x1b[2K'
 * ```
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0)
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
