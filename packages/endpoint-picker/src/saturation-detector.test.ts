import { describe, expect, it } from "vitest";
import { endpoint } from "./endpoints.testdata.js";
import { computeSaturation, defaultSaturationThresholds, isSaturated } from "./saturation-detector.js";

const t = defaultSaturationThresholds;

describe("computeSaturation()", () => {
  it.each([
    { name: "idle pool", eps: [endpoint("10.0.0.1:8000")], want: 0 },
    {
      name: "mean of max(q/5, kv/0.8)",
      eps: [
        endpoint("10.0.0.1:8000", { waitingQueueSize: 5, kvCacheUsage: 0.4 }),
        endpoint("10.0.0.2:8000", { kvCacheUsage: 0.4 }),
      ],
      want: (1 + 0.5) / 2,
    },
    {
      name: "stale endpoint counts 1",
      eps: [endpoint("10.0.0.1:8000", { updatedAtMs: 0 }), endpoint("10.0.0.2:8000")],
      want: 0.5,
    },
    { name: "empty set counts 1", eps: [], want: 1 },
  ])("$name", ({ eps, want }) => {
    expect(computeSaturation(eps, t, 1000)).toBeCloseTo(want, 10);
  });

  it("scales thresholds by headroom", () => {
    expect(computeSaturation([endpoint("10.0.0.1:8000", { waitingQueueSize: 5 })], { ...t, headroom: 1 }, 1000)).toBe(
      0.5,
    );
  });
});

describe("isSaturated()", () => {
  it("is true at 1 and above", () => {
    expect([0.99, 1, 2].map(isSaturated)).toEqual([false, true, true]);
  });
});
