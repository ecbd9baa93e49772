#!/usr/bin/env node
/**
 * `smileid-auth`: the command-line adapter over the public API. This file alone touches `process`:
 * it builds the {@link CliContext}, dispatches to one command, and turns the outcome into an exit code
 * (0 ok, 1 rejected, 2 usage or configuration error). User mistakes print one line, never a stack trace.
 *
 * @internal
 * @module
 */
import { readFileSync, realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { EXIT_OK, EXIT_USAGE, UsageError, type CliContext, type Command, type Output } from './context.js'
import { closest } from './suggest.js'
import { colorAllowed } from './style.js'
import { terminalSafe } from './terminal-text.js'

/** A command in the table: its one-line summary and how to load it. */
export interface Entry {
  /** One line for the command list. */
  summary: string
  /** Imports the command's module. */
  load: () => Promise<Command>
}

/**
 * Every command, by name. Loaded on demand so `sign` does not pay for the demo's servers or the audit
 * renderer.
 */
export const COMMANDS: Record<string, Entry> = {
  sign: {
    summary: 'print credential fields (signature or sec_key) for a request',
    load: async () => (await import('./sign.js')).sign,
  },
  verify: {
    summary: 'verify a callback body; exit 0 accepted, 1 rejected',
    load: async () => (await import('./verify.js')).verify,
  },
  inspect: {
    summary: "explain a credential and the likely cause of Smile ID's 2204/2205 errors",
    load: async () => (await import('./inspect.js')).inspect,
  },
  keygen: {
    summary: 'print a fresh set of test keys as JSON',
    load: async () => (await import('./keygen.js')).keygen,
  },
  audit: {
    summary: 'summarize JSONL audit logs: legacy usage per partner and readiness',
    load: async () => (await import('./audit.js')).audit,
  },
  demo: {
    summary: 'run a simulated Smile ID server and a dual-mode receiver on loopback',
    load: async () => (await import('./demo.js')).demo,
  },
  gateway: {
    summary: 'run the verifying inbound / re-signing outbound proxy from a JSON config',
    load: async () => (await import('./gateway.js')).gateway,
  },
  send: {
    summary: "post a signed test callback to your endpoint and print its answer (like 'stripe trigger')",
    load: async () => (await import('./send.js')).send,
  },
}

function topHelp(): string {
  const names = Object.keys(COMMANDS)
  const width = Math.max(...names.map((name) => name.length))
  return `Usage: smileid-auth <command> [options]

Sign and verify Smile ID credentials in both the legacy sec_key and the current signature scheme.

Commands:
${names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name]?.summary ?? ''}`).join('\n')}

Run 'smileid-auth <command> --help' for a command's options.
Exit codes: 0 ok, 1 rejected (audit: not ready), 2 usage or configuration error, 3 (audit only) not enough evidence.
`
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown
    }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

function output(stream: NodeJS.WriteStream): Output {
  const isTTY = stream.isTTY === true
  return { write: (text) => void stream.write(text), isTTY, color: colorAllowed(isTTY, process.env) }
}

/** `--help` or `-h` anywhere before a `--` separator. */
function wantsHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false
    if (arg === '--help' || arg === '-h') return true
  }
  return false
}

/** What {@link runCli} needs from the outside world: a {@link CliContext} without the arguments. */
export type CliIo = Omit<CliContext, 'argv'>

/**
 * Runs one `smileid-auth` invocation against the given streams and environment and returns its exit code
 * (0 ok, 1 rejected, 2 usage). It never touches `process`: the bin below wires it to the real streams,
 * and tests call it in-process.
 *
 * @example
 * ```ts
 * const code = await runCli(['verify', 'callback.json', '--json'], io)
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const { stdout, stderr } = io
  const [name, ...rest] = argv
  if (name === undefined) {
    stderr.write(topHelp())
    return EXIT_USAGE
  }
  if (name === '--help' || name === '-h') {
    stdout.write(topHelp())
    return EXIT_OK
  }
  if (name === '--version' || name === '-v') {
    stdout.write(`${version()}\n`)
    return EXIT_OK
  }
  if (name === 'help') {
    const topic = rest[0] === undefined || !Object.hasOwn(COMMANDS, rest[0]) ? undefined : COMMANDS[rest[0]]
    stdout.write(topic === undefined ? topHelp() : (await topic.load()).help)
    return EXIT_OK
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (entry === undefined) {
    stderr.write(`smileid-auth: ${unknownCommand(name)} (see 'smileid-auth --help')\n`)
    return EXIT_USAGE
  }
  const command = await entry.load()
  if (wantsHelp(rest)) {
    stdout.write(command.help)
    return EXIT_OK
  }
  try {
    return await command.run({ ...io, argv: rest })
  } catch (error) {
    if (error instanceof UsageError) {
      // Messages may quote what a request held (a partner id in a configuration error).
      stderr.write(
        `smileid-auth ${name}: ${terminalSafe(`${error.message}${error.hint === undefined ? '' : ` (${error.hint})`}`)}\n`,
      )
      return EXIT_USAGE
    }
    // Not a user mistake: still one line; the stack only when asked for.
    const message = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error'
    stderr.write(`smileid-auth ${name}: unexpected error: ${terminalSafe(message)}\n`)
    if (io.env.SMILEID_AUTH_DEBUG === '1' && error instanceof Error && error.stack)
      stderr.write(`${error.stack}\n`)
    return EXIT_USAGE
  }
}

/** The message for a first argument that is not a command, with the closest command when one is near. */
function unknownCommand(name: string): string {
  if (name.startsWith('-')) return 'options go after the command'
  const shown = terminalSafe(name.slice(0, 40))
  const near = closest(name, Object.keys(COMMANDS))
  return near === undefined ? `unknown command ${shown}` : `unknown command ${shown}; did you mean ${near}?`
}

/** `true` when this module is the process's entry point (the bin), not imported by a test or a tool. */
function isEntryPoint(): boolean {
  const script = process.argv[1]
  if (script === undefined) return false
  try {
    // npm links the bin through a symlink (node_modules/.bin/smileid-auth): compare real paths.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

function startBin(): void {
  // Piping into `head` closes stdout early; that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  })

  runCli(process.argv.slice(2), {
    env: process.env,
    stdin: process.stdin,
    stdout: output(process.stdout),
    stderr: output(process.stderr),
    now: () => Date.now(),
  }).then(
    (code) => {
      process.exitCode = code
      // Let output drain, but never hang on a handle someone forgot to close.
      setTimeout(() => process.exit(code), 2000).unref()
    },
    (error: unknown) => {
      process.stderr.write(
        `smileid-auth: unexpected error: ${error instanceof Error ? error.message : 'unknown'}\n`,
      )
      process.exitCode = EXIT_USAGE
    },
  )
}

if (isEntryPoint()) startBin()
