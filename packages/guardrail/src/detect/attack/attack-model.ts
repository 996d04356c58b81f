import { dequantize, type LinearModel, predict } from "@llm-callouts/learn";
import { type Confidence, confidenceRank } from "../finding.js";
import { countWords, extractFeatures, minWords, type SparseVector, tailWindowKinds, tailWindows } from "./features.js";
import { matchSignatures } from "./signatures.js";

/** Serialised classifiers as written by scripts/train.ts. */
export interface AttackModelFile {
  readonly bits: number;
  readonly maxChars: number;
  readonly models: Readonly<
    Record<
      string,
      {
        readonly thresholds: Readonly<Record<Confidence, number>>;
        readonly scale: number;
        readonly bias: number;
        readonly int8: string;
      }
    >
  >;
}

/** Score of one attack kind for one text. */
export interface AttackScore {
  readonly kind: "injection" | "jailbreak";
  /** Probability in [0, 1] (0.99 floor when a curated signature matches). */
  readonly score: number;
  /** Highest confidence level whose threshold the score reaches, if any. */
  readonly confidence: Confidence | undefined;
  /** Ids of matching curated signatures. */
  readonly signatures: readonly string[];
}

/** A loaded injection + jailbreak classifier. */
export interface AttackClassifier {
  classify(text: string): AttackScore[];
}

/** Loads the int8 weights once and returns a pure classifier. */
export function createAttackClassifier(file: AttackModelFile): AttackClassifier {
  const loaded = Object.entries(file.models).map(([kind, m]) => ({
    kind: kind as AttackScore["kind"],
    model: dequantize(m) as LinearModel,
    thresholds: m.thresholds,
  }));
  const options = { bits: file.bits, maxChars: file.maxChars };
  return {
    classify(text) {
      const x = extractFeatures(text, options);
      const matched = matchSignatures(text);
      const words = countWords(text, minWords.jailbreak);
      let windows: SparseVector[] | undefined;
      return loaded.map(({ kind, model, thresholds }) => {
        const signatures = matched.filter((s) => s.kind === kind || kind === "injection").map((s) => s.id);
        // Short inputs are left to the signatures (Model Armor: under three words is NO_MATCH;
        // jailbreaks set up personas and rules, so that classifier needs ten).
        let p = words >= minWords[kind] ? predict(model, x) : 0;
        if (tailWindowKinds[kind]) {
          windows ??= tailWindows(text).map((w) => extractFeatures(w, options));
          for (const w of windows) p = Math.max(p, predict(model, w));
        }
        const score = signatures.length > 0 ? Math.max(p, 0.99) : p;
        const confidence: Confidence | undefined =
          score >= thresholds.HIGH
            ? "HIGH"
            : score >= thresholds.MEDIUM
              ? "MEDIUM"
              : score >= thresholds.LOW
                ? "LOW"
                : undefined;
        return { kind, score, confidence, signatures };
      });
    },
  };
}

/** Per attack kind, the more confident of two scores (then the higher score); signatures are kept. */
export function mergeAttackScores(a: readonly AttackScore[], b: readonly AttackScore[]): AttackScore[] {
  const rank = (s: AttackScore) => (s.confidence ? confidenceRank[s.confidence] : 0);
  const out = new Map<AttackScore["kind"], AttackScore>();
  for (const s of [...a, ...b]) {
    const current = out.get(s.kind);
    if (!current) {
      out.set(s.kind, s);
      continue;
    }
    const better = rank(s) > rank(current) || (rank(s) === rank(current) && s.score > current.score) ? s : current;
    out.set(s.kind, { ...better, signatures: [...new Set([...current.signatures, ...s.signatures])] });
  }
  return [...out.values()];
}
