import { describe, expect, it } from "vitest";
import { isMultipart, multipartBoundary, scanMultipartModel } from "./multipart-model.js";

const form = (parts: string[], boundary = "XyZ") =>
  new TextEncoder().encode(`${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join("")}--${boundary}--\r\n`);
const field = (name: string, value: string, extra = "") =>
  `Content-Disposition: form-data; name="${name}"${extra}\r\n\r\n${value}`;

describe("multipartBoundary()", () => {
  it.each([
    { type: "multipart/form-data; boundary=abc", boundary: "abc" },
    { type: 'Multipart/Form-Data; charset=utf-8; boundary="a b:c"', boundary: "a b:c" },
    { type: "multipart/form-data", boundary: undefined },
    { type: "application/json; boundary=abc", boundary: undefined },
    { type: undefined, boundary: undefined },
  ])("reads $type", ({ type, boundary }) => {
    expect(multipartBoundary(type)).toBe(boundary);
  });

  it("recognises multipart content types", () => {
    expect([isMultipart("multipart/form-data;boundary=x"), isMultipart("application/json")]).toEqual([true, false]);
  });
});

describe("scanMultipartModel()", () => {
  it("finds the model field after a file part", () => {
    const body = form([
      'Content-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n\u0000RIFF--XyZ-ish\r\n--Xy',
      field("model", "whisper-large-v3"),
      field("language", "en"),
    ]);
    const result = scanMultipartModel(body, "XyZ");
    expect("value" in result && result.value.model).toBe("whisper-large-v3");
    if ("value" in result) {
      expect(new TextDecoder().decode(body.subarray(result.value.start, result.value.end))).toBe("whisper-large-v3");
    }
  });

  it("accepts an unquoted name and header case", () => {
    const body = form(["content-disposition: Form-Data; name=model\r\n\r\nm1"]);
    expect(scanMultipartModel(body, "XyZ")).toMatchObject({ value: { model: "m1", duplicate: false } });
  });

  it("ignores a file part named model", () => {
    const body = form([field("model", "x", '; filename="model.bin"')]);
    expect(scanMultipartModel(body, "XyZ")).toEqual({ error: { kind: "missing" } });
  });

  it("reports duplicates, last one wins", () => {
    const body = form([field("model", "a"), field("model", "b")]);
    expect(scanMultipartModel(body, "XyZ")).toMatchObject({ value: { model: "b", duplicate: true } });
  });

  it.each([
    { name: "no boundary", body: form([field("model", "a")]), boundary: undefined, kind: "no-boundary" },
    { name: "wrong boundary", body: form([field("model", "a")]), boundary: "other", kind: "malformed" },
    {
      name: "truncated",
      body: new TextEncoder().encode('--XyZ\r\nContent-Disposition: form-data; name="model"\r\n\r\nabc'),
      boundary: "XyZ",
      kind: "malformed",
    },
    { name: "no model", body: form([field("prompt", "a")]), boundary: "XyZ", kind: "missing" },
  ])("reports $name", ({ body, boundary, kind }) => {
    const result = scanMultipartModel(body, boundary);
    expect("error" in result && result.error.kind).toBe(kind);
  });
});
