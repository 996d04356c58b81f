import { describe, expect, it } from "vitest";
import { createRng, seededRandom } from "./index.js";

describe("createRng()", () => {
  it("repeats for a seed and differs between seeds", () => {
    const draws = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));
    expect(draws(42)).toEqual(draws(42));
    expect(draws(42)).not.toEqual(draws(43));
  });

  it("keeps its sequence (seeded data splits, simulations and benchmark figures depend on it)", () => {
    const rng = createRng(1);
    expect([rng.next(), rng.next()].map((x) => Math.round(x * 4294967296))).toEqual([2693262067, 11749833]);
  });

  it("is uniform enough: mean and variance of 100,000 draws", () => {
    const rng = createRng(7);
    let sum = 0;
    let sq = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = rng.next();
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
      sq += x * x;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
    expect(sq / 100_000 - (sum / 100_000) ** 2).toBeCloseTo(1 / 12, 2);
  });

  it("forks deterministic independent streams", () => {
    const a = createRng(3).fork();
    const b = createRng(3).fork();
    expect(a.next()).toBe(b.next());
    expect(createRng(3).fork().next()).not.toBe(createRng(3).next());
  });
});
