import { describe, expect, it } from "vitest";
import { percentile, summarize } from "./stats.js";

describe("percentile()", () => {
  it.each([
    { q: 0.5, want: 5 },
    { q: 0.9, want: 9 },
    { q: 0.99, want: 10 },
    { q: 0, want: 1 },
  ])("nearest-rank p$q of 1..10 is $want", ({ q, want }) => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], q)).toBe(want);
  });

  it("is 0 for no values", () => {
    expect(summarize([])).toEqual({ mean: 0, p50: 0, p90: 0, p99: 0 });
  });
});

describe("summarize()", () => {
  it("sorts a copy and computes the mean", () => {
    const v = [3, 1, 2];
    expect(summarize(v)).toEqual({ mean: 2, p50: 2, p90: 3, p99: 3 });
    expect(v).toEqual([3, 1, 2]);
  });
});
