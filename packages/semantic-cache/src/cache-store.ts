import type { StoredCompletion } from "./stored-completion.js";

/**
 * Storage seam of the cache. Implementations: the in-memory store (embedded
 * default) and Redis 8 vector sets (one server or a Redis Cluster). The shape also fits a RediSearch `FT.SEARCH`
 * KNN backend (one HASH per entry with a TAG `part`, a FLOAT32 vector and
 * `EXPIRE`): `get` = HGETALL, `search` = `(@part:{p})=>[KNN k @v $q]`,
 * `sweep` = no-op because expired hashes leave the index.
 */
export interface CacheStore {
  /** Backend name for logs and metrics, e.g. `memory`, `redis-vector-set`. */
  readonly kind: string;
  /** The live entry with this id in `partition` (exact layer), or undefined when absent or expired. */
  get(partition: string, id: string): Promise<CacheEntry | undefined>;
  /**
   * Up to `count` live entries of `partition` nearest to `vector` (unit length),
   * best first. Elements whose entry expired are dropped from the index on the way.
   */
  search(partition: string, vector: Float32Array, count: number): Promise<SimilarEntry[]>;
  /** Stores an entry until `entry.expiresAtMs`; `vector` (unit length) makes it findable by `search`. */
  put(entry: CacheEntry, vector: Float32Array | undefined): Promise<void>;
  /** Current invalidation generation of `scope` (0 when never bumped). */
  generation(scope: string): Promise<number>;
  /** Increments the generation of `scope`, orphaning every partition built on the old one. */
  bumpGeneration(scope: string): Promise<number>;
  /**
   * The server that holds keys tagged `tag` (a partition, or a generation's scope) now, for a
   * breaker per shard; undefined when the store is one server or does not know yet.
   */
  shardOf?(tag: string): string | undefined;
  /** Removes index elements whose entry expired; returns how many were removed. */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

/** One cached answer. */
export interface CacheEntry {
  /** Hex id: the exact (L1) key, a hash of partition and normalised request. */
  readonly id: string;
  /** Hex hash of the hard partition (tenant, model, context, params, embedder, generation). */
  readonly partition: string;
  /** The last user turn, kept for false-hit verification of semantic candidates. */
  readonly prompt: string;
  readonly completion: StoredCompletion;
  /** Epoch ms. */
  readonly createdAtMs: number;
  /** Epoch ms after which the entry is gone. */
  readonly expiresAtMs: number;
}

/** A semantic candidate. */
export interface SimilarEntry {
  readonly entry: CacheEntry;
  /** Cosine similarity in [-1, 1]. */
  readonly similarity: number;
}

/** Milliseconds since the epoch; injected for tests. */
export type Clock = () => number;

/** Cosine of two unit vectors. */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}
