// Formats a bench/run.mjs result as Markdown tables (for docs/performance.md).
import { formatRate, ratio } from './harness.mjs'

// `align`: one letter per column, l or r (default: first column left, the rest right).
const table = (headers, rows, align = 'l' + 'r'.repeat(headers.length - 1)) =>
  [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map((h, i) => (align[i] === 'r' ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')

function suiteTable(suite) {
  const rows = suite.variants.map((v) => {
    const s = suite.stats[v.name]
    const r = v.baseline ? ratio(suite, v.name, v.baseline) : null
    return [
      v.name,
      formatRate(s.median),
      `${formatRate(s.min)}–${formatRate(s.max)}`,
      r ? `**${r.value.toFixed(2)}×** ${v.baseline}` : 'baseline',
    ]
  })
  return `**${suite.title}** (${suite.rounds} rounds, ${suite.clock} clock)\n\n${table(['variant', 'ops/s (median)', 'min–max', 'ratio'], rows, 'lrrl')}`
}

export function toMarkdown({ machine, results }) {
  const out = []
  out.push(
    `Machine: ${machine.cpu}, ${machine.nproc} CPUs (\`nproc\`), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}. ` +
      `Run ${machine.startedAt} – ${machine.finishedAt}; load average ${machine.loadAvgStart[0].toFixed(2)} at start, ` +
      `${machine.loadAvgEnd[0].toFixed(2)} at end.${machine.quick ? ' QUICK SMOKE: not meaningful.' : ''}`,
  )
  const targets = []
  for (const part of Object.values(results))
    for (const t of part?.targets ?? []) targets.push([t.status, t.label, t.measured])
  out.push('### Targets\n\n' + table(['', 'target', 'measured'], targets, 'lll'))

  const verify = results.verify
  if (verify) {
    out.push('### Verification and signing')
    for (const suite of Object.values(verify.suites)) out.push(suiteTable(suite))
  }
  const http = results.http
  if (http) {
    const rows = Object.entries(http.summary).map(([name, s]) => {
      return [
        name,
        formatRate(s.rps),
        `${formatRate(s.rpsMin)}–${formatRate(s.rpsMax)}`,
        String(s.p50),
        String(s.p99),
        s.cpuUsPerRequest.toFixed(0),
        http.overhead[name] !== undefined ? `**${(http.overhead[name] * 100).toFixed(1)} %**` : '',
        http.cpuOverhead[name] !== undefined
          ? `${http.cpuOverhead[name] >= 0 ? '+' : '−'}${Math.abs(http.cpuOverhead[name] * 100).toFixed(1)} %`
          : '',
      ]
    })
    const o = http.options
    out.push(
      `### HTTP (autocannon, ${o.connections} connections, ${o.rounds} × ${o.duration} s per receiver, loopback)\n\n` +
        table(
          [
            'receiver',
            'req/s (median)',
            'min–max',
            'p50 ms',
            'p99 ms',
            'receiver CPU µs/req',
            'req/s overhead',
            'CPU/req overhead',
          ],
          rows,
        ),
    )
  }
  const cold = results['cold-start']
  if (cold) {
    const rows = Object.entries(cold.stats).map(([name, s], i) => [
      name,
      s.median.toFixed(1),
      `${s.min.toFixed(1)}–${s.max.toFixed(1)}`,
      i === 0 ? 'baseline' : `**${s.overMs.toFixed(1)} ms**`,
      s.cpuMedian.toFixed(1),
      i === 0 ? 'baseline' : `${s.cpuOverMs.toFixed(1)} ms`,
    ])
    const loads = Object.entries(cold.loads).map(
      ([name, l]) =>
        `- ${name}: ${l.ownModules} library modules; packages: ${l.packages.join(', ') || 'none'}`,
    )
    out.push(
      `### Cold start (${cold.runs} runs each, median wall time)\n\n` +
        table(
          [
            'process',
            'wall ms (median)',
            'min–max',
            'wall over bare node',
            'CPU ms (median)',
            'CPU over bare',
          ],
          rows,
        ) +
        '\n\nModules loaded:\n\n' +
        loads.join('\n'),
    )
  }
  const memory = results.memory
  if (memory?.results) {
    const rows = Object.entries(memory.results).map(([name, r]) => [
      name,
      String(r.size),
      `${(r.bytes / 2 ** 20).toFixed(1)} MiB`,
      `${(r.bytes / r.size).toFixed(0)} B`,
    ])
    out.push(
      '### Memory (MemoryReplayStore, default bound)\n\n' +
        table(['fill', 'entries kept', 'heap growth', 'per entry'], rows),
    )
  }
  const churn = results['replay-store']
  if (churn?.rows?.length) {
    const rows = churn.rows.map((r) => [String(r.churned), r.usPerInsert.toFixed(2)])
    out.push(
      `### MemoryReplayStore.remember() at its bound (${churn.bound} entries, CPU time per insert over ${churn.window} inserts)\n\n` +
        table(['inserts absorbed at the bound', 'µs per insert'], rows),
    )
  }
  return out.join('\n\n') + '\n'
}
