import { describe, expect, it } from "vitest";
import { byId, context, endpoint, request } from "../../../endpoints.testdata.js";
import { createLoraAffinityScorer, scoreLoraAffinity } from "./lora-affinity.js";

const lora = (active: string[], waiting: string[], max: number) => ({
  activeModels: new Set(active),
  waitingModels: new Set(waiting),
  maxActiveModels: max,
});

describe("scoreLoraAffinity()", () => {
  it.each([
    { name: "adapter loaded", l: lora(["a"], [], 2), want: 1 },
    { name: "adapter loaded even with all slots full", l: lora(["a", "b"], ["c"], 2), want: 1 },
    { name: "free slot", l: lora(["b"], [], 2), want: 0.8 },
    { name: "adapter waiting, no free slot", l: lora(["b"], ["a"], 2), want: 0.6 },
    { name: "no slot, not waiting", l: lora(["b", "c"], [], 2), want: 0 },
    { name: "no LoRA support", l: lora([], [], 0), want: 0 },
  ])("$name -> $want", ({ l, want }) => {
    expect(scoreLoraAffinity("a", l)).toBe(want);
  });
});

describe("createLoraAffinityScorer()", () => {
  it("scores endpoints for the request's target model", () => {
    const eps = [
      endpoint("10.0.0.1:8000", { activeModels: ["sql"], maxActiveModels: 1 }),
      endpoint("10.0.0.2:8000", { activeModels: [], maxActiveModels: 1 }),
    ];
    const s = createLoraAffinityScorer().score(context(), new Map(), request({ targetModel: "sql" }), eps);
    expect(byId(s)).toEqual({ "10.0.0.1:8000": 1, "10.0.0.2:8000": 0.8 });
  });
});
