import { describe, expect, it } from "vitest";
import { createRng, createZipf } from "./rng.js";

describe("createRng()", () => {
  it("repeats the same sequence for the same seed", () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(createRng(43).next()).not.toBe(xs[0]);
  });

  it("draws in range", () => {
    const r = createRng(1);
    for (let i = 0; i < 1000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      expect(r.int(7)).toBeLessThan(7);
      expect(r.exponential(2)).toBeGreaterThanOrEqual(0);
    }
  });

  it("has the requested exponential mean and log-normal median within sampling error", () => {
    const r = createRng(9);
    const n = 20_000;
    let sum = 0;
    const ln: number[] = [];
    for (let i = 0; i < n; i++) {
      sum += r.exponential(4);
      ln.push(r.lognormal(100, 0.8));
    }
    expect(sum / n).toBeCloseTo(0.25, 1);
    ln.sort((x, y) => x - y);
    expect(ln[n / 2]! / 100).toBeCloseTo(1, 1);
  });
});

describe("createZipf()", () => {
  it("makes rank 0 the most popular and rank k about 1/(k+1) as popular", () => {
    const zipf = createZipf(20, 1);
    const r = createRng(5);
    const counts = new Array(20).fill(0);
    for (let i = 0; i < 50_000; i++) counts[zipf(r)]++;
    expect(counts[0]).toBeGreaterThan(counts[1]);
    expect(counts[0] / counts[3]).toBeCloseTo(4, 0);
  });
});
