/**
 * Every audit option mistake (jsonlAuditSink, LegacyUsageTracker, summarizeAudit, openTelemetryAuditSink):
 * the code, what was given, what is allowed, and the likely slip.
 */
import { PassThrough } from 'node:stream'
import { metrics } from '@opentelemetry/api'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { describe, expect, it } from 'vitest'
import { openTelemetryAuditSink } from '../../src/audit/opentelemetry.js'
import { summarizeAudit } from '../../src/audit/report.js'
import { jsonlAuditSink, LegacyUsageTracker } from '../../src/audit/sinks.js'
import { expectConfigError } from '../support/config-errors.js'

const stream = () => new PassThrough()

describe('jsonlAuditSink option messages', () => {
  it.each([
    {
      name: 'an empty path',
      run: () => jsonlAuditSink(''),
      includes: [
        'jsonlAuditSink: the destination must be a file path or a writable stream',
        '(got an empty path)',
      ],
    },
    {
      name: 'options in place of the path',
      run: () => jsonlAuditSink({ path: './audit.jsonl' } as never),
      includes: ['the destination must be a file path or a writable stream', 'jsonlAuditSink(path, options)'],
    },
    {
      name: 'a file URL',
      run: () => jsonlAuditSink(new URL('file:///tmp/audit.jsonl') as never),
      includes: ['the destination must be', 'fileURLToPath(url)'],
    },
    {
      name: 'a web WritableStream',
      run: () => jsonlAuditSink(new WritableStream() as never),
      includes: ['(got an object)', 'a web WritableStream is not one', 'fs.createWriteStream'],
    },
    {
      name: 'a size string for maxBufferBytes',
      run: () => jsonlAuditSink(stream(), { maxBufferBytes: '64mb' as never }),
      includes: [
        'jsonlAuditSink: maxBufferBytes must be a positive number of bytes',
        '(got a string of 4 characters)',
        'not a size string',
      ],
    },
    {
      name: 'zero maxBufferBytes',
      run: () => jsonlAuditSink(stream(), { maxBufferBytes: 0 }),
      includes: ['maxBufferBytes must be a positive number of bytes (default 16 MiB', '(got the number 0)'],
    },
    {
      name: 'a retry delay in seconds misread',
      run: () => jsonlAuditSink(stream(), { retryDelayMs: 60_000 }),
      includes: [
        'retryDelayMs must be a number of milliseconds from 0 to 30000 (default 100) (got the number 60000)',
      ],
    },
    {
      name: 'a negative retry delay',
      run: () => jsonlAuditSink(stream(), { retryDelayMs: -1 }),
      includes: ['retryDelayMs must be a number of milliseconds from 0 to 30000', '(got the number -1)'],
    },
    {
      name: 'onError not a function',
      run: () => jsonlAuditSink(stream(), { onError: console as never }),
      includes: ['jsonlAuditSink: onError must be a function (error) => void (got an object)'],
    },
    {
      name: 'warn as text',
      run: () => jsonlAuditSink(stream(), { warn: 'yes' as never }),
      includes: ['jsonlAuditSink: warn must be true, false or a function (message) => void (got "yes")'],
    },
    {
      name: 'a numeric instance',
      run: () => jsonlAuditSink(stream(), { instance: 3 as never }),
      includes: ['jsonlAuditSink: instance must be a string naming this process, or null (got the number 3)'],
    },
    {
      name: 'endOnClose as text',
      run: () => jsonlAuditSink(stream(), { endOnClose: 'true' as never }),
      includes: ['jsonlAuditSink: endOnClose must be true or false (got "true")'],
    },
    {
      name: 'a mistyped option',
      run: () => jsonlAuditSink(stream(), { maxBuferBytes: 10 } as never),
      includes: ['unknown option in jsonlAuditSink: maxBuferBytes (did you mean maxBufferBytes?)'],
    },
  ])('$name', async ({ run, includes }) => {
    await expectConfigError(run, { code: 'invalid_options', includes })
  })
})

