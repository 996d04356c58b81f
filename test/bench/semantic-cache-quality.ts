/**
 * Semantic-cache judgement on labelled duplicate-question pairs: the cache holds `a` and
 * is asked `b`; a hit is similarity >= the embedder's threshold AND the verifier's
 * consent. Precision of hits and hit rate on true duplicates, with 95% Wilson intervals,
 * per set (QQP, MQP, STS-B) and per part: `tune` was used for every choice (training,
 * thresholds, word lists), `held-out` for none (split in scripts/pair-sets.ts).
 *
 *   node --import tsx test/bench/semantic-cache-quality.ts [--data DIR] [--no-transformers]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { formatProportion, wilson } from "@llm-callouts/learn";
import { embeddingOf } from "@llm-callouts/model-server-sim";
import {
  type LabelledPair,
  loadPairSets,
  PAIR_SETS,
  pairCosines,
} from "../../packages/semantic-cache/scripts/pair-sets.js";
import type { Embedder } from "../../packages/semantic-cache/src/embedder.js";
import { checkRules } from "../../packages/semantic-cache/src/rule-checks.js";
import { writeTinyBert } from "../../packages/semantic-cache/src/transformers-embedder.testdata.js";
import { createVerifier, type Verifier } from "../../packages/semantic-cache/src/verifier.js";
import { offlineVerifierModel } from "../../packages/semantic-cache/src/verifier-model.js";
import { createWordVectorEmbedder } from "../../packages/semantic-cache/src/word-vector-embedder.js";
import { loadWinkWordVectors } from "../../packages/semantic-cache/src/word-vectors.js";
import { printTable } from "./stats.js";

const { values } = parseArgs({
  options: {
    data: { type: "string", default: resolve(process.cwd(), "..", "shared", "data") },
    "no-transformers": { type: "boolean", default: false },
  },
});
const pairs = loadPairSets(values.data);
const sets = Object.keys(PAIR_SETS) as (keyof typeof PAIR_SETS)[];
const vectors = loadWinkWordVectors();
const offline = createWordVectorEmbedder({ vectors });

interface Judge {
  readonly name: string;
  readonly accepts: (p: LabelledPair, cosine: number) => boolean;
}
const viaVerifier = (name: string, verifier: Verifier): Judge => ({
  name,
  accepts: (p, cosine) => verifier.verify(p.b, p.a, cosine).ok,
});
const learned = createVerifier({ mode: "learned", model: offlineVerifierModel, words: vectors });
const guards = createVerifier({ mode: "guards" });

/** One table row: hits, precision and hit rate of `judge` on `rows` at `threshold`. */
function score(rows: readonly LabelledPair[], cosines: readonly number[], threshold: number, judge: Judge) {
  let hits = 0;
  let good = 0;
  let allowed = 0;
  let duplicates = 0;
  rows.forEach((p, i) => {
    const accepted = judge.accepts(p, cosines[i] as number);
    if (p.duplicate) {
      duplicates++;
      if (accepted) allowed++;
    }
    if ((cosines[i] as number) >= threshold && accepted) {
      hits++;
      if (p.duplicate) good++;
    }
  });
  return {
    hits,
    precision: wilson(good, hits),
    hitRate: wilson(good, duplicates),
    ceiling: wilson(allowed, duplicates),
  };
}

// 1. The offline embedder at its default threshold, with each verifier, per set and part.
const offlineCosines = await pairCosines(offline, pairs);
const judges: Judge[] = [
  viaVerifier("learned (default)", learned),
  { name: "hand rules (before)", accepts: (p) => checkRules(p.b, p.a, { words: vectors }).ok },
  viaVerifier("guards only", guards),
  { name: "none", accepts: () => true },
];
const rows1: string[][] = [];
for (const judge of judges) {
  for (const set of sets) {
    for (const part of ["tune", "held-out"] as const) {
      const idx = pairs.map((_, i) => i).filter((i) => pairs[i]?.set === set && pairs[i]?.part === part);
      const s = score(
        idx.map((i) => pairs[i] as LabelledPair),
        idx.map((i) => offlineCosines[i] as number),
        offline.defaultThreshold,
        judge,
      );
      rows1.push([
        judge.name,
        set,
        part,
        `${idx.length}`,
        `${s.hits}`,
        formatProportion(s.precision),
        formatProportion(s.hitRate),
      ]);
    }
  }
}
printTable(
  `Offline embedder (${offline.id}), similarity threshold ${offline.defaultThreshold}; the learned model trained on every tune row, so its tune figures are in-sample (scripts/train-verifier.ts prints out-of-fold ones)`,
  ["verifier", "set", "part", "pairs", "hits", "precision [95% CI]", "hit rate on duplicates [95% CI]"],
  rows1,
);

