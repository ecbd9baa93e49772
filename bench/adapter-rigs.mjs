// In-process rigs for the adapter CPU figures of bench/http.mjs (and the adapter cases of
// bench/profile.mjs): for each framework, the bare framework handling a callback request and the same
// framework with the smileid-auth-shim adapter in front of the same handler, plus the verifier called
// directly with the input the adapters hand it. No sockets: node:http and Express get requests through
// light-my-request (Fastify's own inject), Fastify through app.inject(), Fetch and Hono a `Request`.
// Every rig pays the same request construction, so differences are the adapter and the verification.
//
// adapter CPU added per request = 1/rate(framework + adapter) − 1/rate(bare framework) − 1/rate(verify)
import { pathToFileURL } from 'node:url'
import inject from 'light-my-request'
import { PARTNER_ID, T0, callbackBody, makeApiKey, signatureCredentials } from './lib/fixtures.mjs'

export const FRAMEWORKS = ['node', 'express', 'fastify', 'fetch', 'hono']
/** Distinct pre-signed bodies the rigs cycle through (no replay store, so a repeat is fine). */
const COUNT = 1024
const REPLY = '{"received":true}'
const URL_BASE = 'http://127.0.0.1'

/**
 * Builds the verifier, the request bodies and one `{ bare, auth, authCompare? }` set of one-request functions per
 * framework (each resolves to the HTTP status). `verify` calls the verifier with the same input an
 * adapter builds.
 */
export async function buildRigs(frameworks = FRAMEWORKS, { compare } = {}) {
  // `compare`: another build's dist/ directory (for example of the previous commit), whose adapters get a
  // rig of their own (`authCompare`) in the same process, in front of the same verifier.
  const adapterModule = (fw, root) =>
    root === undefined
      ? import(`smileid-auth-shim/${fw}`)
      : import(pathToFileURL(`${root}/adapters/${fw}.js`).href)
  const roots = compare === undefined ? [undefined] : [undefined, compare]
  const lib = await import('smileid-auth-shim')
  const apiKey = makeApiKey()
  const creds = signatureCredentials(apiKey, COUNT)
  const payloads = creds.map((c, k) => JSON.stringify(callbackBody(c, k)))
  const parsed = payloads.map((p) => JSON.parse(p))
  let audited = 0
  const verifier = new lib.DualModeVerifier({
    partnerId: PARTNER_ID,
    signature: new lib.SignatureAuth({ partnerId: PARTNER_ID, apiKey }),
    audit: () => void audited++,
    now: () => T0,
  })
  const requestHeaders = (k) => ({
    host: '127.0.0.1',
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payloads[k])),
    'user-agent': 'bench',
  })
  const injectOptions = (k) => ({
    method: 'POST',
    url: '/callback',
    headers: requestHeaders(k),
    payload: payloads[k],
    remoteAddress: '127.0.0.1',
  })
  const webRequest = (k) =>
    new Request(`${URL_BASE}/callback`, { method: 'POST', headers: requestHeaders(k), body: payloads[k] })
  const rigs = {}
  const verify = (i) => {
    const k = i % COUNT
    return verifier.verify(
      { body: parsed[k], headers: requestHeaders(k), rawBody: payloads[k] },
      { route: '/callback', sourceIp: '127.0.0.1' },
    )
  }

  for (const fw of frameworks) {
    if (fw === 'node') {
      // The plain way to read a body: data and end listeners (an async iterator over the request costs
      // more, and varies from run to run, which would flatter the adapter).
      const bare = (req, res) => {
        const chunks = []
        req.on('data', (chunk) => chunks.push(chunk))
        req.on('end', () => {
          JSON.parse(Buffer.concat(chunks).toString('utf8'))
          res.writeHead(200, { 'content-type': 'application/json' }).end(REPLY)
        })
      }
      const auths = []
      for (const root of roots) {
        const { verifyIncomingMessage, sendRejection } = await adapterModule('node', root)
        const auth = async (req, res) => {
          const v = await verifyIncomingMessage(verifier, req)
          if (!v.ok) return sendRejection(res, v)
          res.writeHead(200, { 'content-type': 'application/json' }).end(REPLY)
        }
        auths.push((i) => inject(auth, injectOptions(i % COUNT)).then((r) => r.statusCode))
      }
      rigs.node = { bare: (i) => inject(bare, injectOptions(i % COUNT)).then((r) => r.statusCode), auths }
    } else if (fw === 'express') {
      const { default: express } = await import('express')
      const make = (smileIdAuth) => {
        const app = express()
        const chain = [express.json({ limit: '1mb' })]
        if (smileIdAuth) chain.push(smileIdAuth({ verifier }))
        app.post('/callback', ...chain, (req, res) => {
          res.json({ received: true })
        })
        return app
      }
      const bare = make(null)
      const auths = []
      for (const root of roots) {
        const auth = make((await adapterModule('express', root)).smileIdAuth)
        auths.push((i) => inject(auth, injectOptions(i % COUNT)).then((r) => r.statusCode))
      }
      rigs.express = { bare: (i) => inject(bare, injectOptions(i % COUNT)).then((r) => r.statusCode), auths }
    } else if (fw === 'fastify') {
      const { default: Fastify } = await import('fastify')
      const make = async (smileIdAuth) => {
        const app = Fastify({ logger: false })
        if (smileIdAuth) await app.register(smileIdAuth, { verifier })
        app.post('/callback', async () => ({ received: true }))
        await app.ready()
        return app
      }
      const bare = await make(null)
      const auths = []
      for (const root of roots) {
        const auth = await make((await adapterModule('fastify', root)).smileIdAuth)
        auths.push((i) => auth.inject(injectOptions(i % COUNT)).then((r) => r.statusCode))
      }
      rigs.fastify = { bare: (i) => bare.inject(injectOptions(i % COUNT)).then((r) => r.statusCode), auths }
    } else if (fw === 'fetch') {
      const bare = async (request) => {
        await request.json()
        return Response.json({ received: true })
      }
      const auths = []
      for (const root of roots) {
        const { withSmileIdAuth } = await adapterModule('fetch', root)
        const auth = withSmileIdAuth(verifier, () => Response.json({ received: true }))
        auths.push((i) => auth(webRequest(i % COUNT)).then((r) => r.status))
      }
      rigs.fetch = { bare: (i) => bare(webRequest(i % COUNT)).then((r) => r.status), auths }
    } else if (fw === 'hono') {
      const { Hono } = await import('hono')
      const bare = new Hono()
      bare.post('/callback', async (c) => {
        await c.req.json()
        return c.json({ received: true })
      })
      const auths = []
      for (const root of roots) {
        const { smileIdAuth } = await adapterModule('hono', root)
        const auth = new Hono()
        auth.post('/callback', smileIdAuth({ verifier }), (c) => c.json({ received: true }))
        auths.push((i) => Promise.resolve(auth.fetch(webRequest(i % COUNT))).then((r) => r.status))
      }
      rigs.hono = {
        bare: (i) => Promise.resolve(bare.fetch(webRequest(i % COUNT))).then((r) => r.status),
        auths,
      }
    } else throw new Error(`unknown framework ${fw}; frameworks: ${FRAMEWORKS.join(', ')}`)
  }
  for (const fw of frameworks) {
    rigs[fw].auth = rigs[fw].auths[0]
    rigs[fw].authCompare = rigs[fw].auths[1]
  }
  return { rigs, verify, audited: () => audited }
}
