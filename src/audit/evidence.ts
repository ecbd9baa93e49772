/**
 * The migration verdict: what the audit records prove about switching legacy off, and when they will.
 * Evidence is made of authenticated events only, so forged traffic can neither open, extend nor fill the
 * span; gaps (events a sink had to drop) are missing evidence, never silence.
 *
 * @internal
 * @module
 */

/** One UTC day in milliseconds. */
export const DAY_MS = 86_400_000

// Bounds that keep a summary small whatever a log holds (a log is a file anyone could have written).
const MAX_DAYS = 100_000
const MAX_GAPS = 1000
const MAX_INSTANCES = 1000
const MAX_SILENT_DAYS = 1000
/** An instance whose last event is this much older than the fleet's last event has stopped reporting. */
const INSTANCE_SILENCE_MS = DAY_MS
const OTHER_INSTANCES = '(other instances)'

/** A gap as the report lists it. */
export interface EvidenceGap {
  /** ISO time of the first dropped event. */
  from: string
  /** ISO time of the last dropped event. */
  to: string
  /** How many events were dropped. */
  dropped: number
  /** The instance that dropped them, or `null`. */
  instance: string | null
}

/** One instance as the report lists it. */
export interface EvidenceInstance {
  /** The instance name from the records. */
  instance: string
  /** Authenticated events it wrote. */
  events: number
  /** ISO time of its first authenticated event. */
  firstEventAt: string
  /** ISO time of its last authenticated event. */
  lastEventAt: string
}

/** The evidence block of a report. */
export interface Evidence {
  /** Authenticated events read (after `since`). */
  events: number
  /** ISO time of the first authenticated event, or `null`. */
  firstEventAt: string | null
  /** ISO time of the last authenticated event, or `null`. */
  lastEventAt: string | null
  /** Whole days from the first authenticated event to the report's `now`. */
  daysCovered: number
  /** Complete UTC days inside the span with no authenticated event (at most the 1 000 latest). */
  silentDays: string[]
  /** Events the sinks reported as dropped, over every gap record read. */
  dropped: number
  /** The gap records read (at most 1 000; `dropped` counts them all). */
  gaps: EvidenceGap[]
  /** Each named instance with its counts, sorted by name. */
  instances: EvidenceInstance[]
}

/** The readiness block of a report. */
export interface Readiness {
  /** `ready`: switch legacy off; `not_ready`: authentic legacy use inside the quiet period; `insufficient_evidence`: the records cannot tell. */
  verdict: 'ready' | 'not_ready' | 'insufficient_evidence'
  /** The quiet period the verdict was judged on, in days. */
  quietPeriodDays: number
  /**
   * The earliest instant at which the verdict turns (or turned) `ready` if nothing changes:
   * `max(lastLegacyAt, firstEventAt, end of the last gap, last event of a stopped instance) + quietPeriodDays`;
   * `null` when no evidence dates it (no authenticated event, or none inside the quiet period).
   */
  readyOn: string | null
  /** `true` when no authentic legacy use (accepted, would_reject or refused) is in the records read. */
  legacyFree: boolean
  /** ISO time of the last authentic legacy use across partners, or `null`. */
  lastLegacyAt: string | null
  /** One plain line per reason the verdict is not `ready`. Empty when `ready`. */
  blockers: string[]
}

/** A partner still on legacy, as the verdict needs it. */
export interface LegacyUser {
  /** Partner id. */
  partnerId: string
  /** Authentic legacy requests. */
  count: number
  /** Of which `outgoing` (signed or forwarded here); the rest were verified here. */
  outgoing: number
  /** Of which refused by policy or brownout. */
  refused: number
  /** Epoch ms of the last one. */
  lastMs: number
  /** `sdk version (count)` list, already formatted. */
  sdks: string
}

interface InstanceCounts {
  events: number
  firstMs: number
  lastMs: number
}

/**
 * Collects the evidence of a span: authenticated event times, instances and gap records.
 *
 * @internal
 */
export class EvidenceCollector {
  events = 0
  firstMs = Infinity
  lastMs = -Infinity
  dropped = 0
  lastGapEndMs = -Infinity
  readonly #days = new Set<number>()
  readonly #gaps: EvidenceGap[] = []
  readonly #instances = new Map<string, InstanceCounts>()
  // Consecutive events mostly share a day and an instance: remember the last of each.
  #lastDay = NaN
  #lastInstance: string | null = null
  #lastCounts: InstanceCounts | null = null

