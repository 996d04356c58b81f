import { boundedLabel } from "@llm-callouts/ext-proc";
import { Counter, Histogram, type Registry } from "prom-client";

/**
 * Body router metrics (`callouts_body_router_*`). Model and target labels are bounded:
 * after `maxModelLabels` distinct values, new names count as `other`, so a client
 * sending random model names cannot blow up the series count.
 */

export type RequestOutcome = "routed" | "passed" | "rejected";

export interface BodyRouterMetrics {
  /** One call per request decision. */
  request(api: string, outcome: RequestOutcome, model?: string, target?: string): void;
  /** Rejections and pass-throughs without a model, by reason. */
  error(reason: string): void;
  /** Decode + scan time of one body, in seconds. */
  extraction(seconds: number): void;
  /** Client-sent copies of gateway-owned headers that were removed. */
  spoofedHeaders(count: number): void;
  /** Base model file load attempts. */
  baseModelReload(result: "ok" | "error"): void;
}

/** Scan times are micro- to milliseconds: 10 us to 1 s. */
const extractionBuckets = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1,
];

/** Registers the metrics in `registry`. */
export function createBodyRouterMetrics(registry: Registry, maxModelLabels: number): BodyRouterMetrics {
  const requests = new Counter({
    name: "callouts_body_router_requests_total",
    help: "Requests by API, outcome (routed, passed, rejected), extracted model and chosen target.",
    labelNames: ["api", "outcome", "model", "target"] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: "callouts_body_router_errors_total",
    help: "Requests rejected or passed without a model, by reason.",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const extraction = new Histogram({
    name: "callouts_body_router_extraction_duration_seconds",
    help: "Time to decode the body and find its model.",
    buckets: extractionBuckets,
    registers: [registry],
  });
  const spoofed = new Counter({
    name: "callouts_body_router_spoofed_headers_total",
    help: "Client-sent gateway-owned headers removed or overwritten.",
    registers: [registry],
  });
  const reloads = new Counter({
    name: "callouts_body_router_base_model_reloads_total",
    help: "Base model file loads by result (ok, error: last good mapping kept).",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const label = boundedLabel(maxModelLabels);
  return {
    request: (api, outcome, model, target) =>
      requests.inc({ api, outcome, model: label(model), target: label(target) }),
    error: (reason) => errors.inc({ reason }),
    extraction: (seconds) => extraction.observe(seconds),
    spoofedHeaders: (count) => {
      if (count > 0) spoofed.inc(count);
    },
    baseModelReload: (result) => reloads.inc({ result }),
  };
}
