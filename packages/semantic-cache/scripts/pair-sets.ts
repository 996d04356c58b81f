/**
 * The labelled duplicate-question sets the verifier is trained and judged on, and
 * their fixed split. Every pair lands in `tune` (training, thresholds, every other
 * choice) or `held-out` (reported only, never used for a choice) by a SHA-256 hash
 * of its connected component: pairs that share a question (MQP writes two pairs per
 * patient question) always land in the same part, so no question leaks across.
 *
 * Sets (`{a, b, duplicate}` JSON lines in the data folder):
 * - qqp: Quora Question Pairs as packaged by GPTCache's benchmark, about 37%
 *   duplicates, the rest mostly topically close non-duplicates.
 * - mqp: medical question pairs written by doctors (curai), one duplicate rewrite
 *   and one related question per patient question.
 * - stsb: STS Benchmark sentence pairs, duplicate = similarity score >= 4 of 5.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { componentKeys, type Part, partOf } from "@llm-callouts/learn";
import { dot } from "../src/cache-store.js";
import type { Embedder } from "../src/embedder.js";

export interface LabelledPair {
  readonly set: PairSetName;
  readonly a: string;
  readonly b: string;
  readonly duplicate: boolean;
  readonly part: Part;
}

export const PAIR_SETS = {
  qqp: "qqp-pairs-dev.jsonl",
  mqp: "mqp-pairs-dev.jsonl",
  stsb: "stsb-pairs-dev.jsonl",
} as const;
export type PairSetName = keyof typeof PAIR_SETS;

/** Share of each set kept out of every choice. */
export const HELD_OUT_SHARE = 0.5;

/** Loads every set found in `dataDir`, each pair tagged with its part. */
export function loadPairSets(dataDir: string): LabelledPair[] {
  const rows: Omit<LabelledPair, "part">[] = [];
  for (const [set, file] of Object.entries(PAIR_SETS) as [PairSetName, string][]) {
    const text = readFileSync(join(dataDir, file), "utf8");
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      const { a, b, duplicate } = JSON.parse(line) as { a: string; b: string; duplicate: boolean };
      rows.push({ set, a, b, duplicate: duplicate === true });
    }
  }
  const keys = componentKeys(rows.map((r) => [`${r.set}:${norm(r.a)}`, `${r.set}:${norm(r.b)}`]));
  return rows.map((r, i) => ({ ...r, part: partOf(keys[i] as string, HELD_OUT_SHARE) }));
}

const norm = (text: string) => text.trim().toLowerCase().replace(/\s+/g, " ");

/** Deterministic fold (0..k-1) of a pair within its part, again by component so folds do not share questions. */
export function foldsOf(pairs: readonly LabelledPair[], k: number): number[] {
  const keys = componentKeys(pairs.map((r) => [`${r.set}:${norm(r.a)}`, `${r.set}:${norm(r.b)}`]));
  return keys.map((key) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
    return h % k;
  });
}

/** Cosine of each pair's two texts under `embedder` (its vectors are unit length). */
export async function pairCosines(embedder: Embedder, pairs: readonly LabelledPair[]): Promise<number[]> {
  const out: number[] = [];
  for (const p of pairs) out.push(dot(await embedder.embed(p.a), await embedder.embed(p.b)));
  return out;
}
