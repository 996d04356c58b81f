import { z } from "zod";
import { parsePluginParams, toScoreMap } from "../../plugin-params.js";
import type { Endpoint, PluginFactory, SchedulingRequest, Scorer } from "../../types.js";
import { isPrefixCacheScorer, type PrefixCacheScorer } from "../prefix-cache/prefix-cache.js";

export const predictedTtftScorerType = "predicted-ttft-scorer";

/** Cycle-state key under which the scorer leaves each endpoint's predicted uncached prompt tokens. */
export const uncachedTokensStateKey = "predicted-ttft/uncached-tokens";

export interface PredictedTtftParams {
  /**
   * Extra weight of avoidable uncached tokens (cached on another candidate but not on
   * this one): the future cost of evicting other prefixes from a cache that must now
   * hold this one as well.
   */
  readonly cachePollutionWeight: number;
  /** Extra share of avoidable uncached tokens charged per request waiting there. */
  readonly avoidableExternalityWeight: number;
  /** Cost of loading a LoRA adapter into a free slot, in prompt-token equivalents. */
  readonly loraLoadCostTokens: number;
  /** Cost when the adapter is not loaded and no slot is free (wait for a slot + load). */
  readonly loraNoSlotCostTokens: number;
  /** Extra no-slot cost per in-flight request that must finish before a slot frees. */
  readonly loraDrainCostTokensPerRequest: number;
  /** Cost per request in the running batch (decode steps share the GPU with prefill). */
  readonly runningRequestCostTokens: number;
  /** Cost per request queued ahead for its first token (admission waits for a batch slot, not only for prefill). */
  readonly queuedRequestCostTokens: number;
  /** Share of this request's uncached prefill charged per request already waiting there (delay imposed on them). */
  readonly externalityWeight: number;
  /** Cost per unit of KV utilisation (0..1): spreads new prefixes over caches with room. */
  readonly kvUsageCostTokens: number;
  /** KV utilisation above which preemption risk is charged. */
  readonly kvPressureThreshold: number;
  /** Cost at 100% KV utilisation, scaled linearly from the threshold. */
  readonly kvPressureCostTokens: number;
}

export const predictedTtftDefaults: PredictedTtftParams = {
  cachePollutionWeight: 3,
  avoidableExternalityWeight: 1.5,
  loraLoadCostTokens: 512,
  loraNoSlotCostTokens: 32_768,
  loraDrainCostTokensPerRequest: 4096,
  runningRequestCostTokens: 16,
  externalityWeight: 1,
  queuedRequestCostTokens: 256,
  kvUsageCostTokens: 0,
  kvPressureThreshold: 0.9,
  kvPressureCostTokens: 8192,
};

/** Inputs of the cost model for one endpoint. */
export interface TtftCostInput {
  /** Prompt tokens of this request not expected in the endpoint's prefix cache. */
  readonly uncachedTokens: number;
  /** Of those, tokens that another candidate has cached (0 when no candidate does better). */
  readonly avoidableUncachedTokens?: number;
  /** Prefill tokens queued ahead: max(own in-flight prefill, engine queue x this prompt). */
  readonly queuedPrefillTokens: number;
  /** Requests on the endpoint still waiting for their first token (they wait for this prefill too). */
  readonly queuedPrefillRequests: number;
  readonly runningRequests: number;
  readonly kvCacheUsage: number;
  /** "loaded" | "free-slot" | "no-slot" | "none" (base model). */
  readonly lora: "loaded" | "free-slot" | "no-slot" | "none";
  /** With "no-slot": in-flight requests of the adapter that will free a slot first. */
  readonly loraDrainRequests?: number;
}

/**
 * Predicted time to first token in prompt-token equivalents: work queued ahead plus
 * this request's uncached prefill plus LoRA and KV-pressure penalties. A proxy for
 * TTFT that is linear in prefill work, which is what dominates TTFT on GPUs.
 */
export function predictTtftCost(input: TtftCostInput, p: PredictedTtftParams = predictedTtftDefaults): number {
  const lora =
    input.lora === "free-slot"
      ? p.loraLoadCostTokens
      : input.lora === "no-slot"
        ? p.loraNoSlotCostTokens + (input.loraDrainRequests ?? 0) * p.loraDrainCostTokensPerRequest
        : 0;
  const kvExcess = Math.max(0, input.kvCacheUsage - p.kvPressureThreshold) / Math.max(1e-9, 1 - p.kvPressureThreshold);
  return (
    input.queuedPrefillTokens +
    input.queuedPrefillRequests * p.queuedRequestCostTokens +
    input.uncachedTokens * (1 + p.externalityWeight * input.queuedPrefillRequests) +
    (input.avoidableUncachedTokens ?? 0) *
      (p.cachePollutionWeight + p.avoidableExternalityWeight * input.queuedPrefillRequests) +
    input.runningRequests * p.runningRequestCostTokens +
    lora +
    input.kvCacheUsage * p.kvUsageCostTokens +
    kvExcess * p.kvPressureCostTokens
  );
}

/** Ratio score `(min + s) / (cost + s)`: the cheapest endpoint scores 1, one twice as costly ~0.5. */
export function scoreFromCosts(costs: readonly number[], smoothingTokens: number): number[] {
  if (costs.length === 0) return [];
  const min = Math.min(...costs);
  const s = Math.max(1, smoothingTokens);
  return costs.map((c) => (min + s) / (c + s));
}

