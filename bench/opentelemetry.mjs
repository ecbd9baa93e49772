// The OpenTelemetry audit sink's cost on DualModeVerifier.verify (issue 13: ≤ 5 % with a real
// MeterProvider). Side by side in one process: the verifier with a counting audit sink (the event is
// built and read either way), with openTelemetryAuditSink over a real SDK MeterProvider (an
// in-memory exporter, collected once at the end), and with the sink while no SDK is registered.
//
// Run: node bench/opentelemetry.mjs [--quick] [--rounds 15] [--json out.json]   (needs `npm run build`)
import { metrics } from '@opentelemetry/api'
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { pathToFileURL } from 'node:url'
import { parseArgs, numberFlag } from './lib/args.mjs'
import { formatRatio, printSuite, ratio, runSuite } from './lib/harness.mjs'
import {
  PARTNER_ID,
  T0,
  callbackBody,
  loadLibrary,
  makeApiKey,
  signatureCredentials,
} from './lib/fixtures.mjs'
import { writeJson } from './lib/output.mjs'

export const MAX_ADDED = 0.05

export async function main(flags = {}, log = console.log) {
  const quick = !!flags.quick
  log(
    `# OpenTelemetry audit sink on DualModeVerifier.verify${quick ? ' (quick smoke: numbers are not meaningful)' : ''}`,
  )
  const { lib, error } = await loadLibrary()
  let otel
  try {
    otel = await import('smileid-auth-shim/opentelemetry')
  } catch (e) {
    otel = null
    log(`(smileid-auth-shim/opentelemetry not built yet: ${e.message})`)
  }
  if (!lib?.DualModeVerifier || !otel) {
    if (error) log(`(library not built yet: ${error.message})`)
    return {
      suites: [],
      targets: [
        {
          label: `OpenTelemetry sink adds ≤ ${MAX_ADDED * 100} % to DualModeVerifier.verify`,
          status: 'N/A',
          measured: 'not built',
        },
      ],
      quick,
    }
  }
  const apiKey = makeApiKey()
  const N = quick ? 512 : 4096
  const bodies = signatureCredentials(apiKey, N).map((c, k) => ({ body: callbackBody(c, k) }))
  const verifier = (audit) =>
    new lib.DualModeVerifier({
      partnerId: PARTNER_ID,
      signature: new lib.SignatureAuth({ partnerId: PARTNER_ID, apiKey }),
      audit,
      now: () => T0,
    })

  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const provider = new MeterProvider({ readers: [reader] })
  metrics.disable()
  // One verifier for every variant, whose audit sink forwards to the variant's sink (set before each
  // batch, untimed): the verifier's code and inline caches are the same in every variant, so the
  // difference is the sink alone. The baseline's sink counts outcomes, the cheapest sink that reads the
  // event (a sink that ignores it lets the compiler skip building the event, which no real sink does).
  const counts = { accepted: 0, rejected: 0, would_reject: 0 }
  const sinks = {
    noop: {
      write(event) {
        counts[event.outcome]++
      },
    },
    sdk: otel.openTelemetryAuditSink({ meter: provider.getMeter('bench') }),
    none: otel.openTelemetryAuditSink(),
  }
  let current = sinks.noop
  const shared = verifier({ write: (event) => current.write(event) })
  const using = (sink) => () => {
    current = sink
  }

  // Warm the shared verifier with every sink in turn before timing, so that the compiler has seen all of
  // them: otherwise the variant measured first runs on code specialised for its sink alone, and the
  // others pay for the deoptimisation (a 5–10 % bias towards whichever variant is listed first).
  const all = Object.values(sinks)
  for (let i = 0; i < (quick ? 3_000 : 30_000); i++) {
    current = all[i % all.length]
    await shared.verify(bodies[i % N])
  }

  const baseline = 'verify, counting audit sink'
  const suite = await runSuite({
    title: 'DualModeVerifier.verify (signature), one partner',
    variants: [
      { name: baseline, setup: using(sinks.noop), fn: (i) => shared.verify(bodies[i % N]) },
      {
        name: 'verify + openTelemetryAuditSink, real MeterProvider',
        baseline,
        setup: using(sinks.sdk),
        fn: (i) => shared.verify(bodies[i % N]),
      },
      {
        name: 'verify + openTelemetryAuditSink, no SDK registered',
        baseline,
        setup: using(sinks.none),
        fn: (i) => shared.verify(bodies[i % N]),
      },
    ],
    rounds: numberFlag(flags, 'rounds', quick ? 3 : 15),
    roundMs: numberFlag(flags, 'round-ms', quick ? 15 : 200),
    warmupMs: numberFlag(flags, 'warmup-ms', quick ? 30 : 300),
    clock: flags.clock === 'wall' ? 'wall' : 'cpu',
    log,
  })
  printSuite(suite, log)
  // The counter really counted: one series (accepted signature for the partner), as many as verified.
  await reader.forceFlush()
  const points =
    exporter
      .getMetrics()
      .at(-1)
      ?.scopeMetrics.flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === otel.VERIFICATIONS_COUNTER)?.dataPoints ?? []
  const counted = points.reduce((sum, p) => sum + p.value, 0)
  log(`counter ${otel.VERIFICATIONS_COUNTER}: ${points.length} series, ${counted} verifications counted`)
  await provider.shutdown()

  const targets = []
  for (const [name, label] of [
    [
      'verify + openTelemetryAuditSink, real MeterProvider',
      `OpenTelemetry sink adds ≤ ${MAX_ADDED * 100} % to DualModeVerifier.verify (real MeterProvider)`,
    ],
    [
      'verify + openTelemetryAuditSink, no SDK registered',
      `OpenTelemetry sink with no SDK registered adds ≤ ${MAX_ADDED * 100} % (reference: "nothing measurable")`,
    ],
  ]) {
    // Rates: time(with sink) / time(baseline) - 1 = rate(baseline) / rate(with sink) - 1.
    const r = ratio(suite, baseline, name)
    const added = r ? r.value - 1 : null
    targets.push({
      label,
      status: quick || added === null || counted === 0 ? 'N/A' : added <= MAX_ADDED ? 'PASS' : 'MISS',
      measured:
        added === null
          ? 'not measured'
          : `${(added * 100).toFixed(1)} % added (time ratio ${formatRatio(r.value)}, rounds ${r.min.toFixed(2)}–${r.max.toFixed(2)})`,
      ratio: r?.value ?? null,
    })
  }
  log('\n## targets')
  for (const t of targets) log(`${t.status.padEnd(4)}  ${t.label}: ${t.measured}`)
  return { suites: [suite], targets, quick, counted }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flags = parseArgs()
  const result = await main(flags)
  if (typeof flags.json === 'string') await writeJson(flags.json, result)
}
