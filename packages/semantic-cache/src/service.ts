import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { defineServiceModule, type Service, type ServiceRuntime } from "@llm-callouts/ext-proc";
import { createCircuitBreaker } from "@llm-callouts/remote";
import type { CacheStore } from "./cache-store.js";
import { configSchema, resolveSimilarityThreshold, type SemanticCacheConfig } from "./config.js";
import type { Embedder } from "./embedder.js";
import { createMemoryStore } from "./memory-store.js";
import { createCacheMetrics } from "./metrics.js";
import { createOpenAiEmbedder } from "./openai-embedder.js";
import { createCacheProcessorFactory } from "./processor.js";
import { connectRedis, createRedisClient, createRedisStore } from "./redis-store.js";
import type { WordKnowledge } from "./rule-checks.js";
import { createSemanticCache } from "./semantic-cache.js";
import { createStoreGuard } from "./store-guard.js";
import { createVerifier, parseVerifierModel } from "./verifier.js";
import { offlineVerifierModel } from "./verifier-model.js";
import { createWordVectorEmbedder } from "./word-vector-embedder.js";
import { loadWinkWordVectors } from "./word-vectors.js";

/** Seams tests and benchmarks may replace. */
export interface CreateServiceOverrides {
  readonly embedder?: Embedder;
  /** Vocabulary for the verifier (given with an injected word-vector embedder). */
  readonly words?: WordKnowledge;
  readonly store?: CacheStore;
  readonly now?: () => number;
}

/**
 * Wires the cache from its config: store (Redis 8 when `redisUrl`, else memory),
 * embedder, guard, metrics, periodic sweep. Never fails on Redis: an unreachable
 * server means MISS until it answers.
 */
