/**
 * The analysis behind `smileid-auth inspect`: what a credential is, whether it is well-formed, and, given
 * keys, why it does not verify — the usual causes of Smile ID's 2204/2205 "not authorized" errors.
 *
 * Every check goes through the public strategies ({@link SignatureAuth}, {@link LegacySecKeyAuth}); the
 * variant search re-verifies the credential against plausible mistakes (partner id spelling, timestamp
 * re-serialised, local time marked `Z`, whitespace in the key) and reports the one that matches.
 * Findings never contain a key, signature or sec_key: only partner ids, timestamps and key sources.
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto'
import {
  isDigitPartnerId,
  readCredentialClaim,
  readPartnerClaim,
  readTimestampClaim,
  samePartner,
  type PartnerClaim,
} from '../claims.js'
import { LegacySecKeyAuth, SignatureAuth, type Scheme } from '../index.js'
import { formatDuration } from './args.js'
import type { KeySource } from './key-input.js'
import {
  describeTimestamp,
  formatOffset,
  localTimeSpellings,
  offsetFromLocalTime,
  respellings,
} from './spelling.js'
import { isRsaPublicKey } from './strategies.js'

/** How much a finding matters. */
export type Level = 'ok' | 'info' | 'warn' | 'error'

/** One observation, with a stable code (documented in docs/troubleshooting.md). */
export interface Finding {
  level: Level
  code: string
  message: string
}

/** Everything `inspect` reports. */
export interface Inspection {
  scheme: Scheme | null
  transport: 'body' | 'headers' | null
  partnerId: string | null
  timestamp: {
    value: string | number
    spelling: string
    instant: string | null
    /** Milliseconds between the timestamp and the reference time (positive: in the past). */
    ageMs: number | null
  } | null
  /**
   * `match`: a key verifies the credential as sent; `mismatch`: keys were given and none does;
   * `not_checked`: no key was given, or (a partner's sec_key) the key given cannot check it.
   */
  keyCheck: 'match' | 'mismatch' | 'not_checked'
  findings: Finding[]
  /** The most likely reason the credential is refused, or `null` when nothing is wrong. */
  likelyCause: Finding | null
}

/** What `inspect` was given. */
export interface InspectInput {
  body: Record<string, unknown>
  /** Request headers, lowercase names; a header given more than once holds every value. */
  headers: Record<string, string | string[]>
  /** `--partner-id`: the id as configured (the portal's spelling). */
  configuredPartnerId: string | undefined
  signatureKeys: readonly KeySource[]
  secKeyKey: KeySource | undefined
  /** `--url`: where the request was sent. */
  url: string | undefined
  /** The time the request was sent or received, epoch ms. */
  referenceMs: number
  /** `true` when the reference time came from `--received-at`, not the clock. */
  referenceGiven: boolean
  /** The freshness window a default verifier applies. */
  windowMs: number
}

const SIGNATURE_FORMAT = /^[A-Za-z0-9+/]{43}=$/

// Causes found by re-verifying a variant: these explain a mismatch precisely.
const CAUSE_CODES = new Set([
  'key_whitespace',
  'partner_id_leading_zeros',
  'partner_id_mismatch',
  'timestamp_reserialized',
  'local_time_marked_z',
  'signature_key_is_sec_key',
  'sec_key_key_not_rsa',
  'signature_hex',
  'signature_base64url',
  'signature_unpadded',
  'signature_whitespace',
  'sec_key_hash_uppercase',
])

/**
 * Analyses one request body (and headers). Never throws on what the body holds.
 *
 * @example
 * ```ts
 * const report = await inspectCredential({ body, headers: {}, configuredPartnerId: '085', signatureKeys, secKeyKey: undefined,
 *   url: undefined, referenceMs: Date.now(), referenceGiven: false, windowMs: 300_000 })
 * console.log(report.likelyCause?.code) // 'partner_id_leading_zeros'
 * ```
 */
