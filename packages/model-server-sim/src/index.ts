export * from "./des/index.js";
export { blockHashes } from "./engine/block-hash.js";
export {
  createEngine,
  type Engine,
  type EngineCounters,
  type EngineRequest,
  type EngineSnapshot,
  type TokenEvent,
} from "./engine/engine.js";
export {
  type EngineConfig,
  type EnginePresetName,
  enginePresets,
  type LatencyParams,
  type StepShape,
  stepDurationMs,
} from "./engine/engine-config.js";
export { createKvCache, type KvCache, type KvCacheStats } from "./engine/kv-cache.js";
export { createRng, createZipf, type Rng } from "./engine/rng.js";
export { charsPerToken, countTokens, tokenize } from "./engine/tokenizer.js";
export {
  type FixedMetrics,
  fixedMetricsPatchSchema,
  fixedMetricsSchema,
  type SimConfig,
  type SimConfigInput,
  type SimPoolConfig,
  type SimPoolConfigInput,
  simConfigSchema,
  simDefaults,
  simPoolConfigSchema,
} from "./server/config.js";
export { embeddingOf, simEmbeddingDimensions } from "./server/embeddings.js";
export { formatPromFloat, renderVllmMetrics, type VllmMetricsState } from "./server/metrics-text.js";
export { type SimPoolHandle, startSimPool } from "./server/sim-pool.js";
export { type RecordedRequest, type SimulatorHandle, startSimulator } from "./server/simulator.js";
