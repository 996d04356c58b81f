import { Redis } from "ioredis";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { CacheEntry, CacheStore } from "./cache-store.js";
import { createMemoryStore } from "./memory-store.js";
import { connectRedis, createRedisClient, createRedisStore } from "./redis-store.js";
import type { StoredCompletion } from "./stored-completion.js";
import { startTestRedis, startTestRedisCluster } from "./testing/redis-server.js";

const redis = await startTestRedis();
afterAll(() => redis?.stop());
const cluster = await startTestRedisCluster();
afterAll(() => cluster?.stop());

let time = 1_000_000;
const now = (): number => time;

function unit(...values: number[]): Float32Array {
  const norm = Math.hypot(...values);
  return Float32Array.from(values.map((v) => v / norm));
}

function completion(text: string): StoredCompletion {
  return {
    id: "chatcmpl-1",
    model: "m",
    created: 1,
    choices: [{ index: 0, role: "assistant", content: text, finishReason: "stop" }],
  };
}

function entry(id: string, partition: string, ttlMs = 60_000): CacheEntry {
  return {
    id,
    partition,
    prompt: `prompt ${id}`,
    completion: completion(id),
    createdAtMs: time,
    expiresAtMs: time + ttlMs,
  };
}

type Factory = () => Promise<CacheStore>;
const factories: [string, Factory | undefined][] = [
  ["memory", async () => createMemoryStore({ now })],
  [
    "redis-vector-set",
    redis
      ? async () => {
          const client = new Redis(redis.url);
          const prefix = `t${Math.random().toString(36).slice(2, 8)}:`;
          return createRedisStore({ client, keyPrefix: prefix, now });
        }
      : undefined,
  ],
  [
    "redis-cluster-vector-set",
    cluster
      ? async () => {
          const client = createRedisClient(cluster.url, { cluster: true });
          await connectRedis(client);
          const prefix = `t${Math.random().toString(36).slice(2, 8)}:`;
          return createRedisStore({ client, keyPrefix: prefix, now });
        }
      : undefined,
  ],
];

describe.each(factories)("%s store", (_name, factory) => {
  let store: CacheStore;
  beforeEach(async () => {
    time = 1_000_000;
    if (store) await store.close();
    if (factory) store = await factory();
  });
  afterAll(() => store?.close());

  it.skipIf(!factory)("gets an entry by id until it expires", async () => {
    await store.put(entry("a", "p1", 1_000), undefined);
    expect((await store.get("p1", "a"))?.completion.choices[0]?.content).toBe("a");
    time += 1_000;
    expect(await store.get("p1", "a")).toBeUndefined();
  });

  it.skipIf(!factory)("finds nearest entries of the same partition only, best first", async () => {
    await store.put(entry("x", "p1"), unit(1, 0, 0));
    await store.put(entry("y", "p1"), unit(1, 1, 0));
    await store.put(entry("z", "p2"), unit(1, 0, 0));
    const found = await store.search("p1", unit(1, 0.1, 0), 5);
    expect(found.map((f) => f.entry.id)).toEqual(["x", "y"]);
    expect(found[0]?.similarity).toBeCloseTo(0.995, 3);
    expect(found[1]?.similarity).toBeCloseTo(0.774, 3);
  });

  it.skipIf(!factory)("drops elements whose entry expired while searching", async () => {
    await store.put(entry("old", "p1", 500), unit(1, 0, 0));
    await store.put(entry("new", "p1", 5_000), unit(0.9, 0.1, 0));
    time += 1_000;
    expect((await store.search("p1", unit(1, 0, 0), 5)).map((f) => f.entry.id)).toEqual(["new"]);
    expect(await store.sweep()).toBe(0);
  });

  it.skipIf(!factory)("sweeps expired elements", async () => {
    await store.put(entry("a", "p1", 500), unit(1, 0, 0));
    await store.put(entry("b", "p2", 500), unit(0, 1, 0));
    await store.put(entry("c", "p2", 5_000), unit(0, 0, 1));
    time += 1_000;
    expect(await store.sweep()).toBe(2);
    expect(await store.sweep()).toBe(0);
  });

  it.skipIf(!factory)("replaces an entry stored again under the same id", async () => {
    await store.put(entry("a", "p1"), unit(1, 0, 0));
    await store.put({ ...entry("a", "p1"), prompt: "second" }, unit(0, 1, 0));
    const found = await store.search("p1", unit(0, 1, 0), 5);
    expect(found.map((f) => [f.entry.prompt, Math.round(f.similarity * 100)])).toEqual([["second", 100]]);
  });

  it.skipIf(!factory)("counts generations per scope", async () => {
    expect(await store.generation("tenant-a")).toBe(0);
    expect(await store.bumpGeneration("tenant-a")).toBe(1);
    expect(await store.bumpGeneration("tenant-a")).toBe(2);
    expect(await store.generation("tenant-a")).toBe(2);
    expect(await store.generation("tenant-b")).toBe(0);
  });
});

describe("createMemoryStore()", () => {
  it("evicts the least recently used entry beyond maxEntries", async () => {
    const store = createMemoryStore({ maxEntries: 2, now });
    await store.put(entry("a", "p"), undefined);
    await store.put(entry("b", "p"), undefined);
    await store.get("p", "a");
    await store.put(entry("c", "p"), undefined);
    expect([await store.get("p", "a"), await store.get("p", "b"), await store.get("p", "c")].map((e) => e?.id)).toEqual(
      ["a", undefined, "c"],
    );
  });
});
