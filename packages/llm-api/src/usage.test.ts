import { describe, expect, it } from "vitest";
import { createSseUsageReader, usageFromBody } from "./usage.js";

describe("usageFromBody()", () => {
  it("reads chat/completions usage with cached tokens", () => {
    expect(
      usageFromBody('{"usage":{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":4}}}'),
    ).toEqual({ promptTokens: 10, completionTokens: 5, cachedTokens: 4 });
  });
  it("reads Responses API names", () => {
    expect(usageFromBody('{"usage":{"input_tokens":3,"output_tokens":2}}')).toEqual({
      promptTokens: 3,
      completionTokens: 2,
      cachedTokens: 0,
    });
  });
  it("returns undefined without usage or for garbage", () => {
    expect(usageFromBody("{}")).toBeUndefined();
    expect(usageFromBody("nope")).toBeUndefined();
  });
});

describe("createSseUsageReader()", () => {
  it("finds usage in a data line split across chunks, and [DONE]", () => {
    const r = createSseUsageReader();
    r.push('data: {"choices":[]}\n\ndata: {"choices":[],"usa');
    expect(r.usage).toBeUndefined();
    r.push('ge":{"prompt_tokens":7,"completion_tokens":3}}\n\ndata: [DONE]\n\n');
    expect(r.usage).toEqual({ promptTokens: 7, completionTokens: 3, cachedTokens: 0 });
    expect(r.done).toBe(true);
  });
  it("ignores usage: null chunks", () => {
    const r = createSseUsageReader();
    r.push('data: {"usage":null}\n');
    expect(r.usage).toBeUndefined();
  });
});
