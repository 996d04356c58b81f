import { readFile } from "node:fs/promises";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createBodyRouterMetrics } from "./metrics.js";

describe("createBodyRouterMetrics()", () => {
  it("counts requests by api, outcome, model and target", async () => {
    const registry = new Registry();
    const metrics = createBodyRouterMetrics(registry, 10);
    metrics.request("chat_completions", "routed", "gpt-4o", "llama");
    metrics.request("chat_completions", "routed", "gpt-4o", "llama");
    metrics.request("other", "passed");
    const text = await registry.getSingleMetricAsString("callouts_body_router_requests_total");
    expect(text).toContain(
      'callouts_body_router_requests_total{api="chat_completions",outcome="routed",model="gpt-4o",target="llama"} 2',
    );
    expect(text).toContain('callouts_body_router_requests_total{api="other",outcome="passed",model="",target=""} 1');
  });

  it("bounds model labels", async () => {
    const registry = new Registry();
    const metrics = createBodyRouterMetrics(registry, 2);
    for (const model of ["a", "b", "c", "d", "a"]) metrics.request("messages", "routed", model, model);
    const text = await registry.getSingleMetricAsString("callouts_body_router_requests_total");
    expect(text).toContain('model="a",target="a"} 2');
    expect(text).toContain('model="other",target="other"} 2');
    expect(text).not.toContain('model="c"');
  });

  it("counts errors, spoofed headers and extraction time", async () => {
    const registry = new Registry();
    const metrics = createBodyRouterMetrics(registry, 2);
    metrics.error("invalid_json");
    metrics.spoofedHeaders(2);
    metrics.extraction(0.0002);
    expect(await registry.getSingleMetricAsString("callouts_body_router_errors_total")).toContain(
      'callouts_body_router_errors_total{reason="invalid_json"} 1',
    );
    expect(await registry.getSingleMetricAsString("callouts_body_router_spoofed_headers_total")).toContain(
      "callouts_body_router_spoofed_headers_total 2",
    );
    expect(await registry.getSingleMetricAsString("callouts_body_router_extraction_duration_seconds")).toContain(
      'callouts_body_router_extraction_duration_seconds_bucket{le="0.00025"} 1',
    );
  });

  it("matches the golden exposition", async () => {
    const registry = new Registry();
    const metrics = createBodyRouterMetrics(registry, 100);
    metrics.request("chat_completions", "routed", "gpt-4o", "llama-70b");
    metrics.request("messages", "rejected");
    metrics.error("invalid_json");
    metrics.extraction(0.0003);
    metrics.spoofedHeaders(1);
    metrics.baseModelReload("ok");
    const golden = await readFile(new URL("./metrics.testdata.txt", import.meta.url), "utf8");
    expect(await registry.metrics()).toBe(golden);
  });
});
