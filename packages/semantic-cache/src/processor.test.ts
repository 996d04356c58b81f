import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  chatCompletionAnswer,
  createEnvoyClient,
  type EnvoyClient,
  type ExchangeResult,
  type FilterConfig,
  type HttpMessage,
} from "@llm-callouts/envoy-emulator";
import { startService } from "@llm-callouts/ext-proc";
import { createTestRuntime } from "@llm-callouts/ext-proc/testing";
import { embeddingOf, startSimulator } from "@llm-callouts/model-server-sim";
import { type Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CacheStore, dot } from "./cache-store.js";
import { configSchema } from "./config.js";
import type { Embedder } from "./embedder.js";
import { createMemoryStore } from "./memory-store.js";
import { createOpenAiEmbedder } from "./openai-embedder.js";
import { outOfVocabularyParaphrases } from "./probe-pairs.testdata.js";
import { connectRedis, createRedisClient, createRedisStore } from "./redis-store.js";
import { createSemanticCacheService } from "./service.js";
import { startTestRedis, startTestRedisCluster } from "./testing/redis-server.js";
import { createTransformersEmbedder } from "./transformers-embedder.js";
import { writeTinyBert } from "./transformers-embedder.testdata.js";
import { createWordVectorEmbedder } from "./word-vector-embedder.js";
import { loadWinkWordVectors } from "./word-vectors.js";

const words = loadWinkWordVectors();
const transformersInstalled = await import("@huggingface/transformers").then(
  () => true,
  () => false,
);
const embedder = createWordVectorEmbedder({ vectors: words });
const redis = await startTestRedis();
afterAll(() => redis?.stop());
const cluster = await startTestRedisCluster();
afterAll(() => cluster?.stop());

/** Envoy's semantic-cache filter as deploy/envoy/envoy.yaml configures it. */
const filter: FilterConfig = {
  processingMode: { requestBodyMode: "BUFFERED", responseHeaderMode: "SEND", responseBodyMode: "NONE" },
  allowModeOverride: true,
  failureModeAllow: true,
  messageTimeoutMs: 10_000,
};

let clock = 1_700_000_000_000;
const now = (): number => clock;

interface Harness {
  client: EnvoyClient;
  store: CacheStore;
  upstreamCalls: number;
  metrics: () => Promise<string>;
  close(): Promise<void>;
}

/**
 * The service over real gRPC. Without `storeFactory` the service opens its own store from
 * `config` as the CLI does (the harness's `store` is then unused).
 */
async function startHarness(
  storeFactory: (() => CacheStore | Promise<CacheStore>) | undefined,
  config: Record<string, unknown> = {},
  options: { embedder?: Embedder; now?: () => number } = {},
): Promise<Harness> {
  const runtime = createTestRuntime();
  const store = storeFactory ? await storeFactory() : undefined;
  const service = await createSemanticCacheService(
    // Generous timeouts: a loaded CI machine must not turn hits into fail-open misses.
    configSchema.parse({
      redisUrl: "",
      sweepIntervalMs: 0,
      purgeToken: "secret",
      storeTimeoutMs: 2_000,
      embedTimeoutMs: 5_000,
      ...config,
    }),
    runtime,
    { embedder: options.embedder ?? embedder, words, ...(store ? { store } : {}), now: options.now ?? now },
  );
  const server = await startService(service, { host: "127.0.0.1", port: 0, adminPort: 0, log: runtime.log });
  const client = createEnvoyClient(`127.0.0.1:${server.port}`);
  const harness: Harness = {
    client,
    store: store ?? createMemoryStore(),
    upstreamCalls: 0,
    metrics: () => runtime.metrics.metrics(),
    async close() {
      client.close();
      await server.shutdown();
      await service.close?.();
    },
  };
  return harness;
}

function chatBody(content: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: "m1", messages: [{ role: "user", content }], temperature: 0, ...extra });
}

