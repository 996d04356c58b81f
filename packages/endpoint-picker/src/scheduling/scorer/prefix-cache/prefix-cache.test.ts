import { describe, expect, it } from "vitest";
import { byId, context, endpoint, request } from "../../../endpoints.testdata.js";
import { createPrefixCacheScorer, prefixCacheScorerFactory, scorePrefixMatch } from "./prefix-cache.js";

const system = "s".repeat(640); // 10 blocks of 64 chars

describe("scorePrefixMatch()", () => {
  it.each([
    [0, 0, 0],
    [0, 4, 0],
    [3, 4, 0.75],
    [4, 4, 1],
  ])("matched %d of %d -> %d", (m, t, want) => {
    expect(scorePrefixMatch(m, t)).toBe(want);
  });
});

describe("createPrefixCacheScorer()", () => {
  const a = endpoint("10.0.0.1:8000");
  const b = endpoint("10.0.0.2:8000");

  it("scores 0 everywhere before any pick is recorded", () => {
    const s = createPrefixCacheScorer();
    expect(byId(s.score(context(), new Map(), request({ prompt: system }), [a, b]))).toEqual({
      "10.0.0.1:8000": 0,
      "10.0.0.2:8000": 0,
    });
  });

  it("scores the matched fraction on the endpoint the pick was recorded for", () => {
    const s = createPrefixCacheScorer();
    s.preRequest(request({ prompt: system }), [a], 0);
    // 10 shared blocks + 5 new ones -> 10/15.
    const next = request({ requestId: "r2", prompt: system + "q".repeat(320) });
    expect(byId(s.score(context(), new Map(), next, [a, b]))).toEqual({ "10.0.0.1:8000": 10 / 15, "10.0.0.2:8000": 0 });
  });

  it("records only the primary, not the fallbacks", () => {
    const s = createPrefixCacheScorer();
    s.preRequest(request({ prompt: system }), [a, b], 0);
    expect(s.index.endpoints()).toEqual(["10.0.0.1:8000"]);
  });

  it("keeps models apart (per-model seed)", () => {
    const s = createPrefixCacheScorer();
    s.preRequest(request({ prompt: system, targetModel: "m1" }), [a], 0);
    const other = request({ requestId: "r2", prompt: system, targetModel: "m2" });
    expect(s.score(context(), new Map(), other, [a]).get(a)).toBe(0);
  });

  it("sizes the per-endpoint LRU from cache_config_info when autoTune is on", () => {
    const s = createPrefixCacheScorer();
    const small = endpoint("10.0.0.3:8000", { blockSizeTokens: 16, numGpuBlocks: 4 });
    s.preRequest(request({ prompt: system }), [small], 0);
    expect(s.index.size("10.0.0.3:8000")).toBe(4);
  });

  it("uses lruCapacityPerServer when autoTune is off", () => {
    const s = createPrefixCacheScorer("p", { autoTune: false, lruCapacityPerServer: 3 });
    s.preRequest(
      request({ prompt: system }),
      [endpoint("10.0.0.3:8000", { blockSizeTokens: 16, numGpuBlocks: 100 })],
      0,
    );
    expect(s.index.size("10.0.0.3:8000")).toBe(3);
  });

  it("forgets endpoints that left the pool", () => {
    const s = createPrefixCacheScorer();
    s.preRequest(request({ prompt: system }), [a], 0);
    s.endpointRemoved(a.id);
    expect(s.index.endpoints()).toEqual([]);
  });

  it("validates parameters", () => {
    expect(prefixCacheScorerFactory("p", { blockSizeTokens: 0 }, { plugin: () => undefined })).toHaveProperty("error");
    expect(prefixCacheScorerFactory("p", { blockSizeTokens: 32 }, { plugin: () => undefined })).toHaveProperty(
      "plugin",
    );
  });
});
