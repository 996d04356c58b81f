import { detectApi } from "@llm-callouts/llm-api";
import { describe, expect, it } from "vitest";
import { parseRequestBody, rewriteModelInText } from "./request-body.js";

const enc = (s: string) => new TextEncoder().encode(s);

describe("request shapes by path (GIE openai-parser: unknown paths read as completions)", () => {
  const chat = '{"model":"m","messages":[{"role":"user","content":"hi"}]}';
  const completion = '{"model":"m","prompt":"abc"}';
  it.each([
    ["/v1/chat/completions", chat, '[{"role":"user","content":"hi"}]'],
    ["/v1/chat/completions?x=1", chat, '[{"role":"user","content":"hi"}]'],
    ["/v1/completions", completion, "abc"],
    ["/v1/responses", '{"model":"m","input":"q"}', '[null,null,"q"]'],
    ["/v1/conversations", '{"model":"m","items":[1]}', "[1]"],
    ["/v1/embeddings", '{"model":"m","input":"e"}', "e"],
    ["/v1/messages", '{"model":"m","system":"s","messages":[]}', '["s",[]]'],
    ["/other", completion, "abc"],
    ["", completion, "abc"],
  ])("%s reads its prompt fields", (path, body, prompt) => {
    const r = parseRequestBody(enc(body), detectApi(path).api);
    expect("value" in r && r.value.prompt).toBe(prompt);
  });
  it("answers an unknown path without a prompt with the completions 400", () => {
    const r = parseRequestBody(enc('{"model":"m","messages":[]}'), detectApi("/other").api);
    expect("error" in r && r.error.message).toMatch(/must have prompt field$/);
  });
});

describe("parseRequestBody()", () => {
  it("reads model and the prompt text of a chat request", () => {
    const r = parseRequestBody(enc('{"model":"m","messages":[{"role":"user","content":"hi"}]}'), "chat_completions");
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
      api: "chat_completions" as const,
      msg: /^inference error: BadRequest - error unmarshaling request bodyMap: /,
    },
    { name: "JSON array", body: "[]", api: "chat_completions" as const, msg: /not a JSON object/ },
    {
      name: "missing model",
      body: '{"messages":[]}',
      api: "chat_completions" as const,
      msg: /model not found in request body$/,
    },
    {
      name: "empty model",
      body: '{"model":"","messages":[]}',
      api: "chat_completions" as const,
      msg: /model not found in request body$/,
    },
    {
      name: "chat without messages",
      body: '{"model":"m"}',
      api: "chat_completions" as const,
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
