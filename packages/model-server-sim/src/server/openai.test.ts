import { describe, expect, it } from "vitest";
import { applyChatTemplate, errorBody, parseRequest, sse } from "./openai.js";

describe("parseRequest()", () => {
  it.each([
    {
      name: "chat with max_tokens",
      kind: "chat" as const,
      body: { model: "m", messages: [{ role: "user", content: "hi" }], max_tokens: 7 },
      want: { maxTokens: 7, finishReason: "length", stream: false, includeUsage: false },
    },
    {
      name: "chat with max_completion_tokens and usage streaming",
      kind: "chat" as const,
      body: {
        model: "m",
        messages: [{ role: "user", content: "hi" }],
        max_completion_tokens: 3,
        stream: true,
        stream_options: { include_usage: true },
      },
      want: { maxTokens: 3, finishReason: "length", stream: true, includeUsage: true },
    },
    {
      name: "completion without max_tokens",
      kind: "completion" as const,
      body: { model: "m", prompt: "abc" },
      want: { maxTokens: 16, finishReason: "stop", promptText: "abc" },
    },
    {
      name: "include_usage ignored without stream",
      kind: "completion" as const,
      body: { model: "m", prompt: ["a", "b"], stream_options: { include_usage: true } },
      want: { includeUsage: false, promptText: "ab" },
    },
  ])("parses $name", ({ kind, body, want }) => {
    const r = parseRequest(kind, JSON.stringify(body), 16);
    expect("value" in r && r.value).toMatchObject(want);
  });

  it("joins multimodal text parts and applies the Llama 3 template", () => {
    const r = parseRequest(
      "chat",
      JSON.stringify({
        model: "m",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "a" },
              { type: "text", text: "b" },
            ],
          },
        ],
      }),
      16,
    );
    expect("value" in r && r.value.promptText).toBe(applyChatTemplate([{ role: "user", content: "ab" }]));
    expect(applyChatTemplate([{ role: "user", content: "ab" }])).toBe(
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nab<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });

  it.each([
    { name: "not JSON", raw: "{", param: undefined },
    { name: "an array", raw: "[]", param: undefined },
    { name: "no model", raw: '{"prompt":"x"}', param: "model" },
    { name: "no prompt", raw: '{"model":"m"}', param: "prompt" },
    { name: "zero max_tokens", raw: '{"model":"m","prompt":"x","max_tokens":0}', param: "max_tokens" },
  ])("rejects $name with 400", ({ raw, param }) => {
    const r = parseRequest("completion", raw, 16);
    expect("error" in r && r.error).toMatchObject({
      status: 400,
      type: "BadRequestError",
      ...(param ? { param } : {}),
    });
    if (!param) expect("error" in r && r.error.param).toBeUndefined();
  });
});

describe("errorBody()", () => {
  it("nests the error as vLLM does", () => {
    expect(errorBody({ status: 404, type: "NotFoundError", message: "x", param: "model" })).toEqual({
      error: { message: "x", type: "NotFoundError", param: "model", code: 404 },
    });
  });
});

describe("sse()", () => {
  it("frames one data event", () => {
    expect(sse({ a: 1 })).toBe('data: {"a":1}\n\n');
  });
});
