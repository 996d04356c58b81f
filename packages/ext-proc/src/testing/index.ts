export { createEnvoyClient } from "./envoy-client.js";
export { applyHeaderMutation, isDisallowedByDefault } from "./header-rules.js";
export { createTestRuntime } from "./runtime.js";
export type * from "./types.js";
