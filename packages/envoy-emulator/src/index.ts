/**
 * An Envoy-faithful ext_proc client: Envoy's `envoy.filters.http.ext_proc` filter, encoded from
 * Envoy's source, over a second gRPC implementation (@grpc/grpc-js). The data plane of the local
 * gateway and the stand-in for Envoy and GCP in every test.
 */
export { Channel } from "./channel.js";
export { createEnvoyClient, createExtProcChannel, extProcChannelOptions } from "./envoy-client.js";
export { ExtProcFilter } from "./filter.js";
export type { FilterError } from "./filter-stream.js";
export { applyHeaderMutation, isAllowedByDefault, type MutationRules } from "./header-rules.js";
export type { BodyMode, Direction, Header, HeaderInput, HeaderSendMode, JsonValue } from "./http.js";
export {
  type FilterMessage,
  LocalReply,
  normalizeRequest,
  normalizeResponse,
  type ProcessedRequest,
  type ProcessedResponse,
  StreamReset,
} from "./messages.js";
export {
  decideModeOverride,
  modeSpecFromWire,
  type OverrideSettings,
  type OverrideVerdict,
  type ProcessingModeSpec,
} from "./override-rules.js";
export type * from "./types.js";
export { chatCompletionAnswer } from "./upstream-answers.js";
