import { describe, expect, it } from "vitest";
import { modelNameProblem } from "./model-name.js";

describe("modelNameProblem()", () => {
  it.each([
    { name: "llama-3/8b", problem: undefined },
    { name: "模型", problem: undefined },
    { name: "a\nb", problem: "contains control characters" },
    { name: "a\u007f", problem: "contains control characters" },
    { name: "x".repeat(11), problem: "is longer than 10 bytes" },
    { name: "é".repeat(6), problem: "is longer than 10 bytes" },
  ])("judges $name", ({ name, problem }) => {
    expect(modelNameProblem(name, 10)).toBe(problem);
  });
});
