import { traceOutbound } from "@llm-callouts/ext-proc";
import { Redis } from "ioredis";
import type { CacheEntry, CacheStore, Clock, SimilarEntry } from "./cache-store.js";

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** A connected (or lazily connecting) ioredis client; the store owns it after creation. */
  readonly client: Redis;
  /** Prefix of every key. Default `sc:`. */
  readonly keyPrefix?: string;
  /** How long a vector-set key outlives its newest entry. Default 60 000 ms. */
  readonly indexGraceMs?: number;
  /** Most vector elements checked per key and sweep. Default 1 000. */
  readonly sweepBatch?: number;
  readonly now?: Clock;
}

/**
 * Redis 8 vector sets: entries are `<p>e:<id>` strings with their own TTL; each
 * partition is one vector set `<p>v:<partition>` (NOQUANT, so similarities equal the
 * in-memory store's); elements whose entry expired are removed lazily on search and
 * by {@link CacheStore.sweep}. Generations live in `<p>g:<scope>` counters.
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore {
  const { client } = options;
  const prefix = options.keyPrefix ?? "sc:";
  const graceMs = options.indexGraceMs ?? 60_000;
  const sweepBatch = options.sweepBatch ?? 1_000;
  const now = options.now ?? Date.now;
  const entryKey = (id: string): string => `${prefix}e:${id}`;
  const indexKey = (partition: string): string => `${prefix}v:${partition}`;

  const parse = (raw: string | null): CacheEntry | undefined => {
    if (raw === null) return undefined;
    const entry = JSON.parse(raw) as CacheEntry;
    return entry.expiresAtMs > now() ? entry : undefined;
  };
  const dropElements = async (key: string, ids: readonly string[]): Promise<void> => {
    if (ids.length === 0) return;
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.call("VREM", key, id).del(entryKey(id));
    await pipeline.exec();
  };

  // A client span per store call (OpenTelemetry database conventions), under the request's span.
  const redis = <T>(operation: string, fn: () => Promise<T>) =>
    traceOutbound(`redis ${operation}`, { "db.system.name": "redis", "db.operation.name": operation }, fn);

  return {
    kind: "redis-vector-set",
    async get(id) {
      return redis("GET", async () => {
        return parse(await client.get(entryKey(id)));
      });
    },
    async search(partition, vector, count) {
      return redis("VSIM", async () => {
        const key = indexKey(partition);
        const blob = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
        const reply = (await client.call("VSIM", key, "FP32", blob, "WITHSCORES", "COUNT", String(count))) as
          | string[]
          | null;
        if (!reply || reply.length === 0) return [];
        const ids: string[] = [];
        const scores: number[] = [];
        for (let i = 0; i + 1 < reply.length; i += 2) {
          ids.push(String(reply[i]));
          scores.push(Number(reply[i + 1]));
        }
        const raws = await client.mget(ids.map(entryKey));
        const found: SimilarEntry[] = [];
        const stale: string[] = [];
        ids.forEach((id, i) => {
          const entry = parse(raws[i] ?? null);
          // VSIM scores are (1 + cosine) / 2; callers work with the cosine.
          if (entry) found.push({ entry, similarity: 2 * (scores[i] as number) - 1 });
          else stale.push(id);
        });
        await dropElements(key, stale);
        return found;
      });
    },
    async put(entry, vector) {
      return redis("MULTI", async () => {
        const ttlMs = Math.max(1, entry.expiresAtMs - now());
        const multi = client.multi().set(entryKey(entry.id), JSON.stringify(entry), "PX", ttlMs);
        if (vector) {
          const key = indexKey(entry.partition);
          const blob = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
          multi
            .call("VADD", key, "FP32", blob, entry.id, "NOQUANT")
            // The set outlives its newest entry by the grace period, then disappears.
            .call("PEXPIRE", key, String(ttlMs + graceMs), "NX")
            .call("PEXPIRE", key, String(ttlMs + graceMs), "GT");
        }
        const results = await multi.exec();
        const failed = results?.find(([error]) => error);
        if (failed?.[0]) throw failed[0];
      });
    },
    async generation(scope) {
      return redis("GET", async () => {
        return Number((await client.get(`${prefix}g:${scope}`)) ?? 0);
      });
    },
    async bumpGeneration(scope) {
      return redis("INCR", async () => {
        return client.incr(`${prefix}g:${scope}`);
      });
    },
    async sweep() {
      let removed = 0;
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}v:*`, "COUNT", 100);
        cursor = next;
        for (const key of keys) {
          const ids = ((await client.call("VRANDMEMBER", key, String(sweepBatch))) as string[] | null) ?? [];
          if (ids.length === 0) continue;
          const raws = await client.mget(ids.map(entryKey));
          const stale = ids.filter((_, i) => parse(raws[i] ?? null) === undefined);
          await dropElements(key, stale);
          removed += stale.length;
        }
      } while (cursor !== "0");
      return removed;
    },
    async close() {
      client.disconnect();
    },
  };
}

/**
 * An ioredis client tuned for a fail-open cache: no offline queue and no retries per
 * command (a disconnected client fails at once, the guard turns that into MISS),
 * reconnecting in the background with backoff up to 2 s.
 */
export function createRedisClient(url: string, options: { connectTimeoutMs?: number } = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: options.connectTimeoutMs ?? 1_000,
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
}
