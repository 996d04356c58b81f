import { describe, expect, it } from "vitest";
import { createInflightTracker } from "./inflight-tracker.js";

describe("createInflightTracker()", () => {
  it("adds and releases per-endpoint requests and tokens", () => {
    const t = createInflightTracker();
    t.start("r1", "a", { tokens: 100, prefillTokens: 40, model: "lora-1" });
    t.start("r2", "a", { tokens: 10, prefillTokens: 4, model: "lora-1" });
    expect(t.load("a")).toEqual({
      requests: 2,
      tokens: 110,
      prefillTokens: 44,
      prefillRequests: 2,
      models: new Map([["lora-1", 2]]),
    });
    t.firstToken("r1");
    expect(t.load("a")).toEqual({
      requests: 2,
      tokens: 110,
      prefillTokens: 4,
      prefillRequests: 1,
      models: new Map([["lora-1", 2]]),
    });
    expect(t.finish("r1")).toBe("a");
    t.finish("r2");
    expect(t.load("a")).toEqual({ requests: 0, tokens: 0, prefillTokens: 0, prefillRequests: 0, models: new Map() });
    expect(t.size).toBe(0);
  });

  it("is idempotent on finish and ignores a second start", () => {
    const t = createInflightTracker();
    t.start("r1", "a", { tokens: 5, prefillTokens: 5 });
    t.start("r1", "b", { tokens: 5, prefillTokens: 5 });
    t.finish("r1");
    expect(t.finish("r1")).toBeUndefined();
    expect(t.load("a").requests).toBe(0);
    expect(t.load("b").requests).toBe(0);
  });

  it("releases prefill when a request finishes before its first token", () => {
    const t = createInflightTracker();
    t.start("r1", "a", { tokens: 5, prefillTokens: 5 });
    t.start("r2", "a", { tokens: 5, prefillTokens: 5 });
    t.finish("r1");
    expect(t.load("a")).toEqual({ requests: 1, tokens: 5, prefillTokens: 5, prefillRequests: 1, models: new Map() });
    expect(t.byEndpoint()).toEqual(new Map([["a", 1]]));
  });

  it("moves a request to the endpoint that actually served it, keeping its prefill state", () => {
    const t = createInflightTracker();
    t.start("r1", "a", { tokens: 8, prefillTokens: 3, model: "x" });
    t.firstToken("r1");
    t.move("r1", "b");
    expect(t.load("a").requests).toBe(0);
    expect(t.load("b")).toEqual({
      requests: 1,
      tokens: 8,
      prefillTokens: 0,
      prefillRequests: 0,
      models: new Map([["x", 1]]),
    });
    expect(t.finish("r1")).toBe("b");
  });
});
