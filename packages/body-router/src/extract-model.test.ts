import { describe, expect, it } from "vitest";
import { encodeModelToken, extractModel } from "./extract-model.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const multipart = "multipart/form-data; boundary=B";
const formBody = (model: string) =>
  bytes(`--B\r\nContent-Disposition: form-data; name="model"\r\n\r\n${model}\r\n--B--\r\n`);

describe("extractModel()", () => {
  it.each([
    { name: "JSON", body: bytes('{"model":"m"}'), type: "application/json", expected: { format: "json", model: "m" } },
    {
      name: "JSON sent as a form",
      body: bytes('{"model":"m"}'),
      type: "application/x-www-form-urlencoded",
      expected: { format: "json", model: "m" },
    },
    {
      name: "JSON without a type",
      body: bytes('{"model":"m"}'),
      type: undefined,
      expected: { format: "json", model: "m" },
    },
    {
      name: "multipart",
      body: formBody("whisper"),
      type: multipart,
      expected: { format: "multipart", model: "whisper" },
    },
  ])("extracts from $name", ({ body, type, expected }) => {
    expect(extractModel(body, type)).toMatchObject({ value: expected });
  });

  it.each([
    { name: "invalid JSON", body: bytes("{"), type: undefined, code: "invalid_json" },
    { name: "a JSON array", body: bytes("[]"), type: undefined, code: "invalid_body" },
    { name: "a number model", body: bytes('{"model":1}'), type: undefined, code: "invalid_model" },
    { name: "multipart without boundary", body: formBody("m"), type: "multipart/form-data", code: "invalid_body" },
    { name: "truncated multipart", body: bytes("--B\r\nX"), type: multipart, code: "invalid_body" },
  ])("reports $name", ({ body, type, code }) => {
    expect(extractModel(body, type)).toMatchObject({ error: { code } });
  });

  it("reports a missing model by format", () => {
    expect(extractModel(bytes("{}"), undefined)).toEqual({ missing: "json" });
    expect(extractModel(bytes("--B--\r\n"), multipart)).toEqual({ missing: "multipart" });
  });
});

describe("encodeModelToken()", () => {
  it("quotes for JSON and not for multipart", () => {
    expect(new TextDecoder().decode(encodeModelToken("json", 'a"b'))).toBe('"a\\"b"');
    expect(new TextDecoder().decode(encodeModelToken("multipart", 'a"b'))).toBe('a"b');
  });
});
