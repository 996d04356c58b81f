import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Endpoint } from "./scheduling/types.js";

/**
 * GIE's EPP metrics (llm-d-router pkg/epp/metrics/metrics.go): the same names, types, labels and
 * buckets, so GIE's Grafana dashboard, alerts and HPA recipes read this picker. Kept next to the
 * picker's own `callouts_endpoint_picker_*` metrics.
 */
export interface GieMetrics {
  readonly requestTotal: Counter<"model_name" | "target_model_name" | "priority">;
  readonly requestErrorTotal: Counter<"model_name" | "target_model_name" | "error_code">;
  readonly requestDuration: Histogram<"model_name" | "target_model_name">;
  readonly requestSizes: Histogram<"model_name" | "target_model_name">;
  readonly responseSizes: Histogram<"model_name" | "target_model_name">;
  readonly inputTokens: Histogram<"model_name" | "target_model_name">;
  readonly outputTokens: Histogram<"model_name" | "target_model_name">;
  readonly promptCachedTokens: Histogram<"model_name" | "target_model_name">;
  readonly runningRequests: Gauge<"model_name">;
  readonly normalizedTimePerOutputToken: Histogram<"model_name" | "target_model_name">;
  readonly schedulerE2e: Histogram;
  readonly schedulerAttempts: Counter<"status" | "target_model_name" | "pod_name" | "namespace" | "port">;
  readonly pluginDuration: Histogram<"extension_point" | "plugin_type" | "plugin_name">;
  readonly modelRewriteDecisions: Counter<"model_rewrite_name" | "model_name" | "target_model">;
}

export interface GieMetricsSources {
  /** InferencePool name (label `name` of the inference_pool_* gauges). */
  readonly poolName: string;
  /** Endpoints with fresh metrics. */
  readonly readyEndpoints: () => readonly Endpoint[];
  /** Every known endpoint (inference_pool_per_pod_queue_size lists them all, as upstream). */
  readonly allEndpoints: () => readonly Endpoint[];
}

/** generalLatencyBuckets: 5 ms to 1 hour. */
const latencyBuckets = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120, 180, 240,
  300, 360, 480, 600, 900, 1200, 1800, 2700, 3600,
];
const sizeBuckets = [
  64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4194304,
  8388608, 16777216, 33554432, 67108864, 134217728, 268435456, 536870912, 1073741824,
];
const inputTokenBuckets = [
  1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536, 131072, 262144, 524288, 1048576,
];
/** responseSizeBuckets, as upstream writes them (32778 included). */
const responseSizeBuckets = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536];
const outputTokenBuckets = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];
const schedulerBuckets = [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1];
const modelLabels = ["model_name", "target_model_name"] as const;

