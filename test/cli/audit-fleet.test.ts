/**
 * Fleet-scale audit: one verdict from every instance's logs, in any mix of files, directories, gzip,
 * rotated files and stdin; and four processes writing four files through jsonlAuditSink lose nothing.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEvent, UsageReport } from '../../src/index.js'
import { json, requireBuild, run, scratch } from './helpers.js'

const files = scratch()
beforeAll(requireBuild)
afterAll(() => files.remove())

const DAY = 86_400_000
const TODAY_NOON = Math.floor(Date.now() / DAY) * DAY + DAY / 2
const ago = (days: number) => new Date(TODAY_NOON - days * DAY).toISOString()

function event(daysAgo: number, instance: string, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    time: ago(daysAgo),
    direction: 'incoming',
    partnerId: '085',
    scheme: 'signature',
    outcome: 'accepted',
    reason: null,
    keyId: 'hmac:0123456789abcdef',
    transport: 'body',
    warnings: [],
    route: '/smile/callback',
    sourceIp: null,
    source_sdk: null,
    source_sdk_version: null,
    authenticated: true,
    instance,
    ...overrides,
  }
}

/** `count` days of one event a day for `instance`, ending `endDaysAgo` days ago. */
function days(instance: string, fromDaysAgo: number, toDaysAgo = 1): AuditEvent[] {
  const out: AuditEvent[] = []
  for (let d = fromDaysAgo; d >= toDaysAgo; d--) out.push(event(d, instance))
  return out
}

const jsonl = (events: readonly unknown[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n'

describe('audit over a fleet', () => {
  it('merges a directory (plain, gzip, rotated .1 and .2.gz), a gzip file and stdin; each instance listed; a silent one blocks', async () => {
    const dir = join(files.dir, 'fleet')
    mkdirSync(dir)
    // web-1 over four files as logrotate leaves them: oldest in .2.gz, then .1, then the live file.
    writeFileSync(join(dir, 'web-1.jsonl.2.gz'), gzipSync(jsonl(days('web-1', 50, 31))))
    writeFileSync(join(dir, 'web-1.jsonl.1'), jsonl(days('web-1', 30, 11)))
    writeFileSync(join(dir, 'web-1.jsonl'), jsonl(days('web-1', 10, 1)))
    // web-2 compressed whole.
    writeFileSync(join(dir, 'web-2.jsonl.gz'), gzipSync(jsonl(days('web-2', 50, 1))))
    // Not logs: ignored.
    writeFileSync(join(dir, 'README.txt'), 'not a log\n')
    writeFileSync(join(dir, 'web-1.jsonl.bak'), jsonl(days('bogus', 50, 1)))
    // web-3 stopped reporting 12 days ago, from a gzip file given by name.
    const web3 = join(files.dir, 'web-3.jsonl.gz')
    writeFileSync(web3, gzipSync(jsonl(days('web-3', 50, 12))))
    // web-4 on stdin.
    const stdin = jsonl(days('web-4', 50, 1))

    const result = await run(['audit', dir, web3, '-', '--json'], { input: stdin })
    expect(result.code, result.stderr).toBe(3)
    const report = json<UsageReport>(result)
    expect(report.evidence.instances).toEqual([
      { instance: 'web-1', events: 50, firstEventAt: ago(50), lastEventAt: ago(1) },
      { instance: 'web-2', events: 50, firstEventAt: ago(50), lastEventAt: ago(1) },
      { instance: 'web-3', events: 39, firstEventAt: ago(50), lastEventAt: ago(12) },
      { instance: 'web-4', events: 50, firstEventAt: ago(50), lastEventAt: ago(1) },
    ])
    expect(report.evidence.events).toBe(50 + 50 + 39 + 50)
    expect(report.partners[0]!.total).toBe(189)
    expect(report.readiness.verdict).toBe('insufficient_evidence')
    expect(report.readiness.blockers).toEqual([
      expect.stringMatching(/^instance web-3 stopped reporting at .*inside the 30-day quiet period/),
    ])

    // The table names each instance with its first and last event.
    const table = await run(['audit', dir, web3, '-'], { input: stdin })
    expect(table.stdout).toMatch(/^web-3 +39 +\S+ +\S+$/m)
    expect(table.stdout).toMatch(/^ {2}- instance web-3 stopped reporting/m)

    // Without the silent instance, the same fleet is ready.
    const ready = await run(['audit', dir, '-'], { input: stdin })
    expect(ready.code, ready.stdout).toBe(0)
  })

  it('a corrupt gzip file is a usage error naming it; an empty directory too', async () => {
    const bad = join(files.dir, 'bad.jsonl.gz')
    writeFileSync(bad, 'not gzip at all')
    const result = await run(['audit', bad])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/cannot read .*bad\.jsonl\.gz/)
    const empty = join(files.dir, 'empty-dir')
    mkdirSync(empty)
    const none = await run(['audit', empty])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/holds no audit log/)
  })

  it(
    'four processes write four files through jsonlAuditSink; one audit over the directory loses no event',
    { timeout: 60_000 },
    async () => {
      const dir = join(files.dir, 'four')
      mkdirSync(dir)
      const sink = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
      const perProcess = 5000
      const script = `
      import { jsonlAuditSink } from ${JSON.stringify(sink)}
      const [path, instance, count, time] = process.argv.slice(1)
      const audit = jsonlAuditSink(path)
      for (let i = 0; i < Number(count); i++) {
        audit.write({ time, direction: 'incoming', partnerId: String(i % 7), scheme: i % 5 === 0 ? 'sec_key' : 'signature',
          outcome: 'accepted', reason: null, keyId: 'hmac:00', transport: 'body', warnings: [], route: '/r/' + i,
          sourceIp: null, source_sdk: null, source_sdk_version: null, authenticated: true, instance })
        if (i % 500 === 0) await new Promise((r) => setImmediate(r))
      }
      await audit.close()
      if (audit.stats.written !== Number(count)) process.exit(1)
    `
      const children = [1, 2, 3, 4].map(
        (n) =>
          new Promise<number | null>((resolve, reject) => {
            const child = spawn(
              process.execPath,
              [
                '--input-type=module',
                '-e',
                script,
                join(dir, `web-${n}.jsonl`),
                `web-${n}`,
                String(perProcess),
                ago(2),
              ],
              { stdio: 'ignore' },
            )
            child.on('error', reject)
            child.on('close', resolve)
          }),
      )
      expect(await Promise.all(children)).toEqual([0, 0, 0, 0])
      const report = json<UsageReport>(await run(['audit', dir, '--json']))
      expect(report.evidence.events).toBe(4 * perProcess)
      expect(report.evidence.instances.map((i) => [i.instance, i.events])).toEqual([
        ['web-1', perProcess],
        ['web-2', perProcess],
        ['web-3', perProcess],
        ['web-4', perProcess],
      ])
      const secKey = report.partners.reduce((sum, p) => sum + p.byScheme.sec_key, 0)
      const signature = report.partners.reduce((sum, p) => sum + p.byScheme.signature, 0)
      expect([secKey, signature]).toEqual([4 * (perProcess / 5), 4 * perProcess * (4 / 5)])
    },
  )
})
