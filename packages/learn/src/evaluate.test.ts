import { describe, expect, it } from "vitest";
import { componentKeys, confusion, formatProportion, partOf, pickThreshold, wilson } from "./evaluate.js";

describe("wilson()", () => {
  it("matches the textbook interval", () => {
    // 81 of 100: Wilson 95% interval [0.722, 0.875] (centre 0.7985, half-width 0.0763).
    const p = wilson(81, 100);
    expect([p.value, Number(p.low.toFixed(3)), Number(p.high.toFixed(3))]).toEqual([0.81, 0.722, 0.875]);
    expect(formatProportion(wilson(0, 20), { percent: true })).toBe("0.0 [0.0, 16.1]");
    expect(wilson(0, 0).low).toBe(0);
  });
});

describe("partOf()", () => {
  it("is stable, close to the asked share, and salt-dependent", () => {
    const keys = Array.from({ length: 4000 }, (_, i) => `question ${i}`);
    const held = keys.filter((k) => partOf(k, 0.3) === "held-out").length / keys.length;
    expect(held).toBeGreaterThan(0.27);
    expect(held).toBeLessThan(0.33);
    expect(keys.map((k) => partOf(k))).toEqual(keys.map((k) => partOf(k)));
    expect(keys.filter((k) => partOf(k) !== partOf(k, 0.5, "other salt")).length).toBeGreaterThan(1000);
  });
});

describe("componentKeys()", () => {
  it("gives pairs that share a member one key", () => {
    expect(componentKeys([["b", "c"], ["x", "y"], ["c", "a"], ["y", "z"], ["q"]])).toEqual(["a", "x", "a", "x", "q"]);
  });
});

describe("pickThreshold()", () => {
  it("takes the highest recall that meets the rule", () => {
    const scores = [0.9, 0.8, 0.7, 0.6, 0.5];
    const labels = [true, true, false, true, false];
    expect(pickThreshold(scores, labels, { minPrecision: 0.75 })).toBe(0.6);
    expect(confusion(scores, labels, 0.6)).toMatchObject({ tp: 3, fp: 1, fn: 0, tn: 1 });
    expect(pickThreshold(scores, labels, { maxFpr: 0 })).toBe(0.8);
  });
});
