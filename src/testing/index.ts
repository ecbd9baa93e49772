/**
 * The test kit, `smileid-auth-shim/testing`: fresh test keys and a Smile ID server simulator that signs
 * callbacks in either scheme and checks a partner's outgoing requests. Node only (it uses node:crypto and
 * node:http); never load it in production code.
 *
 * @module
 */
export { createTestKeys } from './keys.js'
export type { CreateTestKeysOptions, TestKeys } from './keys.js'
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
