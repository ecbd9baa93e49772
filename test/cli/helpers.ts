/**
 * Runs `smileid-auth` for tests. {@link run} calls the CLI in-process through its injectable context
 * (`runCli` in src/cli/main.ts): no child process, no build needed. {@link spawnCli} runs the BUILT tool
 * (`dist/cli/main.js`) in a child process, as a user would: one smoke test per command uses it, and so does
 * anything that needs node flags or a working directory. `npm test` builds first (`pretest`); alone, run
 * `npm run build` before the smoke tests.
 *
 * @module
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { Readable } from 'node:stream'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import { runCli } from '../../src/cli/main.js'
import type { Output } from '../../src/cli/context.js'
import { expectNoSecrets as expectNoSecretsIn } from '../support/secrets.js'

/** The built entry point. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

/** Fails the suite early, with the fix, when the CLI was not built. */
export function requireBuild(): void {
  if (!existsSync(CLI))
    throw new Error('dist/cli/main.js is missing: run `npx tsc -p tsconfig.build.json` (npm test does)')
}

/** What a run printed and how it ended. */
export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Options of {@link run}. */
export interface RunOptions {
  /** Text piped to stdin; stdin is closed empty when absent. */
  input?: string
  /** Extra environment variables. The parent's SMILEID_* variables are never passed on. */
  env?: Record<string, string>
  /** Runs in a child process from this directory. */
  cwd?: string
  /** Flags for the node process itself, such as `--max-old-space-size=16` (runs in a child process). */
  nodeFlags?: string[]
  /** In-process only: pretend stdout (and stderr) is a terminal, as `--format` defaults and colours see it. */
  tty?: boolean
  /** In-process only: pretend stdin is a terminal (nothing piped in). */
  stdinTTY?: boolean
  /** In-process only: the clock the command sees, epoch ms (default `Date.now`). */
  now?: () => number
}

/**
 * Runs `smileid-auth ...args` in-process and collects its output; with `cwd` or `nodeFlags`, in a child
 * process ({@link spawnCli}).
 */
export async function run(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  if (options.cwd !== undefined || options.nodeFlags !== undefined) return spawnCli(args, options)
  const env: Record<string, string> = { ...options.env }
  const capture = () => {
    let text = ''
    const tty = options.tty === true
    const out: Output & { text: () => string } = {
      write: (chunk) => void (text += chunk),
      isTTY: tty,
      color: tty && env.NO_COLOR === undefined && env.TERM !== 'dumb',
      text: () => text,
    }
    return out
  }
  const stdout = capture()
  const stderr = capture()
  const input = options.input ?? ''
  // A real stream, as process.stdin is: some commands iterate it, some hand it to node:readline.
  const stdin = Object.assign(Readable.from(input === '' ? [] : [Buffer.from(input)]), {
    isTTY: options.stdinTTY === true,
  })
  const code = await runCli(args, { env, stdin, stdout, stderr, now: options.now ?? (() => Date.now()) })
  return { code, stdout: stdout.text(), stderr: stderr.text() }
}

/** Spawns `node dist/cli/main.js ...args` and collects its output. */
export function spawnCli(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('SMILEID_')) env[name] = value
  }
  Object.assign(env, options.env)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), CLI, ...args], {
      env,
      cwd: options.cwd ?? process.cwd(),
      stdio: 'pipe',
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

/** Parses stdout as JSON, failing with the output when it is not. */
export function json<T = Record<string, unknown>>(result: Run): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`)
  }
}

/** Asserts that no secret (nor any part of one) appears in stdout or stderr: the suite's one secret search. */
export function expectNoSecrets(result: Run, secrets: readonly string[]): void {
  expectNoSecretsIn(`${result.stdout}\n${result.stderr}`, secrets, 'CLI output')
}

/** Asserts a usage error: exit 2, exactly one line on stderr, no stack trace. */
export function expectUsageError(result: Run, pattern?: RegExp): void {
  expect(result.code, result.stderr).toBe(2)
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  expect(result.stderr).not.toMatch(/\n\s+at /)
  if (pattern) expect(result.stderr.trimEnd()).toMatch(pattern)
}

/** A scratch directory, removed by the returned function. */
export function scratch(): {
  dir: string
  file: (name: string, content: string) => string
  remove: () => void
} {
  const dir = mkdtempSync(join(tmpdir(), 'smileid-cli-'))
  return {
    dir,
    file: (name, content) => {
      const path = join(dir, name)
      writeFileSync(path, content)
      return path
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
