import { type CacheEntry, type CacheStore, type Clock, dot, type SimilarEntry } from "./cache-store.js";

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used go first. Default 10 000. */
  readonly maxEntries?: number;
  readonly now?: Clock;
}

interface Slot {
  readonly entry: CacheEntry;
  readonly vector: Float32Array | undefined;
}

/**
 * The embedded default store: exact lookup by id and brute-force cosine search per
 * partition (a few thousand vectors of a few hundred dimensions take well under a
 * millisecond). Same semantics as the Redis store, including lazy removal.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): CacheStore {
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const slots = new Map<string, Slot>();
  const partitions = new Map<string, Set<string>>();
  const generations = new Map<string, number>();

  const remove = (id: string): void => {
    const slot = slots.get(id);
    if (!slot) return;
    slots.delete(id);
    const members = partitions.get(slot.entry.partition);
    members?.delete(id);
    if (members?.size === 0) partitions.delete(slot.entry.partition);
  };
  const live = (id: string): Slot | undefined => {
    const slot = slots.get(id);
    if (!slot) return undefined;
    if (slot.entry.expiresAtMs <= now()) {
      remove(id);
      return undefined;
    }
    return slot;
  };

  return {
    kind: "memory",
    async get(partition, id) {
      const slot = live(id);
      if (!slot || slot.entry.partition !== partition) return undefined;
      slots.delete(id);
      slots.set(id, slot); // most recently used last
      return slot.entry;
    },
    async search(partition, vector, count) {
      const found: SimilarEntry[] = [];
      for (const id of [...(partitions.get(partition) ?? [])]) {
        const slot = live(id);
        if (slot?.vector) found.push({ entry: slot.entry, similarity: dot(vector, slot.vector) });
      }
      return found.sort((a, b) => b.similarity - a.similarity).slice(0, count);
    },
    async put(entry, vector) {
      remove(entry.id);
      slots.set(entry.id, { entry, vector: vector ? Float32Array.from(vector) : undefined });
      const members = partitions.get(entry.partition) ?? new Set<string>();
      partitions.set(entry.partition, members);
      members.add(entry.id);
      while (slots.size > maxEntries) {
        const oldest = slots.keys().next().value;
        if (oldest === undefined) break;
        remove(oldest);
      }
    },
    async generation(scope) {
      return generations.get(scope) ?? 0;
    },
    async bumpGeneration(scope) {
      const next = (generations.get(scope) ?? 0) + 1;
      generations.set(scope, next);
      return next;
    },
    async sweep() {
      let removed = 0;
      const time = now();
      for (const [id, slot] of [...slots]) {
        if (slot.entry.expiresAtMs <= time) {
          remove(id);
          removed++;
        }
      }
      return removed;
    },
    async close() {
      slots.clear();
      partitions.clear();
    },
  };
}
