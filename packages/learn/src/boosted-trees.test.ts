import { seededRandom } from "@llm-callouts/random";
import { describe, expect, it } from "vitest";
import { boostedPredict, trainBoostedTrees } from "./boosted-trees.js";
import { denseVector, predict, trainLogistic } from "./linear-model.js";

// XOR of two features plus a noise feature: no linear model separates it.
const rng = seededRandom(5);
const xs = Array.from({ length: 400 }, () => [rng(), rng(), rng()]);
const ys = xs.map(([a, b]) => (a as number) > 0.5 !== (b as number) > 0.5);
const accuracy = (scores: number[]) => scores.filter((s, i) => s >= 0.5 === ys[i]).length / ys.length;

describe("trainBoostedTrees()", () => {
  it("learns an interaction a linear model cannot, and the same rows give the same model", () => {
    const model = trainBoostedTrees(xs, ys, { trees: 60, depth: 2 });
    expect(accuracy(xs.map((x) => boostedPredict(model, x)))).toBeGreaterThan(0.9);
    const linear = trainLogistic(xs.map(denseVector), ys, { dims: 3, epochs: 30, seed: 1 });
    expect(accuracy(xs.map((x) => predict(linear, denseVector(x))))).toBeLessThan(0.7);
    expect(trainBoostedTrees(xs, ys, { trees: 60, depth: 2 })).toEqual(model);
  });

  it("starts from the prior log-odds and never grows deeper than asked", () => {
    const model = trainBoostedTrees(xs, ys, { trees: 5, depth: 1 });
    const share = ys.filter(Boolean).length / ys.length;
    expect(model.bias).toBeCloseTo(Math.log(share / (1 - share)), 10);
    for (const tree of model.trees) expect(tree.feature.length).toBeLessThanOrEqual(3);
  });

  it("refuses an empty training set", () => {
    expect(() => trainBoostedTrees([], [])).toThrow(/no rows/);
  });
});
