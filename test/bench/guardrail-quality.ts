/**
 * Prompt-injection and jailbreak quality with nested, stratified 5-fold
 * cross-validation on the shared training sets: each outer fold is scored by a
 * model trained on the other four, with the decision threshold chosen by an
 * inner 4-fold CV on those four only. No row is ever scored by a model (or a
 * threshold) that saw it. Also reports the curated signatures alone (a regex
 * baseline) and the published baselines.
 *
 *   node --import tsx test/bench/guardrail-quality.ts [dataDir]
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  assignFolds,
  benignTexts,
  combinedScore,
  confusion,
  featurise,
  type LabelledText,
  minWords,
  outOfFoldScores,
  pickThreshold,
  type ThresholdRule,
  trainOn,
} from "../../packages/guardrail/src/detect/attack/cross-validate.js";
import type { SparseVector } from "../../packages/guardrail/src/detect/attack/features.js";
import { matchSignatures } from "../../packages/guardrail/src/detect/attack/signatures.js";

const dataDir = resolve(process.argv[2] ?? "../shared/data");
const load = (file: string, key: string): LabelledText[] =>
  readFileSync(resolve(dataDir, file), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map((r) => ({ text: String(r.text), positive: Boolean(r[key]) }));

const lines = (file: string): string[] =>
  readFileSync(resolve(dataDir, file), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
const qqp = lines("qqp-pairs-dev.jsonl");
const pii = lines("pii-presidio-synth-dev.jsonl");
// Training-only negatives, and a disjoint held-out set of ordinary prompts for an extra FPR figure.
const extraXs = featurise(benignTexts(qqp, pii, [0, 2500], [0, 500]).map((text) => ({ text, positive: false })));
const heldOutBenign = benignTexts(qqp, pii, [2500, 2000], [500, 500]);
const heldOutXs = featurise(heldOutBenign.map((text) => ({ text, positive: false })));

const tasks: {
  name: string;
  file: string;
  rows: LabelledText[];
  rule: ThresholdRule;
  /** The stricter HIGH operating point, reported too. */
  highRule: ThresholdRule;
  target: string;
  published: string;
  extraWeight: number;
  extraXs: SparseVector[];
  minWords: number;
}[] = [
  {
    name: "injection (deepset)",
    file: "prompt-injection-deepset-train.jsonl",
    rows: load("prompt-injection-deepset-train.jsonl", "injection"),
    rule: { minPrecision: 0.95 },
    highRule: { minPrecision: 0.99 },
    // Extra negatives cost injection recall here (deepset labels role-play as injection), so none.
    extraWeight: 0,
    extraXs,
    minWords: minWords.injection,
    target: "recall >= 0.80 at precision >= 0.95",
    published: "regex baseline recall 0.25",
  },
  {
    name: "jailbreak (jackhhao)",
    file: "jailbreak-jackhhao-train.jsonl",
    rows: load("jailbreak-jackhhao-train.jsonl", "jailbreak"),
    rule: { maxFpr: 0.02 },
    highRule: { maxFpr: 0.005 },
    extraWeight: 0.1,
    extraXs,
    minWords: minWords.jailbreak,
    target: "recall >= 0.90 at FPR <= 0.03",
    published: "regex baseline recall 0.82 at FPR 0.089",
  },
];

const f3 = (n: number): string => n.toFixed(3);
console.log("Prompt-attack quality, nested stratified 5-fold CV (inner 4-fold for thresholds), seed 7\n");
console.log("| data set | rows | method | threshold | precision | recall | FPR | target | published |");
console.log("|---|---:|---|---:|---:|---:|---:|---|---|");
const benignFpr: string[] = [];
for (const task of tasks) {
  const t0 = Date.now();
  const extra = { xs: task.extraXs, weight: task.extraWeight };
  const xs: SparseVector[] = featurise(task.rows);
  const labels = task.rows.map((r) => r.positive);
  const outer = assignFolds(task.rows, 5, 7);
  const scores = new Array<number>(task.rows.length).fill(0);
  const decisions = new Array<boolean>(task.rows.length).fill(false);
  const thresholds: number[] = [];
  const highDecisions = new Array<boolean>(task.rows.length).fill(false);
  const highThresholds: number[] = [];
  let benignFlagged = 0;
  for (let f = 0; f < 5; f++) {
    const train = task.rows.map((_, i) => i).filter((i) => outer[i] !== f);
    const inner = outOfFoldScores(xs, task.rows, train, 4, 11 + f, extra, task.minWords);
    const threshold = pickThreshold(
      train.map((i) => inner.get(i) as number),
      train.map((i) => labels[i] as boolean),
      task.rule,
    );
    thresholds.push(threshold);
    const highThreshold = pickThreshold(
      train.map((i) => inner.get(i) as number),
      train.map((i) => labels[i] as boolean),
      task.highRule,
    );
    highThresholds.push(highThreshold);
    const model = trainOn(xs, task.rows, train, extra);
    benignFlagged += heldOutXs.filter(
      (x, n) => combinedScore(model, x, heldOutBenign[n] as string, task.minWords) >= threshold,
    ).length;
    task.rows.forEach((row, i) => {
      if (outer[i] !== f) return;
      scores[i] = combinedScore(model, xs[i] as SparseVector, row.text, task.minWords);
      decisions[i] = (scores[i] as number) >= threshold;
      highDecisions[i] = (scores[i] as number) >= highThreshold;
    });
  }
  const c = confusion(
    decisions.map((d) => (d ? 1 : 0)),
    labels,
    1,
  );
  const meanT = thresholds.reduce((a, b) => a + b, 0) / thresholds.length;
  console.log(
    `| ${task.name} | ${task.rows.length} | classifier + signatures | ${f3(meanT)} (mean) | ${f3(c.precision)} | ${f3(c.recall)} | ${f3(c.fpr)} | ${task.target} | ${task.published} |`,
  );
  const high = confusion(
    highDecisions.map((d) => (d ? 1 : 0)),
    labels,
    1,
  );
  const meanHigh = highThresholds.reduce((a, b) => a + b, 0) / highThresholds.length;
  console.log(
    `| ${task.name} | ${task.rows.length} | same, HIGH level (${"maxFpr" in task.highRule ? `FPR <= ${task.highRule.maxFpr}` : `precision >= ${task.highRule.minPrecision}`} on inner CV) | ${f3(meanHigh)} (mean) | ${f3(high.precision)} | ${f3(high.recall)} | ${f3(high.fpr)} | | |`,
  );
  benignFpr.push(`${task.name}: ${f3(benignFlagged / (5 * heldOutBenign.length))}`);
  const sig = confusion(
    task.rows.map((r) => (matchSignatures(r.text).length > 0 ? 1 : 0)),
    labels,
    1,
  );
  console.log(
    `| ${task.name} | ${task.rows.length} | signatures only | - | ${f3(sig.precision)} | ${f3(sig.recall)} | ${f3(sig.fpr)} | | |`,
  );
  console.error(`${task.name}: ${Date.now() - t0} ms`);
}
console.log(
  `\nFPR on ${heldOutBenign.length} held-out ordinary prompts (QQP questions + PII-set sentences not used in training), mean over the 5 outer models: ${benignFpr.join("; ")}`,
);
