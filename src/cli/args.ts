/**
 * Argument parsing shared by every command: `node:util` `parseArgs` in strict mode, with its errors
 * rewritten as one-line usage errors that name the flag but never repeat a value (it may be a key).
 *
 * @internal
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from './context.js'
import { closest } from './suggest.js'

/** The option table of a command, in `parseArgs` form. */
export type OptionTable = NonNullable<ParseArgsConfig['options']>

/** Every command accepts `--help` / `-h`; `main` answers it before the command runs. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const

/** What {@link parseCommand} returns for an option table. */
export type Parsed<O extends OptionTable> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>
>

/**
 * The hint printed after a usage error of `command`.
 *
 * @example
 * ```ts
 * throw new UsageError('--scheme is required', helpHint('sign'))
 * ```
 */
export function helpHint(command: string): string {
  return `see 'smileid-auth ${command} --help'`
}

/**
 * Parses `argv` against `options`; unknown flags, missing values and extra positionals are
 * {@link UsageError}s.
 *
 * @example
 * ```ts
 * const { values, positionals } = parseCommand('verify', context.argv, OPTIONS, 1)
 * ```
 */
export function parseCommand<const O extends OptionTable>(
  command: string,
  argv: readonly string[],
  options: O,
  maxPositionals: number,
): Parsed<O> {
  let parsed: Parsed<O>
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true })
  } catch (error) {
    throw new UsageError(describeParseError(error, options), helpHint(command))
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(
      maxPositionals === 0
        ? `${command} takes no arguments, only options`
        : `${command} takes at most ${maxPositionals} argument${maxPositionals === 1 ? '' : 's'}`,
      helpHint(command),
    )
  }
  return parsed
}

/**
 * Rewrites a `parseArgs` error as a short sentence that names the flag and nothing typed after it; an
 * unknown flag near a known one gets a "did you mean".
 */
function describeParseError(error: unknown, options: OptionTable): string {
  const code = (error as { code?: unknown }).code
  const message = error instanceof Error ? error.message : ''
  // parseArgs quotes the option as '--name', '--name <value>' or '-n, --name <value>'.
  const flag = /'(?:-\w, )?(--?[\w-]+)/.exec(message)?.[1] ?? 'an option'
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const near = flag.startsWith('--')
        ? closest(
            flag,
            Object.keys(options).map((name) => `--${name}`),
          )
        : undefined
      return near === undefined ? `unknown option ${flag}` : `unknown option ${flag}; did you mean ${near}?`
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (message.includes('does not take an argument')) return `${flag} takes no value`
      if (message.includes('ambiguous'))
        return `${flag} needs a value (write ${flag}=<value> if it starts with '-')`
      return `${flag} needs a value`
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return 'unexpected argument'
    default:
      return 'invalid arguments'
  }
}

/**
 * A required string option, or a usage error naming it.
 *
 * @example
 * ```ts
 * const partnerId = required('sign', values['partner-id'], '--partner-id')
 * ```
 */
export function required(command: string, value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`, helpHint(command))
  return value
}

/**
 * Checks that `value` is one of `allowed`.
 *
 * @example
 * ```ts
 * const format = oneOf('audit', '--format', values.format, ['table', 'json', 'html'], 'table')
 * ```
 */
export function oneOf<const T extends string>(
  command: string,
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')}`, helpHint(command))
}

/**
 * The `text | json` output choice of `verify` and `inspect`: `--json` wins, then `--format`, then text on a
 * terminal and JSON when piped.
 *
 * @example
 * ```ts
 * const format = textOrJson('verify', values, context.stdout.isTTY === true)
 * ```
 */
export function textOrJson(
  command: string,
  values: { json?: unknown; format?: unknown },
  isTTY: boolean,
): 'text' | 'json' {
  if (values.json === true) return 'json'
  const format = typeof values.format === 'string' ? values.format : undefined
  return oneOf(command, '--format', format, ['text', 'json'], isTTY ? 'text' : 'json')
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

/**
 * Reads a duration such as `90s`, `10m`, `2h`, `30d` or `1w` (a bare number is milliseconds), or
 * `null` when the text is not one.
 *
 * @example
 * ```ts
 * readDuration('30d') // 2_592_000_000
 * readDuration('soon') // null
 * ```
 */
export function readDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim())
  if (!match) return null
  const amount = Number(match[1])
  const unit = UNIT_MS[match[2] ?? 'ms'] ?? 1
  const ms = amount * unit
  return Number.isFinite(ms) ? Math.round(ms) : null
}

/**
 * A duration option, or a usage error.
 *
 * @example
 * ```ts
 * const maxAgeMs = durationOption('verify', '--max-age', '10m') // 600_000
 * ```
 */
export function durationOption(command: string, flag: string, text: string): number {
  const ms = readDuration(text)
  if (ms === null)
    throw new UsageError(`${flag} must be a duration such as 90s, 10m, 2h or 30d`, helpHint(command))
  return ms
}

/**
 * Formats milliseconds for people: `4m 10s`, `3h 2m`, `12d 4h`.
 *
 * @example
 * ```ts
 * formatDuration(250_000) // '4m 10s'
 * ```
 */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms)
  const seconds = Math.floor(abs / 1000)
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  const unit = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit} ${small}${smallUnit}`
  if (minutes < 60) return unit(minutes, 'm', seconds % 60, 's')
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return unit(hours, 'h', minutes % 60, 'm')
  return unit(Math.floor(hours / 24), 'd', hours % 24, 'h')
}
