/**
 * smileid-auth-shim: sign and verify Smile ID requests, callbacks and responses with both the legacy
 * `sec_key` scheme and the current `signature` scheme, so a partner can migrate without a flag day.
 *
 * @packageDocumentation
 */
export type {
  AuthStrategy,
  FailureReason,
  FreshnessOptions,
  Scheme,
  SecKeyCredentials,
  SignatureCredentials,
  SignOptions,
  Transport,
  VerificationFailure,
  VerificationResult,
  VerificationSuccess,
  VerifyOptions,
} from './types.js'
export { FAILURE_REASONS } from './types.js'
export { ConfigurationError, VerificationError } from './errors.js'
export type { ConfigurationErrorCode } from './errors.js'
export { SignatureAuth } from './schemes/signature.js'
export type { SignatureAuthOptions } from './schemes/signature.js'
export { LegacySecKeyAuth } from './schemes/sec-key.js'
export type { LegacySecKeyAuthOptions } from './schemes/sec-key.js'
export type { RsaJwk } from './key-parsing.js'
export type { ReplayOutcome, ReplayStore, UpgradeStore } from './replay/store.js'
export type {
  AuditDirection,
  AuditEvent,
  AuditGapRecord,
  AuditOutcome,
  AuditSink,
  AuditSinkObject,
} from './audit/events.js'
export { DualModeVerifier } from './verifier/dual-mode.js'
export type {
  DualModeVerifierOptions,
  PartnerConfig,
  PartnerResolver,
  VerifierStats,
  VerifyContext,
  VerifyRequest,
} from './verifier/dual-mode.js'
export type { HeadersLike } from './claims.js'
export type { BrownoutWindow, MigrationPolicy, ResolvedPolicy } from './verifier/policy.js'
export { MemoryReplayStore, MemoryUpgradeStore } from './replay/memory.js'
export type { MemoryReplayStoreOptions, MemoryReplayStoreStats } from './replay/memory.js'
export { jsonlAuditSink, LegacyUsageTracker } from './audit/sinks.js'
export type {
  JsonlAuditSink,
  JsonlAuditSinkOptions,
  JsonlAuditSinkStats,
  LineWritable,
} from './audit/sinks.js'
export { summarizeAudit } from './audit/report.js'
export type { LegacyCount, PartnerUsage, SummarizeOptions, UsageReport } from './audit/report.js'
export type { Evidence, EvidenceGap, EvidenceInstance, Readiness } from './audit/evidence.js'
export { MigratingSigner } from './signer.js'
export type {
  MigratingSignerOptions,
  PartnerIdField,
  SignedBody,
  SignedCredentials,
  SignedWithSecKey,
  SignedWithSignature,
  SignerRollout,
  SignerSignOptions,
  SignerUse,
  SmileIdHeaders,
} from './signer.js'