export async function createSemanticCacheService(
  config: SemanticCacheConfig,
  runtime: ServiceRuntime,
  overrides: CreateServiceOverrides = {},
): Promise<Service> {
  const log = runtime.log.child({ component: "semantic-cache" });
  const metrics = createCacheMetrics(runtime.metrics);
  const now = overrides.now ?? Date.now;

  let words = overrides.words;
  let embedder = overrides.embedder;
  if (!embedder && config.semantic) {
    if (config.embedder.kind === "transformers") {
      const { createTransformersEmbedder } = await import("./transformers-embedder.js");
      embedder = await createTransformersEmbedder({ model: config.embedder.modelPath });
    } else if (config.embedder.kind === "openai" || config.embedder.kind === "vertex") {
      const e = config.embedder;
      const remote = {
        model: e.model,
        dimensions: e.dimensions,
        timeoutMs: e.timeoutMs,
        maxBatch: e.maxBatch,
        batchWindowMs: e.batchWindowMs,
        threshold: e.threshold,
        breaker: createCircuitBreaker({
          failureThreshold: config.breakerFailureThreshold,
          cooldownMs: config.breakerCooldownMs,
        }),
      };
      if (e.kind === "vertex") {
        // Loaded on demand: google-auth-library is needed by this embedder only.
        const { createVertexEmbedder } = await import("./vertex-embedder.js");
        embedder = await createVertexEmbedder({
          ...remote,
          project: e.project,
          location: e.location,
          ...(e.url ? { apiEndpoint: e.url } : {}),
          ...(e.taskType ? { taskType: e.taskType } : {}),
          // A relative credential file is relative to the config file, like the guardrail's model folder.
          ...(e.keyFile ? { keyFile: isAbsolute(e.keyFile) ? e.keyFile : resolve(runtime.configDir, e.keyFile) } : {}),
        });
      } else {
        const apiKey = e.apiKeyEnv ? process.env[e.apiKeyEnv] : undefined;
        if (e.apiKeyEnv && !apiKey) throw new Error(`embedder.apiKeyEnv: ${e.apiKeyEnv} is not set`);
        embedder = await createOpenAiEmbedder({ ...remote, url: e.url, apiKey });
      }
    } else {
      const vectors = loadWinkWordVectors({ maxWords: config.embedder.maxWords });
      words = vectors;
      embedder = createWordVectorEmbedder({ vectors });
    }
  }
  const store = overrides.store ?? (await openStore(config, log, now));
  const newBreaker = () =>
    createCircuitBreaker({ failureThreshold: config.breakerFailureThreshold, cooldownMs: config.breakerCooldownMs });
  const guard = createStoreGuard({
    timeoutMs: config.storeTimeoutMs,
    breaker: newBreaker(),
    shardBreaker: newBreaker,
    onFailure(operation, reason, error) {
      metrics.storeFailures.inc({ operation, reason });
      metrics.circuitOpen.set(guard.openCircuits());
      log.warn({ operation, reason, err: error }, "cache store call failed open");
    },
  });
  const semantic =
    config.semantic && embedder ? { embedder, threshold: resolveSimilarityThreshold(config, embedder) } : undefined;
  // The shipped model was trained on the offline embedder's similarities and word vectors: `auto`
  // picks it for that embedder only. A model file trained for the embedder in use (its id checked)
  // makes `learned` possible with any embedder; it reads the offline word vectors too.
  let model = offlineVerifierModel;
  let trained = words !== undefined && embedder?.id.split(":")[0] === offlineVerifierModel.embedder;
  if (
    config.verifier.modelFile &&
    semantic &&
    embedder &&
    config.verifier.mode !== "guards" &&
    config.verifier.mode !== "off"
  ) {
    const path = isAbsolute(config.verifier.modelFile)
      ? config.verifier.modelFile
      : resolve(runtime.configDir, config.verifier.modelFile);
    model = parseVerifierModel(JSON.parse(readFileSync(path, "utf8")), embedder.id, `verifier.modelFile ${path}`);
    words ??= loadWinkWordVectors({ maxWords: config.embedder.maxWords });
    trained = true;
  }
  const mode = config.verifier.mode === "auto" ? (trained ? "learned" : "guards") : config.verifier.mode;
  if (mode === "learned" && !trained && semantic) {
    throw new Error(
      `verifier.mode learned: the shipped model is trained for the ${offlineVerifierModel.embedder} embedder, not ${embedder?.id}; use guards or auto, or train one (verifier.modelFile)`,
    );
  }
  const verifier = createVerifier({
    mode,
    ...(mode === "learned" ? { model } : {}),
    ...(config.verifier.threshold > 0 ? { threshold: config.verifier.threshold } : {}),
    ...(words ? { words } : {}),
  });
  const cache = createSemanticCache({
    store,
    guard,
    semantic,
    verifier,
    candidates: config.candidates,
    ttlMs: config.ttlSeconds * 1000,
    maxEntryBytes: config.maxEntryBytes,
    embedTimeoutMs: config.embedTimeoutMs,
    now,
    onReject: (reason) => metrics.rejects.inc({ reason }),
    onEmbedderFailure(error) {
      metrics.embedderFailures.inc();
      log.warn({ err: error }, "embedder failed");
    },
  });

  const sweep = async (): Promise<void> => {
    const result = await guard.run("sweep", () => store.sweep());
    if (result.ok) metrics.swept.inc(result.value);
  };
  const timer = config.sweepIntervalMs > 0 ? setInterval(sweep, config.sweepIntervalMs) : undefined;
  timer?.unref();
  log.info(
    { store: store.kind, embedder: semantic?.embedder.id, similarity_threshold: semantic?.threshold, verifier: mode },
    "semantic cache ready",
  );

  return {
    name: "semantic-cache",
    processor: createCacheProcessorFactory({ config, cache, metrics, now }),
    // The cache is optional: a processor fault continues the request unmodified.
    failure: { mode: "open" },
    assumedModes: { requestBody: "BUFFERED", responseBody: "NONE" },
    async close() {
      clearInterval(timer);
      await store.close();
    },
  };
}

async function openStore(config: SemanticCacheConfig, log: ServiceRuntime["log"], now: () => number) {
  if (!config.redisUrl) return createMemoryStore({ maxEntries: config.memoryMaxEntries, now });
  const client = createRedisClient(config.redisUrl, { cluster: config.redisCluster });
  let lastLogMs = 0;
  client.on("error", (error) => {
    if (now() - lastLogMs > 10_000) log.warn({ err: error }, "redis connection error");
    lastLogMs = now();
  });
  if (!(await connectRedis(client))) log.warn("redis not ready within 5 s of start; failing open until it is");
  return createRedisStore({ client, keyPrefix: config.keyPrefix, now });
}

/** The semantic cache callout: exact and semantic hits, streaming-aware, hard partitions, fail open. */
export const serviceModule = defineServiceModule<SemanticCacheConfig>({
  name: "semantic-cache",
  description: "LLM response cache: L1 exact + L2 semantic (verified), Redis 8 vector sets or in memory, SSE replay.",
  configSchema,
  create: (config, runtime) => createSemanticCacheService(config, runtime),
});