const jsonAnswer = (text: string): HttpMessage => chatCompletionAnswer("m1", text);

function sseAnswer(parts: string[], finish = true): HttpMessage {
  const chunk = (delta: Record<string, unknown>, reason: string | null) =>
    `data: ${JSON.stringify({ id: "chatcmpl-2", object: "chat.completion.chunk", created: 1, model: "m1", choices: [{ index: 0, delta, finish_reason: reason }] })}\n\n`;
  const body = [chunk({ role: "assistant", content: "" }, null), ...parts.map((p) => chunk({ content: p }, null))];
  if (finish) body.push(chunk({}, "stop"), "data: [DONE]\n\n");
  return { headers: { ":status": "200", "content-type": "text/event-stream" }, body };
}

async function ask(
  h: Harness,
  body: string,
  answer: HttpMessage = jsonAnswer("Paris"),
  headers: Record<string, string> = {},
  extra: { abortAfterResponseChunks?: number } = {},
): Promise<ExchangeResult> {
  return h.client.exchange(filter, {
    request: {
      headers: { ":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json", ...headers },
      body: [body],
    },
    upstream: () => {
      h.upstreamCalls++;
      return answer;
    },
    ...extra,
  });
}

function header(result: ExchangeResult, name: string): string | undefined {
  return result.downstream.headers.find(([n]) => n === name)?.[1];
}
const text = (result: ExchangeResult): string => Buffer.from(result.downstream.body).toString();

type StoreCase = [name: string, factory: (() => CacheStore | Promise<CacheStore>) | undefined];
const stores: StoreCase[] = [
  ["memory", () => createMemoryStore({ now })],
  [
    "redis",
    redis
      ? () =>
          createRedisStore({
            client: new Redis(redis.url),
            keyPrefix: `p${Math.random().toString(36).slice(2, 8)}:`,
            now,
          })
      : undefined,
  ],
  [
    "redis-cluster",
    cluster
      ? async () => {
          // The service's own client settings (no offline queue), connected before use as the service does.
          const client = createRedisClient(cluster.url, { cluster: true });
          await connectRedis(client);
          return createRedisStore({ client, keyPrefix: `p${Math.random().toString(36).slice(2, 8)}:`, now });
        }
      : undefined,
  ],
];

