import { describe, expect, it } from "vitest";
import { parseCompletionJson } from "./completion-parser.js";
import { renderJson, renderSse } from "./replay.js";
import type { StoredCompletion } from "./stored-completion.js";

const completion: StoredCompletion = {
  id: "chatcmpl-9",
  model: "m",
  created: 7,
  choices: [{ index: 0, role: "assistant", content: "Hi 👋", finishReason: "stop" }],
};

describe("renderJson()", () => {
  it("renders a chat.completion that parses back to the same completion", () => {
    expect(JSON.parse(renderJson(completion)).object).toBe("chat.completion");
    expect(parseCompletionJson(Buffer.from(renderJson(completion)))).toEqual({ value: completion });
  });
});

describe("renderSse()", () => {
  it("renders role, content and finish chunks, then [DONE]", () => {
    const events = renderSse(completion, { chunkChars: 2 }).split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    const deltas = events.slice(0, -1).map((e) => JSON.parse(e.slice("data: ".length)).choices[0]);
    expect(deltas.map((d) => [d.delta, d.finish_reason])).toEqual([
      [{ role: "assistant", content: "" }, null],
      [{ content: "Hi" }, null],
      [{ content: " 👋" }, null],
      [{}, "stop"],
    ]);
  });
});

describe("parseCompletionJson()", () => {
  it.each([
    ["not JSON", "nope", "response is not UTF-8 JSON"],
    ["an error object", '{"error":{"message":"x"}}', "not a chat.completion"],
    [
      "no finish_reason",
      '{"object":"chat.completion","choices":[{"message":{"content":"a"}}]}',
      "choice without finish_reason",
    ],
  ])("refuses %s", (_name, body, error) => {
    expect(parseCompletionJson(Buffer.from(body))).toEqual({ error });
  });
});
