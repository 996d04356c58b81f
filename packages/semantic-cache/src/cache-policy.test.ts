import { createHeaderMap } from "@llm-callouts/ext-proc";
import { describe, expect, it } from "vitest";
import { decidePolicy } from "./cache-policy.js";
import { type ChatRequest, parseChatRequest } from "./chat-request.js";

const options = { bypassHeader: "x-cache-bypass", maxTemperature: 1, maxSemanticTurns: 1, semantic: true };

function request(body: Record<string, unknown> = {}): ChatRequest {
  const parsed = parseChatRequest(
    Buffer.from(JSON.stringify({ model: "m", messages: [{ role: "user", content: "q" }], ...body })),
  );
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.value;
}

describe("decidePolicy()", () => {
  it.each([
    ["a plain request", {}, request(), { lookup: true, store: true, semantic: true, reason: undefined }],
    [
      "no-store",
      { "cache-control": "no-store" },
      request(),
      { lookup: false, store: false, semantic: false, reason: "no-store" },
    ],
    [
      "no-cache",
      { "cache-control": "max-age=0, no-cache" },
      request(),
      { lookup: false, store: true, semantic: false, reason: "no-cache" },
    ],
    [
      "the bypass header",
      { "x-cache-bypass": "true" },
      request(),
      { lookup: false, store: false, semantic: false, reason: "bypass-header" },
    ],
    [
      "a bypass header of 0",
      { "x-cache-bypass": "0" },
      request(),
      { lookup: true, store: true, semantic: true, reason: undefined },
    ],
    ["n = 2", {}, request({ n: 2 }), { lookup: false, store: false, semantic: false, reason: "multiple-choices" }],
    [
      "temperature above the maximum",
      {},
      request({ temperature: 1.2 }),
      { lookup: false, store: false, semantic: false, reason: "temperature" },
    ],
    [
      "a second user turn",
      {},
      request({
        messages: [
          { role: "user", content: "a" },
          { role: "assistant", content: "b" },
          { role: "user", content: "c" },
        ],
      }),
      { lookup: true, store: true, semantic: false, reason: undefined },
    ],
  ])("decides for %s", (_name, headers, req, expected) => {
    expect(decidePolicy(createHeaderMap(headers), req, options)).toEqual(expected);
  });
});