export async function inspectCredential(input: InspectInput): Promise<Inspection> {
  const findings: Finding[] = []
  const add = (level: Level, code: string, message: string) => void findings.push({ level, code, message })

  // What the request claims is read by the library's claim reader, the one the verifier calls: inspect
  // and verify cannot disagree about the scheme, the partner or the timestamp a request names.
  const credential = readCredentialClaim(input.body, input.headers)
  const partner = readPartnerClaim(input.body, input.headers, credential.ok ? credential.transport : 'body')
  const inspection: Inspection = {
    scheme: credential.ok ? credential.scheme : null,
    transport: credential.ok ? credential.transport : null,
    partnerId: partner.ok ? partner.partnerId : null,
    timestamp: null,
    keyCheck: 'not_checked',
    findings,
    likelyCause: null,
  }
  if (!credential.ok) {
    if (credential.reason === 'missing_credentials') {
      add(
        'error',
        'no_credential',
        'no signature or sec_key field (or SmileID-Request-Signature header) was found',
      )
    } else {
      add(
        'error',
        'credentials_malformed',
        `${credential.message}: a verifier refuses the request as malformed_credentials`,
      )
    }
    return finish(inspection)
  }
  const claim = credential
  if (claim.both)
    add(
      'info',
      'both_credentials',
      'both signature and sec_key are present: verifiers decide on the signature alone',
    )
  if (claim.secKeyInSignatureField) {
    add(
      'info',
      'sec_key_in_signature_field',
      'the "signature" field holds a legacy sec_key value (as job_status responses do)',
    )
  }
  add('info', 'scheme', `${claim.scheme} scheme, found in the ${claim.transport}`)

  // Partner id: the request's claim against the configured one.
  if (!partner.ok) {
    add(
      'error',
      'partner_id_malformed',
      `${partner.message}: a verifier refuses the request as malformed_credentials`,
    )
  }
  const partnerIds = partnerCandidates(
    partner.ok ? partner : NO_PARTNER_CLAIM,
    input.configuredPartnerId,
    partner.ok,
    add,
  )
  const partnerId = partnerIds[0]

  // Timestamp.
  const claimedTimestamp = readTimestampClaim(claim.timestamp)
  const timestamp = claimedTimestamp.ok ? claimedTimestamp.value : undefined
  let spelling: ReturnType<typeof describeTimestamp> | null = null
  if (!claimedTimestamp.ok) {
    if (claimedTimestamp.reason === 'missing_credentials')
      add('error', 'timestamp_missing', 'the timestamp is missing')
    else add('error', 'timestamp_malformed', claimedTimestamp.message)
  } else if (timestamp !== undefined) {
    spelling = describeTimestamp(timestamp)
    // The instant and the window verdict come from the library itself, so inspect calls a timestamp a
    // problem exactly when `verify` refuses it; the spelling only explains it.
    const library = await libraryFreshness(timestamp, input)
    const ageMs = library.ms === null ? null : input.referenceMs - library.ms
    inspection.timestamp = {
      value: timestamp,
      spelling: spelling.description,
      instant: library.ms === null ? null : new Date(library.ms).toISOString(),
      ageMs,
    }
    checkTimestamp(claim.scheme, timestamp, spelling, library, ageMs, input, add)
  }

  // Well-formedness and key checks, per scheme.
  const ts = timestamp
  if (claim.scheme === 'signature') {
    const signature = checkSignatureShape(claim.credential, add)
    const rsaKeys = input.signatureKeys.filter(({ key }) => isRsaPublicKey(key))
    for (const { source } of rsaKeys) {
      add(
        'error',
        'signature_key_is_sec_key',
        `the key from ${source} is an RSA public key: that is the "API Key for Sec Key" of the legacy scheme; the signature scheme needs the portal's signature API key`,
      )
    }
    const hmacKeys = input.signatureKeys.filter((key) => !rsaKeys.includes(key))
    if (signature !== null && ts !== undefined && partnerId !== undefined && hmacKeys.length > 0) {
      inspection.keyCheck = await diagnoseSignature(signature, ts, spelling, partnerIds, hmacKeys, add)
    } else if (input.signatureKeys.length === 0) {
      add(
        'info',
        'keys_not_given',
        `give the signature API key (--api-key-file or SMILEID_API_KEY) to check the signature and find the cause`,
      )
    }
  } else {
    const parsed = checkSecKeyShape(claim.credential, add)
    const digitIds = partnerIds.filter(isDigitPartnerId)
    if (partnerId !== undefined && digitIds.length === 0) {
      add(
        'error',
        'partner_id_not_digits',
        'the sec_key scheme hashes the integer value of the partner id, which must be digits',
      )
    }
    if (parsed !== null && ts !== undefined && digitIds.length > 0) {
      const hashCause = diagnoseHash(parsed.hash, ts, spelling, digitIds, add)
      // An RSA key given as the signature key is most likely meant for this sec_key.
      const key = input.secKeyKey ?? input.signatureKeys.find(({ key: k }) => isRsaPublicKey(k))
      if (key !== undefined) {
        inspection.keyCheck = await diagnoseSecKeyRsa(
          claim.credential as string,
          ts,
          hashCause,
          digitIds[0]!,
          key,
          isFromSmile(input.body),
          add,
        )
      } else {
        add(
          'info',
          'keys_not_given',
          'give the sec_key API key (--sec-key-api-key-file or SMILEID_SEC_KEY_API_KEY) to check the RSA half',
        )
      }
    }
  }
  environmentFinding(input.url, add)
  return finish(inspection)
}

