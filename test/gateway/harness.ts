/**
 * End-to-end harness for the gateway: the BUILT CLI (`node dist/cli/main.js gateway --config …`) in a child
 * process, an upstream node:http server that records what reached it, and helpers to send requests.
 * Run `npm run build` first (the suite fails early with that hint otherwise).
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { SmileCallbackBody, SmileServerSimulator } from '../../src/testing/simulator.js'
import { CLI, requireBuild } from '../cli/helpers.js'

export { CLI, requireBuild }

/** A request as the upstream received it. */
export interface UpstreamRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  rawHeaders: string[]
  body: Buffer
}

/** A recording upstream. `/slow…` answers after `slowMs`; everything else at once, 201 with a marker. */
export interface Upstream {
  url: string
  port: number
  requests: UpstreamRequest[]
  slowMs: number
  close(): Promise<void>
}

/** Starts a recording upstream on 127.0.0.1. */
export async function startUpstream(name = 'upstream'): Promise<Upstream> {
  const requests: UpstreamRequest[] = []
  const state = { slowMs: 500 }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      })
      const answer = () => {
        const payload = JSON.stringify({ handledBy: name, url: req.url })
        res.writeHead(201, {
          'content-type': 'application/json',
          'x-upstream': name,
          'set-cookie': ['a=1', 'b=2'],
        })
        res.end(payload)
      }
      if ((req.url ?? '').startsWith('/slow')) setTimeout(answer, state.slowMs)
      else answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get slowMs() {
      return state.slowMs
    },
    set slowMs(ms: number) {
      state.slowMs = ms
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A running gateway process. */
export interface GatewayProcess {
  child: ChildProcess
  inbound: string
  outbound: string | undefined
  dir: string
  /** Every JSON log line so far. */
  logs: Array<Record<string, unknown>>
  stdout: () => string
  stderr: () => string
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Environment for a child: the parent's, minus any SMILEID_* variable, plus `extra`. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('SMILEID_')) env[name] = value
  }
  return { ...env, ...extra }
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'smileid-gateway-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/**
 * Writes `config` to `dir/gateway.json`, starts the gateway, and resolves once it logs `listening`
 * (within 15 s, else it rejects with what the process printed).
 */
export async function startGatewayProcess(
  config: unknown,
  env: Record<string, string>,
  dir: string,
  name = 'gateway.json',
): Promise<GatewayProcess> {
  requireBuild()
  const file = join(dir, name)
  writeFileSync(file, JSON.stringify(config, null, 2))
  const child = spawn(process.execPath, [CLI, 'gateway', '--config', file], {
    env: childEnv(env),
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  let stdout = ''
  let stderr = ''
  const logs: Array<Record<string, unknown>> = []
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child)
      resolve(code)
    }),
  )
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    let pending = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      pending += chunk
      let newline
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline)
        pending = pending.slice(newline + 1)
        try {
          const entry = JSON.parse(line) as Record<string, unknown>
          logs.push(entry)
          if (entry.msg === 'listening') resolve(entry)
        } catch {
          // not a log line
        }
      }
    })
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    void exited.then((code) => reject(new Error(`gateway exited with ${code}: ${stderr}${stdout}`)))
    setTimeout(() => reject(new Error(`gateway did not start: ${stderr}${stdout}`)), 15_000).unref()
  })
  const entry = await listening
  const address = (key: string) => {
    const value = entry[key] as { port: number; tls?: boolean } | null
    return value === null ? undefined : `${value.tls === true ? 'https' : 'http'}://127.0.0.1:${value.port}`
  }
  return {
    child,
    inbound: address('inbound') ?? '',
    outbound: address('outbound'),
    dir,
    logs,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

/** A response read in full. */
export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** Sends one request with node:http (exact bytes, any headers, no fetch normalisation). */
export function send(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer } = {},
): Promise<Reply> {
  const url = new URL(path, base)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: options.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.setTimeout(20_000, () => req.destroy(new Error('request timed out')))
    req.end(options.body)
  })
}

/** Polls `check` every 50 ms until it returns true, for at most `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('condition not met in time')
}

let lastInstant = 0

/**
 * A callback signed by the simulator with a timestamp no other call of this process used, so that two
 * callbacks made within one millisecond never share a credential (which the gateway would call a replay).
 */
export function signedCallback(
  smile: SmileServerSimulator,
  scheme: 'signature' | 'sec_key',
  result?: Record<string, unknown>,
): Promise<SmileCallbackBody> {
  const instant = Math.max(Date.now(), lastInstant + 1)
  lastInstant = instant
  return smile.callbackBody({
    scheme,
    timestamp: scheme === 'signature' ? new Date(instant).toISOString() : instant,
    ...(result === undefined ? {} : { result }),
  })
}
