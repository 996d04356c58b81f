import { seededRandom } from "@llm-callouts/random";
import { describe, expect, it } from "vitest";
import { denseVector, dequantize, predict, quantize, trainLogistic } from "./linear-model.js";

describe("trainLogistic()", () => {
  it("separates a toy problem and is reproducible with a seed", () => {
    // Feature 0 marks the positives, feature 1 the negatives, feature 2 is noise on both.
    const xs = [
      [1, 0, 0.3],
      [0.9, 0, 0.8],
      [0, 1, 0.4],
      [0, 0.8, 0.7],
    ].map(denseVector);
    const ys = [true, true, false, false];
    const a = trainLogistic(xs, ys, { dims: 3, epochs: 30, seed: 3 });
    const b = trainLogistic(xs, ys, { dims: 3, epochs: 30, seed: 3 });
    expect([...a.weights]).toEqual([...b.weights]);
    expect(predict(a, denseVector([0.7, 0, 0.5]))).toBeGreaterThan(0.5);
    expect(predict(a, denseVector([0, 0.7, 0.5]))).toBeLessThan(0.5);
  });
});

describe("quantize()", () => {
  it("round-trips weights within one quantisation step", () => {
    const model = { weights: Float32Array.from([0.5, -1.27, 0.01, 0]), bias: 0.25 };
    const back = dequantize(quantize(model));
    expect(back.bias).toBe(0.25);
    back.weights.forEach((w, i) => {
      expect(Math.abs(w - (model.weights[i] as number))).toBeLessThanOrEqual(0.01);
    });
  });
});

describe("seededRandom() (training seeds)", () => {
  it("yields the same sequence for the same seed", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });
});
