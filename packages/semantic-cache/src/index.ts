export type { CacheEntry, CacheStore, SimilarEntry } from "./cache-store.js";
export type { Embedder } from "./embedder.js";
export { createMemoryStore } from "./memory-store.js";
export { createRedisStore } from "./redis-store.js";
export type { StoredCompletion } from "./stored-completion.js";
export { verifyCandidate } from "./verify-candidate.js";
export { createWordVectorEmbedder } from "./word-vector-embedder.js";
export { loadWinkWordVectors } from "./word-vectors.js";
