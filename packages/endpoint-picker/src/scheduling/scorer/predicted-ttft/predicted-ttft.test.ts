import { describe, expect, it } from "vitest";
import { byId, context, endpoint, request } from "../../../endpoints.testdata.js";
import { createPrefixCacheScorer } from "../prefix-cache/prefix-cache.js";
import {
  createPredictedTtftScorer,
  loraState,
  predictedTtftDefaults,
  predictedTtftScorerFactory,
  predictTtftCost,
  scoreFromCosts,
  uncachedTokensStateKey,
} from "./predicted-ttft.js";

const p = { ...predictedTtftDefaults };

describe("predictTtftCost()", () => {
  it.each([
    {
      name: "idle endpoint: uncached tokens times their weight",
      input: {
        uncachedTokens: 100,
        queuedPrefillTokens: 0,
        queuedPrefillRequests: 0,
        runningRequests: 0,
        kvCacheUsage: 0,
        lora: "none" as const,
      },
      want: 400,
    },
    {
      name: "queued prefill, waiting requests (externality) and running batch add up",
      input: {
        uncachedTokens: 100,
        queuedPrefillTokens: 1000,
        queuedPrefillRequests: 2,
        runningRequests: 10,
        kvCacheUsage: 0.5,
        lora: "none" as const,
      },
      want: 1000 + 100 * (4 + 0.5 * 2) + 10 * 16,
    },
    {
      name: "LoRA load into a free slot",
      input: {
        uncachedTokens: 0,
        queuedPrefillTokens: 0,
        queuedPrefillRequests: 0,
        runningRequests: 0,
        kvCacheUsage: 0,
        lora: "free-slot" as const,
      },
      want: 512,
    },
    {
      name: "LoRA with no free slot",
      input: {
        uncachedTokens: 0,
        queuedPrefillTokens: 0,
        queuedPrefillRequests: 0,
        runningRequests: 0,
        kvCacheUsage: 0,
        lora: "no-slot" as const,
      },
      want: 8192,
    },
    {
      name: "KV pressure above the threshold, linear to 100%",
      input: {
        uncachedTokens: 0,
        queuedPrefillTokens: 0,
        queuedPrefillRequests: 0,
        runningRequests: 0,
        kvCacheUsage: 0.95,
        lora: "none" as const,
      },
      want: 4096,
    },
  ])("$name", ({ input, want }) => {
    expect(predictTtftCost(input, p)).toBeCloseTo(want, 6);
  });
});

describe("scoreFromCosts()", () => {
  it("gives the cheapest 1 and others (min + s) / (cost + s)", () => {
    expect(scoreFromCosts([100, 300, 900], 100)).toEqual([1, 0.5, 0.2]);
  });
  it("uses a smoothing of at least 1", () => {
    expect(scoreFromCosts([0, 1], 0)).toEqual([1, 0.5]);
  });
});

describe("loraState()", () => {
  const r = request({ targetModel: "ad" });
  it.each([
    { name: "base model", base: ["ad"], m: { maxActiveModels: 2 }, want: "none" },
    { name: "no LoRA support", base: [], m: { maxActiveModels: 0 }, want: "none" },
    { name: "loaded", base: [], m: { maxActiveModels: 1, activeModels: ["ad"] }, want: "loaded" },
    { name: "free slot", base: [], m: { maxActiveModels: 2, activeModels: ["x"] }, want: "free-slot" },
    { name: "no slot", base: [], m: { maxActiveModels: 1, activeModels: ["x"] }, want: "no-slot" },
  ])("$name", ({ base, m, want }) => {
    expect(loraState(r, endpoint("10.0.0.1:8000", m), new Set(base))).toBe(want);
  });
});

describe("createPredictedTtftScorer()", () => {
  it("prefers the prefix holder while its queue is short, leaves it once the queue outweighs the saving", () => {
    const prefix = createPrefixCacheScorer();
    const scorer = createPredictedTtftScorer("t", { prefix });
    const prompt = "s".repeat(6400); // 100 blocks
    const holder = endpoint("10.0.0.1:8000");
    prefix.preRequest(request({ prompt }), [holder], 0);
    const r = request({ requestId: "r2", prompt, promptTokens: 1600 });
    const other = endpoint("10.0.0.2:8000");
    const state = new Map();
    expect(byId(scorer.score(context(), state, r, [holder, other]))).toEqual({
      "10.0.0.1:8000": 1,
      "10.0.0.2:8000": (0 + 1600) / (1600 * 4 + 1600),
    });
    expect(state.get(uncachedTokensStateKey)).toEqual(
      new Map([
        ["10.0.0.1:8000", 0],
        ["10.0.0.2:8000", 1600],
      ]),
    );
    const hot = endpoint("10.0.0.1:8000", {}, { prefillTokens: 8000 });
    const s2 = byId(scorer.score(context(), new Map(), r, [hot, other]));
    expect(s2["10.0.0.2:8000"]).toBe(1);
  });

  it("resolves prefixPluginRef through the handle and rejects a wrong type", () => {
    const prefix = createPrefixCacheScorer();
    expect(predictedTtftScorerFactory("t", { prefixPluginRef: "p" }, { plugin: () => prefix })).toHaveProperty(
      "plugin",
    );
    expect(predictedTtftScorerFactory("t", { prefixPluginRef: "p" }, { plugin: () => undefined })).toEqual({
      error: 'prefixPluginRef: "p" is not a prefix-cache-scorer',
    });
  });
});
