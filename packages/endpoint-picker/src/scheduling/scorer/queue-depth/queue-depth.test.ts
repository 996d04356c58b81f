import { describe, expect, it } from "vitest";
import { byId, context, endpoint, request } from "../../../endpoints.testdata.js";
import { createQueueScorer, queueScorerFactory, scoreQueueDepth } from "./queue-depth.js";

describe("scoreQueueDepth()", () => {
  it.each([
    { name: "min-max normalises, shortest queue scores 1", q: [0, 5, 10], want: [1, 0.5, 0] },
    { name: "gives 1 to all when queues are equal", q: [3, 3], want: [1, 1] },
    { name: "handles a single endpoint", q: [7], want: [1] },
    { name: "handles no endpoints", q: [], want: [] },
    { name: "uneven spread", q: [2, 4, 10], want: [1, 0.75, 0] },
  ])("$name", ({ q, want }) => {
    expect(scoreQueueDepth(q)).toEqual(want);
  });
});

describe("createQueueScorer()", () => {
  it("scores endpoints by waiting queue size", () => {
    const eps = [
      endpoint("10.0.0.1:8000", { waitingQueueSize: 4 }),
      endpoint("10.0.0.2:8000", { waitingQueueSize: 0 }),
    ];
    const s = createQueueScorer().score(context(), new Map(), request(), eps);
    expect(byId(s)).toEqual({ "10.0.0.1:8000": 0, "10.0.0.2:8000": 1 });
  });

  it("rejects unknown parameters", () => {
    expect(queueScorerFactory("q", { nope: 1 }, { plugin: () => undefined })).toHaveProperty("error");
  });
});
