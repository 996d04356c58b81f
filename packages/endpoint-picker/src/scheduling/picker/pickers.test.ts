import { describe, expect, it } from "vitest";
import { endpoint } from "../../endpoints.testdata.js";
import type { ScoredEndpoint } from "../types.js";
import { createMaxScorePicker, pickMaxScore } from "./max-score/max-score.js";
import { pickRandom } from "./random/random.js";
import { shuffled } from "./shuffle.js";
import { pickWeightedRandom } from "./weighted-random/weighted-random.js";

const a = endpoint("10.0.0.1:8000");
const b = endpoint("10.0.0.2:8000");
const c = endpoint("10.0.0.3:8000");
const scored = (...scores: number[]): ScoredEndpoint[] =>
  [a, b, c].slice(0, scores.length).map((endpoint, i) => ({ endpoint, score: scores[i] as number }));
const ids = (list: { id: string }[]) => list.map((e) => e.id);
const zero = () => 0;

describe("shuffled()", () => {
  it("is a Fisher-Yates shuffle driven by the RNG", () => {
    // random() = 0 always swaps with index 0: [1,2,3] -> i=2 swap(2,0) [3,2,1] -> i=1 swap(1,0) [2,3,1]
    expect(shuffled([1, 2, 3], zero)).toEqual([2, 3, 1]);
  });
});

describe("pickMaxScore()", () => {
  it("returns the highest score", () => {
    expect(ids(pickMaxScore(scored(1, 3, 2), 1, zero))).toEqual(["10.0.0.2:8000"]);
  });

  it("returns fallbacks in descending score order", () => {
    expect(ids(pickMaxScore(scored(1, 3, 2), 3, zero))).toEqual(["10.0.0.2:8000", "10.0.0.3:8000", "10.0.0.1:8000"]);
  });

  it("breaks ties at random (shuffle before a stable sort)", () => {
    const first = (r: number) => pickMaxScore(scored(5, 5, 1), 1, () => r)[0]?.id;
    expect(new Set([first(0), first(0.99)])).toEqual(new Set(["10.0.0.1:8000", "10.0.0.2:8000"]));
  });

  it("returns at least one endpoint", () => {
    expect(pickMaxScore(scored(1, 2), 0, zero)).toHaveLength(1);
  });

  it("uses the scheduler's maxEndpoints unless configured", () => {
    const ctx = { nowMs: 0, random: zero, maxEndpoints: 2 };
    expect(createMaxScorePicker().pick(ctx, new Map(), scored(1, 2, 3))).toHaveLength(2);
    expect(createMaxScorePicker("m", { maxNumOfEndpoints: 1 }).pick(ctx, new Map(), scored(1, 2, 3))).toHaveLength(1);
  });
});

describe("pickRandom()", () => {
  it("ignores scores", () => {
    expect(ids(pickRandom(scored(0, 0, 9), 1, zero))).toEqual(["10.0.0.2:8000"]);
  });
});

describe("pickWeightedRandom()", () => {
  it("never picks a zero score while others are positive", () => {
    for (const r of [0.01, 0.5, 0.99])
      expect(ids(pickWeightedRandom(scored(0, 1, 0), 1, () => r))).toEqual(["10.0.0.2:8000"]);
  });

  it("uses keys U^(1/score): the larger key wins", () => {
    // U = 0.5 for both: 0.5^(1/1) = 0.5 vs 0.5^(1/4) = 0.84
    expect(ids(pickWeightedRandom(scored(1, 4), 1, () => 0.5))).toEqual(["10.0.0.2:8000"]);
  });

  it("falls back to uniform when all scores are 0", () => {
    expect(pickWeightedRandom(scored(0, 0, 0), 1, zero)).toHaveLength(1);
  });

  it("picks roughly in proportion to score", () => {
    let s = 1;
    const rng = () => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647;
    };
    let bWins = 0;
    for (let i = 0; i < 2000; i++) if (pickWeightedRandom(scored(1, 3), 1, rng)[0]?.id === b.id) bWins++;
    expect(bWins / 2000).toBeGreaterThan(0.65);
    expect(bWins / 2000).toBeLessThan(0.85);
  });
});
