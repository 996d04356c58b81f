import { createRequire } from "node:module";
import { traceOutbound } from "@llm-callouts/ext-proc";
import { Cluster, type ClusterNode, Redis, type RedisOptions } from "ioredis";

/** Redis Cluster's key-to-slot function (CRC16 of the hash tag), the one ioredis uses; a CommonJS `export =`. */
const calculateSlot = createRequire(import.meta.url)("cluster-key-slot") as (key: string) => number;

import type { CacheEntry, CacheStore, Clock, SimilarEntry } from "./cache-store.js";

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected (or lazily connecting) ioredis client, one server or a Redis Cluster; the
   * store owns it after creation.
   */
  readonly client: Redis | Cluster;
  /** Prefix of every key; no `{` or `}` (hash tags are the store's). Default `sc:`. */
  readonly keyPrefix?: string;
  /** How long a vector-set key outlives its newest entry. Default 60 000 ms. */
  readonly indexGraceMs?: number;
  /** Most vector elements checked per key and sweep. Default 1 000. */
  readonly sweepBatch?: number;
  readonly now?: Clock;
}

/**
 * Redis 8 vector sets: each partition is one vector set `<p>v:{<partition>}` (NOQUANT, so
 * similarities equal the in-memory store's), its entries are `<p>e:{<partition>}:<id>`
 * strings with their own TTL; elements whose entry expired are removed lazily on search
 * and by {@link CacheStore.sweep}. Generations live in `<p>g:{<scope>}` counters.
 *
 * The braces are Redis Cluster hash tags: a partition's vector set and all its entries
 * hash to one slot, so every multi-key command (MGET, the fill's MULTI, the pipelined
 * VREM + DEL) stays on one shard and no command ever spans slots. The same layout serves
 * one Redis, where the tags are just characters.
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore {
  const { client } = options;
  const prefix = options.keyPrefix ?? "sc:";
  const graceMs = options.indexGraceMs ?? 60_000;
  const sweepBatch = options.sweepBatch ?? 1_000;
  const now = options.now ?? Date.now;
  if (/[{}]/.test(prefix)) throw new Error(`keyPrefix ${JSON.stringify(prefix)} must not contain { or }`);
  const entryKey = (partition: string, id: string): string => `${prefix}e:{${partition}}:${id}`;
  const indexKey = (partition: string): string => `${prefix}v:{${partition}}`;
  const generationKey = (scope: string): string => `${prefix}g:{${scope}}`;

  const parse = (raw: string | null): CacheEntry | undefined => {
    if (raw === null) return undefined;
    const entry = JSON.parse(raw) as CacheEntry;
    return entry.expiresAtMs > now() ? entry : undefined;
  };
  const dropElements = async (partition: string, ids: readonly string[]): Promise<void> => {
    if (ids.length === 0) return;
    const key = indexKey(partition);
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.call("VREM", key, id).del(entryKey(partition, id));
    await pipeline.exec();
  };

  // A client span per store call (OpenTelemetry database conventions), under the request's span.
  const redis = <T>(operation: string, fn: () => Promise<T>) =>
    traceOutbound(`redis ${operation}`, { "db.system.name": "redis", "db.operation.name": operation }, fn);

  return {
    kind: client instanceof Cluster ? "redis-cluster-vector-set" : "redis-vector-set",
    async get(partition, id) {
      return redis("GET", async () => {
        return parse(await client.get(entryKey(partition, id)));
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
        const raws = await client.mget(ids.map((id) => entryKey(partition, id)));
        const found: SimilarEntry[] = [];
        const stale: string[] = [];
        ids.forEach((id, i) => {
          const entry = parse(raws[i] ?? null);
          // VSIM scores are (1 + cosine) / 2; callers work with the cosine.
          if (entry) found.push({ entry, similarity: 2 * (scores[i] as number) - 1 });
          else stale.push(id);
        });
        await dropElements(partition, stale);
        return found;
      });
    },
    async put(entry, vector) {
      return redis("MULTI", async () => {
        const ttlMs = Math.max(1, entry.expiresAtMs - now());
        const multi = client.multi().set(entryKey(entry.partition, entry.id), JSON.stringify(entry), "PX", ttlMs);
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
        return Number((await client.get(generationKey(scope))) ?? 0);
      });
    },
    async bumpGeneration(scope) {
      return redis("INCR", async () => {
        return client.incr(generationKey(scope));
      });
    },
    // The master serving the tag's slot, from the client's slot map (refreshed every second).
    ...(client instanceof Cluster ? { shardOf: (tag: string) => client.slots[calculateSlot(`{${tag}}`)]?.[0] } : {}),
    async sweep() {
      let removed = 0;
      // SCAN is per server: a cluster is swept master by master.
      const servers = client instanceof Cluster ? client.nodes("master") : [client];
      const pattern = `${prefix}v:{*}`;
      for (const server of servers) {
        let cursor = "0";
        do {
          const [next, keys] = await server.scan(cursor, "MATCH", pattern, "COUNT", 100);
          cursor = next;
          for (const key of keys) {
            const partition = key.slice(prefix.length + 3, -1);
            const ids = ((await client.call("VRANDMEMBER", key, String(sweepBatch))) as string[] | null) ?? [];
            if (ids.length === 0) continue;
            const raws = await client.mget(ids.map((id) => entryKey(partition, id)));
            const stale = ids.filter((_, i) => parse(raws[i] ?? null) === undefined);
            await dropElements(partition, stale);
            removed += stale.length;
          }
        } while (cursor !== "0");
      }
      return removed;
    },
    async close() {
      client.disconnect();
    },
  };
}

/** Options of {@link createRedisClient}. */
export interface RedisClientOptions {
  readonly connectTimeoutMs?: number;
  /**
   * Treat `url` as seeds of a Redis Cluster (Memorystore Cluster, Redis Enterprise's OSS
   * cluster API, ElastiCache cluster mode): one URL or several separated by commas. The
   * client learns the slot map from any seed and follows MOVED/ASK and failovers.
   */
  readonly cluster?: boolean;
  /** How often a cluster client re-reads the slot map on its own. Default 1 000 ms. */
  readonly slotsRefreshIntervalMs?: number;
}

