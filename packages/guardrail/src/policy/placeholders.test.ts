import { describe, expect, it } from "vitest";
import { createPlaceholderRegistry, redactText } from "./placeholders.js";

describe("redactText()", () => {
  it("uses typed placeholders consistent per value", () => {
    const registry = createPlaceholderRegistry();
    const text = "a@x.io b@x.io a@x.io";
    const out = redactText(
      text,
      [
        { type: "EMAIL_ADDRESS", start: 0, end: 6 },
        { type: "EMAIL_ADDRESS", start: 7, end: 13 },
        { type: "EMAIL_ADDRESS", start: 14, end: 20 },
      ],
      "placeholder",
      registry,
    );
    expect(out).toBe("[EMAIL_1] [EMAIL_2] [EMAIL_1]");
    expect(registry.placeholder("EMAIL_ADDRESS", "b@x.io")).toBe("[EMAIL_2]");
  });

  it("masks with equal length and merges overlaps", () => {
    const out = redactText(
      "key=abcdef!",
      [
        { type: "PASSWORD", start: 4, end: 8 },
        { type: "PASSWORD", start: 6, end: 10 },
      ],
      "mask",
      createPlaceholderRegistry(),
    );
    expect(out).toBe("key=******!");
  });

  it("uses the type name for types without a short label", () => {
    expect(redactText("t0k", [{ type: "JWT", start: 0, end: 3 }], "placeholder", createPlaceholderRegistry())).toBe(
      "[JWT_1]",
    );
  });
});
