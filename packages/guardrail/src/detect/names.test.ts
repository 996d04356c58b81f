import { describe, expect, it } from "vitest";
import { createNameDetector } from "./names.js";

const detect = (text: string): string[] =>
  createNameDetector()
    .detect(text)
    .map((f) => text.slice(f.start, f.end));

describe("createNameDetector()", () => {
  it.each([
    { text: "Follow up with Sigrid Nyström next week", expected: ["Sigrid Nyström"] },
    { text: "My name is Vanessa P. Hertzog.", expected: ["Vanessa P. Hertzog"] },
    { text: "For my take on Mrs. Faubert, see", expected: ["Faubert"] },
    { text: "Why is Natalie so impulsive?", expected: ["Natalie"] },
    { text: "Directed by Joakim Westgård and starring Westgård", expected: ["Joakim Westgård", "Westgård"] },
  ])("finds $expected in $text", ({ text, expected }) => {
    expect(detect(text)).toEqual(expected);
  });

  it.each(["The weather is nice today.", "Can I withdraw cash?", "Hill Inc. is a multinational"])(
    "finds nothing in %s",
    (text) => {
      expect(detect(text)).toEqual([]);
    },
  );
});
