import { describe, expect, it } from "vitest";
import { byId, context, endpoint, request } from "../../../endpoints.testdata.js";
import { createKvCacheUtilizationScorer, scoreKvCacheUtilization } from "./kv-cache-utilization.js";

describe("scoreKvCacheUtilization()", () => {
  it.each([
    [0, 1],
    [0.25, 0.75],
    [0.8, 0.19999999999999996],
    [1, 0],
  ])("scores usage %d as %d", (usage, want) => {
    expect(scoreKvCacheUtilization(usage)).toBe(want);
  });
});

describe("createKvCacheUtilizationScorer()", () => {
  it("scores each endpoint as 1 - usage", () => {
    const eps = [endpoint("10.0.0.1:8000", { kvCacheUsage: 0.5 }), endpoint("10.0.0.2:8000", { kvCacheUsage: 0.75 })];
    expect(byId(createKvCacheUtilizationScorer().score(context(), new Map(), request(), eps))).toEqual({
      "10.0.0.1:8000": 0.5,
      "10.0.0.2:8000": 0.25,
    });
  });
});
