/**
 * Shared by the examples: a dual-mode verifier built from environment variables. During the migration
 * configure both keys; once the usage report shows no legacy traffic, drop SMILEID_SEC_KEY_API_KEY.
 *
 *   SMILEID_PARTNER_ID        your partner id, as the portal shows it (for example 085)
 *   SMILEID_API_KEY           the signature API key
 *   SMILEID_SEC_KEY_API_KEY   the "API Key for Sec Key" (legacy), optional
 *   SMILEID_LEGACY_SUNSET     ISO date after which sec_key is refused, optional
 */
import { DualModeVerifier, LegacySecKeyAuth, MemoryReplayStore, SignatureAuth } from 'smileid-auth-shim'

/** The variables the examples read (process.env on Node, the bindings object on Workers). */
export interface SmileIdEnv {
  SMILEID_PARTNER_ID?: string | undefined
  SMILEID_API_KEY?: string | undefined
  SMILEID_SEC_KEY_API_KEY?: string | undefined
  SMILEID_LEGACY_SUNSET?: string | undefined
}

/** Builds the verifier; throws a ConfigurationError at start-up when a key is missing or unusable. */
export function verifierFromEnv(env: SmileIdEnv): DualModeVerifier {
  const partnerId = env.SMILEID_PARTNER_ID ?? ''
  const apiKey = env.SMILEID_API_KEY ?? ''
  const legacyKey = env.SMILEID_SEC_KEY_API_KEY
  return new DualModeVerifier({
    signature: new SignatureAuth({ partnerId, apiKey }),
    ...(legacyKey ? { secKey: new LegacySecKeyAuth({ partnerId, apiKey: legacyKey }) } : {}),
    // 'warn' accepts sec_key but marks it in the audit trail; the sunset date turns it off for good.
    policy: {
      legacy: 'warn',
      ...(env.SMILEID_LEGACY_SUNSET ? { legacySunsetAt: env.SMILEID_LEGACY_SUNSET } : {}),
    },
    // The body is not signed: a replay store makes a captured credential good for one body, once. Several
    // instances share one through RedisReplayStore ('smileid-auth-shim/redis').
    replay: new MemoryReplayStore(),
  })
}