/** Picks the likely cause: a precisely matched mistake first, then any other error. */
function finish(inspection: Inspection): Inspection {
  const errors = inspection.findings.filter((finding) => finding.level === 'error')
  inspection.likelyCause = errors.find((finding) => CAUSE_CODES.has(finding.code)) ?? errors[0] ?? null
  return inspection
}

/** No partner named: what {@link partnerCandidates} is given when the request's partner claim is malformed. */
const NO_PARTNER_CLAIM: PartnerClaim = { ok: true, partnerId: null, source: null, isNumber: false }

/** The partner ids to try, the request's own first; adds findings about their spelling. */
function partnerCandidates(
  claim: PartnerClaim,
  configured: string | undefined,
  readable: boolean,
  add: (l: Level, c: string, m: string) => void,
): string[] {
  const ids: string[] = []
  const claimed = claim.partnerId
  if (claimed === null && configured === undefined) {
    // A partner claim already reported as malformed needs no second finding.
    if (!readable) return ids
    add(
      'warn',
      'partner_id_missing',
      'the request names no partner id; give --partner-id to check the credential',
    )
    return ids
  }
  if (claim.isNumber) {
    add(
      'warn',
      'partner_id_number',
      `partner_id is a JSON number (${claimed}): leading zeros are lost, so "085" becomes 85; send it as a string exactly as the portal shows it`,
    )
  }
  if (claimed !== null) ids.push(claimed)
  if (configured !== undefined && configured !== claimed) {
    if (claimed !== null) {
      // The verifier's equality: the same partner, spelled differently, is found; another is not.
      const sameNumber = samePartner(claimed, configured)
      add(
        sameNumber ? 'warn' : 'error',
        sameNumber ? 'partner_id_spelling' : 'partner_id_mismatch',
        sameNumber
          ? `the request says partner ${claimed}, you configured ${configured}: the signature scheme signs the id verbatim, so these are different messages`
          : `the request says partner ${claimed}, you configured ${configured}`,
      )
    }
    ids.push(configured)
  }
  // Zero-padding variants of a numeric id: "85" and "085" sign different messages.
  for (const id of [...ids]) {
    if (!isDigitPartnerId(id)) continue
    const plain = String(Number(id))
    for (const variant of [plain, plain.padStart(3, '0'), plain.padStart(4, '0')])
      if (!ids.includes(variant)) ids.push(variant)
  }
  return ids
}

/** How the library reads a timestamp: its instant, and the verdict of a default freshness window. */
interface LibraryFreshness {
  /** Epoch ms as the verifier reads it, or `null` when it cannot read the timestamp as an instant. */
  ms: number | null
  /** `null` inside the window; else the reason a verifier with this window gives. */
  reason: 'timestamp_expired' | 'timestamp_in_future' | 'malformed_credentials' | null
}

