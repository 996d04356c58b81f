import { describe, expect, it } from "vitest";
import { byId, context, endpoint, request } from "../../../endpoints.testdata.js";
import { createRunningRequestsScorer, scoreRunningRequests } from "./running-requests.js";

describe("scoreRunningRequests()", () => {
  it.each([
    { name: "fewest running scores 1", r: [10, 20, 30], want: [1, 0.5, 0] },
    { name: "equal batches all score 1", r: [8, 8, 8], want: [1, 1, 1] },
  ])("$name", ({ r, want }) => {
    expect(scoreRunningRequests(r)).toEqual(want);
  });
});

describe("createRunningRequestsScorer()", () => {
  it("scores endpoints by running-batch size", () => {
    const eps = [endpoint("10.0.0.1:8000", { runningRequests: 1 }), endpoint("10.0.0.2:8000", { runningRequests: 5 })];
    expect(byId(createRunningRequestsScorer().score(context(), new Map(), request(), eps))).toEqual({
      "10.0.0.1:8000": 1,
      "10.0.0.2:8000": 0,
    });
  });
});