export function createGieMetrics(registry: Registry, sources: GieMetricsSources, buildRef: string): GieMetrics {
  const registers = [registry];
  const pool = (name: string, help: string, value: (e: readonly Endpoint[]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["name"],
      registers,
      collect() {
        this.set({ name: sources.poolName }, value(sources.readyEndpoints()));
      },
    });
  const mean = (e: readonly Endpoint[], f: (x: Endpoint) => number) =>
    e.length === 0 ? 0 : e.reduce((s, x) => s + f(x), 0) / e.length;
  pool(
    "inference_pool_average_kv_cache_utilization",
    "The average kv cache utilization for an inference server pool.",
    (e) => mean(e, (x) => x.metrics.kvCacheUsage),
  );
  pool("inference_pool_average_queue_size", "The average number of requests pending in the model server queue.", (e) =>
    mean(e, (x) => x.metrics.waitingQueueSize),
  );
  pool(
    "inference_pool_average_running_requests",
    "The average number of running requests across model servers in the pool.",
    (e) => mean(e, (x) => x.metrics.runningRequests),
  );
  pool("inference_pool_ready_pods", "The number of ready pods in the inference server pool.", (e) => e.length);
  new Gauge({
    name: "inference_pool_per_pod_queue_size",
    help: "The total number of requests pending in the model server queue for each underlying pod.",
    labelNames: ["name", "model_server_pod"],
    registers,
    collect() {
      this.reset();
      for (const e of sources.allEndpoints())
        this.set(
          { name: sources.poolName, model_server_pod: e.labels["pod-name"] || e.id },
          e.metrics.waitingQueueSize,
        );
    },
  });
  new Gauge({
    name: "inference_extension_info",
    help: "General information of the current build of Inference Extension.",
    labelNames: ["commit", "build_ref"],
    registers,
  }).set({ commit: "", build_ref: buildRef }, 1);

  return {
    requestTotal: new Counter({
      name: "inference_objective_request_total",
      help: "Counter of inference objective requests broken out for each model and target model.",
      labelNames: [...modelLabels, "priority"],
      registers,
    }),
    requestErrorTotal: new Counter({
      name: "inference_objective_request_error_total",
      help: "Counter of inference objective requests errors broken out for each model and target model.",
      labelNames: [...modelLabels, "error_code"],
      registers,
    }),
    requestDuration: new Histogram({
      name: "inference_objective_request_duration_seconds",
      help: "Inference objective response latency distribution in seconds for each model and target model.",
      labelNames: modelLabels,
      buckets: latencyBuckets,
      registers,
    }),
    requestSizes: new Histogram({
      name: "inference_objective_request_sizes",
      help: "Inference objective requests size distribution in bytes for each model and target model.",
      labelNames: modelLabels,
      buckets: sizeBuckets,
      registers,
    }),
    responseSizes: new Histogram({
      name: "inference_objective_response_sizes",
      help: "Inference objective responses size distribution in bytes for each model and target model.",
      labelNames: modelLabels,
      buckets: responseSizeBuckets,
      registers,
    }),
    inputTokens: new Histogram({
      name: "inference_objective_input_tokens",
      help: "Inference objective input token count distribution for requests in each model.",
      labelNames: modelLabels,
      buckets: inputTokenBuckets,
      registers,
    }),
    outputTokens: new Histogram({
      name: "inference_objective_output_tokens",
      help: "Inference objective output token count distribution for requests in each model.",
      labelNames: modelLabels,
      buckets: outputTokenBuckets,
      registers,
    }),
    promptCachedTokens: new Histogram({
      name: "inference_objective_prompt_cached_tokens",
      help: "Inference objective prompt cached token count distribution for requests in each model.",
      labelNames: modelLabels,
      buckets: inputTokenBuckets,
      registers,
    }),
    runningRequests: new Gauge({
      name: "inference_objective_running_requests",
      help: "Inference objective number of running requests in each model.",
      labelNames: ["model_name"],
      registers,
    }),
    normalizedTimePerOutputToken: new Histogram({
      name: "inference_objective_normalized_time_per_output_token_seconds",
      help: "Inference objective latency divided by number of output tokens in seconds for each model and target model.",
      labelNames: modelLabels,
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0],
      registers,
    }),
    schedulerE2e: new Histogram({
      name: "inference_extension_scheduler_e2e_duration_seconds",
      help: "End-to-end scheduling latency distribution in seconds.",
      buckets: schedulerBuckets,
      registers,
    }),
    schedulerAttempts: new Counter({
      name: "inference_extension_scheduler_attempts_total",
      help: "Total number of scheduling attempts.",
      labelNames: ["status", "target_model_name", "pod_name", "namespace", "port"],
      registers,
    }),
    pluginDuration: new Histogram({
      name: "inference_extension_plugin_duration_seconds",
      help: "Plugin processing latency distribution in seconds for each extension point, plugin type and plugin name.",
      labelNames: ["extension_point", "plugin_type", "plugin_name"],
      buckets: schedulerBuckets,
      registers,
    }),
    modelRewriteDecisions: new Counter({
      name: "inference_extension_model_rewrite_decisions_total",
      help: "Total number of inference model rewrite decisions.",
      labelNames: ["model_rewrite_name", "model_name", "target_model"],
      registers,
    }),
  };
}
