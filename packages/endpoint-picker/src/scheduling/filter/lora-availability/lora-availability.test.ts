import { describe, expect, it } from "vitest";
import type { Endpoint } from "../../types.js";
import { filterByAvailability, loraAvailabilityFilterFactory } from "./lora-availability.js";

function endpoint(id: string, loaded: string[] | undefined, active: string[] = []): Endpoint {
  return {
    id,
    address: id,
    port: 8000,
    engine: "vllm",
    labels: {},
    metrics: {
      waitingQueueSize: 0,
      runningRequests: 0,
      kvCacheUsage: 0,
      activeModels: new Set(active),
      waitingModels: new Set(),
      maxActiveModels: 4,
      updatedAtMs: 1,
    },
    inflight: { requests: 0, tokens: 0, prefillTokens: 0, prefillRequests: 0, models: new Map() },
    loadedModels: loaded === undefined ? undefined : new Set(loaded),
  };
}

const ids = (list: readonly Endpoint[]) => list.map((e) => e.id);

describe("filterByAvailability()", () => {
  it.each([
    {
      name: "keeps only endpoints that list the adapter",
      pool: [endpoint("a", ["base", "sql"]), endpoint("b", ["base"])],
      kept: ["a"],
    },
    {
      name: "counts an adapter seen running in metrics",
      pool: [endpoint("a", ["base"], ["sql"]), endpoint("b", ["base"])],
      kept: ["a"],
    },
    {
      name: "keeps endpoints whose list is unknown",
      pool: [endpoint("a", ["sql"]), endpoint("b", undefined), endpoint("c", ["base"])],
      kept: ["a", "b"],
    },
    {
      name: "keeps all when nobody is known to have it",
      pool: [endpoint("a", ["base"]), endpoint("b", undefined)],
      kept: ["a", "b"],
    },
    {
      name: "keeps all when nothing is known",
      pool: [endpoint("a", undefined), endpoint("b", undefined)],
      kept: ["a", "b"],
    },
  ])("$name", ({ pool, kept }) => {
    expect(ids(filterByAvailability(pool, "sql"))).toEqual(kept);
  });
});

describe("loraAvailabilityFilterFactory()", () => {
  it("takes no parameters", () => {
    expect("plugin" in loraAvailabilityFilterFactory("f", undefined, {} as never)).toBe(true);
    expect("error" in loraAvailabilityFilterFactory("f", { extra: 1 }, {} as never)).toBe(true);
  });
});
