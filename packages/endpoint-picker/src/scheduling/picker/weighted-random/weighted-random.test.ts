import { describe, expect, it } from "vitest";
import { endpoint } from "../../../endpoints.testdata.js";
import type { ScoredEndpoint } from "../../types.js";
import { pickWeightedRandom } from "./weighted-random.js";

const a = endpoint("10.0.0.1:8000");
const b = endpoint("10.0.0.2:8000");
const c = endpoint("10.0.0.3:8000");
const scored = (...scores: number[]): ScoredEndpoint[] =>
  [a, b, c].slice(0, scores.length).map((endpoint, i) => ({ endpoint, score: scores[i] as number }));
const ids = (list: { id: string }[]) => list.map((e) => e.id);
const zero = () => 0;

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
