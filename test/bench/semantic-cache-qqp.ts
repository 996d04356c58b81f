/**
 * QQP threshold sweep for the semantic cache: for each labelled pair (a, b) the
 * cache holds `a` and is asked `b`. A hit is similarity >= threshold AND the
 * false-hit verifier accepts. Reports precision of hits and hit rate on true
 * duplicates per embedder and threshold, with and without verification.
 *
 * `--half even|odd` keeps every other row: the verifier's rank/synonym settings and the
 * default threshold were chosen on the even rows, so the odd rows are a held-out check.
 *
 *   node --import tsx test/bench/semantic-cache-qqp.ts [--limit N] [--half even|odd] [--sif A] [--share S]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Embedder } from "../../packages/semantic-cache/src/index.js";
import { verifyCandidate } from "../../packages/semantic-cache/src/verify-candidate.js";
import { createWordVectorEmbedder } from "../../packages/semantic-cache/src/word-vector-embedder.js";
import { loadWinkWordVectors } from "../../packages/semantic-cache/src/word-vectors.js";

const { values } = parseArgs({
  options: {
    limit: { type: "string", default: "10000" },
    sif: { type: "string" },
    share: { type: "string" },
    salient: { type: "string" },
    synonym: { type: "string" },
    half: { type: "string" },
    data: { type: "string", default: join(process.cwd(), "..", "shared", "data", "qqp-pairs-dev.jsonl") },
  },
});

interface Pair {
  readonly a: string;
  readonly b: string;
  readonly duplicate: boolean;
}
const pairs = readFileSync(values.data, "utf8")
  .trim()
  .split("\n")
  .slice(0, Number(values.limit))
  .filter((_, i) => values.half === undefined || i % 2 === (values.half === "odd" ? 1 : 0))
  .map((line) => JSON.parse(line) as Pair);

const vectors = loadWinkWordVectors();
const embedders: Embedder[] = [
  createWordVectorEmbedder({
    vectors,
    ...(values.sif ? { sifA: Number(values.sif) } : {}),
    ...(values.share ? { hashShare: Number(values.share) } : {}),
  }),
  createWordVectorEmbedder({ vectors, hashShare: 0 }),
  createWordVectorEmbedder({ vectors, hashShare: 1 }),
];
const thresholds = [0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995];
const duplicates = pairs.filter((p) => p.duplicate).length;
const salientRank = values.salient ? Number(values.salient) : undefined;
const verified = pairs.map(
  (p) =>
    verifyCandidate(p.b, p.a, {
      words: vectors,
      ...(salientRank !== undefined ? { salientRank } : {}),
      ...(values.synonym ? { synonymSimilarity: Number(values.synonym) } : {}),
    }).ok,
);

console.log(
  `QQP dev pairs${values.half ? ` (${values.half} rows)` : ""}: ${pairs.length} (${duplicates} duplicates)\n`,
);
console.log("| embedder | threshold | verify | hits | precision | hit rate on duplicates |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const embedder of embedders) {
  const sims: number[] = [];
  for (const p of pairs) {
    const [va, vb] = [await embedder.embed(p.a), await embedder.embed(p.b)];
    let dot = 0;
    for (let i = 0; i < va.length; i++) dot += (va[i] as number) * (vb[i] as number);
    sims.push(dot);
  }
  for (const verify of [false, true]) {
    for (const t of thresholds) {
      let hits = 0;
      let good = 0;
      pairs.forEach((p, i) => {
        if ((sims[i] as number) >= t && (!verify || verified[i])) {
          hits++;
          if (p.duplicate) good++;
        }
      });
      const precision = hits ? good / hits : 1;
      const mark = t === embedder.defaultThreshold && verify ? " (default)" : "";
      console.log(
        `| ${embedder.id} | ${t}${mark} | ${verify ? "yes" : "no"} | ${hits} | ${precision.toFixed(3)} | ${(good / duplicates).toFixed(3)} |`,
      );
    }
  }
}
