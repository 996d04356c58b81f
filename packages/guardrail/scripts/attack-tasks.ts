/**
 * The prompt-attack training setup shared by scripts/train.ts and
 * test/bench/guardrail-quality.ts, so the benchmark measures exactly what ships:
 * the labelled sets, the training-only negative sets and their weights, and the
 * threshold rules of the LOW / MEDIUM / HIGH confidence levels.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { ThresholdRule } from "@llm-callouts/learn";
import {
  benignTexts,
  type ExtraNegatives,
  featurise,
  type LabelledText,
  minWords,
  tailWindowKinds,
} from "../src/detect/attack/cross-validate.js";
import type { Confidence } from "../src/detect/finding.js";
import { generateEverydayPrompts } from "./everyday-prompts.js";

export interface AttackTask {
  readonly name: "injection" | "jailbreak";
  readonly file: string;
  readonly rows: LabelledText[];
  /** Threshold rule per confidence level, applied to out-of-fold scores of `rows`. */
  readonly levels: Readonly<Record<Confidence, ThresholdRule>>;
  /** Training-only negative sets (never scored in the cross-validation). */
  readonly extra: readonly ExtraNegatives[];
  readonly minWords: number;
  /** Also score the text's tail windows (see tailWindows). */
  readonly tailWindows: boolean;
}

/** Sizes of the generated everyday-prompt splits. */
export const everydaySizes = { train: 3000, eval: 2000 } as const;

/** Weights of the training-only negative sets, relative to the task rows (see trainOn). */
export const extraWeights = {
  injection: { ordinary: 0, everyday: 0.01 },
  jailbreak: { ordinary: 0.1, everyday: 0.2 },
} as const;

const lines = (dataDir: string, file: string): string[] =>
  readFileSync(resolve(dataDir, file), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");

const load = (dataDir: string, file: string, key: string): LabelledText[] =>
  lines(dataDir, file)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map((r) => ({ text: String(r.text), positive: Boolean(r[key]) }));

/** Ordinary questions and sentences from the shared sets: a training slice and a disjoint held-out slice. */
export function ordinaryPrompts(dataDir: string): { train: string[]; heldOut: string[] } {
  const qqp = lines(dataDir, "qqp-pairs-dev.jsonl");
  const pii = lines(dataDir, "pii-presidio-synth-dev.jsonl");
  return {
    train: benignTexts(qqp, pii, [0, 2500], [0, 500]),
    heldOut: benignTexts(qqp, pii, [2500, 2000], [500, 500]),
  };
}

/** Loads both tasks with their extra negatives featurised. */
export function loadAttackTasks(dataDir: string): AttackTask[] {
  const negatives = (texts: readonly string[]) => featurise(texts.map((text) => ({ text, positive: false })));
  const ordinary = negatives(ordinaryPrompts(dataDir).train);
  const everyday = negatives(generateEverydayPrompts("train", everydaySizes.train));
  const extra = (w: { ordinary: number; everyday: number }): ExtraNegatives[] => [
    { xs: ordinary, weight: w.ordinary },
    { xs: everyday, weight: w.everyday },
  ];
  return [
    {
      name: "injection",
      file: "prompt-injection-deepset-train.jsonl",
      rows: load(dataDir, "prompt-injection-deepset-train.jsonl", "injection"),
      levels: { LOW: { minPrecision: 0.85 }, MEDIUM: { minPrecision: 0.95 }, HIGH: { minPrecision: 0.99 } },
      extra: extra(extraWeights.injection),
      minWords: minWords.injection,
      tailWindows: tailWindowKinds.injection,
    },
    {
      name: "jailbreak",
      file: "jailbreak-jackhhao-train.jsonl",
      rows: load(dataDir, "jailbreak-jackhhao-train.jsonl", "jailbreak"),
      levels: { LOW: { maxFpr: 0.03 }, MEDIUM: { maxFpr: 0.01 }, HIGH: { maxFpr: 0.005 } },
      extra: extra(extraWeights.jailbreak),
      minWords: minWords.jailbreak,
      tailWindows: tailWindowKinds.jailbreak,
    },
  ];
}