describe.each(stores)("semantic-cache processor with the %s store", (_name, factory) => {
  let h: Harness;
  beforeAll(async () => {
    if (factory) h = await startHarness(factory);
  });
  afterAll(() => h?.close());
  beforeEach(() => {
    clock += 10 * 3_600_000; // every test starts after the previous test's entries expired
  });
  const test = it.skipIf(!factory);

  test("misses, fills from a JSON answer, then answers the same request from L1", async () => {
    const first = await ask(h, chatBody("What is the capital of France?"));
    expect([header(first, "x-cache-status"), first.upstream !== undefined]).toEqual(["MISS", true]);
    const second = await ask(h, chatBody("What is the capital of France?"));
    expect(second.upstream).toBeUndefined();
    expect(second.immediateResponse?.status).toBe(200);
    expect(header(second, "x-cache-status")).toBe("HIT-EXACT");
    expect(JSON.parse(text(second)).choices[0].message.content).toBe("Paris");
  });

  test.each(["no-store", "private", "max-age=60, Private"])(
    "does not store an answer whose upstream says Cache-Control: %s",
    async (cacheControl) => {
      const question = chatBody(`Which answer may not be kept (${cacheControl})?`);
      const answer = jsonAnswer("Not for keeping.");
      const first = await ask(h, question, {
        ...answer,
        headers: { ...answer.headers, "cache-control": cacheControl },
      });
      expect(JSON.parse(text(first)).choices[0].message.content).toBe("Not for keeping.");
      const again = await ask(h, question);
      expect([header(again, "x-cache-status"), again.upstream !== undefined]).toEqual(["MISS", true]);
      expect(await h.metrics()).toMatch(
        new RegExp(
          `callouts_cache_fills_total\\{outcome="${cacheControl.includes("no-store") ? "no_store" : "private"}"\\} [1-9]`,
        ),
      );
    },
  );

  test("serves a paraphrase from L2 with its similarity", async () => {
    await ask(h, chatBody("How do I reset my password?"), jsonAnswer("Use the reset link."));
    const hit = await ask(h, chatBody("How can I reset my password?"));
    expect(header(hit, "x-cache-status")).toBe("HIT-SEMANTIC");
    expect(Number(header(hit, "x-cache-similarity"))).toBeGreaterThanOrEqual(0.98);
    expect(JSON.parse(text(hit)).choices[0].message.content).toBe("Use the reset link.");
  });

  test("rejects an antonym paraphrase above the threshold", async () => {
    await ask(h, chatBody("How do I turn on dark mode?"), jsonAnswer("Settings > Dark > On"));
    const result = await ask(h, chatBody("How do I turn off dark mode?"));
    expect(header(result, "x-cache-status")).toBe("MISS");
  });

  test("passes SSE chunks through, stores the finished stream and replays it as SSE and as JSON", async () => {
    const body = chatBody("Write a haiku about caches", { stream: true });
    const first = await ask(h, body, sseAnswer(["Fast ", "answers ", "wait"]));
    expect(first.downstream.chunks.length).toBe(6);
    expect(header(first, "x-cache-status")).toBe("MISS");
    const replay = await ask(h, body);
    expect(header(replay, "content-type")).toBe("text/event-stream");
    const events = text(replay).trim().split("\n\n");
    expect(events.at(-1)).toBe("data: [DONE]");
    const deltas = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    expect(deltas.every((d) => d.object === "chat.completion.chunk")).toBe(true);
    expect(deltas.map((d) => d.choices[0].delta.content ?? "").join("")).toBe("Fast answers wait");
    expect(deltas.at(-1).choices[0].finish_reason).toBe("stop");
    const asJson = await ask(h, chatBody("Write a haiku about caches"));
    expect(JSON.parse(text(asJson)).choices[0].message.content).toBe("Fast answers wait");
  });

  test("replays a JSON answer as SSE to a streaming request", async () => {
    await ask(h, chatBody("Name a prime number"), jsonAnswer("7"));
    const replay = await ask(h, chatBody("Name a prime number", { stream: true }));
    expect(text(replay)).toContain('"content":"7"');
    expect(text(replay).endsWith("data: [DONE]\n\n")).toBe(true);
  });

  test("never stores an interrupted stream", async () => {
    const body = chatBody("Tell me a long story", { stream: true });
    await ask(h, body, sseAnswer(["Once ", "upon"], false));
    await ask(h, body, sseAnswer(["Once ", "upon", " a", " time"]), {}, { abortAfterResponseChunks: 2 });
    const after = await ask(h, body, sseAnswer(["x"]));
    expect(header(after, "x-cache-status")).toBe("MISS");
  });

  test("never stores a non-200 answer", async () => {
    const error: HttpMessage = { headers: { ":status": "500", "content-type": "application/json" }, body: ["{}"] };
    await ask(h, chatBody("Is the server up?"), error);
    expect(header(await ask(h, chatBody("Is the server up?")), "x-cache-status")).toBe("MISS");
  });

  test.each([
    ["tenant", { authorization: "Bearer key-b" }, chatBody("Which planet is largest?")],
    ["model", {}, chatBody("Which planet is largest?", { model: "m2" })],
    [
      "system prompt",
      {},
      JSON.stringify({
        model: "m1",
        temperature: 0,
        messages: [
          { role: "system", content: "Be brief" },
          { role: "user", content: "Which planet is largest?" },
        ],
      }),
    ],
    ["parameters", {}, chatBody("Which planet is largest?", { max_tokens: 5 })],
  ])("keeps partitions apart: %s", async (_what, headers, body) => {
    await ask(h, chatBody("Which planet is largest?"), jsonAnswer("Jupiter"), { authorization: "Bearer key-a" });
    const other = await ask(h, body, jsonAnswer("other"), { authorization: "Bearer key-a", ...headers });
    expect(header(other, "x-cache-status")).toBe("MISS");
  });

  test("expires entries after their TTL", async () => {
    await ask(h, chatBody("What is TTL?"), jsonAnswer("time to live"));
    clock += 3_600_000;
    expect(header(await ask(h, chatBody("What is TTL?")), "x-cache-status")).toBe("MISS");
  });

  test("purges a tenant's entries by bumping its generation", async () => {
    const auth = { authorization: "Bearer purge-me" };
    await ask(h, chatBody("What is a generation?"), jsonAnswer("a counter"), auth);
    const purge = await ask(h, "", jsonAnswer("x"), { ...auth, "x-cache-purge": "secret" });
    expect([purge.immediateResponse?.status, text(purge)]).toEqual([200, '{"purged":true}']);
    expect(header(await ask(h, chatBody("What is a generation?"), jsonAnswer("a"), auth), "x-cache-status")).toBe(
      "MISS",
    );
  });

  test("refuses a purge with the wrong token", async () => {
    const purge = await ask(h, "", jsonAnswer("x"), { "x-cache-purge": "guess" });
    expect(purge.immediateResponse?.status).toBe(403);
  });

  test.each([
    ["Cache-Control: no-store", { "cache-control": "no-store" }, "BYPASS", "MISS"],
    ["the bypass header", { "x-cache-bypass": "1" }, "BYPASS", "MISS"],
    ["Cache-Control: no-cache", { "cache-control": "no-cache" }, "MISS", "HIT-EXACT"],
  ])("honours %s", async (_name, headers, status, next) => {
    const body = chatBody(`Policy check ${status} ${next} ${JSON.stringify(headers)}`);
    const first = await ask(h, body, jsonAnswer("answer"), headers);
    expect(header(first, "x-cache-status")).toBe(status);
    expect(header(await ask(h, body), "x-cache-status")).toBe(next);
  });

  test.each([
    ["n > 1", chatBody("Give me a color", { n: 2 })],
    ["a high temperature", chatBody("Give me a color", { temperature: 1.5 })],
    ["a malformed body", "{not json"],
    ["a body without messages", JSON.stringify({ model: "m1" })],
  ])("bypasses %s and forwards it unchanged", async (_name, body) => {
    const result = await ask(h, body);
    expect(header(result, "x-cache-status")).toBe("BYPASS");
    expect(Buffer.from(result.upstream?.body ?? []).toString()).toBe(body);
    expect(header(await ask(h, body), "x-cache-status")).toBe("BYPASS");
  });
});

