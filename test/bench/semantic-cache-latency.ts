/**
 * Semantic-cache latency: populate cost, L1 (exact) hit and L2 (embed + search +
 * verify) lookup, in memory, on Redis 8 vector sets and on a Redis Cluster (3 + 3 on
 * loopback), measured on the cache
 * itself and through the callout (real gRPC server + Envoy-faithful client).
 *
 *   node --import tsx test/bench/semantic-cache-latency.ts [--entries N] [--queries N]
 *
 * Redis: REDIS_URL, else a private Redis 8 from scripts/redis8.sh.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chatCompletionAnswer, createEnvoyClient, type FilterConfig } from "@llm-callouts/envoy-emulator";
import { createHeaderMap, type StreamContext, startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { seededRandom } from "@llm-callouts/random";
import { createCircuitBreaker } from "@llm-callouts/remote";
import { parseChatRequest } from "../../packages/semantic-cache/src/chat-request.js";
import {
  type CacheStore,
  configSchema,
  connectRedis,
  createMemoryStore,
  createRedisClient,
  createRedisStore,
  createSemanticCacheService,
  type StoredCompletion,
} from "../../packages/semantic-cache/src/index.js";
import { createSemanticCache } from "../../packages/semantic-cache/src/semantic-cache.js";
import { createStoreGuard } from "../../packages/semantic-cache/src/store-guard.js";
import { startTestRedis, startTestRedisCluster } from "../../packages/semantic-cache/src/testing/redis-server.js";
import { createVerifier } from "../../packages/semantic-cache/src/verifier.js";
import { offlineVerifierModel } from "../../packages/semantic-cache/src/verifier-model.js";
import { createWordVectorEmbedder } from "../../packages/semantic-cache/src/word-vector-embedder.js";
import { loadWinkWordVectors } from "../../packages/semantic-cache/src/word-vectors.js";
import { bufferedRequest, createRawClient, roundTrip } from "./raw-client.js";

const { values } = parseArgs({
  options: {
    entries: { type: "string", default: "2000" },
    queries: { type: "string", default: "500" },
    data: { type: "string", default: join(process.cwd(), "..", "shared", "data", "qqp-pairs-dev.jsonl") },
  },
});
const entries = Number(values.entries);
const queries = Number(values.queries);

const pairs = readFileSync(values.data, "utf8")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line) as { a: string; b: string });
const random = seededRandom(42);
const picked = pairs
  .map((p) => ({ p, k: random() }))
  .sort((x, y) => x.k - y.k)
  .slice(0, entries)
  .map(({ p }) => p);

const loadStart = performance.now();
const words = loadWinkWordVectors();
const loadMs = performance.now() - loadStart;
const embedder = createWordVectorEmbedder({ vectors: words });

const body = (content: string, stream = false): Uint8Array =>
  Buffer.from(JSON.stringify({ model: "m", temperature: 0, stream, messages: [{ role: "user", content }] }));
const request = (content: string) => {
  const parsed = parseChatRequest(body(content));
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.value;
};
const answer = (text: string): StoredCompletion => ({
  id: "chatcmpl-bench",
  model: "m",
  created: 1,
  choices: [{ index: 0, role: "assistant", content: text, finishReason: "stop" }],
});

function quantile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
const ms = (v: number): string => v.toFixed(3);
const rows: string[] = [];
const row = (store: string, op: string, samples: number[]) =>
  rows.push(
    `| ${store} | ${op} | ${samples.length} | ${ms(quantile(samples, 0.5))} | ${ms(quantile(samples, 0.99))} |`,
  );

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function benchStore(name: string, store: CacheStore): Promise<void> {
  const guard = createStoreGuard({ timeoutMs: 1_000, breaker: createCircuitBreaker() });
  const cache = createSemanticCache({
    store,
    guard,
    semantic: { embedder, threshold: embedder.defaultThreshold },
    verifier: createVerifier({ mode: "learned", model: offlineVerifierModel, words }),
    ttlMs: 3_600_000,
    maxEntryBytes: 1 << 20,
  });
  const populate: number[] = [];
  for (const { a } of picked) {
    populate.push(
      await timed(async () => {
        const miss = await cache.lookup({ request: request(a), tenant: "bench", semantic: true, lookup: true });
        if (miss.status === "MISS" && miss.ticket) await cache.fill(miss.ticket, answer(a));
      }),
    );
  }
  row(name, `populate (lookup miss + embed + fill), ${entries} entries`, populate);
  const l1: number[] = [];
  const l2: number[] = [];
  let hits = 0;
  for (let i = 0; i < queries; i++) {
    const pair = picked[i % picked.length] as { a: string; b: string };
    const exact = request(pair.a);
    l1.push(await timed(() => cache.lookup({ request: exact, tenant: "bench", semantic: true, lookup: true })));
    const para = request(pair.b);
    l2.push(
      await timed(async () => {
        const outcome = await cache.lookup({ request: para, tenant: "bench", semantic: true, lookup: true });
        if (outcome.status === "HIT-SEMANTIC") hits++;
      }),
    );
  }
  row(name, "L1 exact hit (cache.lookup)", l1);
  row(name, `L2 lookup: embed + search + verify (${hits} hits)`, l2);
}

async function benchCallout(name: string, redisUrl: string, redisCluster = false): Promise<void> {
  const runtime = createTestRuntime();
  const config = configSchema.parse({ redisUrl, redisCluster, keyPrefix: `bench${Date.now()}:`, sweepIntervalMs: 0 });
  const service = await createSemanticCacheService(config, runtime, { embedder, words });
  const server = await startService(service, { host: "127.0.0.1", port: 0, adminPort: 0, log: runtime.log });
  const client = createEnvoyClient(`127.0.0.1:${server.port}`);
  const filter: FilterConfig = {
    processingMode: { requestBodyMode: "BUFFERED", responseHeaderMode: "SEND", responseBodyMode: "NONE" },
    allowModeOverride: true,
    messageTimeoutMs: 5_000,
  };
  const upstream = chatCompletionAnswer("m", "cached answer");
  const exchange = (content: string) =>
    client.exchange(filter, {
      request: { headers: { ":method": "POST", ":path": "/v1/chat/completions" }, body: [body(content)] },
      upstream,
    });
  const subset = picked.slice(0, Math.min(200, picked.length));
  for (const { a } of subset) await exchange(a);
  // The same hits through the service's processor without gRPC: the callout's own cost.
  const context = {
    streamId: "bench",
    requestId: undefined,
    log: runtime.log,
    signal: new AbortController().signal,
    bodyModes: { request: "BUFFERED", response: "NONE" },
    observability: false,
    metadata: {},
    attributes: {},
    requestHeaders: undefined,
  } satisfies StreamContext;
  const headers = createHeaderMap({ ":method": "POST", ":path": "/v1/chat/completions" });
  const direct: number[] = [];
  for (let i = 0; i < queries; i++) {
    const processor = service.processor(context);
    const content = (subset[i % subset.length] as { a: string }).a;
    direct.push(await timed(async () => processor.onRequestBody?.({ body: body(content), headers, partial: false })));
  }
  row(name, "L1 hit in the processor (parse + policy + lookup + replay, no gRPC)", direct);
  const l1: number[] = [];
  for (let i = 0; i < queries; i++)
    l1.push(await timed(() => exchange((subset[i % subset.length] as { a: string }).a)));
  row(name, "L1 hit through the callout (gRPC round trip, Envoy-faithful client included)", l1);
  client.close();
  // The same hits with a lean pre-encoded client: what the callout adds behind Envoy.
  const raw = createRawClient(`127.0.0.1:${server.port}`);
  const requests = subset.map(({ a }) =>
    bufferedRequest(
      { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json" },
      body(a),
    ),
  );
  for (const r of requests.slice(0, 50)) await roundTrip(raw, r);
  const lean: number[] = [];
  for (let i = 0; i < queries; i++) lean.push(await roundTrip(raw, requests[i % requests.length]!));
  row(name, "L1 hit through the callout (gRPC round trip, lean client)", lean);
  raw.close();
  await server.shutdown();
  await service.close?.();
}

await benchStore("memory", createMemoryStore({ maxEntries: 1_000_000 }));
await benchCallout("memory", "");
const redis = await startTestRedis();
if (redis) {
  const client = createRedisClient(redis.url);
  await client.connect();
  await benchStore("redis 8", createRedisStore({ client, keyPrefix: `bench${Date.now()}:` }));
  client.disconnect();
  await benchCallout("redis 8", redis.url);
  await redis.stop();
} else {
  rows.push("| redis 8 | unavailable (no REDIS_URL and scripts/redis8.sh failed) | | | |");
}
// The same on a Redis Cluster of 3 masters + 3 replicas on loopback: one partition is one hash
// tag, so every lookup is served by one shard, as on one Redis.
const cluster = await startTestRedisCluster();
if (cluster) {
  const client = createRedisClient(cluster.url, { cluster: true });
  await connectRedis(client);
  await benchStore("redis cluster", createRedisStore({ client, keyPrefix: `bench${Date.now()}:` }));
  client.disconnect();
  await benchCallout("redis cluster", cluster.url, true);
  await cluster.stop();
} else {
  rows.push("| redis cluster | unavailable (scripts/redis8.sh failed) | | | |");
}

console.log(`semantic-cache latency; word vectors loaded in ${loadMs.toFixed(0)} ms; embedder ${embedder.id}\n`);
console.log("| store | operation | n | p50 ms | p99 ms |");
console.log("| --- | --- | --- | --- | --- |");
for (const line of rows) console.log(line);