/**
 * LoRA state of an endpoint for a target model. Adapters this picker has in flight
 * there count as loaded (exact, unlike the scraped `lora_requests_info`, which is up
 * to one scrape interval old); base-model requests are "none".
 */
export function loraState(
  request: SchedulingRequest,
  endpoint: Endpoint,
  baseModels: ReadonlySet<string>,
): { readonly state: TtftCostInput["lora"]; readonly minAdapterInflight: number } {
  const m = endpoint.metrics;
  const target = request.targetModel;
  if (baseModels.has(target) || m.maxActiveModels === 0) return { state: "none", minAdapterInflight: 0 };
  if (endpoint.inflight.models.has(target) || m.activeModels.has(target))
    return { state: "loaded", minAdapterInflight: 0 };
  const busy = new Set<string>([...m.activeModels, ...m.waitingModels]);
  let minAdapterInflight = Number.POSITIVE_INFINITY;
  for (const [model, n] of endpoint.inflight.models) {
    if (baseModels.has(model)) continue;
    busy.add(model);
    minAdapterInflight = Math.min(minAdapterInflight, n);
  }
  if (busy.size < m.maxActiveModels) return { state: "free-slot", minAdapterInflight: 0 };
  return { state: "no-slot", minAdapterInflight: Number.isFinite(minAdapterInflight) ? minAdapterInflight : 0 };
}

export interface PredictedTtftScorerOptions extends Partial<PredictedTtftParams> {
  /** The prefix-cache scorer whose index predicts cached tokens (optional). */
  readonly prefix?: PrefixCacheScorer;
  /** Models that are not LoRA adapters. */
  readonly baseModels?: readonly string[];
}

/**
 * Ours: scores endpoints by predicted TTFT. Prefix affinity counts only as saved
 * prefill work, so a hot replica holding the prefix stops winning once the work
 * queued on it exceeds what the cache saves (load-aware prefix affinity).
 */
export function createPredictedTtftScorer(
  name: string = predictedTtftScorerType,
  options: PredictedTtftScorerOptions = {},
): Scorer {
  const params: PredictedTtftParams = { ...predictedTtftDefaults, ...options };
  const baseModels = new Set(options.baseModels ?? []);
  return {
    kind: "scorer",
    typedName: { type: predictedTtftScorerType, name },
    category: "balance",
    score(_ctx, state, request, endpoints) {
      const matches = options.prefix?.matches(request, endpoints);
      const uncached = new Map<string, number>();
      for (const e of endpoints) {
        const m = matches?.get(e);
        const cachedTokens = m && m.totalBlocks > 0 ? (request.promptTokens * m.matchedBlocks) / m.totalBlocks : 0;
        uncached.set(e.id, Math.max(0, request.promptTokens - cachedTokens));
      }
      const leastUncached = Math.min(...uncached.values());
      const costs = endpoints.map((e) => {
        const uncachedTokens = uncached.get(e.id) ?? request.promptTokens;
        const lora = loraState(request, e, baseModels);
        return predictTtftCost(
          {
            uncachedTokens,
            avoidableUncachedTokens: uncachedTokens - leastUncached,
            queuedPrefillTokens: e.inflight.prefillTokens,
            queuedPrefillRequests: e.inflight.prefillRequests,
            runningRequests: Math.max(e.metrics.runningRequests, e.inflight.requests),
            kvCacheUsage: e.metrics.kvCacheUsage,
            lora: lora.state,
            loraDrainRequests: lora.minAdapterInflight,
          },
          params,
        );
      });
      state.set(uncachedTokensStateKey, uncached);
      return toScoreMap(endpoints, scoreFromCosts(costs, request.promptTokens));
    },
  } satisfies Scorer;
}

const paramsSchema = z.strictObject({
  prefixPluginRef: z.string().min(1).optional(),
  baseModels: z.array(z.string()).optional(),
  cachePollutionWeight: z.number().min(0).optional(),
  avoidableExternalityWeight: z.number().min(0).optional(),
  loraLoadCostTokens: z.number().min(0).optional(),
  loraNoSlotCostTokens: z.number().min(0).optional(),
  loraDrainCostTokensPerRequest: z.number().min(0).optional(),
  runningRequestCostTokens: z.number().min(0).optional(),
  externalityWeight: z.number().min(0).optional(),
  queuedRequestCostTokens: z.number().min(0).optional(),
  kvUsageCostTokens: z.number().min(0).optional(),
  kvPressureThreshold: z.number().min(0).max(1).optional(),
  kvPressureCostTokens: z.number().min(0).optional(),
});

export const predictedTtftScorerFactory: PluginFactory = (name, params, handle) => {
  const parsed = parsePluginParams(paramsSchema, params);
  if ("error" in parsed) return parsed;
  const { prefixPluginRef, ...rest } = parsed.value;
  let prefix: PrefixCacheScorer | undefined;
  if (prefixPluginRef !== undefined) {
    const plugin = handle.plugin(prefixPluginRef);
    if (!isPrefixCacheScorer(plugin))
      return { error: `prefixPluginRef: "${prefixPluginRef}" is not a prefix-cache-scorer` };
    prefix = plugin;
  }
  return { plugin: createPredictedTtftScorer(name, { ...rest, prefix }) };
};
