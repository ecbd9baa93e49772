/**
 * The "next" line `verify` prints after a rejection: one step that can actually change the outcome for
 * that reason, and nothing that cannot (a longer `--max-age` does not help a timestamp from the future;
 * `inspect` does not explain a refusal by `--legacy reject`).
 *
 * @internal
 * @module
 */
import type { FailureReason, VerificationFailure } from '../index.js'

/** What `verify` was run with, as far as a hint needs to know. */
export interface HintContext {
  /** `--legacy` as given (default `accept`). */
  legacy: 'accept' | 'warn' | 'reject'
  /** `--partner-id` was given (rather than read from the body). */
  partnerIdGiven: boolean
}

const INSPECT = "run 'smileid-auth inspect' on the same body, with the same keys, for the likely cause"

/**
 * The next step after a rejection, for every {@link FailureReason}.
 *
 * @example
 * ```ts
 * verifyHint({ reason: 'timestamp_in_future', … }, { legacy: 'accept', partnerIdGiven: false })
 * // 'the timestamp is ahead of this machine's clock: …'
 * ```
 */
export function verifyHint(result: Pick<VerificationFailure, 'reason'>, context: HintContext): string {
  const reason: FailureReason = result.reason
  switch (reason) {
    case 'timestamp_expired':
      return 'a captured request? verify it with --max-age longer than its age (e.g. --max-age 30d) or --no-freshness; if it is live, the sender or this machine has a wrong clock'
    case 'timestamp_in_future':
      // --max-age only widens the past; only a clock fix or more future tolerance changes this outcome.
      return "the timestamp is ahead of this machine's clock: check the sender's and this clock (NTP); a whole-hour gap is local time marked Z ('smileid-auth inspect' names the offset); to tolerate a known skew, --max-future longer than it (e.g. --max-future 1h), or --no-freshness"
    case 'scheme_not_allowed':
      return context.legacy === 'reject'
        ? 'refused by --legacy reject, not because the credential is wrong: run with --legacy warn (or accept) to check the credential itself'
        : 'refused by policy, not because the credential is wrong'
    case 'unknown_partner':
      return context.partnerIdGiven
        ? "the request names another partner than --partner-id: drop --partner-id to verify for the request's own partner, or give the keys of the partner it names"
        : 'the request names partners that do not agree: check partner_id, smile_client_id and the SmileID-Partner-ID header'
    case 'missing_credentials':
      return "no signature or sec_key was found: if they came in the SmileID-* headers, pass them with -H 'Name: value'"
    case 'replayed':
    case 'replay_check_failed':
      // The CLI keeps no replay store; a library verifier with one answers these.
      return 'a replay store decided this, not the credential'
    case 'malformed_credentials':
    case 'invalid_signature':
    case 'invalid_sec_key':
      return INSPECT
  }
}
