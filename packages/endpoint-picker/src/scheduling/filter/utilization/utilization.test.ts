import { describe, expect, it } from "vitest";
import { endpoint } from "../../../endpoints.testdata.js";
import { defaultUtilizationThresholds, filterByUtilization, hasHeadroom } from "./utilization.js";

const t = defaultUtilizationThresholds;

describe("hasHeadroom()", () => {
  it.each([
    { q: 4, kv: 0.79, h: 0, want: true },
    { q: 5, kv: 0, h: 0, want: false },
    { q: 0, kv: 0.8, h: 0, want: false },
    { q: 5, kv: 0.85, h: 0.1, want: true },
  ])("q=$q kv=$kv headroom=$h -> $want", ({ q, kv, h, want }) => {
    expect(
      hasHeadroom(endpoint("10.0.0.1:8000", { waitingQueueSize: q, kvCacheUsage: kv }), { ...t, headroom: h }),
    ).toBe(want);
  });
});

describe("filterByUtilization()", () => {
  it("keeps endpoints with headroom", () => {
    const ok = endpoint("10.0.0.1:8000");
    const full = endpoint("10.0.0.2:8000", { waitingQueueSize: 9 });
    expect(filterByUtilization([ok, full], t)).toEqual([ok]);
  });

  it("keeps all when none has headroom (fail-open)", () => {
    const list = [endpoint("10.0.0.1:8000", { kvCacheUsage: 0.9 }), endpoint("10.0.0.2:8000", { waitingQueueSize: 9 })];
    expect(filterByUtilization(list, t)).toEqual(list);
  });
});
