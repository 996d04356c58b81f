import { defineServiceModule } from "@llm-callouts/ext-proc";
import { configSchema, type SemanticCacheConfig } from "./config.js";
import { createSemanticCacheService } from "./create-service.js";

export type { CacheEntry, CacheStore, SimilarEntry } from "./cache-store.js";
export { type ChatRequest, parseChatRequest } from "./chat-request.js";
export { createCircuitBreaker } from "./circuit-breaker.js";
export { configSchema, defaults, type SemanticCacheConfig } from "./config.js";
export { type CreateServiceOverrides, createSemanticCacheService } from "./create-service.js";
export type { Embedder } from "./embedder.js";
export { createMemoryStore } from "./memory-store.js";
export { createCacheProcessorFactory, responseBodyOverrides } from "./processor.js";
export { createRedisClient, createRedisStore } from "./redis-store.js";
export { renderJson, renderSse } from "./replay.js";
export { createSemanticCache, type SemanticCache } from "./semantic-cache.js";
export { createSseAssembler } from "./sse-assembler.js";
export { createStoreGuard } from "./store-guard.js";
export type { StoredCompletion } from "./stored-completion.js";
export { verifyCandidate } from "./verify-candidate.js";
export { createWordVectorEmbedder } from "./word-vector-embedder.js";
export { loadWinkWordVectors } from "./word-vectors.js";

/** The semantic cache callout: exact and semantic hits, streaming-aware, hard partitions, fail open. */
export const serviceModule = defineServiceModule<SemanticCacheConfig>({
  name: "semantic-cache",
  description: "LLM response cache: L1 exact + L2 semantic (verified), Redis 8 vector sets or in memory, SSE replay.",
  configSchema,
  create: (config, runtime) => createSemanticCacheService(config, runtime),
});