describe("semantic-cache processor when the embedder fails", () => {
  let h: Harness;
  beforeAll(async () => {
    const failing: Embedder = { ...embedder, embed: () => Promise.reject(new Error("model crashed")) };
    h = await startHarness(() => createMemoryStore({ now }), {}, { embedder: failing });
  });
  afterAll(() => h.close());

  it("answers MISS, still fills and still serves exact hits", async () => {
    expect(header(await ask(h, chatBody("Exact only?")), "x-cache-status")).toBe("MISS");
    expect(header(await ask(h, chatBody("Exact only?")), "x-cache-status")).toBe("HIT-EXACT");
    expect(await h.metrics()).toContain("callouts_cache_embedder_failures_total 1");
  });
});

/** The service on its own Redis client, as the CLI builds it: a store a killed Redis takes down. */
function startRedisHarness(config: Record<string, unknown>, clock: () => number): Promise<Harness> {
  return startHarness(undefined, { storeTimeoutMs: 500, breakerCooldownMs: 200, ...config }, { now: clock });
}

const killable = await startTestRedis({ forcePrivate: true });

describe.skipIf(!killable)("semantic-cache processor when Redis dies mid-test", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRedisHarness(
      {
        redisUrl: killable?.url,
        keyPrefix: "kill:",
        breakerFailureThreshold: 2,
      },
      now,
    );
  });
  afterAll(async () => {
    await h?.close();
    await killable?.stop();
  });

  it("fails open while Redis is down and caches again once it is back", async () => {
    expect(header(await ask(h, chatBody("Is Redis up?")), "x-cache-status")).toBe("MISS");
    expect(header(await ask(h, chatBody("Is Redis up?")), "x-cache-status")).toBe("HIT-EXACT");

    await killable?.kill();
    for (let i = 0; i < 4; i++) {
      const result = await ask(h, chatBody("Is Redis up?"), jsonAnswer("from upstream"));
      expect([header(result, "x-cache-status"), result.downstream.status, result.error]).toEqual([
        "MISS",
        200,
        undefined,
      ]);
      expect(JSON.parse(text(result)).choices[0].message.content).toBe("from upstream");
    }
    const metrics = await h.metrics();
    expect(metrics).toMatch(/callouts_cache_store_failures_total\{operation="[a-z]+",reason="error"\} \d/);
    expect(metrics).toMatch(/callouts_cache_store_failures_total\{operation="[a-z]+",reason="circuit-open"\} \d/);

    await killable?.restart();
    let status: string | undefined;
    for (let attempt = 0; attempt < 50 && status !== "HIT-EXACT"; attempt++) {
      await new Promise((r) => setTimeout(r, 100));
      await ask(h, chatBody("Is Redis back?"));
      status = header(await ask(h, chatBody("Is Redis back?")), "x-cache-status");
    }
    expect(status).toBe("HIT-EXACT");
  });
});

