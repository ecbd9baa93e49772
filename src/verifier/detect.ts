/**
 * Detection: what a request *claims* — which scheme, which partner, which credential — read from body
 * fields or `SmileID-*` headers. No policy and no crypto here.
 *
 * @internal
 * @module
 */
import type { FailureReason, Scheme, Transport } from '../types.js'

/** Headers as plain objects, Node `IncomingHttpHeaders`, or Fetch `Headers`. */
export type HeadersLike =
  | {
      /** Fetch `Headers.get`: the value, or `null` when absent. */
      get(name: string): string | null
    }
  | Record<string, string | readonly string[] | number | undefined>

/** The credential a request claims to carry. */
export interface Claim {
  scheme: Scheme
  /** The credential fields in the shape the strategy verifies. */
  credentials: { signature: unknown; timestamp: unknown } | { sec_key: unknown; timestamp: unknown }
  /** The credential string, for the replay key. */
  credential: unknown
  transport: Transport
  /** The partner id the request names, if any. */
  partnerId: unknown
  /** A signature was present together with a sec_key: the signature decides. */
  both: boolean
}

/** A detection failure: nothing usable to verify. */
export interface DetectFailure {
  reason: Extract<FailureReason, 'missing_credentials' | 'malformed_credentials'>
  message: string
  partnerId: unknown
}

/** `<base64>|<64 hex>`: a sec_key, whatever the field is called (legacy job_status responses use `signature`). */
const SEC_KEY_SHAPE = /^[A-Za-z0-9+/=\r\n]+\|[0-9a-f]{64}$/

/** Reads one header case-insensitively; `undefined` when absent, `null` when duplicated. */
export function readHeader(headers: HeadersLike | undefined, name: string): string | null | undefined {
  if (headers === undefined || headers === null || typeof headers !== 'object') return undefined
  if (typeof (headers as { get?: unknown }).get === 'function') {
    try {
      return (headers as { get(name: string): string | null }).get(name) ?? undefined
    } catch {
      return undefined
    }
  }
  const record = headers as Record<string, unknown>
  let value = record[name]
  if (value === undefined) {
    const lower = name.toLowerCase()
    value = record[lower]
    if (value === undefined) {
      for (const key of Object.keys(record)) {
        if (key.toLowerCase() === lower) {
          value = record[key]
          break
        }
      }
    }
  }
  if (value === undefined || value === null) return undefined
  if (Array.isArray(value)) return value.length === 1 && typeof value[0] === 'string' ? value[0] : null
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== ''
}

/** Finds the claimed credential in headers first, then in the body. */
export function detect(
  body: Record<string, unknown> | undefined,
  headers: HeadersLike | undefined,
): Claim | DetectFailure {
  const headerSignature = readHeader(headers, 'SmileID-Request-Signature')
  const headerPartner = readHeader(headers, 'SmileID-Partner-ID')
  const bodyPartner = body ? (present(body.partner_id) ? body.partner_id : body.smile_client_id) : undefined
  const partnerId = headerPartner ?? bodyPartner

  if (headerSignature === null || headerPartner === null) {
    return { reason: 'malformed_credentials', message: 'a SmileID header appears more than once', partnerId }
  }
  const secKeyField = body?.sec_key
  if (headerSignature !== undefined) {
    const timestamp = readHeader(headers, 'SmileID-Timestamp')
    if (timestamp === null) {
      return {
        reason: 'malformed_credentials',
        message: 'a SmileID header appears more than once',
        partnerId,
      }
    }
    return {
      scheme: 'signature',
      credentials: { signature: headerSignature, timestamp },
      credential: headerSignature,
      transport: 'headers',
      partnerId,
      both: present(secKeyField) || present(body?.signature),
    }
  }
  if (!body)
    return { reason: 'missing_credentials', message: 'the request carries no credentials', partnerId }

  const signatureField = body.signature
  const timestamp = body.timestamp
  if (present(signatureField)) {
    if (
      typeof signatureField === 'string' &&
      signatureField.includes('|') &&
      SEC_KEY_SHAPE.test(signatureField) &&
      !present(secKeyField)
    ) {
      // A legacy value in a field named `signature` (job_status responses): classify by value shape.
      return {
        scheme: 'sec_key',
        credentials: { sec_key: signatureField, timestamp },
        credential: signatureField,
        transport: 'body',
        partnerId,
        both: false,
      }
    }
    return {
      scheme: 'signature',
      credentials: { signature: signatureField, timestamp },
      credential: signatureField,
      transport: 'body',
      partnerId,
      both: present(secKeyField),
    }
  }
  if (present(secKeyField)) {
    return {
      scheme: 'sec_key',
      credentials: { sec_key: secKeyField, timestamp },
      credential: secKeyField,
      transport: 'body',
      partnerId,
      both: false,
    }
  }
  return { reason: 'missing_credentials', message: 'the request carries no signature or sec_key', partnerId }
}
