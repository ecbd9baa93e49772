/**
 * "Did you mean": the closest known name to a mistyped command or flag, by edit distance with adjacent
 * transpositions (`sgin` → `sign` is one edit), and prefixes (`--partner` → `--partner-id`).
 *
 * @internal
 * @module
 */

/**
 * Edit distance between `a` and `b`, counting an insertion, a deletion, a substitution or a swap of two
 * adjacent characters as one edit (optimal string alignment).
 *
 * @example
 * ```ts
 * editDistance('sgin', 'sign') // 1
 * ```
 */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1)
      d[i]![j] = best
    }
  }
  return d[a.length]![b.length]!
}

/**
 * The known name closest to `typed`, or `undefined` when none is close enough to be a typo: a name that
 * `typed` is a prefix of (at least 3 characters), or one at most 2 edits away (1 for short names).
 * Inputs longer than 64 characters are not compared: they are not typos.
 *
 * @example
 * ```ts
 * closest('sgin', ['sign', 'verify']) // 'sign'
 * closest('--partner', ['--partner-id', '--api-key']) // '--partner-id'
 * ```
 */
export function closest(typed: string, known: readonly string[]): string | undefined {
  if (typed.length > 64 || typed.length === 0) return undefined
  const lower = typed.toLowerCase()
  const bare = lower.replace(/^-+/, '')
  let best: string | undefined
  let bestDistance = Infinity
  for (const name of known) {
    const candidate = name.toLowerCase()
    if (bare.length >= 3 && candidate.replace(/^-+/, '').startsWith(bare) && candidate !== lower) {
      // A prefix is the strongest hint; the shortest completion wins.
      const distance = -1 / candidate.length
      if (distance < bestDistance) {
        best = name
        bestDistance = distance
      }
      continue
    }
    const distance = editDistance(lower, candidate)
    const limit = bare.length <= 4 ? 1 : 2
    if (distance <= limit && distance < bestDistance) {
      best = name
      bestDistance = distance
    }
  }
  return best
}
