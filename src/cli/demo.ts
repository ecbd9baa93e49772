/**
 * `smileid-auth demo`: with no configuration, runs a simulated Smile ID server and a dual-mode receiver
 * on 127.0.0.1, sends callbacks in both schemes plus a forged and a replayed one, prints one line per
 * request and the audit summary. Bounded: a fixed list of requests and an overall deadline.
 *
 * @internal
 * @module
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sendRejection, verifyIncomingMessage } from '../adapters/node.js'
import {
  DualModeVerifier,
  LegacySecKeyAuth,
  MemoryReplayStore,
  SignatureAuth,
  summarizeAudit,
  type AuditEvent,
  type Scheme,
} from '../index.js'
import { SmileServerSimulator, createTestKeys } from '../testing/index.js'
import { HELP_OPTION, parseCommand } from './args.js'
import { EXIT_OK, type CliContext, type Command, type Output } from './context.js'
import { renderReportTable } from './report.js'
import { paint, table } from './style.js'

const NAME = 'demo'
const DEADLINE_MS = 20_000

const HELP = `Usage: smileid-auth demo

Runs, with no configuration and no network beyond 127.0.0.1:
  - a simulated Smile ID server, with fresh test keys for partner 085;
  - your side: a dual-mode receiver (node:http + smileid-auth-shim/node) that accepts both schemes,
    warns on legacy sec_key, and remembers credentials to catch replays.
Smile ID sends callbacks in both schemes, then a forged one and a replayed one; your side then sends
two requests to Smile ID, one per scheme. One line per request, then the audit summary. Takes a few
seconds; exit code 0.

Options:
  -h, --help   show this help.
`

/** One request of the demo and what happened to it. */
interface Line {
  direction: string
  what: string
  scheme: Scheme
  outcome: 'accepted' | 'rejected'
  /** The failure reason, or the warnings of an accepted request. */
  reason: string
}

/**
 * The `demo` command.
 *
 * @example
 * ```ts
 * // smileid-auth demo
 * const code = await demo.run(context) // 0
 * ```
 */
