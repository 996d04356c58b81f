/**
 * The semantic cache's public surface: the service as the CLI runs it, its config, the store and
 * embedder seams, and the response modes it asks Envoy for. Everything else is internal
 * (`service.ts` composes it).
 */
export type { CacheEntry, CacheStore, SimilarEntry } from "./cache-store.js";
export { configSchema, defaults, type SemanticCacheConfig } from "./config.js";
export type { Embedder } from "./embedder.js";
export { createMemoryStore } from "./memory-store.js";
export { responseBodyOverrides } from "./processor.js";
export { connectRedis, createRedisClient, createRedisStore } from "./redis-store.js";
export { type CreateServiceOverrides, createSemanticCacheService, serviceModule } from "./service.js";
export type { StoredCompletion } from "./stored-completion.js";
export { createVerifier, type Verifier, type VerifierMode } from "./verifier.js";