// A throwaway key: the probe signs the timestamp itself, so only the library's reading of it is tested.
const PROBE_KEY = 'inspect-timestamp-probe'

/**
 * Asks the library how it reads `timestamp`: signs it with a throwaway key and verifies it with and
 * without the freshness window. No second timestamp parser to drift from the verifier's.
 */
async function libraryFreshness(timestamp: string | number, input: InspectInput): Promise<LibraryFreshness> {
  let probe: SignatureAuth
  let credentials: { signature: string; timestamp: string | number }
  try {
    probe = new SignatureAuth({ partnerId: 'probe', apiKey: PROBE_KEY })
    credentials = await probe.sign({ timestamp })
  } catch {
    return { ms: null, reason: 'malformed_credentials' }
  }
  const plain = await probe.verify(credentials)
  const issued = plain.ok ? plain.issuedAt?.getTime() : undefined
  const ms = issued === undefined || !Number.isFinite(issued) ? null : issued
  const windowed = await probe.verify(credentials, {
    freshness: { maxAgeMs: input.windowMs, maxFutureMs: input.windowMs, now: input.referenceMs },
  })
  if (windowed.ok) return { ms, reason: null }
  const reason = windowed.reason
  return {
    ms,
    reason:
      reason === 'timestamp_expired' || reason === 'timestamp_in_future' ? reason : 'malformed_credentials',
  }
}

/** `Tue Dec 01 2026 19:41:58 GMT+0000 (Coordinated Universal Time)`: JavaScript's `Date#toString()`. */
const DATE_TO_STRING = /^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4}/

function checkTimestamp(
  scheme: Scheme,
  value: string | number,
  spelling: ReturnType<typeof describeTimestamp>,
  library: LibraryFreshness,
  ageMs: number | null,
  input: InspectInput,
  add: (l: Level, c: string, m: string) => void,
) {
  const reference = input.referenceGiven ? 'the --received-at time' : 'now'
  const when =
    ageMs === null
      ? ''
      : ageMs >= 0
        ? `, ${formatDuration(ageMs)} before ${reference}`
        : `, ${formatDuration(-ageMs)} after ${reference}`
  add(
    'info',
    'timestamp_spelling',
    `timestamp ${JSON.stringify(value)}: ${spelling.description}${library.ms === null ? '' : ` = ${new Date(library.ms).toISOString()}${when}`}`,
  )
  if (library.ms === null || library.reason === 'malformed_credentials') {
    const toString = typeof value === 'string' && DATE_TO_STRING.test(value)
    add(
      'error',
      'timestamp_unreadable',
      `${toString ? "the timestamp is JavaScript's new Date().toString(), which" : 'the timestamp'} cannot be read as an instant: a verifier with a freshness window (the default) rejects it as malformed_credentials; send ISO 8601, e.g. new Date().toISOString()`,
    )
    return
  }
  if (spelling.naive) {
    add(
      'warn',
      'timestamp_naive',
      'the timestamp has no zone: it is read as UTC; if the sender wrote local time, the instant is off by its UTC offset',
    )
  }
  if (scheme === 'signature' && typeof value === 'string' && !spelling.documented) {
    add(
      'info',
      'timestamp_format',
      "Smile ID documents the signature timestamp as yyyy-MM-dd'T'HH:mm:ss.fffK (e.g. 2023-11-14T22:13:20.000Z)",
    )
  }
  if (spelling.utc && spelling.ms !== null && ageMs !== null) {
    const offset = offsetFromLocalTime(spelling.ms, input.referenceMs, input.referenceGiven)
    if (offset !== null) {
      // Ahead of the clock by a whole offset (or away from a known receive time): refused as too new.
      add(
        'error',
        'local_time_marked_z',
        `the timestamp is ${formatDuration(Math.abs(ageMs))} ${ageMs < 0 ? 'ahead of' : 'behind'} ${reference}, a whole UTC offset: the sender probably wrote its local time (${formatOffset(offset)}) and marked it as UTC`,
      )
    }
  }
  if (ageMs !== null && library.reason !== null) {
    // Old compared with now proves nothing for a captured request; in the future, or old at a known
    // receive time, it is a reason to refuse.
    const definite = input.referenceGiven || library.reason === 'timestamp_in_future'
    add(
      definite ? 'error' : 'warn',
      'timestamp_outside_window',
      `outside the ${formatDuration(input.windowMs)} freshness window: a default verifier rejects it as ${library.reason}${windowAdvice(library.reason, definite)}`,
    )
  }
}

