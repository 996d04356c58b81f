/**
 * The SDK's test runtime. The Envoy-faithful client that drives servers in tests is its own
 * package, `@llm-callouts/envoy-emulator`.
 */
/** The SDK's own wire form of a processor's mode override, for checking configs against it. */
export { buildModeOverride } from "../wire/modes.js";
export { checkHealth } from "./health-check.js";
export { createTestRuntime } from "./runtime.js";
