import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createPickerMetrics } from "./picker-metrics.js";

describe("createPickerMetrics()", () => {
  it("registers the documented families with their types", async () => {
    const registry = new Registry();
    createPickerMetrics(registry, {
      queuedRequests: () => 3,
      inflightByEndpoint: () => new Map([["10.0.0.1:8000", 2]]),
      readyEndpoints: () => 1,
    });
    const families = (await registry.getMetricsAsJSON()).map((m) => `${m.name} ${m.type}`).sort();
    expect(families).toEqual([
      "callouts_endpoint_picker_fallbacks_served_total counter",
      "callouts_endpoint_picker_flow_control_queue_size gauge",
      "callouts_endpoint_picker_inflight_requests gauge",
      "callouts_endpoint_picker_picks_total counter",
      "callouts_endpoint_picker_plugin_duration_seconds histogram",
      "callouts_endpoint_picker_pool_saturation gauge",
      "callouts_endpoint_picker_ready_endpoints gauge",
      "callouts_endpoint_picker_requests_total counter",
      "callouts_endpoint_picker_scheduling_duration_seconds histogram",
      "callouts_endpoint_picker_scrapes_total counter",
      "callouts_endpoint_picker_tokens_total counter",
    ]);
  });

  it("collects gauges from their sources at scrape time (golden exposition)", async () => {
    const registry = new Registry();
    const m = createPickerMetrics(registry, {
      queuedRequests: () => 3,
      inflightByEndpoint: () => new Map([["10.0.0.1:8000", 2]]),
      readyEndpoints: () => 1,
    });
    m.picks.inc({ endpoint: "10.0.0.1:8000" });
    m.saturation.set(0.5);
    const text = await registry.metrics();
    const samples = text
      .split("\n")
      .filter(
        (l) => l !== "" && !l.startsWith("#") && !l.includes("_bucket") && !l.includes("_sum") && !l.includes("_count"),
      );
    expect(samples).toEqual([
      "callouts_endpoint_picker_flow_control_queue_size 3",
      'callouts_endpoint_picker_inflight_requests{endpoint="10.0.0.1:8000"} 2',
      "callouts_endpoint_picker_ready_endpoints 1",
      "callouts_endpoint_picker_pool_saturation 0.5",
      'callouts_endpoint_picker_picks_total{endpoint="10.0.0.1:8000"} 1',
      "callouts_endpoint_picker_fallbacks_served_total 0",
    ]);
  });
});
