import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ScanResult, scanModel } from "./model-scanner.js";

const encoder = new TextEncoder();
const bytesOf = (text: string) => encoder.encode(text);

type Summary = { model: string } | { kind: string };

/** The oracle: what JSON.parse says about the same bytes. */
function oracle(bytes: Uint8Array): Summary {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { kind: "invalid-json" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { kind: "not-object" };
  if (!Object.hasOwn(value, "model")) return { kind: "missing" };
  const model = (value as { model: unknown }).model;
  return typeof model === "string" ? { model } : { kind: "not-string" };
}

function summary(result: ScanResult): Summary {
  return "value" in result ? { model: result.value.model } : { kind: result.error.kind };
}

/** Escapes characters of a JSON text's strings as \uXXXX (keeps the meaning). */
function escapeSome(text: string, pick: (index: number) => boolean): string {
  let out = "";
  let inString = false;
  for (let k = 0; k < text.length; k++) {
    const ch = text[k] as string;
    if (inString && ch === "\\") {
      out += ch + text[k + 1];
      k++;
      continue;
    }
    if (ch === '"') inString = !inString;
    else if (inString && pick(k)) {
      out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
      continue;
    }
    out += ch;
  }
  return out;
}

const cases: { name: string; body: string; expected: Summary }[] = [
  { name: "plain chat body", body: '{"model":"gpt-4o","messages":[]}', expected: { model: "gpt-4o" } },
  { name: "model last", body: '{"messages":[{"role":"user"}],"model":"m"}', expected: { model: "m" } },
  { name: "whitespace everywhere", body: ' \r\n\t{ "model" \n:\t"a b" } \n', expected: { model: "a b" } },
  { name: "escaped key", body: '{"mod\\u0065l":"x"}', expected: { model: "x" } },
  { name: "escapes in value", body: '{"model":"a\\"b\\\\c\\/d\\n"}', expected: { model: 'a"b\\c/d\n' } },
  { name: "surrogate pair escape", body: '{"model":"\\ud83d\\ude00"}', expected: { model: "😀" } },
  { name: "lone surrogate escape", body: '{"model":"\\ud800x"}', expected: { model: "\ud800x" } },
  { name: "raw utf-8", body: '{"model":"模型-é"}', expected: { model: "模型-é" } },
  { name: "nested model first", body: '{"a":{"model":"inner"},"model":"outer"}', expected: { model: "outer" } },
  { name: "nested model only", body: '{"a":{"model":"inner"},"b":[{"model":"x"}]}', expected: { kind: "missing" } },
  { name: "model inside a string", body: '{"p":"\\"model\\":\\"x\\"","q":1}', expected: { kind: "missing" } },
  { name: "duplicate keys: last wins", body: '{"model":"a","model":"b"}', expected: { model: "b" } },
  { name: "duplicate keys: last not string", body: '{"model":"a","model":2}', expected: { kind: "not-string" } },
  { name: "empty model", body: '{"model":""}', expected: { model: "" } },
  { name: "number model", body: '{"model":1.5e3}', expected: { kind: "not-string" } },
  { name: "object model", body: '{"model":{"model":"x"}}', expected: { kind: "not-string" } },
  { name: "null model", body: '{"model":null}', expected: { kind: "not-string" } },
  { name: "array root", body: '[{"model":"x"}]', expected: { kind: "not-object" } },
  { name: "string root", body: '"model"', expected: { kind: "not-object" } },
  { name: "empty body", body: "", expected: { kind: "invalid-json" } },
  { name: "truncated", body: '{"model":"gpt', expected: { kind: "invalid-json" } },
  { name: "trailing comma", body: '{"model":"a",}', expected: { kind: "invalid-json" } },
  { name: "trailing data", body: '{"model":"a"} x', expected: { kind: "invalid-json" } },
  { name: "invalid after model", body: '{"model":"a","x":tru}', expected: { kind: "invalid-json" } },
  { name: "raw newline in string", body: '{"model":"a\nb"}', expected: { kind: "invalid-json" } },
  { name: "bad escape", body: '{"model":"\\x"}', expected: { kind: "invalid-json" } },
  { name: "leading zero", body: '{"n":01,"model":"a"}', expected: { kind: "invalid-json" } },
  { name: "single quotes", body: "{'model':'a'}", expected: { kind: "invalid-json" } },
  { name: "bom", body: '\ufeff{"model":"a"}', expected: { model: "a" } },
];

describe("scanModel()", () => {
  it.each(cases)("agrees with JSON.parse on $name", ({ body, expected }) => {
    const bytes = bytesOf(body);
    expect(summary(scanModel(bytes))).toEqual(expected);
    expect(oracle(bytes)).toEqual(expected);
  });

  it("reports the span of the raw model token", () => {
    const body = '{"a":1, "model" : "g\\u0070t" ,"b":2}';
    const result = scanModel(bytesOf(body));
    if (!("value" in result)) throw new Error("expected a model");
    expect(body.slice(result.value.start, result.value.end)).toBe('"g\\u0070t"');
    expect(result.value.duplicate).toBe(false);
  });

  it("flags duplicate model keys", () => {
    const result = scanModel(bytesOf('{"model":"a","x":{"model":"n"},"model":"b"}'));
    expect(result).toEqual({ value: { model: "b", start: 39, end: 42, duplicate: true } });
  });

  it("reports the offset of a syntax error", () => {
    expect(scanModel(bytesOf('{"model":"a",}'))).toEqual({
      error: { kind: "invalid-json", offset: 13, message: "expected a string key" },
    });
  });

  it.each([0, 1, 2, 3])("finds a control byte deep in a long string at buffer offset %i", (offset) => {
    const text = `{"model":"${"abcd".repeat(40)}x\u0001"}`;
    const bytes = new Uint8Array(text.length + 8).subarray(offset, offset + text.length);
    bytes.set(bytesOf(text));
    expect(scanModel(bytes)).toEqual({
      error: { kind: "invalid-json", offset: text.indexOf("\u0001"), message: "control character in string" },
    });
  });

  it.each([
    { name: "model before the cut", prefix: '{"model":"m","messages":[{"content":"abc', expected: { model: "m" } },
    { name: "model after the cut", prefix: '{"messages":[{"content":"abc', expected: { kind: "truncated" } },
    { name: "cut inside the model", prefix: '{"model":"lla', expected: { kind: "truncated" } },
    { name: "number model at the cut", prefix: '{"model":12', expected: { kind: "truncated" } },
    { name: "number model before the cut", prefix: '{"model":12,"x', expected: { kind: "not-string" } },
    { name: "syntax error before the cut", prefix: '{"model":"m",,"x', expected: { kind: "invalid-json" } },
    { name: "array root", prefix: '[{"model":"m"', expected: { kind: "invalid-json" } },
  ])("scans a prefix with $name", ({ prefix, expected }) => {
    expect(summary(scanModel(bytesOf(prefix), { truncated: true }))).toEqual(expected);
  });

  it("reports the JSON type of a non-string model", () => {
    expect(scanModel(bytesOf('{"model":[1]}'))).toEqual({
      error: { kind: "not-string", type: "array", duplicate: false },
    });
  });

  it("handles 100,000 levels of nesting without recursion", () => {
    const deep = `{"x":${"[".repeat(100_000)}${"]".repeat(100_000)},"model":"deep"}`;
    expect(summary(scanModel(bytesOf(deep)))).toEqual({ model: "deep" });
  });

  it("keeps invalid UTF-8 inside strings as U+FFFD, like TextDecoder", () => {
    const bytes = Uint8Array.from([...bytesOf('{"model":"a'), 0xff, 0xc3, ...bytesOf('"}')]);
    expect(summary(scanModel(bytes))).toEqual(oracle(bytes));
    expect(summary(scanModel(bytes))).toEqual({ model: "a\ufffd\ufffd" });
  });
});

const modelValue = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const otherKey = fc.string({ maxLength: 8 }).filter((k) => k !== "model");
const bodyArbitrary = fc
  .record({
    before: fc.dictionary(otherKey, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
    after: fc.dictionary(otherKey, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
    nested: fc.option(fc.record({ model: modelValue }), { nil: undefined }),
    model: fc.option(modelValue, { nil: undefined, freq: 5 }),
    indent: fc.constantFrom(undefined, 0, 1, 2, "\t", " \r\n"),
    escapeSeed: fc.integer({ min: 0, max: 5 }),
  })
  .map(({ before, after, nested, model, indent, escapeSeed }) => {
    const object: Record<string, unknown> = { ...before };
    if (nested) object.nested = nested;
    if (model !== undefined) object.model = model;
    Object.assign(object, after);
    const text = JSON.stringify(object, null, indent as string | number | undefined);
    return escapeSeed === 0 ? text : escapeSome(text, (k) => k % (escapeSeed + 1) === 0);
  });

/** Up to four byte edits, biased to JSON's structural bytes (plus `extra`). */
const mutationsArbitrary = (extra: number[] = []) =>
  fc.array(
    fc.record({
      op: fc.constantFrom("replace", "insert", "delete", "truncate"),
      at: fc.nat(),
      byte: fc.oneof(
        fc.constantFrom(...bytesOf('{}[]":,\\u0123456789eE+-. \n\ttfn'), ...extra),
        fc.integer({ min: 0, max: 255 }),
      ),
    }),
    { minLength: 1, maxLength: 4 },
  );

function applyMutations(bytes: Uint8Array, mutations: readonly { op: string; at: number; byte: number }[]): Uint8Array {
  for (const { op, at, byte } of mutations) {
    const pos = bytes.length === 0 ? 0 : at % (bytes.length + (op === "insert" ? 1 : 0));
    const list = [...bytes];
    if (op === "replace" && list.length > 0) list[pos] = byte;
    else if (op === "insert") list.splice(pos, 0, byte);
    else if (op === "delete") list.splice(pos, 1);
    else list.length = pos;
    bytes = Uint8Array.from(list);
  }
  return bytes;
}

describe("scanModel() against JSON.parse (property)", () => {
  it("agrees on generated bodies", () => {
    fc.assert(
      fc.property(bodyArbitrary, (text) => {
        const bytes = bytesOf(text);
        expect(summary(scanModel(bytes))).toEqual(oracle(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it("agrees on arbitrary JSON documents", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const bytes = bytesOf(JSON.stringify(value));
        expect(summary(scanModel(bytes))).toEqual(oracle(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it("agrees on long strings at every buffer alignment (word-at-a-time path)", () => {
    const longText = fc.string({ unit: "binary", minLength: 60, maxLength: 400 });
    fc.assert(
      fc.property(
        longText,
        fc.jsonValue({ maxDepth: 2 }),
        fc.nat(3),
        fc.array(fc.record({ at: fc.nat(), byte: fc.constantFrom(0x22, 0x5c, 0x0a, 0x00, 0x1f, 0x20, 0x7f, 0x80) }), {
          maxLength: 2,
        }),
        (model, other, offset, mutations) => {
          const bytes = bytesOf(JSON.stringify({ prompt: model, other, model }));
          for (const { at, byte } of mutations) bytes[at % bytes.length] = byte;
          const shifted = new Uint8Array(bytes.length + offset + 5).subarray(offset, offset + bytes.length);
          shifted.set(bytes);
          expect(summary(scanModel(shifted))).toEqual(oracle(bytes));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("answers from any prefix of a body with the full model or 'truncated' (BUFFERED_PARTIAL)", () => {
    fc.assert(
      fc.property(bodyArbitrary, fc.double({ min: 0, max: 1, noNaN: true }), (text, fraction) => {
        const bytes = bytesOf(text);
        const full = scanModel(bytes);
        const cut = Math.floor(fraction * bytes.length);
        const prefix = scanModel(bytes.subarray(0, cut), { truncated: true });
        if ("value" in prefix) {
          expect("value" in full && full.value.model).toBe(prefix.value.model);
        } else if (prefix.error.kind !== "truncated") {
          // A definite answer before the cut is the full body's answer too.
          expect("error" in full && full.error.kind).toBe(prefix.error.kind);
        }
        if ("value" in full && full.value.end < cut) expect(prefix).toEqual(full);
      }),
      { numRuns: 3000 },
    );
  });

  it("agrees on byte-level mutations", () => {
    fc.assert(
      fc.property(bodyArbitrary, mutationsArbitrary(), (text, mutations) => {
        const bytes = applyMutations(bytesOf(text), mutations);
        expect(summary(scanModel(bytes))).toEqual(oracle(bytes));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("scanModel({ strict: false }) against JSON.parse (property)", () => {
  const lenient = (bytes: Uint8Array) => summary(scanModel(bytes, { strict: false }));

  it("agrees on every valid body: generated, arbitrary JSON, long strings at every alignment", () => {
    fc.assert(
      fc.property(bodyArbitrary, (text) => {
        const bytes = bytesOf(text);
        expect(lenient(bytes)).toEqual(oracle(bytes));
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const bytes = bytesOf(JSON.stringify(value));
        expect(lenient(bytes)).toEqual(oracle(bytes));
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 60, maxLength: 400 }), fc.nat(3), (model, offset) => {
        const bytes = bytesOf(JSON.stringify({ prompt: `${model}\\"${model}`, model }));
        const shifted = new Uint8Array(bytes.length + offset + 5).subarray(offset, offset + bytes.length);
        shifted.set(bytes);
        expect(lenient(shifted)).toEqual(oracle(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it("on mutated bytes differs from JSON.parse only by accepting raw control characters in non-model strings", () => {
    fc.assert(
      fc.property(bodyArbitrary, mutationsArbitrary([0x00, 0x1f]), (text, mutations) => {
        const bytes = applyMutations(bytesOf(text), mutations);
        const strict = scanModel(bytes);
        const loose = scanModel(bytes, { strict: false });
        if (
          "error" in strict &&
          strict.error.kind === "invalid-json" &&
          !("error" in loose && loose.error.kind === "invalid-json")
        ) {
          // Accepted only because a raw control character sits inside a skipped string.
          expect(strict.error.message).toBe("control character in string");
        } else if (!("error" in strict && strict.error.kind === "invalid-json")) {
          expect(summary(loose)).toEqual(summary(strict));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("still validates escapes in skipped strings and rejects control characters in the model", () => {
    const bad = (text: string) => scanModel(bytesOf(text), { strict: false });
    expect(bad('{"prompt":"a\\x","model":"m"}')).toMatchObject({
      error: { kind: "invalid-json", message: "invalid escape" },
    });
    expect(bad('{"prompt":"a\\u12G4","model":"m"}')).toMatchObject({ error: { kind: "invalid-json" } });
    expect(bad('{"model":"m\u0001x"}')).toMatchObject({
      error: { kind: "invalid-json", message: "control character in string" },
    });
    expect(bad('{"prompt":"a\u0001b","model":"m"}')).toMatchObject({ value: { model: "m" } });
    expect(bad('{"prompt":"say \\"hi\\"","model":"m"}')).toMatchObject({ value: { model: "m" } });
  });
});
