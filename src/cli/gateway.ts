/**
 * `smileid-auth gateway --config <file>`: runs the verifying inbound proxy and/or the re-signing outbound
 * proxy described by a JSON config file, until SIGTERM or SIGINT.
 *
 * A long-running command is the one place besides `main.ts` that listens to process signals: shutdown is
 * part of what the command does (finish in-flight requests, flush the audit log, exit 0).
 *
 * @internal
 * @module
 */
import { GatewayConfigError, loadGatewayConfig } from '../gateway/config.js'
import { jsonLogger } from '../gateway/log.js'
import { startGateway } from '../gateway/server.js'
import { HELP_OPTION, helpHint, parseCommand, required } from './args.js'
import { EXIT_OK, UsageError, type CliContext, type Command } from './context.js'

const NAME = 'gateway'

const OPTIONS = {
  ...HELP_OPTION,
  config: { type: 'string', short: 'c' },
} as const

const HELP = `Usage: smileid-auth gateway --config <file>

Runs the Smile ID gateway for backends that are not Node:
  inbound   a verifying reverse proxy for callbacks: only requests whose signature or sec_key verifies
            reach the upstream, with the original body and SmileID-Auth-* result headers;
  outbound  a re-signing forward proxy: an app that sends sec_key (or no credential) to it reaches
            Smile ID with a signature, without changing its code.
Operations endpoints: /healthz, /readyz, /metrics (Prometheus) on each listener.
Logs are JSON lines on stdout. SIGTERM or SIGINT: finish in-flight requests, flush the audit log, exit 0.
SIGHUP: reopen the JSONL audit file (after logrotate moved it).
Keys come from the environment variables or files the config names, never from the config itself.
See docs/gateway.md for the config file.

Options:
  -c, --config <file>  the JSON config file (required).
  -h, --help           show this help.

Exit codes: 0 stopped cleanly, 2 configuration error (the message names the field).
`

/**
 * The `gateway` command.
 *
 * @example
 * ```ts
 * // smileid-auth gateway --config ./gateway.json
 * const code = await gateway.run(context)
 * ```
 */
export const gateway: Command = {
  help: HELP,
  async run(context: CliContext): Promise<number> {
    const { values } = parseCommand(NAME, context.argv, OPTIONS, 0)
    const path = required(NAME, values.config, '--config')
    let config
    try {
      config = loadGatewayConfig(path, { env: context.env })
    } catch (error) {
      if (error instanceof GatewayConfigError) {
        throw new UsageError(`config field ${error.field}: ${error.message}`, 'see docs/gateway.md')
      }
      throw error
    }
    const log = jsonLogger((line) => context.stdout.write(line), context.now)
    let running
    try {
      running = await startGateway(config, { log, now: context.now })
    } catch (error) {
      log.flush()
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new UsageError(`cannot listen: ${code}`, 'check inbound.listen / outbound.listen')
      }
      if (error instanceof Error && /certificate|key|PEM|asn1/i.test(error.message)) {
        throw new UsageError(
          'config field outbound.tls: the certificate or key cannot be used',
          helpHint(NAME),
        )
      }
      throw error
    }
    log('info', 'listening', {
      inbound: running.inbound ?? null,
      outbound: running.outbound ?? null,
    })
    const onHup = () => {
      log('info', 'signal', { signal: 'SIGHUP' })
      running
        .reopenAudit()
        .catch((error: unknown) =>
          log('error', 'audit reopen failed', { error: error instanceof Error ? error.name : 'error' }),
        )
    }
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.off('SIGTERM', onTerm)
        process.off('SIGINT', onInt)
        log('info', 'signal', { signal })
        resolve()
      }
      const onTerm = () => stop('SIGTERM')
      const onInt = () => stop('SIGINT')
      process.once('SIGTERM', onTerm)
      process.once('SIGINT', onInt)
      // logrotate's postrotate sends SIGHUP: reopen the audit file by its path, keep serving.
      process.on('SIGHUP', onHup)
    })
    process.off('SIGHUP', onHup)
    await running.close()
    log.flush()
    return EXIT_OK
  },
}
