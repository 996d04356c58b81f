import { describe, expect, it } from "vitest";
import { buildBaseModelIndex, parseBaseModelFile } from "./base-model-map.js";

describe("buildBaseModelIndex()", () => {
  it("maps adapters and the base model itself to the base model", () => {
    const result = buildBaseModelIndex([{ baseModel: "llama-8b", adapters: ["sql-lora", "food-lora"] }]);
    expect("value" in result && [...result.value]).toEqual([
      ["llama-8b", "llama-8b"],
      ["sql-lora", "llama-8b"],
      ["food-lora", "llama-8b"],
    ]);
  });

  it("rejects an adapter listed under two base models", () => {
    expect(
      buildBaseModelIndex([
        { baseModel: "a", adapters: ["x"] },
        { baseModel: "b", adapters: ["x"] },
      ]),
    ).toEqual({ error: '[1]: "x" is already mapped to base model "a"' });
  });

  it("accepts a base model repeated in its own entry list", () => {
    expect("value" in buildBaseModelIndex([{ baseModel: "a", adapters: ["a"] }])).toBe(true);
  });
});

describe("parseBaseModelFile()", () => {
  it.each([
    { name: "YAML list", text: "- baseModel: b\n  adapters: [l1, l2]\n" },
    { name: "JSON object", text: '{"baseModels":[{"baseModel":"b","adapters":["l1","l2"]}]}' },
  ])("reads a $name", ({ text }) => {
    const result = parseBaseModelFile(text);
    expect("value" in result && Object.fromEntries(result.value)).toEqual({ b: "b", l1: "b", l2: "b" });
  });

  it("treats an empty file as an empty mapping", () => {
    const result = parseBaseModelFile("");
    expect("value" in result && result.value.size).toBe(0);
  });

  it.each([
    { name: "bad YAML", text: "- baseModel: [", error: /^not YAML\/JSON/ },
    { name: "unknown key", text: "- baseModel: b\n  adaptors: [x]\n", error: /^\[0\]: Unrecognized key/ },
    { name: "missing base", text: "- adapters: [x]\n", error: /^\[0\]\.baseModel: / },
  ])("reports $name", ({ text, error }) => {
    const result = parseBaseModelFile(text);
    expect("error" in result && result.error).toMatch(error);
  });
});
