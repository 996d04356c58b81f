import { describe, expect, it } from "vitest";
import { extractRequestTexts, extractResponseTexts, parseJsonBody, replaceTexts } from "./extract.js";

const summary = (texts: { path: string; text: string; role?: string }[]) => texts.map((t) => [t.path, t.text, t.role]);

describe("extractRequestTexts()", () => {
  it("reads every chat turn, content parts, tool calls and tool results", () => {
    const body = {
      messages: [
        { role: "system", content: "sys" },
        {
          role: "user",
          content: [
            { type: "text", text: "part" },
            { type: "image_url", image_url: { url: "x" } },
          ],
        },
        { role: "assistant", content: null, tool_calls: [{ function: { name: "f", arguments: '{"q":1}' } }] },
        { role: "tool", content: "result" },
      ],
    };
    expect(summary(extractRequestTexts(body))).toEqual([
      ["$.messages[0].content", "sys", "system"],
      ["$.messages[1].content[0].text", "part", "user"],
      ["$.messages[2].tool_calls[0].function.arguments", '{"q":1}', "assistant"],
      ["$.messages[3].content", "result", "tool"],
    ]);
  });

  it("reads completions prompts, embeddings input and Responses input items", () => {
    expect(summary(extractRequestTexts({ prompt: ["a", "b"] }))).toEqual([
      ["$.prompt[0]", "a", "user"],
      ["$.prompt[1]", "b", "user"],
    ]);
    expect(summary(extractRequestTexts({ input: "embed me" }))).toEqual([["$.input", "embed me", "user"]]);
    const responses = {
      instructions: "be nice",
      input: [
        { role: "user", content: [{ type: "input_text", text: "hi" }] },
        { type: "function_call_output", output: "tool says" },
      ],
    };
    expect(summary(extractRequestTexts(responses))).toEqual([
      ["$.instructions", "be nice", "system"],
      ["$.input[0].content[0].text", "hi", "user"],
      ["$.input[1].output", "tool says", "tool"],
    ]);
  });

  it("reads Anthropic system, text blocks, tool_use input and tool_result content", () => {
    const body = {
      system: [{ type: "text", text: "sys" }],
      messages: [
        { role: "assistant", content: [{ type: "tool_use", id: "t", name: "n", input: { city: "Paris" } }] },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "t", content: [{ type: "text", text: "sunny" }] }],
        },
      ],
    };
    expect(summary(extractRequestTexts(body))).toEqual([
      ["$.messages[0].content[0].input.city", "Paris", "assistant"],
      ["$.messages[1].content[0].content[0].text", "sunny", "tool"],
      ["$.system[0].text", "sys", "system"],
    ]);
  });

  it("bounds recursion on deeply nested tool input", () => {
    let input: unknown = "deep";
    for (let i = 0; i < 1000; i++) input = { a: input };
    const body = { messages: [{ role: "assistant", content: [{ type: "tool_use", input }] }] };
    expect(extractRequestTexts(body)).toEqual([]);
  });
});

describe("extractResponseTexts()", () => {
  it("reads chat content, tool-call arguments, completions text, Responses and Anthropic output", () => {
    const chat = {
      choices: [{ message: { content: "c", tool_calls: [{ function: { arguments: "{}" } }] } }, { text: "t" }],
    };
    expect(summary(extractResponseTexts(chat)).map(([p]) => p)).toEqual([
      "$.choices[0].message.content",
      "$.choices[0].message.tool_calls[0].function.arguments",
      "$.choices[1].text",
    ]);
    expect(
      summary(
        extractResponseTexts({ output: [{ type: "message", content: [{ type: "output_text", text: "r" }] }] }),
      ).map(([p]) => p),
    ).toEqual(["$.output[0].content[0].text"]);
    expect(summary(extractResponseTexts({ content: [{ type: "text", text: "a" }] })).map(([p]) => p)).toEqual([
      "$.content[0].text",
    ]);
  });
});

describe("replaceTexts()", () => {
  it("writes texts back at their keys without touching the original", () => {
    const body = { messages: [{ role: "user", content: "secret" }] };
    const out = replaceTexts(body, new Map([[["messages", 0, "content"], "[X]"]]));
    expect(out).toEqual({ messages: [{ role: "user", content: "[X]" }] });
    expect(body.messages[0]?.content).toBe("secret");
  });
});

describe("parseJsonBody()", () => {
  it("returns errors as values", () => {
    expect(parseJsonBody(new TextEncoder().encode("{"))).toHaveProperty("error");
    expect(parseJsonBody(new TextEncoder().encode('{"a":1}'))).toEqual({ value: { a: 1 } });
  });
});
