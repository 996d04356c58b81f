import { describe, expect, it } from "vitest";
import { byId, context, endpoint, request } from "../../../endpoints.testdata.js";
import { createLoadAwareScorer, scoreLoadAware } from "./load-aware.js";

describe("load-aware-scorer", () => {
  it.each([
    [0, 128, 0.5],
    [64, 128, 0.25],
    [128, 128, 0],
    [500, 128, 0],
  ])("waiting %d at threshold %d scores %d (llm-d formula)", (q, t, want) => {
    expect(scoreLoadAware(q, t)).toBeCloseTo(want);
  });

  it("scores on an absolute scale and falls back to 128 for a non-positive threshold", () => {
    const s = createLoadAwareScorer("la", 0);
    const eps = [endpoint("10.0.0.1:80", { waitingQueueSize: 0 }), endpoint("10.0.0.2:80", { waitingQueueSize: 32 })];
    expect(byId(s.score(context(), new Map(), request(), eps))).toEqual({ "10.0.0.1:80": 0.5, "10.0.0.2:80": 0.375 });
  });
});
