/**
 * Broken stand-ins for the library's public API, for the negative control in `self-check.mjs`: a suite
 * whose checks still pass against these would prove nothing. `accept` says yes to everything and never
 * throws; `reject` says no to everything and throws plain errors from its constructors.
 */

function stubApi(mode) {
  class ConfigurationError extends Error {
    code = 'stub'
  }
  class VerificationError extends Error {
    code = 'stub'
  }
  const accepted = (scheme, credentials) => ({
    ok: true,
    scheme,
    partnerId: '085',
    timestamp: credentials?.timestamp ?? credentials?.body?.timestamp ?? 0,
    issuedAt: new Date(1_700_000_000_000),
    keyId: 'stub-key',
    transport: credentials?.headers ? 'headers' : 'body',
    legacy: scheme === 'sec_key',
    duplicate: false,
    warnings: [],
  })
  const rejected = (scheme) => ({
    ok: false,
    scheme,
    reason: 'invalid_signature',
    message: 'stub',
    partnerId: '085',
  })

  class Strategy {
    constructor(options, scheme) {
      if (mode === 'reject') throw new Error('stub constructor')
      this.scheme = scheme
      this.partnerId = options?.partnerId
    }
    async sign(options) {
      const timestamp = options?.timestamp ?? 0
      return this.scheme === 'signature'
        ? { signature: 'A'.repeat(43) + '=', timestamp }
        : { sec_key: `${'A'.repeat(172)}|${'0'.repeat(64)}`, timestamp }
    }
    async verify(credentials) {
      return mode === 'accept' ? accepted(this.scheme, credentials) : rejected(this.scheme)
    }
  }
  class SignatureAuth extends Strategy {
    constructor(options) {
      super(options, 'signature')
    }
  }
  class LegacySecKeyAuth extends Strategy {
    constructor(options) {
      super(options, 'sec_key')
    }
  }
  class DualModeVerifier {
    constructor() {
      if (mode === 'reject') throw new Error('stub constructor')
    }
    async verify(request) {
      return mode === 'accept' ? accepted('signature', request) : rejected('signature')
    }
    async verifyOrThrow(request) {
      return this.verify(request)
    }
  }
  class MemoryReplayStore {
    async remember() {
      return 'new'
    }
  }
  class MigratingSigner {
    async sign() {
      return { scheme: 'signature', credentials: {} }
    }
    async signBody(body) {
      return { ...body }
    }
    async headers() {
      return {}
    }
  }
  const fetchApi = {
    withSmileIdAuth(verifier, handler) {
      return async (request, ...args) =>
        mode === 'accept'
          ? handler(request, { auth: accepted('signature', {}), body: {} }, ...args)
          : Response.json({ error: 'invalid_signature' }, { status: 401 })
    },
    async verifyRequest() {
      return mode === 'accept'
        ? { ok: true, status: 200, error: null, result: accepted('signature', {}), body: {}, headers: {} }
        : {
            ok: false,
            status: 401,
            error: 'invalid_signature',
            result: rejected('signature'),
            body: null,
            headers: {},
          }
    },
  }
  return {
    fetchApi,
    ConfigurationError,
    VerificationError,
    SignatureAuth,
    LegacySecKeyAuth,
    DualModeVerifier,
    MemoryReplayStore,
    MigratingSigner,
  }
}

export const stubs = { accept: stubApi('accept'), reject: stubApi('reject') }
