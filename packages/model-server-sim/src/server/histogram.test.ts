import { describe, expect, it } from "vitest";
import { createHistogram } from "./histogram.js";

describe("createHistogram()", () => {
  it("counts cumulatively with le semantics and +Inf", () => {
    const h = createHistogram([1, 2]);
    for (const v of [0.5, 1, 1.5, 3]) h.observe(v);
    expect(h.counts()).toEqual([2, 3, 4]);
    expect(h.sum()).toBe(6);
    expect(h.count()).toBe(4);
  });
});
