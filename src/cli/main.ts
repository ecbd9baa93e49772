#!/usr/bin/env node
/**
 * `smileid-auth`: the command-line adapter over the public API. This file alone touches `process`:
 * it builds the {@link CliContext}, dispatches to one command, and turns the outcome into an exit code
 * (0 ok, 1 rejected, 2 usage or configuration error). User mistakes print one line, never a stack trace.
 *
 * @internal
 * @module
 */
import { readFileSync } from 'node:fs'
import { EXIT_OK, EXIT_USAGE, UsageError, type CliContext, type Command, type Output } from './context.js'
import { colorAllowed } from './style.js'

interface Entry {
  summary: string
  load: () => Promise<Command>
}

// Loaded on demand so `sign` does not pay for the demo's servers or the audit renderer.
const COMMANDS: Record<string, Entry> = {
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
}

function topHelp(): string {
  const names = Object.keys(COMMANDS)
  const width = Math.max(...names.map((name) => name.length))
  return `Usage: smileid-auth <command> [options]

Sign and verify Smile ID credentials in both the legacy sec_key and the current signature scheme.

Commands:
${names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name]?.summary ?? ''}`).join('\n')}

Run 'smileid-auth <command> --help' for a command's options.
Exit codes: 0 ok, 1 rejected, 2 usage or configuration error.
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

async function main(argv: readonly string[]): Promise<number> {
  const stdout = output(process.stdout)
  const stderr = output(process.stderr)
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
    const topic = rest[0] === undefined ? undefined : COMMANDS[rest[0]]
    stdout.write(topic === undefined ? topHelp() : (await topic.load()).help)
    return EXIT_OK
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (entry === undefined) {
    const shown = name.startsWith('-')
      ? 'options go after the command'
      : `unknown command ${name.slice(0, 40)}`
    stderr.write(`smileid-auth: ${shown} (see 'smileid-auth --help')\n`)
    return EXIT_USAGE
  }
  const command = await entry.load()
  if (wantsHelp(rest)) {
    stdout.write(command.help)
    return EXIT_OK
  }
  const context: CliContext = {
    argv: rest,
    env: process.env,
    stdin: process.stdin,
    stdout,
    stderr,
    now: () => Date.now(),
  }
  try {
    return await command.run(context)
  } catch (error) {
    if (error instanceof UsageError) {
      stderr.write(
        `smileid-auth ${name}: ${error.message}${error.hint === undefined ? '' : ` (${error.hint})`}\n`,
      )
      return EXIT_USAGE
    }
    // Not a user mistake: still one line; the stack only when asked for.
    const message = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error'
    stderr.write(`smileid-auth ${name}: unexpected error: ${message}\n`)
    if (process.env.SMILEID_AUTH_DEBUG === '1' && error instanceof Error && error.stack)
      stderr.write(`${error.stack}\n`)
    return EXIT_USAGE
  }
}

// Piping into `head` closes stdout early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
})

main(process.argv.slice(2)).then(
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
