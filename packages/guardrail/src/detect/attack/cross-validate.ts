import { type LinearModel, predict, trainLogistic } from "@llm-callouts/learn";
import { seededRandom } from "@llm-callouts/random";
import { countWords, extractFeatures, type SparseVector, tailWindows } from "./features.js";
import { matchSignatures } from "./signatures.js";

/** One labelled training row. */
export interface LabelledText {
  readonly text: string;
  readonly positive: boolean;
}

export { countWords, minWords, tailWindowKinds } from "./features.js";

export const trainingDefaults = { bits: 17, epochs: 40, learningRate: 0.5, l2: 1e-5, seed: 1 } as const;

/** Featurises rows once (features do not depend on the training fold). */
export function featurise(rows: readonly LabelledText[]): SparseVector[] {
  return rows.map((r) => extractFeatures(r.text));
}

/**
 * Extra benign texts used only as training negatives (never scored): everyday
 * questions and sentences, so short ordinary prompts are not flagged.
 */
export interface ExtraNegatives {
  readonly xs: readonly SparseVector[];
  /** Their total weight relative to the task rows (0 ignores them). */
  readonly weight: number;
}

/** Trains on the given row indices (plus extra negative sets) with the project defaults. */
export function trainOn(
  xs: readonly SparseVector[],
  rows: readonly LabelledText[],
  indices: readonly number[],
  extra: readonly ExtraNegatives[] = [],
): LinearModel {
  // Class-balanced weights on the task rows; each extra negative set weighs `weight` times the task rows in total.
  const positives = indices.filter((i) => (rows[i] as LabelledText).positive).length;
  const negatives = indices.length - positives;
  const used = extra.filter((e) => e.weight > 0 && e.xs.length > 0);
  const weights = [
    ...indices.map((i) =>
      (rows[i] as LabelledText).positive
        ? indices.length / (2 * Math.max(1, positives))
        : indices.length / (2 * Math.max(1, negatives)),
    ),
    ...used.flatMap((e) => e.xs.map(() => (e.weight * indices.length) / e.xs.length)),
  ];
  return trainLogistic(
    [...indices.map((i) => xs[i] as SparseVector), ...used.flatMap((e) => e.xs)],
    [...indices.map((i) => (rows[i] as LabelledText).positive), ...used.flatMap((e) => e.xs.map(() => false))],
    {
      dims: 1 << trainingDefaults.bits,
      epochs: trainingDefaults.epochs,
      learningRate: trainingDefaults.learningRate,
      l2: trainingDefaults.l2,
      seed: trainingDefaults.seed,
      sampleWeights: weights,
    },
  );
}

/** Distinct benign texts: QQP questions `[skip, skip + count)` and PII-set sentences `[skip, skip + count)`. */
export function benignTexts(
  qqpLines: readonly string[],
  piiLines: readonly string[],
  qqp: readonly [skip: number, count: number],
  pii: readonly [skip: number, count: number],
): string[] {
  const distinct = (texts: Iterable<string>, [skip, count]: readonly [number, number]): string[] => {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const t of texts) {
      if (seen.has(t)) continue;
      seen.add(t);
      if (seen.size > skip) out.push(t);
      if (out.length >= count) break;
    }
    return out;
  };
  const questions = function* () {
    for (const line of qqpLines) {
      const row = JSON.parse(line) as { a: string; b: string };
      yield row.a;
      yield row.b;
    }
  };
  const sentences = piiLines.map((l) => (JSON.parse(l) as { text: string }).text);
  return [...distinct(questions(), qqp), ...distinct(sentences, pii)];
}

/**
 * Classifier probability (0 under `min` words; with `tail`, the max over the text and its tail
 * windows), raised to 0.99 when a curated signature matches.
 */
export function combinedScore(model: LinearModel, x: SparseVector, text: string, min = 0, tail = false): number {
  let p = countWords(text, min) >= min ? predict(model, x) : 0;
  if (tail) for (const window of tailWindows(text)) p = Math.max(p, predict(model, extractFeatures(window)));
  return matchSignatures(text).length > 0 ? Math.max(p, 0.99) : p;
}

/** Stratified, seeded fold assignment. */
export function assignFolds(rows: readonly LabelledText[], k: number, seed: number): number[] {
  const rng = seededRandom(seed);
  const folds = new Array<number>(rows.length).fill(0);
  for (const label of [true, false]) {
    const members = rows.map((r, i) => (r.positive === label ? i : -1)).filter((i) => i >= 0);
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [members[i], members[j]] = [members[j] as number, members[i] as number];
    }
    members.forEach((row, n) => {
      folds[row] = n % k;
    });
  }
  return folds;
}

/** Out-of-fold scores for `indices` (each row scored by a model that never saw it). */
export function outOfFoldScores(
  xs: readonly SparseVector[],
  rows: readonly LabelledText[],
  indices: readonly number[],
  k: number,
  seed: number,
  extra: readonly ExtraNegatives[] = [],
  min = 0,
  tail = false,
): Map<number, number> {
  const subset = indices.map((i) => rows[i] as LabelledText);
  const folds = assignFolds(subset, k, seed);
  const scores = new Map<number, number>();
  for (let f = 0; f < k; f++) {
    const train = indices.filter((_, n) => folds[n] !== f);
    const model = trainOn(xs, rows, train, extra);
    indices.forEach((row, n) => {
      if (folds[n] === f)
        scores.set(row, combinedScore(model, xs[row] as SparseVector, (rows[row] as LabelledText).text, min, tail));
    });
  }
  return scores;
}
