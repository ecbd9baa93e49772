/**
 * Where the CLI finds keys: flags, key files, or environment variables. Keys are only ever passed to
 * the library; no message names more than where a key came from.
 *
 * @internal
 * @module
 */
import { helpHint } from './args.js'
import { UsageError, type CliContext } from './context.js'
import { readTextFile } from './input.js'

/** The environment variable holding the signature API key. */
export const SIGNATURE_KEY_ENV = 'SMILEID_API_KEY'
/** The environment variable holding the sec_key "API Key for Sec Key" (an RSA public key). */
export const SEC_KEY_ENV = 'SMILEID_SEC_KEY_API_KEY'

/** A key and a description of where it came from, safe to print. */
export interface KeySource {
  key: string
  /** `--api-key`, `--api-key-file keys/sig.txt`, `SMILEID_API_KEY`, … */
  source: string
  /** A key file's content before its final newline was dropped: what code that reads the file untrimmed signs with. */
  raw?: string
}

/** Key flags of `verify` and `inspect`: both may be repeated (key rotation, or two environments). */
export const KEY_OPTIONS = {
  'api-key': { type: 'string', multiple: true },
  'api-key-file': { type: 'string', multiple: true },
  'sec-key-api-key': { type: 'string' },
  'sec-key-api-key-file': { type: 'string' },
} as const

const MAX_KEY_FILE_BYTES = 64 * 1024

/**
 * Collects keys from `--<flag>` values and `--<flag>-file` files; when neither is given, from the
 * environment variable `envName` (if any). Returns an empty list when there is none.
 *
 * @example
 * ```ts
 * const keys = await readKeys(context, 'verify', 'api-key', values['api-key'], values['api-key-file'], SIGNATURE_KEY_ENV)
 * ```
 */
export async function readKeys(
  context: CliContext,
  command: string,
  flag: string,
  values: readonly string[] | string | undefined,
  files: readonly string[] | string | undefined,
  envName: string | undefined,
): Promise<KeySource[]> {
  const given = toList(values)
  const paths = toList(files)
  const keys: KeySource[] = []
  for (const value of given)
    keys.push({ key: checkNonEmpty(command, value, `--${flag}`), source: `--${flag}` })
  for (const path of paths) {
    const text = await readTextFile(path, MAX_KEY_FILE_BYTES)
    // Editors and `echo` end files with a newline that is never part of a key.
    const key = text.replace(/\r?\n$/, '')
    keys.push({
      key: checkNonEmpty(command, key, `--${flag}-file ${path}`),
      source: `--${flag}-file ${path}`,
      ...(key === text ? {} : { raw: text }),
    })
  }
  if (keys.length > 0) return keys
  if (envName === undefined) return keys
  const fromEnv = context.env[envName]
  if (fromEnv !== undefined && fromEnv !== '') keys.push({ key: fromEnv, source: envName })
  return keys
}

/**
 * The one key of a command that takes a single key, or a usage error when there are several.
 *
 * @example
 * ```ts
 * const key = single('sign', keys, 'sec_key API key')
 * ```
 */
export function single(command: string, keys: readonly KeySource[], what: string): KeySource | undefined {
  if (keys.length > 1) throw new UsageError(`give one ${what}, not ${keys.length}`, helpHint(command))
  return keys[0]
}

/** The key flags a command parsed (see {@link KEY_OPTIONS}); `sign` and `send` take them once each. */
export interface KeyFlagValues {
  'api-key'?: readonly string[] | string | undefined
  'api-key-file'?: readonly string[] | string | undefined
  'sec-key-api-key'?: string | undefined
  'sec-key-api-key-file'?: string | undefined
}

/**
 * The signature API keys from `--api-key` / `--api-key-file`, else `SMILEID_API_KEY`.
 *
 * @example
 * ```ts
 * const keys = await readSignatureKeys(context, 'verify', values) // [] when none is given
 * ```
 */
export function readSignatureKeys(
  context: CliContext,
  command: string,
  values: KeyFlagValues,
): Promise<KeySource[]> {
  return readKeys(context, command, 'api-key', values['api-key'], values['api-key-file'], SIGNATURE_KEY_ENV)
}

/**
 * The one sec_key API key from `--sec-key-api-key` / `--sec-key-api-key-file`, else
 * `SMILEID_SEC_KEY_API_KEY`; `undefined` when none is given.
 *
 * @example
 * ```ts
 * const key = await readSecKeyKey(context, 'verify', values)
 * ```
 */
export async function readSecKeyKey(
  context: CliContext,
  command: string,
  values: KeyFlagValues,
): Promise<KeySource | undefined> {
  const keys = await readKeys(
    context,
    command,
    'sec-key-api-key',
    values['sec-key-api-key'],
    values['sec-key-api-key-file'],
    SEC_KEY_ENV,
  )
  return single(command, keys, 'sec_key API key')
}

function toList(value: readonly string[] | string | undefined): readonly string[] {
  if (value === undefined) return []
  return typeof value === 'string' ? [value] : value
}

function checkNonEmpty(command: string, key: string, source: string): string {
  if (key.trim() === '') throw new UsageError(`the key from ${source} is empty`, helpHint(command))
  return key
}
