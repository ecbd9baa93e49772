/**
 * Prometheus text exposition for the gateway, with no dependency: counters and one latency histogram.
 * Every label value comes from a closed set (direction, status code, scheme, reason code), so cardinality
 * stays bounded whatever requests arrive.
 *
 * @internal
 * @module
 */

/** Upper bounds of the latency histogram, in seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Which listener handled a request. */
export type GatewayDirection = 'inbound' | 'outbound'

interface Histogram {
  counts: number[]
  sum: number
  count: number
}

/**
 * The gateway's counters. `render()` gives the `/metrics` body.
 *
 * @example
 * ```ts
 * const metrics = new GatewayMetrics()
 * metrics.request('inbound', 200, 0.0012)
 * metrics.verification('signature', 'accepted', null)
 * console.log(metrics.render())
 * ```
 */
export class GatewayMetrics {
  readonly #requests = new Map<string, number>()
  readonly #verifications = new Map<string, number>()
  readonly #outbound = new Map<string, number>()
  readonly #latency = new Map<GatewayDirection, Histogram>()
  /** Label strings already built, by direction and status (a closed, small set): no string per request. */
  readonly #requestLabels = new Map<number, string>()
  #inFlight = 0
  #redisUp: number | undefined
  #replayMemory: { entries: number; evicted: number } | undefined

  /** Counts one answered request and its duration in seconds. */
  request(direction: GatewayDirection, status: number, seconds: number): void {
    const code = (direction === 'inbound' ? 0 : 1000) + status
    let labels = this.#requestLabels.get(code)
    if (labels === undefined) {
      labels = `direction="${direction}",status="${status}"`
      // Statuses come from node:http (100–999); anything else is labelled but not cached.
      if (Number.isInteger(status) && status >= 0 && status < 1000) this.#requestLabels.set(code, labels)
    }
    bump(this.#requests, labels)
    let histogram = this.#latency.get(direction)
    if (histogram === undefined) {
      histogram = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }
      this.#latency.set(direction, histogram)
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) histogram.counts[i]!++
    histogram.sum += seconds
    histogram.count++
  }

  /** Counts one inbound verification. */
  verification(scheme: string | null, outcome: 'accepted' | 'rejected', reason: string | null): void {
    bump(
      this.#verifications,
      `scheme="${scheme ?? 'none'}",outcome="${outcome}",reason="${reason ?? 'none'}"`,
    )
  }

  /** Counts one outbound request by what the app sent and what the gateway forwarded. */
  outbound(sent: string, forwarded: string): void {
    bump(this.#outbound, `sent="${sent}",forwarded="${forwarded}"`)
  }

  /** Requests being handled right now. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** One more request in flight. */
  enter(): void {
    this.#inFlight++
  }

  /** One request fewer in flight. */
  leave(): void {
    this.#inFlight--
  }

  /** Whether the configured Redis is connected (`undefined`: no Redis configured). */
  set redisUp(up: boolean | undefined) {
    this.#redisUp = up === undefined ? undefined : up ? 1 : 0
  }

  /** The in-memory replay store's counts (`undefined`: the store is Redis). */
  set replayMemory(stats: { entries: number; evicted: number } | undefined) {
    this.#replayMemory = stats
  }

  /** The Prometheus text exposition (format 0.0.4). */
  render(): string {
    const lines: string[] = []
    counter(
      lines,
      'smileid_gateway_requests_total',
      'Requests answered, by listener and status.',
      this.#requests,
    )
    counter(
      lines,
      'smileid_gateway_verifications_total',
      'Inbound verifications by scheme, outcome and reason.',
      this.#verifications,
    )
    counter(
      lines,
      'smileid_gateway_outbound_total',
      'Outbound requests by the credential the app sent and the scheme forwarded.',
      this.#outbound,
    )
    lines.push('# HELP smileid_gateway_request_duration_seconds Time from request to response end.')
    lines.push('# TYPE smileid_gateway_request_duration_seconds histogram')
    for (const [direction, histogram] of this.#latency) {
      BUCKETS.forEach((bound, i) => {
        lines.push(
          `smileid_gateway_request_duration_seconds_bucket{direction="${direction}",le="${bound}"} ${histogram.counts[i]}`,
        )
      })
      lines.push(
        `smileid_gateway_request_duration_seconds_bucket{direction="${direction}",le="+Inf"} ${histogram.count}`,
      )
      lines.push(`smileid_gateway_request_duration_seconds_sum{direction="${direction}"} ${histogram.sum}`)
      lines.push(
        `smileid_gateway_request_duration_seconds_count{direction="${direction}"} ${histogram.count}`,
      )
    }
    lines.push('# HELP smileid_gateway_in_flight Requests being handled.')
    lines.push('# TYPE smileid_gateway_in_flight gauge')
    lines.push(`smileid_gateway_in_flight ${this.#inFlight}`)
    if (this.#replayMemory !== undefined) {
      lines.push('# HELP smileid_gateway_replay_entries Credentials the in-memory replay store holds.')
      lines.push('# TYPE smileid_gateway_replay_entries gauge')
      lines.push(`smileid_gateway_replay_entries ${this.#replayMemory.entries}`)
      lines.push(
        '# HELP smileid_gateway_replay_evicted_total Unexpired credentials evicted because replay.memory.maxEntries was reached; each can be replayed again.',
      )
      lines.push('# TYPE smileid_gateway_replay_evicted_total counter')
      lines.push(`smileid_gateway_replay_evicted_total ${this.#replayMemory.evicted}`)
    }
    if (this.#redisUp !== undefined) {
      lines.push('# HELP smileid_gateway_redis_up 1 while the configured Redis is connected.')
      lines.push('# TYPE smileid_gateway_redis_up gauge')
      lines.push(`smileid_gateway_redis_up ${this.#redisUp}`)
    }
    return lines.join('\n') + '\n'
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1)
}

function counter(lines: string[], name: string, help: string, values: Map<string, number>): void {
  lines.push(`# HELP ${name} ${help}`)
  lines.push(`# TYPE ${name} counter`)
  for (const [labels, value] of values) lines.push(`${name}{${labels}} ${value}`)
}
