import { describe, expect, it } from "vitest";
import { createSensitiveDataDetector } from "./sensitive-data.js";

describe("createSensitiveDataDetector()", () => {
  it("combines families and resolves overlaps", () => {
    const text = "Jane Smith, jane@example.com, password=Xy9$kLm2Qp";
    const found = createSensitiveDataDetector()
      .detect(text)
      .map((f) => [f.type, text.slice(f.start, f.end)]);
    expect(found).toEqual([
      ["PERSON", "Jane Smith"],
      ["EMAIL_ADDRESS", "jane@example.com"],
      ["PASSWORD", "Xy9$kLm2Qp"],
    ]);
  });

  it("runs only the enabled families", () => {
    const text = "Jane Smith, jane@example.com";
    expect(
      createSensitiveDataDetector({ names: false })
        .detect(text)
        .map((f) => f.type),
    ).toEqual(["EMAIL_ADDRESS"]);
  });
});