describe.each([
  {
    owner: 'LegacyUsageTracker',
    make: (options: unknown) => new LegacyUsageTracker(options as never),
  },
  {
    owner: 'summarizeAudit',
    make: (options: unknown) => summarizeAudit([], options as never),
  },
])('$owner option messages', ({ owner, make }) => {
  const QUIET = `${owner}: quietPeriodDays must be a number of days from 0 to 3650 (default 30)`
  it.each([
    {
      name: 'quiet period as text',
      options: { quietPeriodDays: '30' },
      includes: [QUIET, '(got a string of 2 characters)', 'not a string'],
    },
    {
      name: 'a negative quiet period',
      options: { quietPeriodDays: -1 },
      includes: [QUIET, '(got the number -1)'],
    },
    {
      name: 'a quiet period in milliseconds',
      options: { quietPeriodDays: 30 * 86_400_000 },
      includes: [QUIET, '(got the number 2592000000); the value is in days, not milliseconds'],
    },
    {
      name: 'since as a date string',
      options: { since: '2026-01-01' },
      includes: [`${owner}: since must be a Date (got "2026-01-01"); pass new Date("2026-01-01")`],
    },
    {
      name: 'since as epoch milliseconds',
      options: { since: 1_767_225_600_000 },
      includes: [`${owner}: since must be a Date`, 'for epoch milliseconds pass new Date(1767225600000)'],
    },
    {
      name: 'since an invalid Date',
      options: { since: new Date('next tuesday') },
      includes: [`${owner}: since must be a valid Date (got an invalid Date)`],
    },
    {
      name: 'a mistyped option',
      options: { quietPeriod: 30 },
      includes: [`unknown option in ${owner}: quietPeriod (did you mean quietPeriodDays?)`],
    },
  ])('$name', async ({ options, includes }) => {
    await expectConfigError(() => make(options), { code: 'invalid_options', includes })
  })
})

describe('report time messages', () => {
  it('summarizeAudit refuses a now that is not a Date', async () => {
    await expectConfigError(() => summarizeAudit([], { now: '2026-12-01T00:00:00Z' as never }), {
      includes: [
        'summarizeAudit: now must be a Date (got "2026-12-01T00:00:00Z"); pass new Date("2026-12-01T00:00:00Z")',
      ],
    })
  })

  it('LegacyUsageTracker.report refuses a now that is not a Date', async () => {
    const tracker = new LegacyUsageTracker()
    await expectConfigError(() => tracker.report(Date.UTC(2026, 11, 1) as never), {
      includes: ['LegacyUsageTracker: now must be a Date', 'for epoch milliseconds pass new Date('],
    })
    expect(tracker.report(new Date('2026-12-01T00:00:00Z')).generatedAt).toBe('2026-12-01T00:00:00.000Z')
  })
})

describe('openTelemetryAuditSink option messages', () => {
  const METER =
    'openTelemetryAuditSink: `meter` must be an OpenTelemetry Meter (for example metrics.getMeter(name))'
  it.each([
    {
      name: 'a MeterProvider',
      options: { meter: new MeterProvider() },
      includes: [METER, '(got an object)', 'pass its meter, for example provider.getMeter(name)'],
    },
    { name: 'the metrics API', options: { meter: metrics }, includes: [METER, 'this has getMeter()'] },
    { name: 'a meter name', options: { meter: 'webhooks' }, includes: [METER, '(got "webhooks")'] },
    {
      name: 'a mistyped option',
      options: { meterProvider: new MeterProvider() },
      includes: ['unknown option in openTelemetryAuditSink: meterProvider (did you mean meter?)'],
    },
  ])('$name', async ({ options, includes }) => {
    await expectConfigError(() => openTelemetryAuditSink(options as never), {
      code: 'invalid_options',
      includes,
    })
  })
})
