import { describe, expect, it } from "vitest";
import { probePairs } from "./probe-pairs.testdata.js";
import { checkRules, isTypoOf } from "./rule-checks.js";

describe("checkRules()", () => {
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
    [
      "how much vs how",
      "How much do you get paid for YouTube views?",
      "How do you get paid for YouTube views?",
      "intent",
    ],
    ["past vs hypothetical", "How did you react to the news?", "How would you react to the news?", "intent"],
    ["past vs modal", "How did you get interested in football?", "How can I get interested in football?", "intent"],
    ["a changed preposition", "How should I deal with my boss?", "How should I deal for my boss?", "intent"],
    ["a stranded preposition", "What are fingerboard pivot cups?", "What are fingerboard pivot cups for?", "intent"],
    ["roles swapped around a relation", "Are cats afraid of tigers?", "Are tigers afraid of cats?", "order"],
    ["swapped modifiers", "Do Mexican girls like black guys?", "Do black girls like Mexican guys?", "order"],
    ["an arithmetic expression", "What is the square root of 1?", "What is the square root of 1-i?", "number"],
  ])("rejects %s", (_name, a, b, reason) => {
    const verdict = checkRules(a, b);
    expect(verdict.ok ? "accepted" : verdict.reason).toBe(reason);
  });

  it.each([
    ["case and punctuation", "how do i reset my password", "How do I reset my password?"],
    ["stop words", "What is the best way I can reset my password?", "How do I reset my password?"],
    [
      "a coordination in either order",
      "What is match fixing and spot fixing?",
      "What is spot fixing and match fixing?",
    ],
    [
      "a misspelled word",
      "What did activists change in the Philippines?",
      "What did activists change in the Phillippines?",
    ],
    ["a hyphenated age", "What should every 18 year old know?", "What should every 18-year-old know?"],
    ["spelled-out number", "Give me three tips", "Give me 3 tips"],
    ["double negation kept", "Why isn't it not working?", "Why is it working?"],
  ])("accepts %s", (_name, a, b) => {
    expect(checkRules(a, b)).toEqual({ ok: true });
  });

  it(`rejects all ${probePairs.length} probe pairs in both directions`, () => {
    expect(probePairs.length).toBeGreaterThanOrEqual(50);
    const accepted = probePairs.filter(([, a, b]) => checkRules(a, b).ok || checkRules(b, a).ok);
    expect(accepted).toEqual([]);
  });
});

describe("isTypoOf()", () => {
  it.each([
    ["phillippines", "philippines", true],
    ["succesful", "successful", true],
    ["foriegner", "foreigner", true],
    ["recieve", "receive", true],
    ["austria", "australia", false],
    ["iran", "iraq", false],
    ["python", "python", false],
  ])("%s vs %s is %s", (x, y, expected) => {
    expect(isTypoOf(x, y)).toBe(expected);
  });
});
