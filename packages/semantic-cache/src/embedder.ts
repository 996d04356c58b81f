/**
 * Turns a prompt into a unit-length vector. `id` goes into the cache partition, so
 * entries written by one embedder (or version, or dimension) are never compared
 * with vectors of another.
 */
export interface Embedder {
  /** Stable identity, including model and version, e.g. `wink-sg100d-sif-v1`. */
  readonly id: string;
  readonly dimensions: number;
  /** Unit-length embedding of `text`. May throw; the cache then answers MISS. */
  embed(text: string): Promise<Float32Array>;
  /** Suggested similarity threshold for this embedder, tuned on QQP (see README). */
  readonly defaultThreshold: number;
}

/** Scales `vector` to unit length in place (a zero vector stays zero). */
export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) / norm;
  return vector;
}
