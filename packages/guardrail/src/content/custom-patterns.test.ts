import { describe, expect, it } from "vitest";
import { compileCustomPatterns } from "./custom-patterns.js";

describe("compileCustomPatterns()", () => {
  it("finds matches with UTF-16 offsets after astral characters", () => {
    const result = compileCustomPatterns([{ name: "ticket", pattern: "TICKET-\\d+", caseInsensitive: true }]);
    if (!("detector" in result)) throw new Error("expected a detector");
    const text = "😀 ticket-42 and TICKET-7";
    expect(result.detector.detect(text).map((f) => [f.type, text.slice(f.start, f.end)])).toEqual([
      ["CUSTOM_TICKET", "ticket-42"],
      ["CUSTOM_TICKET", "TICKET-7"],
    ]);
  });

  it("rejects backreferences and lookaround with the pattern's index", () => {
    const result = compileCustomPatterns([
      { name: "ok", pattern: "a+" },
      { name: "backref", pattern: "(a)\\1" },
      { name: "look", pattern: "(?=x)" },
    ]);
    expect("errors" in result && result.errors.map((e) => e.split(":")[0])).toEqual([
      "customPatterns[1] (backref)",
      "customPatterns[2] (look)",
    ]);
  });

  it("matches a classic ReDoS pattern in linear time", () => {
    const result = compileCustomPatterns([{ name: "redos", pattern: "(a+)+b" }]);
    if (!("detector" in result)) throw new Error("expected a detector");
    expect(result.detector.detect(`${"a".repeat(50_000)}c`)).toEqual([]);
  });

  it("skips empty matches without looping", () => {
    const result = compileCustomPatterns([{ name: "empty", pattern: "x*" }]);
    if (!("detector" in result)) throw new Error("expected a detector");
    expect(result.detector.detect("abc")).toEqual([]);
  });
});
