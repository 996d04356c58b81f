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
  type TtftCostInput,
  uncachedTokensStateKey,
} from "./predicted-ttft.js";

const p = { ...predictedTtftDefaults, kvUsageCostTokens: 0 };
const idleInput: TtftCostInput = {
  uncachedTokens: 0,
  queuedPrefillTokens: 0,
  queuedPrefillRequests: 0,
  runningRequests: 0,
  kvCacheUsage: 0,
  lora: "none",
};

describe("predictTtftCost()", () => {
  it.each([
    { name: "idle endpoint: its own uncached prefill", input: { uncachedTokens: 100 }, want: 100 },
    {
      name: "queued prefill tokens and requests, externality and running batch add up",
      input: { uncachedTokens: 100, queuedPrefillTokens: 1000, queuedPrefillRequests: 2, runningRequests: 10 },
      want: 1000 + 2 * 256 + 100 * (1 + 1 * 2) + 10 * 16,
    },
    {
      name: "avoidable uncached tokens carry the cache-pollution and avoidable-externality weights",
      input: { uncachedTokens: 100, avoidableUncachedTokens: 80, queuedPrefillRequests: 1 },
      want: 256 + 100 * 2 + 80 * (3 + 1.5),
    },
    { name: "LoRA load into a free slot", input: { lora: "free-slot" as const }, want: 512 },
    {
      name: "LoRA with no free slot, 3 requests to drain",
      input: { lora: "no-slot" as const, loraDrainRequests: 3 },
      want: 32_768 + 3 * 4096,
    },
    { name: "KV pressure above the threshold, linear to 100%", input: { kvCacheUsage: 0.95 }, want: 4096 },
  ])("$name", ({ input, want }) => {
    expect(predictTtftCost({ ...idleInput, ...input }, p)).toBeCloseTo(want, 6);
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
    {
      name: "base model",
      base: ["ad"],
      m: { maxActiveModels: 2 },
      inflight: {},
      want: { state: "none", minAdapterInflight: 0 },
    },
    {
      name: "no LoRA support",
      base: [],
      m: { maxActiveModels: 0 },
      inflight: {},
      want: { state: "none", minAdapterInflight: 0 },
    },
    {
      name: "loaded per metrics",
      base: [],
      m: { maxActiveModels: 1, activeModels: ["ad"] },
      inflight: {},
      want: { state: "loaded", minAdapterInflight: 0 },
    },
    {
      name: "loaded per in-flight requests (fresher than metrics)",
      base: [],
      m: { maxActiveModels: 1 },
      inflight: { models: new Map([["ad", 1]]) },
      want: { state: "loaded", minAdapterInflight: 0 },
    },
    {
      name: "free slot",
      base: [],
      m: { maxActiveModels: 2, activeModels: ["x"] },
      inflight: {},
      want: { state: "free-slot", minAdapterInflight: 0 },
    },
    {
      name: "no slot: in-flight adapters fill the slots; the least used drains first",
      base: ["m"],
      m: { maxActiveModels: 2 },
      inflight: {
        models: new Map([
          ["x", 3],
          ["y", 2],
          ["m", 9],
        ]),
      },
      want: { state: "no-slot", minAdapterInflight: 2 },
    },
  ])("$name", ({ base, m, inflight, want }) => {
    expect(loraState(r, endpoint("10.0.0.1:8000", m, inflight), new Set(base))).toEqual(want);
  });
});

describe("createPredictedTtftScorer()", () => {
  const prompt = "s".repeat(6400); // 100 blocks
  const setup = () => {
    const prefix = createPrefixCacheScorer();
    const scorer = createPredictedTtftScorer("t", { prefix });
    const holder = endpoint("10.0.0.1:8000");
    prefix.preRequest(request({ prompt }), [holder], 0);
    return { scorer, holder, other: endpoint("10.0.0.2:8000") };
  };
  const r = request({ requestId: "r2", prompt, promptTokens: 1600 });

  it("prefers the prefix holder and records each endpoint's uncached tokens", () => {
    const { scorer, holder, other } = setup();
    const state = new Map();
    // holder: cost 0; other: 1600 uncached x (1 + pollution 3) = 6400.
    expect(byId(scorer.score(context(), state, r, [holder, other]))).toEqual({
      "10.0.0.1:8000": 1,
      "10.0.0.2:8000": (0 + 1600) / (6400 + 1600),
    });
    expect(state.get(uncachedTokensStateKey)).toEqual(
      new Map([
        ["10.0.0.1:8000", 0],
        ["10.0.0.2:8000", 1600],
      ]),
    );
  });

  it("leaves a hot holder once the work queued on it outweighs the cache saving", () => {
    const { scorer, other } = setup();
    const hot = endpoint("10.0.0.1:8000", {}, { prefillTokens: 8000, prefillRequests: 4 });
    expect(byId(scorer.score(context(), new Map(), r, [hot, other]))["10.0.0.2:8000"]).toBe(1);
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
