import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scanModel } from "./model-scanner.js";
import { rewriteModel } from "./rewrite-model.js";

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function rewrite(text: string, model: string): string {
  const bytes = encode(text);
  const scan = scanModel(bytes);
  if (!("value" in scan)) throw new Error("expected a model");
  return decode(rewriteModel(bytes, scan.value, model));
}

describe("rewriteModel()", () => {
  it("replaces only the model token", () => {
    expect(rewrite('{"n": 1.0, "model" : "a\\u0062", "big": 12345678901234567890}', "llama")).toBe(
      '{"n": 1.0, "model" : "llama", "big": 12345678901234567890}',
    );
  });

  it("escapes the new name as JSON", () => {
    expect(rewrite('{"model":"a"}', 'quo"te\n😀')).toBe('{"model":"quo\\"te\\n😀"}');
  });

  it("keeps every other field equal (property)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
        fc.string(),
        fc.string({ unit: "binary" }),
        (other, before, after) => {
          const { model: _, ...rest } = other;
          const text = JSON.stringify({ ...rest, model: before });
          const parsed = JSON.parse(rewrite(text, after));
          expect(parsed).toEqual({ ...JSON.parse(JSON.stringify(rest)), model: after });
        },
      ),
      { numRuns: 300 },
    );
  });
});
