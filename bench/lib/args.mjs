// Tiny flag parser shared by the bench scripts: `--flag`, `--flag value`, `--flag=value`.
export function parseArgs(argv = process.argv.slice(2)) {
  const flags = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) continue
    const eq = arg.indexOf('=')
    if (eq !== -1) {
      flags[arg.slice(2, eq)] = arg.slice(eq + 1)
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      flags[arg.slice(2)] = argv[++i]
    } else {
      flags[arg.slice(2)] = true
    }
  }
  return flags
}

/** Reads a numeric flag, falling back when absent. */
export function numberFlag(flags, name, fallback) {
  const value = flags[name]
  if (value === undefined || value === true) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} expects a positive number, got ${value}`)
  return n
}