/**
 * An ioredis client tuned for a fail-open cache: no offline queue and no retries per
 * command (a disconnected client fails at once, the guard turns that into MISS),
 * reconnecting in the background with backoff up to 2 s. With `cluster`, an ioredis
 * Cluster with the same per-node settings; a command to a shard whose master just died
 * fails (MISS) until a replica is promoted and the slot map says so.
 */
export function createRedisClient(url: string, options: RedisClientOptions = {}): Redis | Cluster {
  const retryStrategy = (attempt: number): number => Math.min(attempt * 200, 2_000);
  const perNode: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: options.connectTimeoutMs ?? 1_000,
    retryStrategy,
  };
  if (!options.cluster) return new Redis(url, { ...perNode, lazyConnect: true });
  const seeds = url
    .split(",")
    .map((seed) => seed.trim())
    .filter((seed) => seed !== "")
    .map(parseSeed);
  const first = seeds[0];
  if (!first) throw new Error("redisUrl names no cluster seed");
  return new Cluster(
    seeds.map((seed) => seed.node),
    {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: retryStrategy,
      slotsRefreshInterval: options.slotsRefreshIntervalMs ?? 1_000,
      slotsRefreshTimeout: options.connectTimeoutMs ?? 1_000,
      // A command that meets a failover or CLUSTERDOWN fails now (MISS) instead of waiting.
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      retryDelayOnTryAgain: 0,
      redisOptions: { ...perNode, ...first.auth },
    },
  );
}

/**
 * Starts a client's connection and resolves true once it is ready, false after
 * `timeoutMs` (the client keeps connecting in the background; until then the store fails
 * open). Not `await client.connect()`: ioredis 5's Cluster never settles that promise when
 * its first ready check fails (a cluster whose state is not yet `ok`) and it reconnects,
 * which would hang the service's start.
 */
export async function connectRedis(client: Redis | Cluster, timeoutMs = 5_000): Promise<boolean> {
  if (client.status === "ready") return true;
  let onReady: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const ready = new Promise<boolean>((done) => {
    onReady = () => done(true);
    client.once("ready", onReady);
    timer = setTimeout(() => done(false), timeoutMs);
  });
  client.connect().catch(() => {}); // failures reach the client's "error" listeners
  try {
    return await ready;
  } finally {
    clearTimeout(timer);
    if (onReady) client.off("ready", onReady);
  }
}

/** One `redis://` or `rediss://` seed: host, port and the credentials and TLS every node shares. */
export function parseSeed(seed: string): { node: ClusterNode; auth: RedisOptions } {
  let url: URL;
  try {
    url = new URL(seed);
  } catch {
    throw new Error(`redisUrl seed ${JSON.stringify(seed.replace(/\/\/[^@/]*@/, "//***@"))} is not a URL`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new Error(`redisUrl seed protocol ${url.protocol} is not redis: or rediss:`);
  }
  const auth: RedisOptions = {};
  if (url.username) auth.username = decodeURIComponent(url.username);
  if (url.password) auth.password = decodeURIComponent(url.password);
  if (url.protocol === "rediss:") auth.tls = {};
  return { node: { host: url.hostname, port: Number(url.port || 6379) }, auth };
}
