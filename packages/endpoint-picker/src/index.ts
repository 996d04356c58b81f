export { filterBySubset, freshOrAll, isStale, joinHostPort, parseSubsetHint, splitHostPort } from "./candidates.js";
export { createInflightTracker, type InflightEstimate, type InflightTracker } from "./inflight-tracker.js";
export { errorBody, type InferenceError, type InferenceErrorCode, inferenceError } from "./picker-error.js";
export { createSeededRandom } from "./random.js";
export { createRequestControl, type PickOutcome, type RequestControl, type RequestControlOptions } from "./request-control.js";
export { computeSaturation, defaultSaturationThresholds, isSaturated, type SaturationThresholds } from "./saturation-detector.js";
export {
  decodeEndpointPickerConfig,
  defaultEndpointPickerConfig,
  type EndpointPickerConfig,
  instantiateEndpointPickerConfig,
  loadEndpointPickerConfig,
} from "./scheduling/config-loader.js";
export { createPluginRegistry, type PluginRegistry } from "./scheduling/plugin-registry.js";
export { registerBuiltins } from "./scheduling/register-builtins.js";
export { createScheduler, type Scheduler, type SchedulerProfile } from "./scheduling/scheduler.js";
export type * from "./scheduling/types.js";
