import { defineServiceModule } from "@llm-callouts/ext-proc";
import { type EndpointPickerServiceConfig, endpointPickerConfigSchema } from "./config.js";
import { createEndpointPickerService } from "./service.js";

export { filterBySubset, freshOrAll, isStale, joinHostPort, parseSubsetHint, splitHostPort } from "./candidates.js";
export { type EndpointPickerServiceConfig, endpointPickerConfigSchema, endpointPickerDefaults } from "./config.js";
export { createDatastore, type Datastore, type EndpointSpec } from "./datastore.js";
export { createFileDiscovery, type Discovery } from "./discovery/file-discovery.js";
export { inferencePoolEndpoints } from "./discovery/inference-pool.js";
export { createInflightTracker, type InflightEstimate, type InflightTracker } from "./inflight-tracker.js";
export { engineMetricSpecs, extractEngineMetrics } from "./metrics/engine-metrics.js";
export { createHttpGetter, type FetchText, type HttpGetter } from "./metrics/http-getter.js";
export { createMetricsScraper, type MetricsScraper } from "./metrics/metrics-scraper.js";
export { parsePromText } from "./metrics/prom-text-parser.js";
export { errorReply, type InferenceError, type InferenceErrorCode, inferenceError } from "./picker-error.js";
export { createPickerProcessorFactory, destinationDecision, eppNames } from "./processor.js";
export {
  createRequestControl,
  type PickOutcome,
  type RequestControl,
  type RequestControlOptions,
} from "./request-control.js";
export {
  computeSaturation,
  defaultSaturationThresholds,
  isSaturated,
  type SaturationThresholds,
} from "./saturation-detector.js";
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
export { createEndpointPickerService } from "./service.js";

/** The endpoint picker as a CLI service module. */
export const serviceModule = defineServiceModule<EndpointPickerServiceConfig>({
  name: "endpoint-picker",
  description:
    "Endpoint Picker Protocol callout: metrics-, prefix- and LoRA-aware replica selection for an InferencePool",
  configSchema: endpointPickerConfigSchema,
  create: (config, runtime) => createEndpointPickerService(config, runtime),
});
