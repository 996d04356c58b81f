/**
 * Trains a learned verifier for one embedder on labelled pairs (scripts/pair-sets.ts):
 * features from src/pair-features.ts with that embedder's cosine, rows the guards refuse
 * left out (the model never sees them at run time), gradient-boosted trees, and a
 * probability threshold chosen on 5-fold out-of-fold scores: the lowest whose precision,
 * among pairs above the embedder's similarity threshold in the threshold set (QQP when
 * present, else every pair), is at least TARGET_PRECISION. Only the pairs given are read.
 */
import { type BoostedTrees, boostedPredict, trainBoostedTrees } from "@llm-callouts/learn";
import type { Embedder } from "../src/embedder.js";
import { PAIR_FEATURES, pairFeatures } from "../src/pair-features.js";
import { guards, type VerifierModelFile } from "../src/verifier.js";
import type { WordVectors } from "../src/word-vectors.js";
import { foldsOf, type LabelledPair, pairCosines } from "./pair-sets.js";

export const TREE_SETTINGS = { trees: 200, depth: 3, learningRate: 0.1, minChildWeight: 5 } as const;
export const TARGET_PRECISION = 0.97;
const FOLDS = 5;

export interface TrainedVerifier {
  readonly file: VerifierModelFile;
  /** Rows trained on (the guards let them through). */
  readonly trained: number;
  /** Out-of-fold summary lines, per set and at a few hit rates. */
  readonly report: readonly string[];
}

/** `embedderId` is what the model file records (the id prefix before `:` for the offline embedder). */
export async function trainVerifier(
  tune: readonly LabelledPair[],
  embedder: Embedder,
  words: WordVectors,
  embedderId: string,
): Promise<TrainedVerifier> {
  const gate = embedder.defaultThreshold;
  const cosines = await pairCosines(embedder, tune);
  // The cache holds `a` and is asked `b`.
  const features = tune.map((p, i) => pairFeatures(p.b, p.a, cosines[i] as number, { words }));
  const trainable = tune.map((_, i) => i).filter((i) => guards(tune[i]!.b, tune[i]!.a) === undefined);
  if (trainable.length < 20) throw new Error(`only ${trainable.length} trainable pairs; need at least 20`);
  const fit = (rows: readonly number[]): BoostedTrees =>
    trainBoostedTrees(
      rows.map((i) => features[i] as Float64Array),
      rows.map((i) => (tune[i] as LabelledPair).duplicate),
      TREE_SETTINGS,
    );
  const folds = foldsOf(tune, FOLDS);
  const oof = new Array<number>(tune.length).fill(0);
  for (let f = 0; f < FOLDS; f++) {
    const rows = trainable.filter((i) => folds[i] !== f);
    if (rows.length === 0) continue;
    const model = fit(rows);
    for (const i of trainable) if (folds[i] === f) oof[i] = boostedPredict(model, features[i] as Float64Array);
  }
  const thresholdSet = tune.some((p) => p.set === "qqp") ? "qqp" : undefined;
  const pool = tune
    .map((_, i) => i)
    .filter((i) => (thresholdSet === undefined || tune[i]?.set === thresholdSet) && (cosines[i] as number) >= gate);
  let threshold = 1;
  for (const t of pool.map((i) => oof[i] as number).sort((x, y) => y - x)) {
    const hits = pool.filter((i) => (oof[i] as number) >= t);
    const good = hits.filter((i) => tune[i]?.duplicate).length;
    if (hits.length >= Math.min(20, pool.length) && good / hits.length >= TARGET_PRECISION) threshold = t;
  }
  const report: string[] = [];
  for (const set of [...new Set(tune.map((p) => p.set))]) {
    const rows = tune.map((_, i) => i).filter((i) => tune[i]?.set === set);
    const duplicates = rows.filter((i) => tune[i]?.duplicate).length;
    const hits = rows.filter((i) => (cosines[i] as number) >= gate && (oof[i] as number) >= threshold);
    const good = hits.filter((i) => tune[i]?.duplicate).length;
    report.push(
      `${set} tuning part, out of fold: ${rows.length} pairs, ${hits.length} hits, precision ${(good / Math.max(1, hits.length)).toFixed(3)}, hit rate ${(good / Math.max(1, duplicates)).toFixed(3)}`,
    );
  }
  {
    const all = tune.filter((p) => (thresholdSet === undefined || p.set === thresholdSet) && p.duplicate).length;
    const ranked = [...pool].sort((x, y) => (oof[y] as number) - (oof[x] as number));
    const points: string[] = [];
    let good = 0;
    const goals = [0.05, 0.1, 0.15, 0.2, 0.3];
    ranked.forEach((i, k) => {
      if (tune[i]?.duplicate) good++;
      if (goals.length > 0 && good / Math.max(1, all) >= (goals[0] as number)) {
        points.push(
          `hit rate ${goals.shift()}: precision ${(good / (k + 1)).toFixed(3)} (p >= ${(oof[i] as number).toFixed(3)})`,
        );
      }
    });
    report.push(`${thresholdSet ?? "all"} out of fold, similarity >= ${gate}: ${points.join("; ")}`);
  }
  const model = fit(trainable);
  const round = (x: number) => Number(x.toPrecision(6));
  const compact: BoostedTrees = {
    bias: round(model.bias),
    trees: model.trees.map((t) => ({
      feature: t.feature,
      threshold: t.threshold.map(round),
      left: t.left,
      right: t.right,
      value: t.value.map(round),
    })),
  };
  return {
    file: { features: [...PAIR_FEATURES], embedder: embedderId, threshold: round(threshold), model: compact },
    trained: trainable.length,
    report,
  };
}
