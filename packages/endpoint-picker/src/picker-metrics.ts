import { boundedLabel } from "@llm-callouts/ext-proc";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { createGieMetrics, type GieMetrics } from "./gie-metrics.js";
import type { Endpoint } from "./scheduling/types.js";

/** The picker's own Prometheus metrics (`callouts_endpoint_picker_*`). */
export interface PickerMetrics {
  readonly saturation: Gauge;
  readonly picks: Counter<"endpoint">;
  readonly requests: Counter<"result">;
  readonly schedulingSeconds: Histogram;
  readonly tokens: Counter<"kind">;
  readonly scrapes: Counter<"result">;
  readonly fallbacksServed: Counter;
  readonly pluginSeconds: Histogram<"extension_point" | "plugin_type" | "plugin_name">;
  /** GIE's metric names, next to ours. */
  readonly gie: GieMetrics;
  /**
   * The value for a model-name label (clients choose model names): the first
   * `maxModelLabels` distinct names, then `other`, so random names cannot grow /metrics.
   */
  readonly modelLabel: (model: string | undefined) => string;
}

/** Distinct model names kept as label values (as the body router's `maxModelLabels`). */
export const maxModelLabels = 100;

export interface PickerMetricsSources {
  readonly queuedRequests: () => number;
  readonly inflightByEndpoint: () => ReadonlyMap<string, number>;
  readonly readyEndpoints: () => readonly Endpoint[];
  /** Every known endpoint, fresh or not. */
  readonly allEndpoints: () => readonly Endpoint[];
  /** InferencePool name for GIE's inference_pool_* gauges ("" without one). */
  readonly poolName: string;
}

export function createPickerMetrics(registry: Registry, sources: PickerMetricsSources): PickerMetrics {
  const p = "callouts_endpoint_picker_";
  new Gauge({
    name: `${p}flow_control_queue_size`,
    help: "Requests held by flow control.",
    registers: [registry],
    collect() {
      this.set(sources.queuedRequests());
    },
  });
  new Gauge({
    name: `${p}inflight_requests`,
    help: "Requests routed by this picker and not finished, by endpoint.",
    labelNames: ["endpoint"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [endpoint, n] of sources.inflightByEndpoint()) this.set({ endpoint }, n);
    },
  });
  new Gauge({
    name: `${p}ready_endpoints`,
    help: "Endpoints with fresh metrics.",
    registers: [registry],
    collect() {
      this.set(sources.readyEndpoints().length);
    },
  });
  return {
    gie: createGieMetrics(registry, sources, "llm-callouts"),
    modelLabel: boundedLabel(maxModelLabels),
    saturation: new Gauge({
      name: `${p}pool_saturation`,
      help: "Last computed pool saturation (>= 1 means saturated).",
      registers: [registry],
    }),
    picks: new Counter({
      name: `${p}picks_total`,
      help: "Requests routed, by primary endpoint.",
      labelNames: ["endpoint"],
      registers: [registry],
    }),
    requests: new Counter({
      name: `${p}requests_total`,
      help: "Requests by outcome (picked, or the error status).",
      labelNames: ["result"],
      registers: [registry],
    }),
    schedulingSeconds: new Histogram({
      name: `${p}scheduling_duration_seconds`,
      help: "Time to schedule one request (admission, filters, scorers, picker).",
      buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1],
      registers: [registry],
    }),
    tokens: new Counter({
      name: `${p}tokens_total`,
      help: "Tokens reported in response usage, by kind (prompt, completion, cached).",
      labelNames: ["kind"],
      registers: [registry],
    }),
    fallbacksServed: new Counter({
      name: `${p}fallbacks_served_total`,
      help: "Responses the proxy served from a fallback endpoint (envoy.lb x-gateway-destination-endpoint-served).",
      registers: [registry],
    }),
    pluginSeconds: new Histogram({
      name: `${p}plugin_duration_seconds`,
      help: "Time spent in each scheduling plugin call.",
      labelNames: ["extension_point", "plugin_type", "plugin_name"],
      buckets: [0.000001, 0.000005, 0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005],
      registers: [registry],
    }),
    scrapes: new Counter({
      name: `${p}scrapes_total`,
      help: "Metrics scrapes by result (ok, timeout, http, parse).",
      labelNames: ["result"],
      registers: [registry],
    }),
  };
}
