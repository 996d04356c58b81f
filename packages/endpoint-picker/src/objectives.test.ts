import { describe, expect, it } from "vitest";
import { createObjectiveStore, weightedTarget } from "./objectives.js";

const seq = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe("createObjectiveStore()", () => {
  const store = () =>
    createObjectiveStore({
      objectives: { batch: { priority: -1 } },
      modelRewrites: [{ from: "alias", to: "static-target" }],
    });

  it("prefers Kubernetes objectives, then the static config", () => {
    const s = store();
    expect(s.priorityOf("batch")).toBe(-1);
    s.setObjective({ name: "batch", priority: 3 });
    expect(s.priorityOf("batch")).toBe(3);
    s.deleteObjective("batch");
    expect(s.priorityOf("batch")).toBe(-1);
    expect(s.priorityOf("unknown")).toBeUndefined();
  });

  it("applies upstream's precedence: exact over generic, oldest object, first rule", () => {
    const s = store();
    s.replaceRewrites([
      { name: "generic", createdMs: 1, rules: [{ models: [], targets: [{ modelRewrite: "catch-all" }] }] },
      {
        name: "newer",
        createdMs: 20,
        rules: [{ models: ["llama"], targets: [{ modelRewrite: "from-newer" }] }],
      },
      {
        name: "older",
        createdMs: 10,
        rules: [
          { models: ["llama"], targets: [{ modelRewrite: "from-older-first" }] },
          { models: ["llama"], targets: [{ modelRewrite: "from-older-second" }] },
        ],
      },
    ]);
    expect(s.rewrite("llama", Math.random)).toEqual({ model: "from-older-first", rewriteName: "older" });
    expect(s.rewrite("other", Math.random)).toEqual({ model: "catch-all", rewriteName: "generic" });
    s.deleteRewrite("older");
    expect(s.rewrite("llama", Math.random)?.model).toBe("from-newer");
    s.deleteRewrite("generic");
    // No Kubernetes rule: the static config.
    expect(s.rewrite("alias", Math.random)).toEqual({ model: "static-target", rewriteName: "" });
    expect(s.rewrite("other", Math.random)).toBeUndefined();
  });
});

describe("weightedTarget()", () => {
  it("splits by weight, evenly without weights, and never picks an unweighted target among weighted ones", () => {
    const targets = [
      { modelRewrite: "a", weight: 90 },
      { modelRewrite: "b", weight: 10 },
    ];
    expect(weightedTarget(targets, seq(0))).toBe("a");
    expect(weightedTarget(targets, seq(0.899))).toBe("a");
    expect(weightedTarget(targets, seq(0.9))).toBe("b");
    const counts = { a: 0, b: 0 };
    let x = 0;
    for (let i = 0; i < 1000; i++) counts[weightedTarget(targets, () => (x = (x + 0.6180339887) % 1)) as "a" | "b"]++;
    expect(counts.a).toBeGreaterThan(850);
    expect(counts.a).toBeLessThan(950);
    expect(weightedTarget([{ modelRewrite: "x" }, { modelRewrite: "y" }], seq(0.75))).toBe("y");
    const mixed = [{ modelRewrite: "unweighted" }, { modelRewrite: "weighted", weight: 5 }];
    for (const r of [0, 0.5, 0.99]) expect(weightedTarget(mixed, seq(r))).toBe("weighted");
    expect(weightedTarget([], seq(0))).toBeUndefined();
  });
});
