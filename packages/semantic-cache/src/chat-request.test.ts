import { describe, expect, it } from "vitest";
import { canonicalJson, parseChatRequest } from "./chat-request.js";

const parse = (body: unknown) => parseChatRequest(Buffer.from(typeof body === "string" ? body : JSON.stringify(body)));

describe("parseChatRequest()", () => {
  it("normalises whitespace and text parts so equal prompts give equal messages", () => {
    const a = parse({ model: "m", messages: [{ role: "user", content: "  Hello\n\n world " }] });
    const b = parse({ model: "m", messages: [{ role: "user", content: [{ type: "text", text: "Hello world" }] }] });
    expect("value" in a && "value" in b && a.value.messages).toEqual("value" in b && b.value.messages);
    expect("value" in a && a.value.lastUserText).toBe("Hello world");
  });

  it("puts every generation parameter, sorted, into the parameter class and ignores transport fields", () => {
    const result = parse({
      model: "m",
      stream: true,
      stream_options: { include_usage: true },
      user: "u1",
      top_p: 0.5,
      temperature: 0,
      response_format: { type: "json_object" },
      messages: [{ role: "user", content: "x" }],
    });
    expect("value" in result && result.value).toMatchObject({
      stream: true,
      includeUsage: true,
      temperature: 0,
      choices: 1,
      parameters: '{"response_format":{"type":"json_object"},"temperature":0,"top_p":0.5}',
    });
  });

  it("has no semantic prompt when the last message is not plain user text", () => {
    const result = parse({
      model: "m",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:..." } }] }],
    });
    expect("value" in result && result.value.lastUserText).toBeUndefined();
  });

  it.each([
    ["not JSON", "{", "body is not UTF-8 JSON"],
    ["an array", "[]", "body is not a JSON object"],
    ["no model", { messages: [{ role: "user", content: "x" }] }, "no model"],
    ["no messages", { model: "m", messages: [] }, "no messages"],
    ["a message without role", { model: "m", messages: [{ content: "x" }] }, "malformed message"],
    ["a string n", { model: "m", n: "2", messages: [{ role: "user", content: "x" }] }, "malformed n or temperature"],
  ])("refuses %s", (_name, body, error) => {
    expect(parse(body)).toEqual({ error });
  });
});

describe("canonicalJson()", () => {
  it("sorts keys at every depth", () => {
    expect(canonicalJson({ b: 1, a: { d: [{ f: 1, e: 2 }], c: 3 } })).toBe('{"a":{"c":3,"d":[{"e":2,"f":1}]},"b":1}');
  });
});