/** What can change a freshness verdict: for the past a wider window; for the future only the clocks. */
function windowAdvice(reason: 'timestamp_expired' | 'timestamp_in_future', definite: boolean): string {
  if (reason === 'timestamp_in_future')
    return " (the sender's clock, or this one, is ahead: check both (NTP); 'verify --max-future' tolerates a known skew)"
  return definite
    ? ' (it was already too old when it was received: a slow sender or queue, or a clock behind)'
    : " (fine for a captured request: give --received-at, or use 'verify --max-age' / '--no-freshness')"
}

/** Checks the signature's shape; returns the canonical form worth verifying, or `null`. */
function checkSignatureShape(value: unknown, add: (l: Level, c: string, m: string) => void): string | null {
  if (typeof value !== 'string') {
    add('error', 'signature_malformed', 'the signature must be a string')
    return null
  }
  if (SIGNATURE_FORMAT.test(value)) {
    add('ok', 'signature_well_formed', 'the signature is 44 characters of standard padded base64 (32 bytes)')
    return value
  }
  let repaired = value
  if (/\s/.test(repaired)) {
    add(
      'error',
      'signature_whitespace',
      'the signature contains spaces or line breaks: send it exactly as computed',
    )
    repaired = repaired.replace(/\s+/g, '')
  }
  if (/^[0-9a-fA-F]{64}$/.test(repaired)) {
    add('error', 'signature_hex', 'the signature is 64 hex digits: the HMAC must be base64-encoded, not hex')
    return Buffer.from(repaired, 'hex').toString('base64')
  }
  if (/[-_]/.test(repaired) && /^[A-Za-z0-9\-_]+=*$/.test(repaired)) {
    add(
      'error',
      'signature_base64url',
      "the signature uses base64url ('-' and '_'): Smile ID expects standard base64 ('+' and '/')",
    )
    repaired = repaired.replace(/-/g, '+').replace(/_/g, '/')
  }
  if (/^[A-Za-z0-9+/]{43}$/.test(repaired)) {
    add('error', 'signature_unpadded', "the signature lacks its '=' padding: Smile ID expects 44 characters")
    repaired += '='
  }
  if (SIGNATURE_FORMAT.test(repaired)) return repaired
  add(
    'error',
    'signature_malformed',
    `the signature is ${value.length} characters; a signature is 44 characters of standard padded base64`,
  )
  return null
}

type Add = (l: Level, c: string, m: string) => void

