import { describe, expect, it } from "vitest";
import { createTermListDetector, defaultTermLists } from "./term-lists.js";

describe("createTermListDetector()", () => {
  const detector = createTermListDetector([
    ...defaultTermLists,
    { category: "competitors", terms: ["acme corp", "c++"] },
  ]);

  it("finds denied phrases on word boundaries, case-insensitively", () => {
    const text = "Tell me HOW TO MAKE A   BOMB please";
    expect(detector.detect(text)).toEqual([{ type: "RAI_DANGEROUS", start: 8, end: 28, confidence: "MEDIUM" }]);
  });

  it("supports custom categories and escapes regex characters", () => {
    expect(detector.detect("we beat Acme Corp and c++").map((f) => f.type)).toEqual([
      "RAI_COMPETITORS",
      "RAI_COMPETITORS",
    ]);
  });

  it("does not match inside words", () => {
    expect(detector.detect("skys are blue")).toEqual([]);
  });

  it("matches every term of a list longer than one compiled alternation (500 terms)", () => {
    const terms = Array.from({ length: 1200 }, (_, i) => `codeword${i}`);
    const big = createTermListDetector([{ category: "big", terms }]);
    const text = "say codeword0, then codeword599 and codeword1199 but not codeword12000";
    expect(big.detect(text).map((f) => text.slice(f.start, f.end))).toEqual([
      "codeword0",
      "codeword599",
      "codeword1199",
    ]);
  });
});