const failoverCluster = await startTestRedisCluster();

describe.skipIf(!failoverCluster)("semantic-cache processor when a Redis Cluster master dies mid-traffic", () => {
  let h: Harness;
  beforeAll(async () => {
    // Real time: the breaker's cooldown and the entries' TTLs run while the cluster fails over.
    h = await startRedisHarness({ redisUrl: failoverCluster?.url, redisCluster: true, keyPrefix: "fo:" }, Date.now);
  });
  afterAll(async () => {
    await h?.close();
    await failoverCluster?.stop();
  });

  it("fails open while the shard fails over, none hang, and serves hits on every shard after", async () => {
    // 24 tenants: their partitions (hash tags) spread over the three shards.
    const tenants = Array.from({ length: 24 }, (_, i) => ({ authorization: `Bearer key-${i}` }));
    const question = "Which shard holds me?";
    for (const tenant of tenants) await ask(h, chatBody(question), jsonAnswer("first"), tenant);
    const statuses = await Promise.all(
      tenants.map(async (tenant) =>
        header(await ask(h, chatBody(question), jsonAnswer("x"), tenant), "x-cache-status"),
      ),
    );
    expect(statuses).toEqual(tenants.map(() => "HIT-EXACT"));

    // The master holding the most vector sets.
    const admin = createRedisClient(failoverCluster!.url, { cluster: true }) as Cluster;
    expect(await connectRedis(admin)).toBe(true);
    const perMaster = new Map<number, number>();
    for (const node of admin.nodes("master")) {
      const keys = await node.keys("fo:v:*");
      perMaster.set(Number(node.options.port), keys.length);
    }
    admin.disconnect();
    const [victim, victimKeys] = [...perMaster].sort((a, b) => b[1] - a[1])[0] as [number, number];
    expect(perMaster.size).toBe(3);
    expect(victimKeys).toBeGreaterThan(0);

    // Four clients ask all tenants round and round, 25 ms apart (Node 20's nghttp2 closes a session
    // that resets over ~1,000 streams in a burst; the cache's hits end streams early); a master is
    // killed 300 ms in.
    const outcomes: { status: string | undefined; code: number; error: unknown; ms: number }[] = [];
    let running = true;
    const worker = async (offset: number): Promise<void> => {
      for (let i = offset; running; i += 4) {
        const started = performance.now();
        const result = await ask(h, chatBody(question), jsonAnswer("refill"), tenants[i % tenants.length]);
        outcomes.push({
          status: header(result, "x-cache-status"),
          code: result.downstream.status,
          error: result.error,
          ms: performance.now() - started,
        });
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const workers = [0, 1, 2, 3].map(worker);
    await new Promise((r) => setTimeout(r, 300));
    const killedAt = outcomes.length;
    await failoverCluster!.kill(victim);
    await failoverCluster!.waitHealthy(30_000);
    await new Promise((r) => setTimeout(r, 1_500)); // the client's slot map refresh (1 s) plus a margin
    running = false;
    await Promise.all(workers);

    // Every request answered 200, from the cache or from upstream; none took longer than a few store timeouts.
    expect(outcomes.filter((o) => o.code !== 200 || o.error !== undefined)).toEqual([]);
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(3_000);
    const afterKill = outcomes.slice(killedAt);
    expect(afterKill.some((o) => o.status === "MISS")).toBe(true); // the dead shard's partitions failed open
    expect(afterKill.some((o) => o.status === "HIT-EXACT")).toBe(true); // the live shards kept serving

    // After the failover every tenant hits again, the promoted shard's included.
    for (const tenant of tenants) await ask(h, chatBody(question), jsonAnswer("refill"), tenant);
    const after = await Promise.all(
      tenants.map(async (tenant) =>
        header(await ask(h, chatBody(question), jsonAnswer("x"), tenant), "x-cache-status"),
      ),
    );
    expect(after).toEqual(tenants.map(() => "HIT-EXACT"));
    await failoverCluster!.restart(victim); // rejoins as a replica
    await failoverCluster!.waitHealthy(30_000);
  }, 60_000);
});

describe("semantic-cache processor with a store that hangs", () => {
  let h: Harness;
  beforeAll(async () => {
    const hanging = (): CacheStore => ({
      ...createMemoryStore({ now }),
      get: () => new Promise(() => {}),
      generation: () => new Promise(() => {}),
    });
    h = await startHarness(hanging, { storeTimeoutMs: 20 });
  });
  afterAll(() => h.close());

  it("gives up after storeTimeoutMs and forwards the request (MISS, no fill)", async () => {
    const result = await ask(h, chatBody("Slow store?"), jsonAnswer("from upstream"));
    expect([header(result, "x-cache-status"), result.error, h.upstreamCalls]).toEqual(["MISS", undefined, 1]);
    expect(await h.metrics()).toContain(
      'callouts_cache_store_failures_total{operation="generation",reason="timeout"} 1',
    );
  });
});

describe("semantic-cache processor in other request body modes", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(() => createMemoryStore({ now }));
  });
  afterAll(() => h.close());

  it.each([
    ["STREAMED", "SKIP"],
    ["FULL_DUPLEX_STREAMED", "SEND"],
  ] as const)("answers an exact hit with an immediate response when the request body is %s", async (mode, trailers) => {
    // Under a FULL_DUPLEX_STREAMED filter Envoy ignores mode_override, so the response body is
    // STREAMED from the start there (as the GCP/GKE chains configure it).
    const config: FilterConfig = {
      ...filter,
      processingMode: {
        ...filter.processingMode,
        requestBodyMode: mode,
        requestTrailerMode: trailers,
        ...(mode === "FULL_DUPLEX_STREAMED" ? { responseBodyMode: "STREAMED" } : {}),
      },
    };
    const body = chatBody(`Body mode ${mode}`);
    const send = () =>
      h.client.exchange(config, {
        request: {
          headers: { ":method": "POST", ":path": "/v1/chat/completions" },
          body: [body.slice(0, 10), body.slice(10)],
        },
        upstream: jsonAnswer("moded"),
      });
    const first = await send();
    expect([header(first, "x-cache-status"), Buffer.from(first.upstream?.body ?? []).toString()]).toEqual([
      "MISS",
      body,
    ]);
    const second = await send();
    expect([second.immediateResponse?.status, header(second, "x-cache-status"), second.error]).toEqual([
      200,
      "HIT-EXACT",
      undefined,
    ]);
  });
});

