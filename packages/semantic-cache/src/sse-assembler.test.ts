import { describe, expect, it } from "vitest";
import { renderSse } from "./replay.js";
import { createSseAssembler } from "./sse-assembler.js";
import type { StoredCompletion } from "./stored-completion.js";

const event = (json: unknown): string => `data: ${JSON.stringify(json)}\n\n`;
const chunk = (delta: unknown, finish: string | null = null, index = 0) =>
  event({
    id: "x",
    object: "chat.completion.chunk",
    created: 5,
    model: "m",
    choices: [{ index, delta, finish_reason: finish }],
  });

function assemble(parts: string[]) {
  const assembler = createSseAssembler();
  for (const part of parts) assembler.push(Buffer.from(part));
  return assembler.finish();
}

describe("createSseAssembler()", () => {
  it("assembles content split across arbitrary byte boundaries", () => {
    const whole =
      chunk({ role: "assistant", content: "" }) +
      chunk({ content: "Grüß " }) +
      chunk({ content: "dich" }) +
      chunk({}, "stop") +
      "data: [DONE]\n\n";
    const bytes = Buffer.from(whole);
    const assembler = createSseAssembler();
    for (let i = 0; i < bytes.length; i += 7) assembler.push(bytes.subarray(i, i + 7));
    const result = assembler.finish();
    expect("value" in result && result.value.choices).toEqual([
      { index: 0, role: "assistant", content: "Grüß dich", finishReason: "stop" },
    ]);
  });

  it("assembles tool calls", () => {
    const result = assemble([
      chunk({
        role: "assistant",
        tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get", arguments: '{"a"' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ":1}" } }] }),
      chunk({}, "tool_calls"),
      "data: [DONE]\n\n",
    ]);
    expect("value" in result && result.value.choices[0]).toEqual({
      index: 0,
      role: "assistant",
      content: null,
      toolCalls: [{ id: "call_1", type: "function", function: { name: "get", arguments: '{"a":1}' } }],
      finishReason: "tool_calls",
    });
  });

  it.each([
    ["no [DONE]", [chunk({ content: "a" }), chunk({}, "stop")], "stream ended without [DONE]"],
    ["no finish_reason", [chunk({ content: "a" }), "data: [DONE]\n\n"], "choice without finish_reason"],
    [
      "an error event",
      [chunk({ content: "a" }), event({ error: { message: "overloaded" } }), "data: [DONE]\n\n"],
      "error event",
    ],
    ["non-JSON data", ["data: {oops\n\n", "data: [DONE]\n\n"], "event data is not JSON"],
  ])("refuses a stream with %s", (_name, parts, error) => {
    expect(assemble(parts)).toEqual({ error });
  });

  it("round-trips a rendered stream", () => {
    const completion: StoredCompletion = {
      id: "c",
      model: "m",
      created: 3,
      choices: [{ index: 0, role: "assistant", content: "x".repeat(1_200), finishReason: "length" }],
      usage: { total_tokens: 3 },
    };
    expect(assemble([renderSse(completion, { includeUsage: true })])).toEqual({ value: completion });
  });
});
