import { describe, expect, it } from "vitest";
import { context, endpoint, request } from "../endpoints.testdata.js";
import { createMaxScorePicker } from "./picker/max-score/max-score.js";
import { clampScore, combineScores, createScheduler } from "./scheduler.js";
import type { Endpoint, Filter, Scorer } from "./types.js";

const a = endpoint("10.0.0.1:8000");
const b = endpoint("10.0.0.2:8000");

const fixedScorer = (name: string, scores: Record<string, number>): Scorer => ({
  kind: "scorer",
  typedName: { type: "fixed", name },
  category: "distribution",
  score: (_c, _s, _r, eps) => new Map(eps.map((e) => [e, scores[e.id] ?? 0])),
});

describe("clampScore()", () => {
  it.each([
    [-1, 0],
    [0.3, 0.3],
    [7, 1],
    [Number.NaN, 0],
  ])("clamps %d to %d", (v, want) => {
    expect(clampScore(v)).toBe(want);
  });
});

describe("combineScores()", () => {
  it("clamps each score then sums weight x score", () => {
    const s1 = new Map<Endpoint, number>([
      [a, 2],
      [b, 0.5],
    ]);
    const s2 = new Map<Endpoint, number>([
      [a, 0],
      [b, 1],
    ]);
    const out = combineScores(
      [a, b],
      [
        { scores: s1, weight: 2 },
        { scores: s2, weight: 3 },
      ],
    );
    expect(out.map((s) => s.score)).toEqual([2, 4]);
  });
});

describe("createScheduler()", () => {
  it("runs filters, weighted scorers and the picker", () => {
    const dropA: Filter = {
      kind: "filter",
      typedName: { type: "f", name: "f" },
      filter: (_c, _s, _r, eps) => eps.filter((e) => e !== a),
    };
    const scheduler = createScheduler({
      profiles: [
        {
          name: "p",
          filters: [dropA],
          scorers: [{ scorer: fixedScorer("s", { [a.id]: 1 }), weight: 1 }],
          picker: createMaxScorePicker(),
        },
      ],
      plugins: new Map(),
    });
    const r = scheduler.schedule(context(), request(), [a, b]);
    expect("targets" in r && r.targets.map((t) => t.id)).toEqual([b.id]);
  });

  it("fails when a filter leaves no endpoint", () => {
    const none: Filter = { kind: "filter", typedName: { type: "f", name: "none" }, filter: () => [] };
    const scheduler = createScheduler({
      profiles: [{ name: "p", filters: [none], scorers: [], picker: createMaxScorePicker() }],
      plugins: new Map(),
    });
    expect(scheduler.schedule(context(), request(), [a])).toEqual({
      error: "no endpoints available after filter none",
    });
  });

  it("weights change the winner", () => {
    const mk = (wq: number, wp: number) =>
      createScheduler({
        profiles: [
          {
            name: "p",
            filters: [],
            scorers: [
              { scorer: fixedScorer("q", { [a.id]: 1, [b.id]: 0 }), weight: wq },
              { scorer: fixedScorer("p", { [a.id]: 0, [b.id]: 1 }), weight: wp },
            ],
            picker: createMaxScorePicker(),
          },
        ],
        plugins: new Map(),
      });
    const first = (s: ReturnType<typeof mk>) => {
      const r = s.schedule(context(), request(), [a, b]);
      return "targets" in r ? r.targets[0]?.id : undefined;
    };
    expect(first(mk(2, 1))).toBe(a.id);
    expect(first(mk(1, 2))).toBe(b.id);
  });

  it("reports each plugin call to the observer", () => {
    const seen: string[] = [];
    const scheduler = createScheduler({
      profiles: [
        {
          name: "p",
          filters: [],
          scorers: [{ scorer: fixedScorer("s", {}), weight: 1 }],
          picker: createMaxScorePicker(),
        },
      ],
      plugins: new Map(),
      observe: (point, plugin) => seen.push(`${point}/${plugin.typedName.name}`),
    });
    scheduler.schedule(context(), request(), [a]);
    expect(seen).toEqual(["scorer/s", "picker/max-score-picker"]);
  });
});
