/** The SDK's own wire form of a processor's mode override, for checking configs against it. */
export { buildModeOverride } from "../wire/modes.js";
export { Channel } from "./channel.js";
export { createEnvoyClient, createExtProcChannel, extProcChannelOptions } from "./envoy-client.js";
export {
  ExtProcFilter,
  type FilterError,
  type FilterMessage,
  LocalReply,
  normalizeRequest,
  normalizeResponse,
  type ProcessedRequest,
  type ProcessedResponse,
  StreamReset,
} from "./ext-proc-filter.js";
export { applyHeaderMutation, isAllowedByDefault, type MutationRules } from "./header-rules.js";
export {
  decideModeOverride,
  modeSpecFromWire,
  type OverrideSettings,
  type OverrideVerdict,
  type ProcessingModeSpec,
} from "./override-rules.js";
export { createTestRuntime } from "./runtime.js";
export type * from "./types.js";