describe("semantic-cache processor with a remote OpenAI-compatible embedder", () => {
  it("fails open when the embeddings server goes away: MISS, the exact layer still hits", async () => {
    const sim = await startSimulator({ host: "127.0.0.1", port: 0, model: "m1" });
    const remote = await createOpenAiEmbedder({ url: `${sim.url}/v1`, model: "bge-small", timeoutMs: 300 });
    const h = await startHarness(() => createMemoryStore({ now }), {}, { embedder: remote });
    try {
      const question = chatBody("What is the capital of Peru?");
      expect(header(await ask(h, question, jsonAnswer("Lima")), "x-cache-status")).toBe("MISS");
      await sim.close();
      expect(header(await ask(h, question), "x-cache-status")).toBe("HIT-EXACT");
      const other = await ask(h, chatBody("What is the capital city of Peru?"), jsonAnswer("Lima."));
      expect([header(other, "x-cache-status"), other.upstream !== undefined]).toEqual(["MISS", true]);
      expect(await h.metrics()).toMatch(/callouts_cache_embedder_failures_total [1-9]/);
    } finally {
      await h.close();
    }
  });
});

describe("semantic-cache verifier with embedders other than the offline one", () => {
  // Every pair has a word the offline vocabulary lacks; only the embedder's similarity may decide.
  const refusedOrHit = async (h: Harness, similarityOf: (a: string, b: string) => number, threshold: number) => {
    const outcomes: string[] = [];
    for (const [cached, asked] of outOfVocabularyParaphrases) {
      await ask(h, chatBody(cached), jsonAnswer("an answer"));
      const status = header(await ask(h, chatBody(asked)), "x-cache-status");
      const expected = similarityOf(cached, asked) >= threshold ? "HIT-SEMANTIC" : "MISS";
      outcomes.push(`${status === expected ? "as expected" : `${status}, expected ${expected}`}: ${asked}`);
    }
    return outcomes;
  };

  it("serves every out-of-vocabulary paraphrase the simulator's embeddings put above the threshold", async () => {
    const sim = await startSimulator({ host: "127.0.0.1", port: 0, model: "m1" });
    const remote = await createOpenAiEmbedder({ url: `${sim.url}/v1`, model: "bge-small", timeoutMs: 2_000 });
    const h = await startHarness(() => createMemoryStore({ now }), { similarityThreshold: 0.6 }, { embedder: remote });
    try {
      const cosine = (a: string, b: string) => {
        const [x, y] = [embeddingOf(a), embeddingOf(b)];
        return x.reduce((sum, v, i) => sum + v * (y[i] as number), 0);
      };
      const outcomes = await refusedOrHit(h, cosine, 0.6);
      expect(outcomes.filter((o) => !o.startsWith("as expected"))).toEqual([]);
      expect(outcomes.length).toBe(outOfVocabularyParaphrases.length);
      expect(await h.metrics()).not.toMatch(/callouts_cache_verification_rejects_total\{/);
    } finally {
      await h.close();
      await sim.close();
    }
  });

  it.skipIf(!transformersInstalled)("serves them with the transformers embedder on the tiny test model", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tiny-bert-"));
    try {
      writeTinyBert(dir);
      const tiny = await createTransformersEmbedder({ model: dir });
      const vectors = new Map<string, Float32Array>();
      for (const [a, b] of outOfVocabularyParaphrases) {
        for (const t of [a, b]) vectors.set(t, await tiny.embed(t));
      }
      const h = await startHarness(() => createMemoryStore({ now }), { similarityThreshold: 0.9 }, { embedder: tiny });
      try {
        const cosine = (a: string, b: string) => dot(vectors.get(a) as Float32Array, vectors.get(b) as Float32Array);
        const outcomes = await refusedOrHit(h, cosine, 0.9);
        expect(outcomes.filter((o) => !o.startsWith("as expected"))).toEqual([]);
        expect(outOfVocabularyParaphrases.filter(([a, b]) => cosine(a, b) >= 0.9).length).toBeGreaterThan(0);
        // The tiny model maps most of these words to [UNK], so other pairs' entries are candidates
        // too; the guards refuse those (another entity), never the paraphrase itself (checked above).
      } finally {
        await h.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("semantic-cache verifier with a model trained for a remote embedder (verifier.modelFile)", () => {
  // Pairs for the simulator's hashed-word embeddings: rewordings are duplicates, a swapped dish is not.
  const dishes = ["rice", "pasta", "bread", "soup", "salad", "noodles", "curry", "pancakes", "tofu", "risotto"];
  const verbs = ["cook", "bake", "prepare", "store", "reheat", "freeze"];
  const pairs = verbs.flatMap((verb, v) =>
    dishes.flatMap((dish, d) => [
      {
        set: "qqp" as const,
        part: "tune" as const,
        a: `How do I ${verb} ${dish} at home?`,
        b: `How can I ${verb} ${dish} at home?`,
        duplicate: true,
      },
      {
        set: "qqp" as const,
        part: "tune" as const,
        a: `How do I ${verb} ${dish} at home?`,
        b: `How do I ${verb} ${dishes[(d + 1 + v) % dishes.length]} at home?`,
        duplicate: false,
      },
    ]),
  );

  it("loads a model trained on the embedder's own similarities and checks it was trained for it", async () => {
    const sim = await startSimulator({ host: "127.0.0.1", port: 0, model: "m1" });
    const dir = mkdtempSync(join(tmpdir(), "verifier-model-"));
    try {
      // Trained at the similarity threshold the cache will use (the training script's --threshold).
      const remote = await createOpenAiEmbedder({
        url: `${sim.url}/v1`,
        model: "bge-small",
        timeoutMs: 2_000,
        threshold: 0.5,
      });
      const { trainVerifier } = await import("../scripts/verifier-training.js");
      const trained = await trainVerifier(pairs, remote, words, remote.id);
      const file = join(dir, "verifier.json");
      writeFileSync(file, JSON.stringify(trained.file));
      const config = { similarityThreshold: 0.5, verifier: { modelFile: file } };
      const h = await startHarness(() => createMemoryStore({ now }), config, { embedder: remote });
      try {
        await ask(h, chatBody("How do I grill salmon at home?"), jsonAnswer("Medium heat."));
        expect(header(await ask(h, chatBody("How can I grill salmon at home?")), "x-cache-status")).toBe(
          "HIT-SEMANTIC",
        );
        await ask(h, chatBody("How do I steam fish at home?"), jsonAnswer("Ten minutes."));
        expect(header(await ask(h, chatBody("How do I steam dumplings at home?")), "x-cache-status")).toBe("MISS");
        expect(await h.metrics()).toMatch(/callouts_cache_verification_rejects_total\{reason="model"\} [1-9]/);
      } finally {
        await h.close();
      }
      // A file trained for another embedder is refused at startup, naming both.
      writeFileSync(file, JSON.stringify({ ...trained.file, embedder: "openai:other-model:64" }));
      await expect(startHarness(() => createMemoryStore({ now }), config, { embedder: remote })).rejects.toThrow(
        /trained for the embedder openai:other-model:64, not openai:bge-small:64/,
      );
    } finally {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
