import { seededRandom } from "@llm-callouts/random";
import { describe, expect, it } from "vitest";
import { createModelRouter, stickyFraction } from "./model-router.js";

const split = {
  model: "gpt-4o",
  targets: [
    { model: "llama-70b", weight: 80 },
    { model: "llama-70b-canary", weight: 20 },
    { model: "drained", weight: 0 },
  ],
};

describe("createModelRouter()", () => {
  it("passes an unrouted model through", () => {
    const router = createModelRouter({ routes: [split] });
    expect(router.choose("other")).toEqual({ target: "other", routed: false, sticky: false });
  });

  it("maps an alias to its single target", () => {
    const router = createModelRouter({ routes: [{ model: "fast", targets: [{ model: "llama-8b", weight: 1 }] }] });
    expect(router.choose("fast", "session")).toEqual({ target: "llama-8b", routed: true, sticky: false });
  });

  it("picks targets by cumulative weight", () => {
    const values = [0, 0.79, 0.8, 0.999];
    const router = createModelRouter({ routes: [split], random: () => values.shift() as number });
    expect([1, 2, 3, 4].map(() => router.choose("gpt-4o").target)).toEqual([
      "llama-70b",
      "llama-70b",
      "llama-70b-canary",
      "llama-70b-canary",
    ]);
  });

  it("splits 80/20 within binomial bounds over 10,000 seeded draws", () => {
    const router = createModelRouter({ routes: [split], random: seededRandom(7) });
    const n = 10_000;
    let canary = 0;
    for (let k = 0; k < n; k++) if (router.choose("gpt-4o").target === "llama-70b-canary") canary++;
    const sd = Math.sqrt(n * 0.2 * 0.8); // 40
    expect(Math.abs(canary - n * 0.2)).toBeLessThan(4 * sd);
  });

  it("never picks a zero-weight target", () => {
    const router = createModelRouter({ routes: [split], random: seededRandom(1) });
    for (let k = 0; k < 1000; k++) expect(router.choose("gpt-4o").target).not.toBe("drained");
  });

  it("gives the same sticky key the same target, whatever the RNG says", () => {
    const router = createModelRouter({ routes: [split], random: seededRandom(3) });
    const first = router.choose("gpt-4o", "session-42");
    expect(first.sticky).toBe(true);
    for (let k = 0; k < 50; k++) expect(router.choose("gpt-4o", "session-42")).toEqual(first);
  });

  it("spreads sticky keys by weight", () => {
    const router = createModelRouter({ routes: [split] });
    const n = 4000;
    let canary = 0;
    for (let k = 0; k < n; k++) if (router.choose("gpt-4o", `user-${k}`).target === "llama-70b-canary") canary++;
    expect(Math.abs(canary - n * 0.2)).toBeLessThan(4 * Math.sqrt(n * 0.2 * 0.8));
  });
});

describe("stickyFraction()", () => {
  it("is a stable function of model and key", () => {
    expect(stickyFraction("m", "k")).toBe(stickyFraction("m", "k"));
    expect(stickyFraction("m", "k")).not.toBe(stickyFraction("m2", "k"));
    expect(stickyFraction("m", "k")).toBeGreaterThanOrEqual(0);
    expect(stickyFraction("m", "k")).toBeLessThan(1);
  });
});
