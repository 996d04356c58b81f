import { describe, expect, it } from "vitest";
import { detectApi, parseRequestBody, rewriteModelInText } from "./request-body.js";

const enc = (s: string) => new TextEncoder().encode(s);

describe("detectApi()", () => {
  it.each([
    ["/v1/chat/completions", "chat"],
    ["/v1/completions", "completions"],
    ["/v1/responses", "responses"],
    ["/v1/conversations", "conversations"],
    ["/v1/embeddings", "embeddings"],
    ["/v1/chat/completions?x=1", "chat"],
    ["/other", "completions"],
    [undefined, "completions"],
  ])("%s -> %s", (path, want) => {
    expect(detectApi(path)).toBe(want);
  });
});

describe("parseRequestBody()", () => {
  it("reads model and the prompt text of a chat request", () => {
    const r = parseRequestBody(enc('{"model":"m","messages":[{"role":"user","content":"hi"}]}'), "chat");
    expect("value" in r && { model: r.value.model, prompt: r.value.prompt }).toEqual({
      model: "m",
      prompt: '[{"role":"user","content":"hi"}]',
    });
  });

  it("uses a completions prompt string as is", () => {
    const r = parseRequestBody(enc('{"model":"m","prompt":"abc"}'), "completions");
    expect("value" in r && r.value.prompt).toBe("abc");
  });

  it.each([
    {
      name: "invalid JSON",
      body: "{",
      api: "chat" as const,
      msg: /^inference error: BadRequest - error unmarshaling request bodyMap: /,
    },
    { name: "JSON array", body: "[]", api: "chat" as const, msg: /not a JSON object/ },
    { name: "missing model", body: '{"messages":[]}', api: "chat" as const, msg: /model not found in request body$/ },
    {
      name: "empty model",
      body: '{"model":"","messages":[]}',
      api: "chat" as const,
      msg: /model not found in request body$/,
    },
    {
      name: "chat without messages",
      body: '{"model":"m"}',
      api: "chat" as const,
      msg: /must have valid messages field$/,
    },
    {
      name: "completions without prompt",
      body: '{"model":"m"}',
      api: "completions" as const,
      msg: /must have prompt field$/,
    },
  ])("answers 400 for $name", ({ body, api, msg }) => {
    const r = parseRequestBody(enc(body), api);
    expect("error" in r && r.error.status).toBe(400);
    expect("error" in r && r.error.message).toMatch(msg);
  });
});

describe("rewriteModelInText()", () => {
  it("rewrites every model field", () => {
    expect(rewriteModelInText('{"model":"b"} {"model":"b"}', "b", "a")).toBe('{"model":"a"} {"model":"a"}');
  });
  it("leaves other fields alone", () => {
    expect(rewriteModelInText('{"x":"b","model":"c"}', "b", "a")).toBe('{"x":"b","model":"c"}');
  });
});