/** Verifies the signature with each key; on failure, searches for the mistake that explains it. */
async function diagnoseSignature(
  signature: string,
  timestamp: string | number,
  spelling: ReturnType<typeof describeTimestamp> | null,
  partnerIds: readonly string[],
  keys: readonly KeySource[],
  add: Add,
): Promise<'match' | 'mismatch'> {
  const cache = new Map<string, SignatureAuth | null>()
  const auth = (partnerId: string, key: string): SignatureAuth | null => {
    const id = `${partnerId}\u0000${key}`
    if (!cache.has(id)) {
      try {
        cache.set(id, new SignatureAuth({ partnerId, apiKey: key }))
      } catch {
        cache.set(id, null)
      }
    }
    return cache.get(id) ?? null
  }
  const verifies = async (partnerId: string, key: string, ts: string | number) => {
    const result = await auth(partnerId, key)?.verify({ signature, timestamp: ts })
    return result?.ok === true ? result : null
  }
  const claimed = partnerIds[0]!

  // 1. As sent.
  for (const [index, { key, source }] of keys.entries()) {
    const result = await verifies(claimed, key, timestamp)
    if (result === null) continue
    add('ok', 'key_matches', `the signature verifies with the key from ${source} (${result.keyId})`)
    // It verifies here, but with a key that carries whitespace: Smile ID's copy of the key has none.
    if (key.trim() !== key || /\s/.test(key))
      add('error', 'key_whitespace', keyWhitespaceMessage(source, key))
    if (result.warnings.includes('timestamp_coerced')) {
      add(
        'info',
        'timestamp_coerced',
        'signed over the ISO form of this number, as Node SDK 3.x does: accepted with a warning',
      )
    }
    if (index > 0) {
      add(
        'warn',
        'key_matches_other',
        `only key #${index + 1} matches: if your keys are for different environments, the request was signed for that key's environment`,
      )
    }
    return 'match'
  }

  // 2. Whitespace in the key: the sender signed with the key file's trailing newline (read untrimmed),
  // or the key given here has stray whitespace that the sender's copy lacks.
  for (const { key, source, raw } of keys) {
    for (const padded of new Set([raw ?? key, `${key}\n`, `${key}\r\n`, `${key} `])) {
      if (padded === key) continue
      if (await verifies(claimed, padded, timestamp)) {
        add('error', 'key_whitespace', keyWhitespaceMessage(source, padded))
        return 'mismatch'
      }
    }
    for (const cleaned of new Set([key.trim(), key.replace(/\s+/g, '')])) {
      if (cleaned === key || cleaned === '') continue
      if (await verifies(claimed, cleaned, timestamp)) {
        add(
          'error',
          'key_whitespace',
          `the signature verifies once whitespace is removed from the key from ${source}: the key has stray spaces or line breaks`,
        )
        return 'mismatch'
      }
    }
  }

  // 3. Another spelling of the partner id.
  for (const partnerId of partnerIds.slice(1)) {
    for (const { key } of keys) {
      if (await verifies(partnerId, key, timestamp)) {
        const zeros = samePartner(partnerId, claimed)
        add(
          'error',
          zeros ? 'partner_id_leading_zeros' : 'partner_id_mismatch',
          zeros
            ? `signed with partner id "${partnerId}" but the request says "${claimed}": the signature scheme uses the portal's spelling verbatim (e.g. "085", not 85)`
            : `signed for partner "${partnerId}", but the request says "${claimed}"`,
        )
        return 'mismatch'
      }
    }
  }

  // 4. The timestamp re-serialised between signing and sending, or local time marked Z.
  if (spelling?.ms !== null && spelling !== null) {
    const ms = spelling.ms
    for (const partnerId of partnerIds) {
      for (const { key } of keys) {
        for (const variant of respellings(timestamp, ms, spelling.fraction)) {
          if (await verifies(partnerId, key, variant)) {
            add(
              'error',
              'timestamp_reserialized',
              `signed over the timestamp "${variant}" but sent ${JSON.stringify(timestamp)}: the timestamp was re-serialised between signing and sending; send the exact string that was signed`,
            )
            if (partnerId !== claimed)
              add(
                'error',
                'partner_id_mismatch',
                `and signed with partner id "${partnerId}", not "${claimed}"`,
              )
            return 'mismatch'
          }
        }
        for (const { text, offsetMinutes } of localTimeSpellings(ms)) {
          if (await verifies(partnerId, key, text)) {
            add(
              'error',
              'local_time_marked_z',
              `signed over "${text}", the sender's local time (${formatOffset(offsetMinutes)})${text.endsWith('Z') ? ' marked as UTC' : ''}, but sent ${JSON.stringify(timestamp)}`,
            )
            return 'mismatch'
          }
        }
      }
    }
  }

  add(
    'error',
    'no_key_matches',
    `the signature matches none of the ${keys.length} key(s) given, under every variant tried (partner id spellings, timestamp spellings, local-time offsets, key whitespace): most likely a key from the other environment (sandbox and production keys differ, and a key does not say which it is), a rotated key, or a different signer`,
  )
  return 'mismatch'
}

