import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The cache's Prometheus metrics (names `callouts_cache_*`, bounded labels). */
export interface CacheMetrics {
  /** result: hit_exact | hit_semantic | miss | bypass. */
  readonly lookups: Counter<"result">;
  /** reason: bypass-header | no-store | no-cache | temperature | multiple-choices | malformed | too-large | ambiguous-tenant. */
  readonly bypasses: Counter<"reason">;
  /** outcome: stored | too_large | store_error | incomplete | not_cacheable | no_store | private (the upstream's Cache-Control). */
  readonly fills: Counter<"outcome">;
  /** operation: generation | get | search | put | purge | sweep; reason: timeout | error | circuit-open. */
  readonly storeFailures: Counter<"operation" | "reason">;
  /** reason: negation | number | intent | antonym | content. */
  readonly rejects: Counter<"reason">;
  readonly embedderFailures: Counter;
  readonly swept: Counter;
  /** 1 while the store circuit is open. */
  readonly circuitOpen: Gauge;
  /** Request-path time from body to decision, by result. */
  readonly lookupDuration: Histogram<"result">;
}

export function createCacheMetrics(registry: Registry): CacheMetrics {
  const registers = [registry];
  return {
    lookups: new Counter({
      name: "callouts_cache_lookups_total",
      help: "Cache lookups by result.",
      labelNames: ["result"],
      registers,
    }),
    bypasses: new Counter({
      name: "callouts_cache_bypasses_total",
      help: "Requests the cache stayed out of, by reason.",
      labelNames: ["reason"],
      registers,
    }),
    fills: new Counter({
      name: "callouts_cache_fills_total",
      help: "Answers offered to the cache after a miss, by outcome.",
      labelNames: ["outcome"],
      registers,
    }),
    storeFailures: new Counter({
      name: "callouts_cache_store_failures_total",
      help: "Store calls that failed open, by operation and reason.",
      labelNames: ["operation", "reason"],
      registers,
    }),
    rejects: new Counter({
      name: "callouts_cache_verification_rejects_total",
      help: "Semantic candidates above the threshold rejected by verification, by reason (negation, number, antonym, entity, model).",
      labelNames: ["reason"],
      registers,
    }),
    embedderFailures: new Counter({
      name: "callouts_cache_embedder_failures_total",
      help: "Embedding calls that failed or timed out (lookup continued as exact-only).",
      registers,
    }),
    swept: new Counter({
      name: "callouts_cache_swept_elements_total",
      help: "Vector elements removed by the periodic sweep because their entry expired.",
      registers,
    }),
    circuitOpen: new Gauge({
      name: "callouts_cache_circuit_open",
      help: "Store circuit breakers open (one per Redis Cluster shard; 1 at most on one server).",
      registers,
    }),
    lookupDuration: new Histogram({
      name: "callouts_cache_lookup_duration_seconds",
      help: "Request-body-to-decision time of the cache, by result.",
      labelNames: ["result"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    }),
  };
}
