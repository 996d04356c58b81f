/**
 * A paged KV cache with prefix caching, modelled on vLLM V1's block pool
 * (`vllm/v1/core/block_pool.py`): blocks are reference counted; a block whose
 * count drops to 0 goes to the back of the free queue but keeps its hash, so a
 * later request can reuse it; allocation takes blocks from the front (least
 * recently freed) and evicts their hash. Requests free their blocks tail first,
 * so the end of a prompt is evicted before its shared beginning.
 */

/** Counters of cache activity since creation. */
export interface KvCacheStats {
  /** Cached blocks whose hash was dropped to reuse the block. */
  readonly evictions: number;
  /** Blocks allocated (fresh or evicted). */
  readonly allocations: number;
}

export interface KvCache {
  readonly numBlocks: number;
  readonly blockSize: number;
  /** Blocks not referenced by any request (including evictable cached blocks). */
  numFreeBlocks(): number;
  /** `1 - free / total`, as `vllm:kv_cache_usage_perc`. */
  usage(): number;
  /** Block ids of the longest cached prefix of `hashes` (not yet referenced). */
  lookup(hashes: readonly number[]): number[];
  /** How many of `blockIds` are currently free (referencing them consumes free blocks). */
  countFree(blockIds: readonly number[]): number;
  /** Reference cached blocks returned by `lookup`. */
  touch(blockIds: readonly number[]): void;
  /** Allocate `n` blocks, evicting cached ones as needed; undefined (and no change) if fewer are free. */
  allocate(n: number): number[] | undefined;
  /** Register a full, computed block under `hash` (ignored if the hash is already cached). */
  cacheBlock(blockId: number, hash: number): void;
  /** Release a request's blocks (tail first). */
  free(blockIds: readonly number[]): void;
  /** Whether `hash` is currently cached. */
  isCached(hash: number): boolean;
  stats(): KvCacheStats;
}

/** Creates an empty cache of `numBlocks` blocks of `blockSize` tokens. */
export function createKvCache(numBlocks: number, blockSize: number): KvCache {
  const refCount = new Int32Array(numBlocks);
  const hashOf: (number | undefined)[] = new Array(numBlocks).fill(undefined);
  const byHash = new Map<number, number>();
  // Insertion-ordered set as an O(1) LRU queue: first = next to evict.
  const freeQueue = new Set<number>();
  for (let i = 0; i < numBlocks; i++) freeQueue.add(i);
  let evictions = 0;
  let allocations = 0;

  return {
    numBlocks,
    blockSize,
    numFreeBlocks: () => freeQueue.size,
    usage: () => (numBlocks === 0 ? 0 : 1 - freeQueue.size / numBlocks),
    lookup(hashes) {
      const hits: number[] = [];
      for (const h of hashes) {
        const id = byHash.get(h);
        if (id === undefined) break;
        hits.push(id);
      }
      return hits;
    },
    countFree(blockIds) {
      let n = 0;
      for (const id of blockIds) if (refCount[id] === 0) n++;
      return n;
    },
    touch(blockIds) {
      for (const id of blockIds) {
        if (refCount[id] === 0) freeQueue.delete(id);
        refCount[id]!++;
      }
    },
    allocate(n) {
      if (n > freeQueue.size) return undefined;
      const out: number[] = new Array(n);
      const it = freeQueue.values();
      for (let i = 0; i < n; i++) out[i] = it.next().value as number;
      for (const id of out) {
        freeQueue.delete(id);
        const h = hashOf[id];
        if (h !== undefined) {
          byHash.delete(h);
          hashOf[id] = undefined;
          evictions++;
        }
        refCount[id] = 1;
      }
      allocations += n;
      return out;
    },
    cacheBlock(blockId, hash) {
      if (byHash.has(hash) || hashOf[blockId] !== undefined) return;
      byHash.set(hash, blockId);
      hashOf[blockId] = hash;
    },
    free(blockIds) {
      for (let i = blockIds.length - 1; i >= 0; i--) {
        const id = blockIds[i]!;
        refCount[id]!--;
        if (refCount[id] === 0) freeQueue.add(id);
      }
    },
    isCached: (hash) => byHash.has(hash),
    stats: () => ({ evictions, allocations }),
  };
}
