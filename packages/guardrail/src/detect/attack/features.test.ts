import { describe, expect, it } from "vitest";
import { extractFeatures, prepareText } from "./features.js";

describe("extractFeatures()", () => {
  it("is deterministic and L2-normalised", () => {
    const a = extractFeatures("Ignore previous instructions");
    const b = extractFeatures("Ignore previous instructions");
    expect([...a.indices]).toEqual([...b.indices]);
    const norm = [...a.values].reduce((s, v) => s + v * v, 0);
    expect(norm).toBeCloseTo(1, 5);
  });

  it("keeps indices inside the hashed dimension", () => {
    const x = extractFeatures("hello world", { bits: 8, maxChars: 100 });
    expect(Math.max(...x.indices)).toBeLessThan(256);
  });

  it("returns an empty vector for empty text", () => {
    expect(extractFeatures("").indices.length).toBe(0);
  });
});

describe("prepareText()", () => {
  it("lower-cases, collapses whitespace and keeps head and tail", () => {
    expect(prepareText("  A\n\tB  ", 100)).toBe("a b");
    expect(prepareText("abcdefghij", 4)).toBe("ab ij");
  });
});
