/**
 * An audit sink that counts verifications as an OpenTelemetry metric, for the dashboards a team already
 * runs. The JSONL log stays the evidence the switch-off verdict is computed from; this counter is for
 * watching the migration live. Entry point `smileid-auth-shim/opentelemetry`; `@opentelemetry/api` is an
 * optional peer dependency.
 *
 * @module
 */
import {
  createNoopMeter,
  metrics,
  type Attributes,
  type Meter,
  type MeterProvider,
  type ObservableResult,
} from '@opentelemetry/api'

import { ConfigurationError } from '../errors.js'
import { checkKnownKeys, describe } from '../option-checks.js'
import type { AuditEvent, AuditSinkObject } from './events.js'

/** The counter's name. */
export const VERIFICATIONS_COUNTER = 'smileid.auth.verifications'

/** The meter name used when no `meter` is given. */
const METER_NAME = 'smileid-auth-shim'

/**
 * How often (in events) the global provider is looked up again: often while it is the no-op one, so that
 * an SDK started after the verifier is picked up soon, rarely once it is real (a replaced provider).
 */
const NOOP_RECHECK_EVERY = 256
const LIVE_RECHECK_EVERY = 4096

/** Distinct reasons kept apart; more (only a custom event source could make them) share `other`. */
const MAX_REASONS = 64

/** The class of the API's no-op meter, which the global provider hands out while no SDK is registered. */
const NoopMeter = createNoopMeter().constructor

/**
 * Options of {@link openTelemetryAuditSink}.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api'
 * const options: OpenTelemetryAuditSinkOptions = { meter: metrics.getMeter('webhooks') }
 * ```
 */
export interface OpenTelemetryAuditSinkOptions {
  /**
   * The meter to create the counter on. Default: a meter named `smileid-auth-shim` from the global meter
   * provider, looked up again while none is registered, so an SDK started after the verifier is picked up.
   */
  meter?: Meter
}

/** The audit sink returned by {@link openTelemetryAuditSink}. */
export interface OpenTelemetryAuditSink extends AuditSinkObject {
  /** Adds one to the counter for an incoming verification; outgoing signatures are not verifications. */
  write(event: AuditEvent): void
}

/** One time series: its attributes (built once) and its running total. */
interface Series {
  readonly attributes: Attributes
  count: number
}

/**
 * Counts every verification in the monotonic counter `smileid.auth.verifications` (unit
 * `{verification}`), with the attributes:
 * - `smileid.scheme`: `signature`, `sec_key`, or `none` when no credential could be told;
 * - `smileid.outcome`: `accepted`, `rejected` or `would_reject`;
 * - `smileid.reason`: the failure (or would-be failure) reason, `none` when there is none;
 * - `smileid.legacy`: `true` for the `sec_key` scheme;
 * - `smileid.authenticated`: whether the credential verified, whatever the outcome;
 * - `smileid.partner_id`: only for authenticated requests. An unauthenticated request names whatever
 *   partner the sender typed, so a forger could otherwise create a time series per request; with this
 *   rule the cardinality is bounded by the partners configured, times the schemes, outcomes and reasons.
 *
 * The counter is asynchronous (an observable counter): each event adds one to a running total in the
 * sink, and the SDK reads the totals when it collects. A synchronous `Counter.add` with six attributes
 * costs the SDK more than the verification it counts; the exported data (a cumulative monotonic sum per
 * attribute set) is the same. Use one sink per meter.
 *
 * With no OpenTelemetry SDK registered (and no `meter` given) the sink does nothing and costs nothing
 * measurable. Writing never throws: like any audit sink, a failure cannot break verification.
 *
 * @throws `ConfigurationError` `invalid_options` when `meter` is not an OpenTelemetry meter.
 *
 * @example
 * ```ts
 * import { DualModeVerifier, SignatureAuth } from 'smileid-auth-shim'
 * import { openTelemetryAuditSink } from 'smileid-auth-shim/opentelemetry'
 *
 * const verifier = new DualModeVerifier({
 *   signature: new SignatureAuth({ partnerId: '085', apiKey: process.env.SMILEID_API_KEY ?? '' }),
 *   audit: openTelemetryAuditSink(),
 * })
 * ```
 */
