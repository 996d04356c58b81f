import { describe, expect, it } from "vitest";
import { PAIR_FEATURES } from "./pair-features.js";
import { outOfVocabularyParaphrases, probePairs } from "./probe-pairs.testdata.js";
import { checkRules } from "./rule-checks.js";
import { createVerifier, guards } from "./verifier.js";
import { offlineVerifierModel } from "./verifier-model.js";
import { createWordVectorEmbedder } from "./word-vector-embedder.js";
import { loadWinkWordVectors } from "./word-vectors.js";

const words = loadWinkWordVectors();
const embedder = createWordVectorEmbedder({ vectors: words });

describe("guards()", () => {
  it(`refuse all ${probePairs.length} probe pairs in both directions`, () => {
    const passed = probePairs.filter(([, a, b]) => !guards(a, b) || !guards(b, a));
    expect(passed).toEqual([]);
  });

  it("refuse without any vocabulary, so unknown words never count against a paraphrase", () => {
    for (const [a, b] of outOfVocabularyParaphrases) {
      const unknown = [...`${a} ${b}`.toLowerCase().matchAll(/\p{L}+/gu)].map((m) => m[0]);
      expect(unknown.some((w) => words.rank(w) === undefined)).toBe(true);
      expect(guards(b, a)).toBeUndefined();
    }
    // The hand rules the learned verifier replaced refused most of them for an unmatched word.
    const refused = outOfVocabularyParaphrases.filter(([a, b]) => {
      const verdict = checkRules(b, a, { words });
      return !verdict.ok && verdict.reason === "content";
    });
    expect(refused.length).toBeGreaterThanOrEqual(5);
  });

  it.each([
    ["negation", "Why is my cat eating?", "Why is my cat not eating?"],
    ["number", "How many calories are in 2 eggs?", "How many calories are in 3 eggs?"],
    ["antonym", "What are the advantages of microservices?", "What are the disadvantages of microservices?"],
    ["entity", "What is the capital of Australia?", "What is the capital of Austria?"],
  ])("name the %s reason", (reason, a, b) => {
    expect(guards(b, a)).toEqual({ ok: false, reason });
  });
});

describe("createVerifier()", () => {
  const learned = createVerifier({ mode: "learned", model: offlineVerifierModel, words });
  const verify = async (cached: string, query: string) => {
    const [va, vb] = [await embedder.embed(cached), await embedder.embed(query)];
    let cosine = 0;
    for (let i = 0; i < va.length; i++) cosine += (va[i] as number) * (vb[i] as number);
    return learned.verify(query, cached, cosine);
  };

  it("accepts a reworded question and refuses one that asks about something else, with the model's score", async () => {
    const same = await verify("How do I reset my password?", "How can I reset my password?");
    expect(same).toMatchObject({ ok: true });
    const other = await verify(
      "What are the symptoms of a hyperextended knee?",
      "What are the treatments of a hyperextended knee?",
    );
    expect(other).toMatchObject({ ok: false, reason: "model" });
    expect((same.score as number) > (other.score as number)).toBe(true);
  });

  it("applies the guards before the model", async () => {
    expect(await verify("Why is my cat eating?", "Why is my cat not eating?")).toEqual({
      ok: false,
      reason: "negation",
    });
  });

  it("ships a model for this build's features and a threshold chosen with it", () => {
    expect(offlineVerifierModel.features).toEqual([...PAIR_FEATURES]);
    expect(offlineVerifierModel.embedder).toBe(embedder.id.split(":")[0]);
    expect(offlineVerifierModel.threshold).toBeGreaterThan(0.5);
    expect(offlineVerifierModel.threshold).toBeLessThan(1);
  });

  it("refuses at startup a model trained on other features, and learned mode without a model", () => {
    const stale = { ...offlineVerifierModel, features: offlineVerifierModel.features.slice(1) };
    expect(() => createVerifier({ mode: "learned", model: stale, words })).toThrow(/retrain it/);
    expect(() => createVerifier({ mode: "learned" })).toThrow(/needs a model/);
  });

  it("lets everything through when off", () => {
    expect(createVerifier({ mode: "off" }).verify("a", "not b", 0)).toEqual({ ok: true });
  });
});
