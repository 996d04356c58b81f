import { describe, expect, it } from "vitest";
import { leastQueuePolicy, randomPolicy, roundRobinPolicy } from "./policies.js";
import type { EndpointMetrics, PoolView, SimRequest } from "./types.js";

const ids = ["a:1", "b:1", "c:1"];
const metrics = (waiting: number, running: number, scrapedAtMs = 0): EndpointMetrics => ({
  waiting,
  running,
  kvCacheUsage: 0,
  runningLoras: [],
  waitingLoras: [],
  maxLoras: 4,
  blockSize: 16,
  numGpuBlocks: 1000,
  scrapedAtMs,
});
const view = (m: EndpointMetrics[]): PoolView => ({
  endpointIds: ids,
  endpoints: ids.map((id, i) => ({ id, metrics: m[i]! })),
});
const req: SimRequest = {
  id: "r",
  model: "m",
  promptText: "x",
  promptTokens: 1,
  outputTokens: 1,
  arrivalMs: 0,
  headers: {},
};
const ctx = { endpointIds: ids, seed: 1, baseModel: "m" };

describe("roundRobinPolicy", () => {
  it("cycles through endpoints", () => {
    const p = roundRobinPolicy.create(ctx);
    const v = view([metrics(0, 0), metrics(0, 0), metrics(0, 0)]);
    expect([1, 2, 3, 4].map(() => p.pick(req, v, 0))).toEqual(["a:1", "b:1", "c:1", "a:1"]);
  });
});

describe("randomPolicy", () => {
  it("is deterministic per seed and uses every endpoint", () => {
    const v = view([metrics(0, 0), metrics(0, 0), metrics(0, 0)]);
    const picks = (seed: number) => {
      const p = randomPolicy.create({ ...ctx, seed });
      return Array.from({ length: 30 }, () => p.pick(req, v, 0));
    };
    expect(picks(3)).toEqual(picks(3));
    expect(new Set(picks(3))).toEqual(new Set(ids));
  });
});

describe("leastQueuePolicy", () => {
  it("picks the endpoint with the fewest waiting + running requests", () => {
    const p = leastQueuePolicy.create(ctx);
    expect(p.pick(req, view([metrics(2, 1), metrics(0, 2), metrics(1, 3)]), 0)).toBe("b:1");
  });

  it("counts its own picks since the last scrape", () => {
    const p = leastQueuePolicy.create(ctx);
    const v = view([metrics(0, 0), metrics(0, 3), metrics(0, 9)]);
    expect([1, 2, 3].map(() => p.pick(req, v, 0))).toEqual(["a:1", "a:1", "a:1"]);
    expect(p.pick(req, v, 0)).not.toBe("c:1");
    // A newer scrape replaces the policy's own count.
    const fresh = view([metrics(0, 0, 50), metrics(0, 3, 50), metrics(0, 9, 50)]);
    expect(p.pick(req, fresh, 50)).toBe("a:1");
  });
});
