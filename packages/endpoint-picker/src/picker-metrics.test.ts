import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { endpoint } from "./endpoints.testdata.js";
import { createPickerMetrics } from "./picker-metrics.js";

const ready = [
  endpoint("10.0.0.1:8000", { waitingQueueSize: 2, runningRequests: 4, kvCacheUsage: 0.5 }),
  endpoint("10.0.0.2:8000", { waitingQueueSize: 0, runningRequests: 2, kvCacheUsage: 0.1 }),
];

describe("createPickerMetrics()", () => {
  it("registers the documented families with their types", async () => {
    const registry = new Registry();
    createPickerMetrics(registry, {
      queuedRequests: () => 3,
      inflightByEndpoint: () => new Map([["10.0.0.1:8000", 2]]),
      readyEndpoints: () => ready,
      allEndpoints: () => ready,
      poolName: "pool-a",
    });
    const families = (await registry.getMetricsAsJSON())
      .map((m) => `${m.name} ${m.type}`)
      .filter((f) => f.startsWith("callouts_"))
      .sort();
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
      readyEndpoints: () => ready,
      allEndpoints: () => ready,
      poolName: "pool-a",
    });
    m.picks.inc({ endpoint: "10.0.0.1:8000" });
    m.saturation.set(0.5);
    const text = await registry.metrics();
    const samples = text
      .split("\n")
      .filter(
        (l) => l.startsWith("callouts_") && !l.includes("_bucket") && !l.includes("_sum") && !l.includes("_count"),
      );
    expect(samples).toEqual([
      "callouts_endpoint_picker_flow_control_queue_size 3",
      'callouts_endpoint_picker_inflight_requests{endpoint="10.0.0.1:8000"} 2',
      "callouts_endpoint_picker_ready_endpoints 2",
      "callouts_endpoint_picker_pool_saturation 0.5",
      'callouts_endpoint_picker_picks_total{endpoint="10.0.0.1:8000"} 1',
      "callouts_endpoint_picker_fallbacks_served_total 0",
    ]);
  });

  it("exposes GIE's metric names, types and labels next to ours (GIE dashboard compatibility)", async () => {
    const registry = new Registry();
    const m = createPickerMetrics(registry, {
      queuedRequests: () => 0,
      inflightByEndpoint: () => new Map(),
      readyEndpoints: () => ready,
      allEndpoints: () => ready,
      poolName: "pool-a",
    });
    const families = (await registry.getMetricsAsJSON())
      .map((f) => `${f.name} ${f.type}`)
      .filter((f) => f.startsWith("inference_"))
      .sort();
    expect(families).toEqual([
      "inference_extension_info gauge",
      "inference_extension_model_rewrite_decisions_total counter",
      "inference_extension_plugin_duration_seconds histogram",
      "inference_extension_scheduler_attempts_total counter",
      "inference_extension_scheduler_e2e_duration_seconds histogram",
      "inference_objective_input_tokens histogram",
      "inference_objective_normalized_time_per_output_token_seconds histogram",
      "inference_objective_output_tokens histogram",
      "inference_objective_prompt_cached_tokens histogram",
      "inference_objective_request_duration_seconds histogram",
      "inference_objective_request_error_total counter",
      "inference_objective_request_sizes histogram",
      "inference_objective_request_total counter",
      "inference_objective_response_sizes histogram",
      "inference_objective_running_requests gauge",
      "inference_pool_average_kv_cache_utilization gauge",
      "inference_pool_average_queue_size gauge",
      "inference_pool_average_running_requests gauge",
      "inference_pool_per_pod_queue_size gauge",
      "inference_pool_ready_pods gauge",
    ]);
    m.gie.requestTotal.inc({ model_name: "m", target_model_name: "m-v2", priority: "0" });
    m.gie.schedulerE2e.observe(0.0003);
    const text = await registry.metrics();
    expect(text).toContain('inference_objective_request_total{model_name="m",target_model_name="m-v2",priority="0"} 1');
    expect(text).toContain('inference_pool_average_kv_cache_utilization{name="pool-a"} 0.3');
    expect(text).toContain('inference_pool_average_queue_size{name="pool-a"} 1');
    expect(text).toContain('inference_pool_average_running_requests{name="pool-a"} 3');
    expect(text).toContain('inference_pool_ready_pods{name="pool-a"} 2');
    // GIE's dashboard plots the per-pod queue (label model_server_pod: the pod name, else ip:port).
    expect(text).toMatch(/inference_pool_per_pod_queue_size\{name="pool-a",model_server_pod="[^"]+"\} \d/);
    m.gie.responseSizes.observe({ model_name: "m", target_model_name: "m" }, 20_000);
    expect(await registry.metrics()).toContain(
      'inference_objective_response_sizes_bucket{le="32778",model_name="m",target_model_name="m"} 1',
    );
    // GIE's scheduler buckets: 0.0003 s lands in le=0.0005, not le=0.0002.
    expect(text).toContain('inference_extension_scheduler_e2e_duration_seconds_bucket{le="0.0002"} 0');
    expect(text).toContain('inference_extension_scheduler_e2e_duration_seconds_bucket{le="0.0005"} 1');
  });
});