export function openTelemetryAuditSink(options: OpenTelemetryAuditSinkOptions = {}): OpenTelemetryAuditSink {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigurationError(
      'invalid_options',
      `openTelemetryAuditSink: options must be an object { meter? } (got ${describe(options)})`,
    )
  }
  checkKnownKeys(options, ['meter'], 'openTelemetryAuditSink')
  const given = options.meter
  if (
    given !== undefined &&
    typeof (given as Partial<Meter> | null)?.createObservableCounter !== 'function'
  ) {
    // A MeterProvider, or the `metrics` API object itself, is the usual slip: both have getMeter.
    const hint =
      typeof (given as { getMeter?: unknown } | null)?.getMeter === 'function'
        ? '; this has getMeter(): pass its meter, for example provider.getMeter(name)'
        : ''
    throw new ConfigurationError(
      'invalid_options',
      'openTelemetryAuditSink: `meter` must be an OpenTelemetry Meter (for example metrics.getMeter(name)) ' +
        `(got ${describe(given)})${hint}`,
    )
  }
  /** Partner id ('' when none is reported) → series index → series. */
  const tallies = new Map<string, Map<number, Series>>()
  const reasons = new Map<string, number>([
    ['none', 0],
    ['other', 1],
  ])
  const reasonNames = ['none', 'other']
  let live = false
  let last: Series | undefined
  let lastIndex = -1
  let lastPartner = ''
  let provider: MeterProvider | undefined
  let sinceCheck = 0

  const observe = (result: ObservableResult): void => {
    for (const byIndex of tallies.values())
      for (const series of byIndex.values()) {
        result.observe(series.count, series.attributes)
      }
  }
  const attach = (meter: Meter): void => {
    meter
      .createObservableCounter(VERIFICATIONS_COUNTER, {
        description: 'Smile ID requests verified, by scheme, outcome and reason',
        unit: '{verification}',
      })
      .addCallback(observe)
    live = true
  }
  const lookUp = (): void => {
    sinceCheck = 0
    const current = metrics.getMeterProvider()
    if (current === provider) return
    provider = current
    const meter = current.getMeter(METER_NAME)
    // Nothing to do at all while no SDK is there: events are not even tallied.
    if (meter instanceof NoopMeter) live = false
    else attach(meter)
  }
  if (given !== undefined) attach(given)
  else lookUp()

  const reasonIndex = (reason: string): number => {
    let index = reasons.get(reason)
    if (index === undefined) {
      if (reasons.size >= MAX_REASONS) return 1
      index = reasons.size
      reasons.set(reason, index)
      reasonNames.push(reason)
    }
    return index
  }

  return {
    write(event: AuditEvent): void {
      try {
        if (given === undefined && ++sinceCheck >= (live ? LIVE_RECHECK_EVERY : NOOP_RECHECK_EVERY)) lookUp()
        if (!live || event.direction !== 'incoming') return
        const authenticated = event.authenticated === true
        const partner = authenticated && typeof event.partnerId === 'string' ? event.partnerId : ''
        const scheme = event.scheme === 'signature' ? 0 : event.scheme === 'sec_key' ? 1 : 2
        const outcome = event.outcome === 'accepted' ? 0 : event.outcome === 'rejected' ? 1 : 2
        const reason = typeof event.reason === 'string' ? reasonIndex(event.reason) : 0
        const index = ((reason * 3 + outcome) * 3 + scheme) * 2 + (authenticated ? 1 : 0)
        // Most traffic repeats the previous event's series (one partner, accepted): skip the lookups.
        if (last !== undefined && index === lastIndex && partner === lastPartner) {
          last.count++
          return
        }
        let byIndex = tallies.get(partner)
        if (byIndex === undefined) {
          byIndex = new Map()
          tallies.set(partner, byIndex)
        }
        let series = byIndex.get(index)
        if (series !== undefined) series.count++
        else {
          series = { attributes: attributesOf(event, reasonNames[reason]!, authenticated, partner), count: 1 }
          byIndex.set(index, series)
        }
        last = series
        lastIndex = index
        lastPartner = partner
      } catch {
        // A metrics pipeline that fails must not fail the request; the JSONL log is the evidence.
      }
    },
  }
}

function attributesOf(
  event: AuditEvent,
  reason: string,
  authenticated: boolean,
  partner: string,
): Attributes {
  const outcome = event.outcome
  const attributes: Attributes = {
    'smileid.scheme': event.scheme === 'signature' || event.scheme === 'sec_key' ? event.scheme : 'none',
    'smileid.outcome': outcome === 'accepted' || outcome === 'rejected' ? outcome : 'would_reject',
    'smileid.reason': reason,
    'smileid.legacy': event.scheme === 'sec_key',
    'smileid.authenticated': authenticated,
  }
  if (authenticated && partner !== '') attributes['smileid.partner_id'] = partner
  return attributes
}
