import { describe, expect, it } from "vitest";
import { compareAtKnee, formatKneeComparisons } from "./compare.js";
import type { RunResult } from "./types.js";

const result = (policy: string, ratePerS: number, ttftP99: number, tokens: number): RunResult => ({
  policy,
  workload: "w",
  ratePerS,
  requests: 10,
  completed: 10,
  rejected: 0,
  throughputTokensPerS: tokens,
  throughputRequestsPerS: ratePerS,
  outputTokens: 100,
  ttftMs: { mean: ttftP99 / 2, p50: ttftP99 / 4, p90: ttftP99 / 2, p99: ttftP99 },
  e2eMs: { mean: 1, p50: 1, p90: 1, p99: 1 },
  tpotMsMean: 1,
  prefixHitRate: 0,
  preemptions: 0,
  durationMs: 1,
  picksByEndpoint: {},
});

describe("compareAtKnee()", () => {
  it("compares at the highest rate where the candidate's TTFT p99 stays within bounds", () => {
    const results = [
      result("ours", 10, 100, 1000),
      result("rr", 10, 200, 1000),
      result("ours", 20, 400, 2000),
      result("rr", 20, 2000, 1000),
      result("ours", 40, 9000, 2100),
      result("rr", 40, 20000, 1100),
    ];
    const [c] = compareAtKnee(results, { candidate: "ours", baseline: "rr" });
    expect(c).toEqual({
      workload: "w",
      ratePerS: 20,
      candidate: "ours",
      baseline: "rr",
      ttftP99Reduction: 0.8,
      ttftP90Reduction: 0.8,
      throughputGain: 1,
    });
    expect(formatKneeComparisons([c!])).toContain("| w | 20 | ours | rr | 80.0% | 80.0% | 100.0% |");
  });

  it("reports no knee when the candidate always collapses", () => {
    const [c] = compareAtKnee([result("ours", 10, 9000, 1)], { candidate: "ours", baseline: "rr" });
    expect(c?.ratePerS).toBeUndefined();
  });
});
