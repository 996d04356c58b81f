import { describe, expect, it } from "vitest";
import { endpoint } from "../../../endpoints.testdata.js";
import type { ScoredEndpoint } from "../../types.js";
import { createMaxScorePicker, pickMaxScore } from "./max-score.js";

const a = endpoint("10.0.0.1:8000");
const b = endpoint("10.0.0.2:8000");
const c = endpoint("10.0.0.3:8000");
const scored = (...scores: number[]): ScoredEndpoint[] =>
  [a, b, c].slice(0, scores.length).map((endpoint, i) => ({ endpoint, score: scores[i] as number }));
const ids = (list: { id: string }[]) => list.map((e) => e.id);
const zero = () => 0;

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