/** Says where the whitespace of the key that signed is, and why Smile ID then answers 2205. */
function keyWhitespaceMessage(source: string, signingKey: string): string {
  const end = /[\r\n]$/.test(signingKey)
    ? 'a trailing line break'
    : signingKey.trim() !== signingKey
      ? 'leading or trailing spaces'
      : 'spaces or line breaks inside it'
  return `the signature was made with the key from ${source} including ${end}: Smile ID's copy of the key has no such whitespace, so it answers 2205 (not authorized); trim the key where your code reads it (a key file's final newline is the usual cause)`
}

function checkSecKeyShape(value: unknown, add: Add): { rsa: string; hash: string } | null {
  if (typeof value !== 'string') {
    add('error', 'sec_key_malformed', 'the sec_key must be a string')
    return null
  }
  const parts = value.split('|')
  if (parts.length !== 2) {
    add(
      'error',
      'sec_key_malformed',
      'a sec_key is "<base64 RSA block>|<64 hex digits>" with exactly one "|"',
    )
    return null
  }
  const [rsaText = '', hashText = ''] = parts
  const rsa = rsaText.replace(/\s+/g, '')
  let hash = hashText
  if (!/^[0-9a-f]{64}$/.test(hash)) {
    if (/^[0-9A-Fa-f]{64}$/.test(hash)) {
      add(
        'error',
        'sec_key_hash_uppercase',
        'the hash half is upper-case hex: the scheme uses lower-case hex',
      )
      hash = hash.toLowerCase()
    } else {
      add(
        'error',
        'sec_key_malformed',
        `the hash half is ${hashText.length} characters; it must be 64 lower-case hex digits`,
      )
      return null
    }
  }
  if (rsa.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(rsa) || rsa.length % 4 !== 0) {
    add('error', 'sec_key_malformed', 'the RSA half is not standard base64')
    return null
  }
  if (rsa !== rsaText)
    add('info', 'sec_key_line_breaks', 'the RSA half has line breaks (as Ruby SDKs send it): accepted')
  const bits = Buffer.from(rsa, 'base64').length * 8
  add('ok', 'sec_key_well_formed', `the sec_key is well-formed: an RSA-${bits} block and a SHA-256 hash half`)
  return { rsa, hash }
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')

/**
 * Checks the hash half against `sha256(int(partnerId) + ":" + timestamp)`; on a mismatch, finds the
 * variant the sender hashed. Returns the timestamp that was hashed, when found.
 */
function diagnoseHash(
  hash: string,
  timestamp: string | number,
  spelling: ReturnType<typeof describeTimestamp> | null,
  partnerIds: readonly string[],
  add: Add,
): { timestamp: string | number } | null {
  const claimed = partnerIds[0]!
  const preimage = (id: string, ts: string | number) => `${Number.parseInt(id, 10)}:${String(ts)}`
  if (sha256(preimage(claimed, timestamp)) === hash) {
    add(
      'ok',
      'sec_key_hash_matches',
      `the hash half is sha256("${preimage(claimed, timestamp)}"), as it must be`,
    )
    return { timestamp }
  }
  if (/^0\d+$/.test(claimed) && sha256(`${claimed}:${String(timestamp)}`) === hash) {
    add(
      'error',
      'partner_id_leading_zeros',
      `the hash half was computed over "${claimed}:…" but the scheme hashes the integer value ("${Number.parseInt(claimed, 10)}:…")`,
    )
    return null
  }
  for (const id of partnerIds.slice(1)) {
    if (sha256(preimage(id, timestamp)) === hash) {
      add(
        'error',
        'partner_id_mismatch',
        `the hash half was computed for partner ${Number.parseInt(id, 10)}, but the request says ${claimed}`,
      )
      return null
    }
  }
  if (spelling !== null && spelling.ms !== null) {
    for (const variant of respellings(timestamp, spelling.ms, spelling.fraction)) {
      if (sha256(preimage(claimed, variant)) === hash) {
        add(
          'error',
          'timestamp_reserialized',
          `the hash half was computed over the timestamp "${variant}" but the request sends ${JSON.stringify(timestamp)}: the timestamp was re-serialised between signing and sending`,
        )
        return { timestamp: variant }
      }
    }
    for (const { text, offsetMinutes } of localTimeSpellings(spelling.ms)) {
      if (sha256(preimage(claimed, text)) === hash) {
        add(
          'error',
          'local_time_marked_z',
          `the hash half was computed over "${text}", the sender's local time (${formatOffset(offsetMinutes)})`,
        )
        return { timestamp: text }
      }
    }
  }
  add(
    'error',
    'sec_key_hash_mismatch',
    `the hash half is not sha256("${preimage(claimed, timestamp)}"): the timestamp or partner id changed after signing, or the value belongs to another partner`,
  )
  return null
}

/** Checks the RSA half with the sec_key API key (a public key). */
async function diagnoseSecKeyRsa(
  secKey: string,
  timestamp: string | number,
  hashCause: { timestamp: string | number } | null,
  partnerId: string,
  key: KeySource,
  fromSmile: boolean,
  add: Add,
): Promise<'match' | 'mismatch' | 'not_checked'> {
  let auth: LegacySecKeyAuth
  try {
    auth = new LegacySecKeyAuth({ partnerId, apiKey: key.key })
  } catch {
    add(
      'error',
      'sec_key_key_not_rsa',
      `the key from ${key.source} is not an RSA public key: the sec_key scheme needs the "API Key for Sec Key" (is this the signature API key?)`,
    )
    return 'mismatch'
  }
  const sent = await auth.verify({ sec_key: secKey, timestamp })
  if (sent.ok) {
    add('ok', 'key_matches', `the sec_key verifies with the key from ${key.source} (${sent.keyId})`)
    return 'match'
  }
  if (hashCause !== null && hashCause.timestamp !== timestamp) {
    const variant = await auth.verify({ sec_key: secKey, timestamp: hashCause.timestamp })
    if (variant.ok)
      add(
        'info',
        'key_matches_variant',
        `with the timestamp that was hashed, the RSA half verifies with the key from ${key.source}`,
      )
    return 'mismatch'
  }
  if (hashCause !== null && !fromSmile) {
    // What partner code sends (the SDKs' generate_sec_key): the hash encrypted FOR Smile ID with the
    // public key. A public key cannot open that block; only Smile ID's private key can.
    add(
      'info',
      'sec_key_partner_made',
      `the hash half is right; the RSA half is encrypted for Smile ID with a public key, as a partner's request is (the SDKs' generate_sec_key): only Smile ID's private key can open it, so the key from ${key.source} cannot check it. If Smile ID answers 2205, the key is most likely from the other environment (sandbox and production keys differ)`,
    )
    return 'not_checked'
  }
  if (hashCause !== null) {
    add(
      'error',
      'sec_key_rsa_mismatch',
      `the hash half is right but the RSA half does not open with the key from ${key.source}: Smile ID signs callbacks and responses with its private key, so the public key of the same environment opens them; this one is most likely from the other environment (sandbox and production keys differ)`,
    )
  }
  return 'mismatch'
}

/** Fields that only Smile ID's callbacks and responses carry, never a partner's request. */
const SMILE_FIELDS = ['ResultCode', 'ResultText', 'SmileJobID', 'Actions', 'job_complete', 'job_success']

/** `true` when the body is a callback or response from Smile ID rather than a partner's request. */
function isFromSmile(body: Record<string, unknown>): boolean {
  return SMILE_FIELDS.some((field) => Object.hasOwn(body, field))
}

function environmentFinding(url: string | undefined, add: Add) {
  if (url === undefined) return
  let host: string
  try {
    host = new URL(url).hostname
  } catch {
    add('warn', 'url_invalid', '--url is not a URL')
    return
  }
  if (host === 'testapi.smileidentity.com') {
    add(
      'info',
      'environment',
      'the request goes to the sandbox (testapi.smileidentity.com): it must be signed with the sandbox key (the portal toggle shows each)',
    )
  } else if (host === 'api.smileidentity.com') {
    add(
      'info',
      'environment',
      'the request goes to production (api.smileidentity.com): it must be signed with the production key',
    )
  } else {
    add(
      'warn',
      'environment_unknown',
      `${host} is not a Smile ID API host (sandbox: testapi.smileidentity.com, production: api.smileidentity.com)`,
    )
  }
}
