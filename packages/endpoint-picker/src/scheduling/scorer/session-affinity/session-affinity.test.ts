import { describe, expect, it } from "vitest";
import { byId, context, endpoint, request } from "../../../endpoints.testdata.js";
import { createSessionAffinityScorer, scoreSessionAffinity } from "./session-affinity.js";

const a = endpoint("10.0.0.1:8000");
const b = endpoint("10.0.0.2:8000");

describe("scoreSessionAffinity()", () => {
  it.each([
    [undefined, "x", 0],
    ["x", "x", 1],
    ["x", "y", 0],
  ])("bound %s, endpoint %s -> %d", (bound, id, want) => {
    expect(scoreSessionAffinity(bound, id)).toBe(want);
  });
});

describe("createSessionAffinityScorer()", () => {
  it("scores the endpoint the session was bound to by the previous pick", () => {
    const s = createSessionAffinityScorer();
    const r = request({ headers: { "x-session-id": "s1" } });
    s.preRequest(r, [b], 0);
    expect(byId(s.score(context([0], 10), new Map(), r, [a, b]))).toEqual({ "10.0.0.1:8000": 0, "10.0.0.2:8000": 1 });
  });

  it("scores 0 everywhere without the header", () => {
    const s = createSessionAffinityScorer();
    s.preRequest(request({ headers: { "x-session-id": "s1" } }), [b], 0);
    expect(byId(s.score(context(), new Map(), request(), [a, b]))).toEqual({ "10.0.0.1:8000": 0, "10.0.0.2:8000": 0 });
  });

  it("uses a configured header name", () => {
    const s = createSessionAffinityScorer("s", { headerName: "X-Chat-Id" });
    const r = request({ headers: { "x-chat-id": "c" } });
    s.preRequest(r, [a], 0);
    expect(s.score(context(), new Map(), r, [a, b]).get(a)).toBe(1);
  });

  it("forgets sessions after the TTL", () => {
    const s = createSessionAffinityScorer("s", { ttlMs: 100 });
    s.preRequest(request({ headers: { "x-session-id": "s1" } }), [a], 0);
    expect(s.boundEndpoint("s1", 50)).toBe(a.id);
    expect(s.boundEndpoint("s1", 101)).toBeUndefined();
  });

  it("rebinds when the bound endpoint leaves the pool", () => {
    const s = createSessionAffinityScorer();
    const r = request({ headers: { "x-session-id": "s1" } });
    s.preRequest(r, [a], 0);
    s.endpointRemoved(a.id);
    expect(s.boundEndpoint("s1", 1)).toBeUndefined();
  });
});
