import { z } from "zod";
import { parsePluginParams, toScoreMap } from "../../plugin-params.js";
import type { Endpoint, PluginFactory, Scorer } from "../../types.js";

export const kvCacheUtilizationScorerType = "kv-cache-utilization-scorer";

/** `1 - usage` with usage in [0, 1] (out-of-range values are clamped by the framework). */
export function scoreKvCacheUtilization(usage: number): number {
  return 1 - usage;
}

/** Favours endpoints with free KV-cache memory. */
export function createKvCacheUtilizationScorer(name: string = kvCacheUtilizationScorerType): Scorer {
  return {
    kind: "scorer",
    typedName: { type: kvCacheUtilizationScorerType, name },
    category: "distribution",
    score: (_ctx, _state, _request, endpoints: readonly Endpoint[]) =>
      toScoreMap(
        endpoints,
        endpoints.map((e) => scoreKvCacheUtilization(e.metrics.kvCacheUsage)),
      ),
  } satisfies Scorer;
}

export const kvCacheUtilizationScorerFactory: PluginFactory = (name, params) => {
  const parsed = parsePluginParams(z.strictObject({}), params);
  return "error" in parsed ? parsed : { plugin: createKvCacheUtilizationScorer(name) };
};
