import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { describe, expect, it } from "vitest";
import type { CacheStore } from "./cache-store.js";
import { configSchema } from "./config.js";
import { createMemoryStore } from "./memory-store.js";
import { createSemanticCacheService } from "./service.js";

describe("createSemanticCacheService()", () => {
  it("registers the cache metrics under callouts_cache_*", async () => {
    const runtime = createTestRuntime();
    const service = await createSemanticCacheService(configSchema.parse({ redisUrl: "", semantic: false }), runtime);
    const names = (await runtime.metrics.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual([
      "callouts_cache_bypasses_total",
      "callouts_cache_circuit_open",
      "callouts_cache_embedder_failures_total",
      "callouts_cache_fills_total",
      "callouts_cache_lookup_duration_seconds",
      "callouts_cache_lookups_total",
      "callouts_cache_store_failures_total",
      "callouts_cache_swept_elements_total",
      "callouts_cache_verification_rejects_total",
    ]);
    expect([service.name, service.failure]).toEqual(["semantic-cache", { mode: "open" }]);
    await service.close?.();
  });

  it("sweeps expired vector elements periodically", async () => {
    let clock = 0;
    const store = createMemoryStore({ now: () => clock });
    const swept: number[] = [];
    const counting: CacheStore = {
      ...store,
      sweep: async () => {
        const removed = await store.sweep();
        swept.push(removed);
        return removed;
      },
    };
    const entry = { partition: "p", prompt: "q", createdAtMs: 0, expiresAtMs: 10 };
    const completion = { id: "c", model: "m", created: 0, choices: [] };
    await store.put({ ...entry, id: "a", completion }, Float32Array.of(1, 0));
    clock = 20;
    const runtime = createTestRuntime();
    const service = await createSemanticCacheService(
      configSchema.parse({ redisUrl: "", semantic: false, sweepIntervalMs: 10 }),
      runtime,
      { store: counting, now: () => clock },
    );
    for (let i = 0; i < 200 && swept.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await service.close?.();
    expect(swept[0]).toBe(1);
    expect(await runtime.metrics.getSingleMetricAsString("callouts_cache_swept_elements_total")).toContain(
      "callouts_cache_swept_elements_total 1",
    );
  });
});
