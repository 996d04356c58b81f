import { describe, expect, it } from "vitest";
import { dropOverlaps, type Finding } from "./finding.js";

const f = (type: string, start: number, end: number, confidence: Finding["confidence"] = "MEDIUM"): Finding => ({
  type,
  start,
  end,
  confidence,
});

describe("dropOverlaps()", () => {
  it("keeps the more confident of overlapping findings", () => {
    expect(dropOverlaps([f("PHONE", 0, 11, "MEDIUM"), f("SSN", 0, 11, "HIGH")])).toEqual([f("SSN", 0, 11, "HIGH")]);
  });

  it("keeps the earlier entry on a tie and sorts by start", () => {
    expect(dropOverlaps([f("B", 10, 20), f("A", 0, 5), f("C", 12, 14)])).toEqual([f("A", 0, 5), f("B", 10, 20)]);
  });

  it("resolves a chain of overlaps inside one cluster", () => {
    expect(
      dropOverlaps([f("A", 0, 10, "LOW"), f("B", 8, 20, "HIGH"), f("C", 18, 30, "LOW"), f("D", 25, 40, "MEDIUM")]),
    ).toEqual([f("B", 8, 20, "HIGH"), f("D", 25, 40, "MEDIUM")]);
  });

  it("handles many disjoint findings", () => {
    const many = Array.from({ length: 20_000 }, (_, i) => f("X", i * 3, i * 3 + 2));
    expect(dropOverlaps(many)).toHaveLength(20_000);
  });
});