// 2. Other operating points of the learned verifier (listed before any held-out score was seen).
const heldOut = pairs.map((_, i) => i).filter((i) => pairs[i]?.part === "held-out");
const points: [number, number | undefined][] = [
  [0.96, undefined],
  [0.96, 0.7],
  [0.93, 0.7],
  [0.9, 0.5],
];
const rows2: string[][] = [];
for (const [similarity, probability] of points) {
  const verifier = createVerifier({
    mode: "learned",
    model: offlineVerifierModel,
    words: vectors,
    ...(probability !== undefined ? { threshold: probability } : {}),
  });
  for (const set of sets) {
    const idx = heldOut.filter((i) => pairs[i]?.set === set);
    const s = score(
      idx.map((i) => pairs[i] as LabelledPair),
      idx.map((i) => offlineCosines[i] as number),
      similarity,
      viaVerifier("learned", verifier),
    );
    rows2.push([
      `${similarity}`,
      probability === undefined ? `${offlineVerifierModel.threshold} (default)` : `${probability}`,
      set,
      `${s.hits}`,
      formatProportion(s.precision),
      formatProportion(s.hitRate),
    ]);
  }
}
printTable(
  "Learned verifier, other operating points (held-out part)",
  ["similarity", "verifier.threshold", "set", "hits", "precision [95% CI]", "hit rate [95% CI]"],
  rows2,
);

// 3. What the verifier itself allows, whatever the embedder: share of true duplicates it accepts.
const embedders: { name: string; embedder: Embedder; verifier: Judge }[] = [
  { name: "offline word vectors", embedder: offline, verifier: viaVerifier("learned", learned) },
  { name: "offline word vectors", embedder: offline, verifier: viaVerifier("guards", guards) },
  {
    name: "model-server-sim /v1/embeddings (hashed words)",
    embedder: {
      id: "sim",
      dimensions: 64,
      defaultThreshold: 0.9,
      embed: async (text) => Float32Array.from(embeddingOf(text)),
    },
    verifier: viaVerifier("guards", guards),
  },
];
let tinyDir: string | undefined;
if (!values["no-transformers"]) {
  const { createTransformersEmbedder } = await import("../../packages/semantic-cache/src/transformers-embedder.js");
  tinyDir = mkdtempSync(join(tmpdir(), "tiny-bert-"));
  writeTinyBert(tinyDir);
  const tiny = await createTransformersEmbedder({ model: tinyDir });
  embedders.push({ name: "transformers, tiny test model", embedder: tiny, verifier: viaVerifier("guards", guards) });
}
const rows3: string[][] = [];
for (const { name, embedder, verifier } of embedders) {
  const rows = heldOut.map((i) => pairs[i] as LabelledPair);
  const cosines =
    embedder === offline ? heldOut.map((i) => offlineCosines[i] as number) : await pairCosines(embedder, rows);
  for (const set of sets) {
    const idx = rows.map((_, k) => k).filter((k) => rows[k]?.set === set);
    const s = score(
      idx.map((k) => rows[k] as LabelledPair),
      idx.map((k) => cosines[k] as number),
      embedder.defaultThreshold,
      verifier,
    );
    rows3.push([
      name,
      verifier.name,
      set,
      formatProportion(s.ceiling),
      `${embedder.defaultThreshold}`,
      formatProportion(s.precision),
      formatProportion(s.hitRate),
    ]);
  }
}
if (tinyDir) rmSync(tinyDir, { recursive: true, force: true });
printTable(
  "Verifier ceiling per embedder (held-out part): duplicates the verifier accepts at any similarity",
  ["embedder", "verifier", "set", "duplicates accepted", "threshold", "precision", "hit rate"],
  rows3,
);
