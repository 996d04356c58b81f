/**
 * Approximate prefix-cache index: which endpoint probably holds which prompt blocks.
 * `hash -> endpoints` plus an LRU of hashes per endpoint; evicting from an endpoint's
 * LRU removes it from the hash entry (GIE approximateprefix indexer).
 */
export interface PrefixIndex {
  /** Records that `endpointId` now caches `hashes` (refreshing their recency). */
  add(endpointId: string, hashes: readonly number[], capacityBlocks: number): void;
  /**
   * Consecutive matched blocks from block 0 for each endpoint in `endpointIds`
   * (0 for endpoints with no match).
   */
  match(hashes: readonly number[], endpointIds: readonly string[]): Map<string, number>;
  /** Forgets an endpoint. */
  remove(endpointId: string): void;
  /** Blocks tracked for an endpoint. */
  size(endpointId: string): number;
  /** Endpoints with at least one tracked block. */
  endpoints(): string[];
}

export function createPrefixIndex(): PrefixIndex {
  const hashToEndpoints = new Map<number, Set<string>>();
  // Map iteration order is insertion order: delete + set moves a hash to most recent.
  const lruByEndpoint = new Map<string, Map<number, true>>();

  function evict(endpointId: string, lru: Map<number, true>, capacity: number): void {
    while (lru.size > capacity) {
      const oldest = lru.keys().next().value as number;
      lru.delete(oldest);
      const holders = hashToEndpoints.get(oldest);
      if (holders) {
        holders.delete(endpointId);
        if (holders.size === 0) hashToEndpoints.delete(oldest);
      }
    }
  }

  return {
    add(endpointId, hashes, capacityBlocks) {
      let lru = lruByEndpoint.get(endpointId);
      if (!lru) {
        lru = new Map();
        lruByEndpoint.set(endpointId, lru);
      }
      for (const hash of hashes) {
        lru.delete(hash);
        lru.set(hash, true);
        let holders = hashToEndpoints.get(hash);
        if (!holders) {
          holders = new Set();
          hashToEndpoints.set(hash, holders);
        }
        holders.add(endpointId);
      }
      evict(endpointId, lru, Math.max(0, capacityBlocks));
    },
    match(hashes, endpointIds) {
      const matched = new Map<string, number>();
      for (const id of endpointIds) matched.set(id, 0);
      let alive = new Set(endpointIds);
      for (let i = 0; i < hashes.length && alive.size > 0; i++) {
        const holders = hashToEndpoints.get(hashes[i] as number);
        if (!holders) break;
        const next = new Set<string>();
        for (const id of alive) {
          if (holders.has(id)) {
            next.add(id);
            matched.set(id, i + 1);
          }
        }
        alive = next;
      }
      return matched;
    },
    remove(endpointId) {
      const lru = lruByEndpoint.get(endpointId);
      if (!lru) return;
      evict(endpointId, lru, 0);
      lruByEndpoint.delete(endpointId);
    },
    size: (endpointId) => lruByEndpoint.get(endpointId)?.size ?? 0,
    endpoints: () => [...lruByEndpoint.keys()],
  };
}
