/**
 * The test kit, `smileid-auth-shim/testing`: fresh test keys and a Smile ID server simulator that signs
 * callbacks in either scheme and checks a partner's outgoing requests. Node only (it uses node:crypto and
 * node:http); never load it in production code. Loaded under `NODE_ENV=production` it warns once per process
 * (code `SMILEID_TESTKIT_IN_PRODUCTION`); set `SMILEID_TESTKIT_ALLOW_PRODUCTION=1` where that is deliberate.
 *
 * @module
 */
export { createTestKeys } from './test-keys.js'
export type { CreateTestKeysOptions, TestKeys } from './test-keys.js'
export { TEST_KIT_ALLOW_PRODUCTION_ENV, TEST_KIT_IN_PRODUCTION } from './production-warning.js'
export { SmileServerSimulator } from './simulator.js'
export type {
  CallbackBodyOptions,
  CallbackOutcome,
  CallbackPartnerParams,
  SimulatedRequest,
  SimulatorAddress,
  SmileCallbackBody,
  SmileServerSimulatorOptions,
  VerifyPartnerRequestOptions,
} from './simulator.js'
