/**
 * Asserts that an output (a result, an error, an audit line, a log, CLI text, an HTTP body) carries none
 * of the secrets a test used: API keys, private key material, signatures and sec_keys. The one secret
 * search of the suite: every test that checks for leaks calls {@link expectNoSecrets} here.
 *
 * A secret counts as leaked when any run of {@link FRAGMENT} characters of it shows up, so a key quoted
 * in part (a parser's "Unexpected token … in JSON" snippet, a truncated log line) is caught too. PEM keys
 * are checked by their base64 body line by line, so JSON-escaped line breaks cannot hide them.
 *
 * @module
 */
import { inspect } from 'node:util'

import { expect } from 'vitest'

/** The shortest run of a secret's characters that counts as a leak. */
export const FRAGMENT = 16

/** A secret with a name for the failure message. */
export interface NamedSecret {
  name: string
  value: string
}

/** The base64 lines of a PEM (or of base64 of a PEM), which carry the key material. */
export function pemBodyLines(pem: string): string[] {
  const text = /-----BEGIN/.test(pem) ? pem : Buffer.from(pem.replace(/\s+/g, ''), 'base64').toString('utf8')
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('-----'))
}

/**
 * The strings to look for: each secret whole and, for PEM text, each body line. The RSA half of a sec_key
 * is what makes it secret: its hash half is a public function of the partner id and the timestamp.
 */
export function secretsOf(named: Record<string, string | readonly string[]>): NamedSecret[] {
  const out: NamedSecret[] = []
  for (const [name, values] of Object.entries(named)) {
    for (const value of typeof values === 'string' ? [values] : values) {
      if (/-----BEGIN/.test(value) || /^LS0tLS1CRUdJT/.test(value)) {
        pemBodyLines(value).forEach((line, i) =>
          out.push({ name: `${name} (PEM line ${i + 1})`, value: line }),
        )
        // The portal's base64-of-PEM form is itself a string a leak would quote.
        if (!/-----BEGIN/.test(value)) out.push({ name, value: value.replace(/\s+/g, '') })
      } else if (/^[A-Za-z0-9+/=\r\n]+\|[0-9a-f]{64}$/.test(value)) {
        out.push({
          name: `${name} (RSA half)`,
          value: value.slice(0, value.indexOf('|')).replace(/\s+/g, ''),
        })
      } else {
        out.push({ name, value })
      }
    }
  }
  return out
}

/** Turns anything into the text a log, a response or a file would hold: strings as is, errors with their causes. */
export function serialize(output: unknown): string {
  if (typeof output === 'string') return output
  if (output instanceof Uint8Array) return Buffer.from(output).toString('utf8')
  let json = ''
  try {
    json =
      JSON.stringify(output, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)) ??
      ''
  } catch {
    json = ''
  }
  // inspect shows what console.log / a logger would: error messages, stacks, causes, own properties.
  return `${json}\n${inspect(output, { depth: Infinity, showHidden: false, maxArrayLength: Infinity, maxStringLength: Infinity })}`
}

/** The first secret (by name) with a `fragment`-character run inside `text`, or `null`. */
export function findSecret(
  text: string,
  secrets: readonly NamedSecret[],
  fragment = FRAGMENT,
): NamedSecret | null {
  if (text.length === 0) return null
  const fragments = new Map<string, NamedSecret>()
  for (const secret of secrets) {
    if (secret.value.length <= fragment) {
      if (secret.value.length > 0 && text.includes(secret.value)) return secret
      continue
    }
    for (let i = 0; i + fragment <= secret.value.length; i++)
      fragments.set(secret.value.slice(i, i + fragment), secret)
  }
  if (fragments.size === 0) return null
  // One pass over the text: a fragment table beats indexOf per fragment on multi-megabyte outputs.
  for (let i = 0; i + fragment <= text.length; i++) {
    const hit = fragments.get(text.slice(i, i + fragment))
    if (hit !== undefined) return hit
  }
  return null
}

/** What {@link expectNoSecrets} searches for: named secrets, or plain values (named by their position). */
export type SecretList = ReadonlyArray<NamedSecret | string | number>

/**
 * Named secrets from a mixed list. A plain value is read as {@link secretsOf} reads it (PEM body lines,
 * the RSA half of a sec_key) and is also searched for whole: a sec_key's hash half is public, but an
 * output that quotes the whole credential still echoes it. Values no longer than a fragment are searched
 * for whole; empty ones are skipped.
 */
export function namedSecrets(list: SecretList): NamedSecret[] {
  const out: NamedSecret[] = []
  list.forEach((entry, i) => {
    if (typeof entry === 'object') {
      out.push(entry)
      return
    }
    const value = String(entry)
    if (value.length === 0) return
    const name = `secret ${i + 1}`
    out.push(...secretsOf({ [name]: value }))
    if (!out.some((secret) => secret.value === value)) out.push({ name, value })
    // A key pasted with line breaks may be printed without them.
    const compact = value.replace(/\s+/g, '')
    if (compact !== value && compact.length > 0) out.push({ name: `${name} (no whitespace)`, value: compact })
  })
  return out
}

/**
 * Fails when `output`, serialized ({@link serialize}: JSON, and what a logger prints of errors, causes and
 * stacks), contains any of `secrets`: whole, or any run of `fragment` (default {@link FRAGMENT})
 * characters of one. `where` names the output in the failure; `fragment` lowers the run length that
 * counts (a JSON parser quotes about ten characters of its input).
 *
 * @example
 * ```ts
 * const secrets = secretsOf({ apiKey, privateKey: pem, signature })
 * expectNoSecrets(result, secrets, 'verify() result')
 * expectNoSecrets(error, [API_KEY]) // plain values work too
 * ```
 */
export function expectNoSecrets(
  output: unknown,
  secrets: SecretList,
  where = 'output',
  options: { fragment?: number } = {},
): void {
  const hit = findSecret(serialize(output), namedSecrets(secrets), options.fragment)
  expect(hit === null ? null : `${where} contains ${hit.name}`).toBeNull()
}