export const demo: Command = {
  help: HELP,
  async run(context: CliContext): Promise<number> {
    parseCommand(NAME, context.argv, HELP_OPTION, 0)
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the demo did not finish within ${DEADLINE_MS / 1000} s`)),
        DEADLINE_MS,
      )
    })
    try {
      return await Promise.race([runDemo(context), deadline])
    } finally {
      clearTimeout(timer)
    }
  },
}

async function runDemo(context: CliContext): Promise<number> {
  const out = context.stdout
  const keys = createTestKeys({ partnerId: '085' })
  const smile = new SmileServerSimulator(keys)
  const events: AuditEvent[] = []
  const verifier = new DualModeVerifier({
    signature: new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey }),
    secKey: new LegacySecKeyAuth({ partnerId: keys.partnerId, apiKey: keys.secKeyApiKey }),
    policy: { legacy: 'warn' },
    replay: new MemoryReplayStore(),
    audit: (event) => void events.push(event),
  })
  const receiver = createServer((req, res) => {
    verifyIncomingMessage(verifier, req).then(
      (verification) => {
        if (!verification.ok) return sendRejection(res, verification)
        const { scheme, warnings, duplicate } = verification.result
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ received: true, scheme, warnings, duplicate }))
      },
      () => {
        res.writeHead(500).end()
      },
    )
  })
  const lines: Line[] = []
  try {
    const receiverUrl = await listen(receiver)
    const smileAddress = await smile.listen()
    out.write(
      `${paint(out, 'bold', 'smileid-auth demo')}: simulated Smile ID at ${smileAddress.url}, your receiver at ${receiverUrl}/smile/callback\n` +
        `test partner ${keys.partnerId}; keys made just now and never printed\n\n`,
    )
    const callbackUrl = `${receiverUrl}/smile/callback`
    const deliver = async (body: unknown, label: string, scheme: Scheme) => {
      const response = await post(callbackUrl, body)
      lines.push(describe('Smile ID → you', scheme, response, label))
    }

    // Smile ID → partner: callbacks in both schemes, as during a migration.
    const first = await smile.callbackBody({ scheme: 'signature' })
    await deliver(first, 'callback, job passed', 'signature')
    const legacy = await smile.callbackBody({ scheme: 'sec_key' })
    await deliver(legacy, 'callback, job passed', 'sec_key')
    await deliver(
      await smile.callbackBody({ scheme: 'signature', result: 'rejected' }),
      'callback, job failed',
      'signature',
    )
    await deliver(
      await smile.callbackBody({ scheme: 'sec_key', result: 'rejected' }),
      'callback, job failed',
      'sec_key',
    )
    await deliver(legacy, 'same callback, redelivered', 'sec_key')

    // A forgery: a well-formed signature made with a key that is not Smile ID's.
    const forger = new SignatureAuth({ partnerId: keys.partnerId, apiKey: 'not-the-real-key' })
    const forged = { ...(await smile.callbackBody({ scheme: 'signature' })), ...(await forger.sign()) }
    await deliver(forged, 'forged (wrong key)', 'signature')

    // A replay: a captured credential attached to a different body.
    const replayed = {
      ...first,
      ResultCode: '1012',
      ResultText: 'Altered by an attacker',
      SmileJobID: '9999999999',
    }
    await deliver(replayed, 'replayed (altered body)', 'signature')

    // Partner → Smile ID: your outgoing requests, one per scheme, checked by the simulator.
    for (const scheme of ['signature', 'sec_key'] as const) {
      const auth =
        scheme === 'signature'
          ? new SignatureAuth({ partnerId: keys.partnerId, apiKey: keys.signatureApiKey })
          : new LegacySecKeyAuth({ partnerId: keys.partnerId, apiKey: keys.secKeyApiKey })
      const body = {
        partner_id: keys.partnerId,
        user_id: 'demo-user',
        job_id: `demo-${scheme}`,
        ...(await auth.sign()),
      }
      const response = await post(`${smileAddress.url}/v1/job_status`, body)
      lines.push(describe('you → Smile ID', scheme, response, 'job_status'))
    }
  } finally {
    await Promise.all([smile.close(), close(receiver)])
  }

  out.write(renderLines(lines, out))
  const report = await summarizeAudit(events, { now: new Date(context.now()) })
  out.write(`\n${paint(out, 'bold', 'Audit summary of your receiver')} (${events.length} events):\n\n`)
  out.write(renderReportTable(report, out))
  out.write(
    `\nNext: 'smileid-auth keygen' for test keys, 'smileid-auth verify --help', and docs/getting-started.md.\n`,
  )
  return EXIT_OK
}

interface Response {
  status: number
  body: Record<string, unknown>
}

async function post(url: string, body: unknown): Promise<Response> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  let parsed: Record<string, unknown> = {}
  try {
    parsed = JSON.parse(text) as Record<string, unknown>
  } catch {
    // The status alone tells the story.
  }
  return { status: response.status, body: parsed }
}

function describe(direction: string, scheme: Scheme, response: Response, what: string): Line {
  if (response.status === 200) {
    const warnings = Array.isArray(response.body.warnings) ? (response.body.warnings as string[]) : []
    const notes = [...warnings, ...(response.body.duplicate === true ? ['duplicate (a redelivery)'] : [])]
    return { direction, what, scheme, outcome: 'accepted', reason: notes.join(', ') || '-' }
  }
  const reason = typeof response.body.error === 'string' ? response.body.error : `HTTP ${response.status}`
  const code = typeof response.body.code === 'string' ? ` (Smile ID error ${response.body.code})` : ''
  return { direction, what, scheme, outcome: 'rejected', reason: `${reason}${code}` }
}

function renderLines(lines: readonly Line[], out: Output): string {
  const rows = lines.map((line, index) => [
    String(index + 1),
    line.direction,
    line.what,
    line.scheme,
    line.outcome === 'accepted' ? paint(out, 'green', line.outcome) : paint(out, 'red', line.outcome),
    line.reason,
  ])
  return table(['#', 'direction', 'request', 'scheme', 'outcome', 'reason / warnings'], rows, ['#'])
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

async function close(server: Server): Promise<void> {
  if (!server.listening) return
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}
