/**
 * What a CLI command gets from the outside world. Only `main.ts` builds it from `process`, so commands
 * never touch `process` themselves and exit codes are decided in one place.
 *
 * @internal
 * @module
 */

/** A place to write text: stdout or stderr, with what is known about the terminal behind it. */
export interface Output {
  /** Writes text as is (add the newline yourself). */
  write(text: string): void
  /** `true` when a person is probably reading: the stream is a terminal. */
  readonly isTTY: boolean
  /** `true` when ANSI colours may be used: a terminal, and `NO_COLOR` is not set. */
  readonly color: boolean
}

/** The input stream (stdin). */
export interface Input extends AsyncIterable<Buffer | string> {
  /** `true` when stdin is a terminal, so nothing was piped in. */
  readonly isTTY?: boolean | undefined
}

/** Everything a command may use from its environment. */
export interface CliContext {
  /** The command's own arguments (after the command name). */
  readonly argv: readonly string[]
  /** Environment variables. */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly stdin: Input
  readonly stdout: Output
  readonly stderr: Output
  /** The current time in epoch milliseconds. */
  readonly now: () => number
}

/** Exit codes: 0 ok, 1 a credential was rejected, 2 a usage or configuration error. */
export const EXIT_OK = 0
export const EXIT_REJECTED = 1
export const EXIT_USAGE = 2

/**
 * A mistake by the person running the command: a bad flag, a missing key, an unreadable file.
 * `main` prints it as one line on stderr, with a hint, and exits 2. Messages never quote a key.
 *
 * @example
 * ```ts
 * if (keys.length === 0) throw new UsageError('no key given', 'use --api-key-file or SMILEID_API_KEY')
 * ```
 */
export class UsageError extends Error {
  /** A short pointer to what to do next, printed after the message. */
  readonly hint: string | undefined

  constructor(message: string, hint?: string) {
    super(message)
    this.name = 'UsageError'
    this.hint = hint
  }
}

/** A command: parses its own arguments and returns an exit code. */
export interface Command {
  /** The full `--help` text. */
  readonly help: string
  /** Runs the command; throws {@link UsageError} for usage mistakes. */
  run(context: CliContext): Promise<number>
}
