import { describe, expect, it } from "vitest";
import { byId, context, endpoint, request } from "../../../endpoints.testdata.js";
import {
  createTokenLoadScorer,
  defaultQueueThresholdTokens,
  scoreTokenLoad,
  tokenLoadScorerFactory,
} from "./token-load.js";

describe("scoreTokenLoad()", () => {
  it.each([
    { tokens: 0, t: 100, want: 1 },
    { tokens: 25, t: 100, want: 0.75 },
    { tokens: 100, t: 100, want: 0 },
    { tokens: 500, t: 100, want: 0 },
    { tokens: 1_048_576, t: defaultQueueThresholdTokens, want: 0.75 },
  ])("scores $tokens tokens with threshold $t as $want", ({ tokens, t, want }) => {
    expect(scoreTokenLoad(tokens, t)).toBe(want);
  });
});

describe("createTokenLoadScorer()", () => {
  it("reads in-flight tokens routed by the picker", () => {
    const eps = [endpoint("10.0.0.1:8000", {}, { tokens: 50 }), endpoint("10.0.0.2:8000", {}, { tokens: 0 })];
    const s = createTokenLoadScorer("t", { queueThresholdTokens: 200 }).score(context(), new Map(), request(), eps);
    expect(byId(s)).toEqual({ "10.0.0.1:8000": 0.75, "10.0.0.2:8000": 1 });
  });

  it("validates queueThresholdTokens", () => {
    expect(tokenLoadScorerFactory("t", { queueThresholdTokens: -1 }, { plugin: () => undefined })).toEqual({
      error: "queueThresholdTokens: Too small: expected number to be >0",
    });
  });
});
