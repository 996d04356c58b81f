import { type BoostedTrees, boostedPredict } from "@llm-callouts/learn";
import { z } from "zod";
import { ANTONYMS } from "./lexicon.js";
import { PAIR_FEATURES, pairFeatures } from "./pair-features.js";
import { analyse, isTypoOf, type WordKnowledge } from "./rule-checks.js";

/**
 * How semantic candidates are verified:
 * - `learned`: the guards, then the learned pair model (features in pair-features.ts) must
 *   score at least the threshold. Its features read the offline embedder's cosine and word
 *   vectors, so it is the default only for that embedder.
 * - `guards`: only the guards: negation, numbers, antonym pairs, a named entity swapped for
 *   another. They consult no vocabulary, so a paraphrase is never refused because its words
 *   are unknown; the embedder's own threshold decides the rest (default for remote and
 *   transformers embedders).
 * - `off`: every candidate above the similarity threshold is a hit.
 */
export type VerifierMode = "learned" | "guards" | "off";

/** Why a semantic candidate was refused (the `reason` label of the rejects metric). */
export type RejectReason = "negation" | "number" | "antonym" | "entity" | "model";

export type Verdict =
  | { readonly ok: true; readonly score?: number }
  | { readonly ok: false; readonly reason: RejectReason; readonly score?: number };

/** A trained pair model and its operating point, as scripts/train-verifier.ts writes it. */
export interface VerifierModelFile {
  /** Feature names in model order; must equal {@link PAIR_FEATURES}. */
  readonly features: readonly string[];
  /** Embedder id prefix the cosine feature was computed with. */
  readonly embedder: string;
  /** Default probability threshold, chosen on out-of-fold scores of the tuning part. */
  readonly threshold: number;
  readonly model: BoostedTrees;
}

export interface VerifierOptions {
  readonly mode: VerifierMode;
  /** Required in `learned` mode. */
  readonly model?: VerifierModelFile;
  /** Overrides the model file's threshold. */
  readonly threshold?: number;
  /** Word vectors the learned model's features were trained with. */
  readonly words?: WordKnowledge;
}

export interface Verifier {
  readonly mode: VerifierMode;
  /** Checks a candidate: `query` now asked, `cached` the stored prompt, `cosine` their embedding similarity. */
  verify(query: string, cached: string, cosine: number): Verdict;
}

/** Builds the verifier; a model whose features differ from this build's is a startup error. */
export function createVerifier(options: VerifierOptions): Verifier {
  const { mode } = options;
  if (mode === "off") return { mode, verify: () => ({ ok: true }) };
  if (mode === "guards") return { mode, verify: (query, cached) => guards(query, cached) ?? { ok: true } };
  const file = options.model;
  if (!file) throw new Error("verifier mode learned needs a model");
  if (file.features.join(",") !== PAIR_FEATURES.join(",")) {
    throw new Error(
      `verifier model features [${file.features.join(", ")}] differ from this build's [${PAIR_FEATURES.join(", ")}]: retrain it with scripts/train-verifier.ts`,
    );
  }
  const threshold = options.threshold ?? file.threshold;
  const featureOptions = options.words ? { words: options.words } : {};
  return {
    mode,
    verify(query, cached, cosine) {
      const guarded = guards(query, cached);
      if (guarded) return guarded;
      const score = boostedPredict(file.model, pairFeatures(query, cached, cosine, featureOptions));
      return score >= threshold ? { ok: true, score } : { ok: false, reason: "model", score };
    },
  };
}

/**
 * The refusals no score overrides: a differing negation, differing numbers, an
 * antonym pair, or a named entity on each side with no match on the other
 * ("capital of Australia" / "capital of Austria"). Undefined when none applies.
 */
export function guards(query: string, cached: string): Verdict | undefined {
  const a = analyse(query);
  const b = analyse(cached);
  if (a.negated !== b.negated) return { ok: false, reason: "negation" };
  if (a.numbers.join(" ") !== b.numbers.join(" ")) return { ok: false, reason: "number" };
  // Words and their stems: "advantages" meets "disadvantage" through the stem.
  const [inA, inB] = [new Set([...a.words, ...a.stems]), new Set([...b.words, ...b.stems])];
  for (const word of inA) {
    if (!inB.has(word) && ANTONYMS.get(word)?.some((o) => inB.has(o) && !inA.has(o)))
      return { ok: false, reason: "antonym" };
  }
  const unmatched = (x: typeof a, y: typeof b) =>
    [...x.entities].some((e) => !y.words.some((w) => w === e || isTypoOf(e, w)));
  if (unmatched(a, b) && unmatched(b, a)) return { ok: false, reason: "entity" };
  return undefined;
}

const modelFileSchema = z.strictObject({
  features: z.array(z.string()),
  embedder: z.string().min(1),
  threshold: z.number().min(0).max(1),
  model: z.strictObject({
    bias: z.number(),
    trees: z.array(
      z.strictObject({
        feature: z.array(z.number().int().min(-1)),
        threshold: z.array(z.number()),
        left: z.array(z.number().int().min(-1)),
        right: z.array(z.number().int().min(-1)),
        value: z.array(z.number()),
      }),
    ),
  }),
});

/** A model file's JSON, checked: its shape, and that it was trained for `embedderId`. */
export function parseVerifierModel(json: unknown, embedderId: string, source: string): VerifierModelFile {
  const parsed = modelFileSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${source} is not a verifier model: ${parsed.error.issues[0]?.message}`);
  const file = parsed.data;
  if (file.embedder !== embedderId && !embedderId.startsWith(`${file.embedder}:`)) {
    throw new Error(
      `${source} was trained for the embedder ${file.embedder}, not ${embedderId}: retrain it for this one`,
    );
  }
  return file;
}
