import { describe, expect, it } from "vitest";
import { tokenize } from "../engine/tokenizer.js";
import { loraMixWorkload, sharedPrefixWorkload, shareGptWorkload } from "./workloads.js";

describe("shareGptWorkload()", () => {
  it("is sorted by arrival, tokenizes to promptTokens, and is seeded", () => {
    const w = shareGptWorkload({ ratePerS: 50, count: 300, seed: 1 });
    expect(w).toMatchObject({ name: "sharegpt", ratePerS: 50 });
    expect(w.requests).toHaveLength(300);
    for (let i = 1; i < w.requests.length; i++) {
      expect(w.requests[i]!.arrivalMs).toBeGreaterThanOrEqual(w.requests[i - 1]!.arrivalMs);
    }
    for (const r of w.requests.slice(0, 20)) expect(tokenize(r.promptText)).toHaveLength(r.promptTokens);
    expect(shareGptWorkload({ ratePerS: 50, count: 300, seed: 1 })).toEqual(w);
  });

  it("has a Poisson rate close to the requested one", () => {
    const w = shareGptWorkload({ ratePerS: 50, count: 2000, seed: 2 });
    const observed = 2000 / (w.requests.at(-1)!.arrivalMs / 1000);
    expect(observed / 50).toBeCloseTo(1, 1);
  });
});

describe("sharedPrefixWorkload()", () => {
  it("reuses one of `groups` system prompts as a token prefix", () => {
    const w = sharedPrefixWorkload({ ratePerS: 10, count: 100, seed: 1, groups: 4, systemTokens: 64 });
    const prefixes = new Set(w.requests.map((r) => r.promptText.slice(0, 256)));
    expect(prefixes.size).toBe(4);
    for (const r of w.requests) expect(r.promptTokens).toBeGreaterThan(64);
  });
});

describe("loraMixWorkload()", () => {
  it("spreads requests over adapters with Zipf popularity and names the adapter as the model", () => {
    const w = loraMixWorkload({ ratePerS: 10, count: 2000, seed: 1, adapters: 24, baseShare: 0.1 });
    const counts = new Map<string, number>();
    for (const r of w.requests) {
      const key = r.lora ?? "base";
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (r.lora) expect(r.model).toBe(r.lora);
    }
    expect(counts.size).toBe(25);
    expect(counts.get("lora-0")!).toBeGreaterThan(counts.get("lora-5")!);
    expect(counts.get("base")! / 2000).toBeCloseTo(0.1, 1);
  });
});
