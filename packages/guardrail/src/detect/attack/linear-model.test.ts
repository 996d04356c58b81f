import { seededRandom } from "@llm-callouts/random";
import { describe, expect, it } from "vitest";
import { extractFeatures } from "./features.js";
import { dequantize, predict, quantize, trainLogistic } from "./linear-model.js";

describe("trainLogistic()", () => {
  it("separates a toy problem and is reproducible with a seed", () => {
    const texts = ["buy cheap pills now", "cheap pills discount", "meeting at noon", "lunch at noon today"];
    const ys = [true, true, false, false];
    const xs = texts.map((t) => extractFeatures(t, { bits: 12, maxChars: 100 }));
    const a = trainLogistic(xs, ys, { dims: 1 << 12, epochs: 30, seed: 3 });
    const b = trainLogistic(xs, ys, { dims: 1 << 12, epochs: 30, seed: 3 });
    expect([...a.weights]).toEqual([...b.weights]);
    expect(predict(a, extractFeatures("cheap pills", { bits: 12, maxChars: 100 }))).toBeGreaterThan(0.5);
    expect(predict(a, extractFeatures("at noon", { bits: 12, maxChars: 100 }))).toBeLessThan(0.5);
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
