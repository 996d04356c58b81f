import { describe, expect, it } from "vitest";
import { probePairs } from "./probe-pairs.testdata.js";
import { verifyCandidate } from "./verify-candidate.js";

describe("verifyCandidate()", () => {
  it.each([
    ["turn on / turn off", "How do I turn on dark mode?", "How do I turn off dark mode?", "antonym"],
    ["negation", "Why is my cat eating?", "Why is my cat not eating?", "negation"],
    ["contraction", "Why does it work?", "Why doesn't it work?", "negation"],
    ["changed number", "How many calories are in 2 eggs?", "How many calories are in 3 eggs?", "number"],
    ["number word", "Give me three tips", "Give me 5 tips", "number"],
    ["intent", "How do I become a mortgage broker?", "Should I become a mortgage broker?", "intent"],
    ["named entity", "Visa rules for Brazil", "Visa rules for Argentina", "content"],
    ["c++ vs c", "Is C++ hard to learn?", "Is C hard to learn?", "content"],
    ["yes/no vs how", "Does chiropractic work?", "How does chiropractic work?", "intent"],
    ["swapped roles", "What do Americans think of the Chinese?", "What do the Chinese think of Americans?", "order"],
    [
      "an acronym that looks like a stop word",
      "What are the top IT job sites?",
      "What are the top job sites?",
      "content",
    ],
  ])("rejects %s", (_name, a, b, reason) => {
    const verdict = verifyCandidate(a, b);
    expect(verdict.ok ? "accepted" : verdict.reason).toBe(reason);
  });

  it.each([
    ["case and punctuation", "how do i reset my password", "How do I reset my password?"],
    ["stop words", "What is the way to reset a password?", "How do I reset my password?"],
    ["spelled-out number", "Give me three tips", "Give me 3 tips"],
    ["double negation kept", "Why isn't it not working?", "Why is it working?"],
  ])("accepts %s", (_name, a, b) => {
    expect(verifyCandidate(a, b)).toEqual({ ok: true });
  });

  it(`rejects all ${probePairs.length} probe pairs in both directions`, () => {
    expect(probePairs.length).toBeGreaterThanOrEqual(50);
    const accepted = probePairs.filter(([, a, b]) => verifyCandidate(a, b).ok || verifyCandidate(b, a).ok);
    expect(accepted).toEqual([]);
  });
});
