import { describe, expect, it } from "vitest";
import { countTokens, outputTokenText, tokenize, vocabSize } from "./tokenizer.js";

describe("tokenize()", () => {
  it.each([
    { text: "", tokens: 0 },
    { text: "abc", tokens: 1 },
    { text: "abcd", tokens: 1 },
    { text: "abcde", tokens: 2 },
    { text: "hello world!", tokens: 3 },
  ])("gives $tokens tokens for $text", ({ text, tokens }) => {
    expect(tokenize(text)).toHaveLength(tokens);
    expect(countTokens(text)).toBe(tokens);
  });

  it("maps equal 4-character chunks to equal ids within the vocabulary", () => {
    const [a, b, c] = tokenize("abcdabcdabce");
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(a).toBeLessThan(vocabSize);
  });

  it("concatenates exactly when the left part is a multiple of 4 characters", () => {
    expect(tokenize("system!!question")).toEqual([...tokenize("system!!"), ...tokenize("question")]);
  });
});

describe("outputTokenText()", () => {
  it("is deterministic per seed and index", () => {
    expect(outputTokenText(7, 3)).toBe(outputTokenText(7, 3));
    expect(outputTokenText(7, 3).endsWith(" ")).toBe(true);
  });
});