  /** Counts one authenticated event at `ms` written by `instance`. */
  addEvent(ms: number, instance: unknown): void {
    this.events++
    if (ms < this.firstMs) this.firstMs = ms
    if (ms > this.lastMs) this.lastMs = ms
    const day = Math.floor(ms / DAY_MS)
    if (day !== this.#lastDay) {
      this.#lastDay = day
      if (this.#days.size < MAX_DAYS) this.#days.add(day)
    }
    if (typeof instance === 'string') {
      let counts = instance === this.#lastInstance ? this.#lastCounts : this.#instances.get(instance)
      if (counts === undefined || counts === null) {
        const name = this.#instances.size < MAX_INSTANCES ? instance : OTHER_INSTANCES
        counts = this.#instances.get(name)
        if (counts === undefined) this.#instances.set(name, (counts = { events: 0, firstMs: ms, lastMs: ms }))
      }
      this.#lastInstance = instance
      this.#lastCounts = counts
      counts.events++
      if (ms < counts.firstMs) counts.firstMs = ms
      if (ms > counts.lastMs) counts.lastMs = ms
    }
  }

  /** Counts one gap record (already validated). */
  addGap(fromMs: number, toMs: number, dropped: number, instance: string | null): void {
    this.dropped += dropped
    if (toMs > this.lastGapEndMs) this.lastGapEndMs = toMs
    if (this.#gaps.length < MAX_GAPS) this.#gaps.push({ from: iso(fromMs), to: iso(toMs), dropped, instance })
  }

  /** The evidence block as of `nowMs`. */
  evidence(nowMs: number): Evidence {
    const silentDays: string[] = []
    let daysCovered = 0
    if (this.events > 0) {
      daysCovered = Math.max(0, Math.floor((nowMs - this.firstMs) / DAY_MS))
      // Complete days only: the day of `now` is still running.
      const firstDay = Math.floor(this.firstMs / DAY_MS)
      for (let day = Math.floor(nowMs / DAY_MS) - 1; day >= firstDay; day--) {
        if (!this.#days.has(day)) {
          silentDays.push(iso(day * DAY_MS).slice(0, 10))
          if (silentDays.length >= MAX_SILENT_DAYS) break
        }
      }
      silentDays.reverse()
    }
    const instances = [...this.#instances]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([instance, c]) => ({
        instance,
        events: c.events,
        firstEventAt: iso(c.firstMs),
        lastEventAt: iso(c.lastMs),
      }))
    const gaps = [...this.#gaps].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))
    return {
      events: this.events,
      firstEventAt: this.events > 0 ? iso(this.firstMs) : null,
      lastEventAt: this.events > 0 ? iso(this.lastMs) : null,
      daysCovered,
      silentDays,
      dropped: this.dropped,
      gaps,
      instances,
    }
  }

  /** Instances whose last event lies inside the quiet period and well before the fleet's last event. */
  stoppedInstances(quietStartMs: number): Array<{ instance: string; lastMs: number }> {
    const stopped: Array<{ instance: string; lastMs: number }> = []
    for (const [instance, c] of this.#instances) {
      if (c.lastMs >= quietStartMs && this.lastMs - c.lastMs > INSTANCE_SILENCE_MS)
        stopped.push({ instance, lastMs: c.lastMs })
    }
    return stopped.sort((a, b) => (a.instance < b.instance ? -1 : 1))
  }
}

/**
 * Judges readiness from the evidence and the partners still on legacy.
 *
 * @internal
 */
export function judgeReadiness(
  collector: EvidenceCollector,
  legacyUsers: readonly LegacyUser[],
  nowMs: number,
  quietPeriodDays: number,
): Readiness {
  const quietMs = quietPeriodDays * DAY_MS
  const quietStartMs = nowMs - quietMs
  let lastLegacyMs = -Infinity
  for (const user of legacyUsers) if (user.lastMs > lastLegacyMs) lastLegacyMs = user.lastMs
  const legacyFree = legacyUsers.length === 0
  const lastLegacyAt = legacyFree ? null : iso(lastLegacyMs)
  const period = `${quietPeriodDays}-day quiet period`

  if (collector.events === 0) {
    return {
      verdict: 'insufficient_evidence',
      quietPeriodDays,
      readyOn: null,
      legacyFree,
      lastLegacyAt,
      blockers: [
        'no authenticated event in the records read: nothing proves that legacy is unused (wrong file, empty log, or a sink that never wrote)',
      ],
    }
  }

  const stopped = collector.stoppedInstances(quietStartMs)
  let turnMs = Math.max(lastLegacyMs, collector.firstMs, collector.lastGapEndMs)
  for (const s of stopped) turnMs = Math.max(turnMs, s.lastMs)
  const readyOn = iso(turnMs + quietMs)

  const legacyBlockers: string[] = []
  for (const user of legacyUsers) {
    if (user.lastMs < quietStartMs) continue
    const refused = user.refused > 0 ? ` (${user.refused} refused by policy or brownout)` : ''
    // Outgoing legacy use is fixed in the team's own app, not on the partner's or Smile's side: say so.
    const outgoing =
      user.outgoing > 0
        ? `; ${user.count - user.outgoing} incoming, ${user.outgoing} outgoing (your app still signs outgoing requests with sec_key, through MigratingSigner or the outbound gateway)`
        : ''
    legacyBlockers.push(
      `partner ${user.partnerId} still uses legacy sec_key: ${user.count} authentic request(s)${refused}, last at ${iso(user.lastMs)}; SDKs: ${user.sdks}${outgoing}`,
    )
  }
  const evidenceBlockers: string[] = []
  // A log that stopped before the quiet period proves nothing about it (a sink or a process that died).
  const stale = collector.lastMs < quietStartMs
  if (stale) {
    evidenceBlockers.push(
      `no authenticated event inside the ${period}: the last one is from ${iso(collector.lastMs)}, so the records stopped before it`,
    )
  }
  if (collector.firstMs > quietStartMs) {
    const days = Math.max(0, Math.floor((nowMs - collector.firstMs) / DAY_MS))
    evidenceBlockers.push(
      `the evidence spans ${days} day(s) since ${iso(collector.firstMs)}, less than the ${period}`,
    )
  }
  if (collector.lastGapEndMs >= quietStartMs) {
    evidenceBlockers.push(
      `audit events were dropped inside the ${period} (last gap ends ${iso(collector.lastGapEndMs)}): that span is unknown`,
    )
  }
  for (const s of stopped) {
    evidenceBlockers.push(
      `instance ${s.instance} stopped reporting at ${iso(s.lastMs)}, inside the ${period}: its traffic since is unknown`,
    )
  }
  const verdict =
    legacyBlockers.length > 0 ? 'not_ready' : evidenceBlockers.length > 0 ? 'insufficient_evidence' : 'ready'
  return {
    verdict,
    quietPeriodDays,
    readyOn: stale ? null : readyOn,
    legacyFree,
    lastLegacyAt,
    blockers: [...legacyBlockers, ...evidenceBlockers],
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
